"""LogicalOperator filters (mixpeek-api.md 1.6) and the ``attribute_filter`` stage.

A filter is compiled once into a predicate over stored documents (user fields at
the root), then applied to any number of documents::

    pred = compile_filter({"AND": [{"field": "price", "operator": "lt", "value": 50},
                                   {"category": "shoes"}]})
    kept = [d for d in docs if pred(d)]

Shapes accepted:

- ``{"AND": [...], "OR": [...], "NOT": [...], "case_sensitive": bool, "<dot.path>": value}``.
  All present parts must hold (AND). ``NOT`` holds when none of its items holds.
  Empty lists impose nothing. Keys are also accepted in lower case (``and``...).
- A condition ``{"field", "operator" (default eq), "value"}``; anything else with a
  ``field`` key is read as a shorthand equality on a field called "field".
- Shorthand ``"<dot.path>": value`` is equality; ``"<dot.path>": {"gt": 3}`` (or
  ``{"$gt": 3}``) applies the named operators.

Field paths: dot paths into nested dicts; a list on the way fans out (the condition
holds when any element satisfies it, as in Mixpeek's vector store). A leading
``payload.`` is ignored when the document has no ``payload`` key, so filters
written against the result shape of seed 002 work on stored documents.

Case: ``case_sensitive`` defaults to false (the API default): string comparisons
of eq/ne/in/nin/contains/starts_with/ends_with/regex fold case unless it is true.
Nested groups inherit it unless they set their own.

Operators: eq ne gt lt gte lte in nin contains starts_with ends_with regex exists
is_null text phrase words. ``text`` is a case-insensitive substring; ``phrase`` a
case-insensitive sequence of whole words; ``words`` needs every word present as a
whole word after a light suffix-stripping stemmer. Geo operators raise
``Unsupported``. Bad shapes raise ``BadRequest`` naming the offending part.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mixops.core.models.common import GEO_OPERATORS, VALUE_OPERATORS
from mixops.core.models.retriever_stages import AttributeFilterParams
from mixops.local.engine.errors import BadRequest, Unsupported

Predicate = Callable[[Mapping[str, Any]], bool]

_GROUP_KEYS = {"and": "AND", "or": "OR", "not": "NOT"}
_COND_KEYS = {"field", "operator", "value", "case_sensitive"}
_MISSING = object()
_WORD = re.compile(r"\w+", re.UNICODE)


def always(_doc: Mapping[str, Any]) -> bool:
    """The predicate of "no filter"."""
    return True


def compile_filter(spec: Any, *, case_sensitive: bool = False, where: str = "filters") -> Predicate:
    """Compile a LogicalOperator (or a single condition) into a predicate.

    ``None`` and ``{}`` compile to a predicate that keeps everything.
    ``where`` prefixes error messages (e.g. "stages[0].config.pre_filters").
    """
    if spec is None:
        return always
    if not isinstance(spec, Mapping):
        raise BadRequest(f"{where}: a filter must be an object, got {type(spec).__name__}")
    return _compile_node(spec, case_sensitive, where)


def and_all(predicates: Sequence[Predicate]) -> Predicate:
    """Conjunction of predicates (``always`` entries are dropped)."""
    preds = [p for p in predicates if p is not always]
    if not preds:
        return always
    if len(preds) == 1:
        return preds[0]
    return lambda doc: all(p(doc) for p in preds)


def attribute_filter_predicate(params: AttributeFilterParams, where: str = "attribute_filter") -> Predicate:
    """The predicate of an ``attribute_filter`` stage's (validated) parameters.

    Simple mode: ``field``/``operator`` (eq)/``value``; or ``conditions`` (a LogicalOperator);
    the model refuses both or neither. ``case_insensitive`` (default false) folds case in
    simple mode and is the default for the conditions tree. ``natural_language`` needs an
    LLM: Unsupported.
    """
    if params.natural_language:
        raise Unsupported(f"{where}: natural_language filters need an LLM and are not supported by the local backend")
    case_sensitive = not params.case_insensitive
    if params.conditions is not None:
        return compile_filter(params.conditions, case_sensitive=case_sensitive, where=f"{where}.conditions")
    cond = {"field": params.field, "operator": params.operator or "eq", "value": params.value}
    return _compile_condition(cond, case_sensitive, where)


def resolve_path(doc: Mapping[str, Any], path: str) -> list[Any]:
    """Every value at ``path`` (lists on the way fan out); empty when absent."""
    parts = path.split(".")
    if parts[0] == "payload" and "payload" not in doc and len(parts) > 1:
        parts = parts[1:]
    current: list[Any] = [doc]
    for part in parts:
        nxt: list[Any] = []
        for value in current:
            if isinstance(value, Mapping):
                if part in value:
                    nxt.append(value[part])
            elif isinstance(value, list):
                nxt.extend(item[part] for item in value if isinstance(item, Mapping) and part in item)
        current = nxt
        if not current:
            return []
    return current


def get_path(doc: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """The first value at ``path``, or ``default``."""
    values = resolve_path(doc, path)
    return values[0] if values else default


# -- compilation -------------------------------------------------------------


def _compile_node(spec: Mapping[str, Any], inherited_cs: bool, where: str) -> Predicate:
    if "field" in spec and set(spec) <= _COND_KEYS and ("value" in spec or "operator" in spec):
        cs = _bool(spec.get("case_sensitive", inherited_cs), f"{where}.case_sensitive")
        return _compile_condition(spec, cs, where)
    cs = _bool(spec.get("case_sensitive", inherited_cs), f"{where}.case_sensitive")
    parts: list[Predicate] = []
    for key, value in spec.items():
        if key == "case_sensitive":
            continue
        group = _GROUP_KEYS.get(key.lower()) if isinstance(key, str) else None
        if group is not None:
            if not isinstance(value, list):
                raise BadRequest(f"{where}.{group}: must be a list of conditions, got {type(value).__name__}")
            items = []
            for i, item in enumerate(value):
                if not isinstance(item, Mapping):
                    raise BadRequest(f"{where}.{group}[{i}]: must be an object (a condition or a group)")
                items.append(_compile_node(item, cs, f"{where}.{group}[{i}]"))
            parts.append(_group(group, items))
        elif not isinstance(key, str) or not key:
            raise BadRequest(f"{where}: field names must be non-empty strings")
        elif _is_operator_map(value):
            parts.extend(
                _compile_condition({"field": key, "operator": _op_name(op), "value": v}, cs, f"{where}.{key}")
                for op, v in value.items()
            )
        else:
            cond = {"field": key, "operator": "eq", "value": value}
            parts.append(_compile_condition(cond, cs, f"{where}.{key}"))
    return and_all(parts)


def _group(kind: str, items: list[Predicate]) -> Predicate:
    if not items:
        return always
    if kind == "AND":
        return and_all(items)
    if kind == "OR":
        return lambda doc: any(p(doc) for p in items)
    return lambda doc: not any(p(doc) for p in items)


def _is_operator_map(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(isinstance(k, str) and _op_name(k) in VALUE_OPERATORS + GEO_OPERATORS for k in value)
    )


def _op_name(key: str) -> str:
    return key[1:] if key.startswith("$") else key


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(f"{where}: must be true or false")
    return value


def _compile_condition(cond: Mapping[str, Any], cs: bool, where: str) -> Predicate:
    field = cond.get("field")
    if not isinstance(field, str) or not field:
        raise BadRequest(f"{where}.field: must be a non-empty string (a dot path)")
    op = cond.get("operator", "eq")
    if not isinstance(op, str):
        raise BadRequest(f"{where}.operator: must be a string")
    op = op.lower()
    if op in GEO_OPERATORS:
        raise Unsupported(f"{where}: operator {op!r} is not supported by the local backend (no geo index)")
    if op not in VALUE_OPERATORS:
        raise BadRequest(f"{where}.operator: unknown operator {op!r}; expected one of {', '.join(VALUE_OPERATORS)}")
    value = cond.get("value")
    test = _value_test(op, value, cs, where)
    if op in ("exists", "is_null"):
        return lambda doc: test(resolve_path(doc, field))
    negate = op in ("ne", "nin")

    def predicate(doc: Mapping[str, Any]) -> bool:
        values = resolve_path(doc, field)
        hit = any(test([v]) for v in _flatten(values))
        return not hit if negate else hit

    return predicate


def _flatten(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if isinstance(v, list):
            out.extend(v)
        else:
            out.append(v)
    return out


def _fold(value: Any, cs: bool) -> Any:
    return value.casefold() if isinstance(value, str) and not cs else value


def _value_test(op: str, value: Any, cs: bool, where: str) -> Callable[[list[Any]], bool]:
    """A test over ``[stored_value]`` (or, for exists/is_null, all resolved values)."""
    if op == "exists":
        want = True if value is None else _bool(value, f"{where}.value")
        return lambda vals: bool(vals) == want
    if op == "is_null":
        want = True if value is None else _bool(value, f"{where}.value")
        return lambda vals: all(v is None for v in vals) == want
    if op in ("eq", "ne"):
        target = _fold(value, cs)
        return lambda vals: _same(_fold(vals[0], cs), target)
    if op in ("in", "nin"):
        if not isinstance(value, list):
            raise BadRequest(f"{where}.value: operator {op!r} needs a list")
        options = [_fold(v, cs) for v in value]
        return lambda vals: any(_same(_fold(vals[0], cs), o) for o in options)
    if op in ("gt", "lt", "gte", "lte"):
        if not isinstance(value, int | float | str) or isinstance(value, bool):
            raise BadRequest(f"{where}.value: operator {op!r} needs a number or a string (e.g. an ISO date)")
        return _ordering(op, value)
    if op in ("starts_with", "ends_with", "text", "regex") and not isinstance(value, str):
        raise BadRequest(f"{where}.value: operator {op!r} needs a string")
    if op == "contains":
        target = _fold(value, cs)

        def contains(vals: list[Any]) -> bool:
            v = vals[0]
            if isinstance(v, str) and isinstance(target, str):
                return target in _fold(v, cs)
            return _same(_fold(v, cs), target)

        return contains
    if op == "starts_with":
        return lambda vals: isinstance(vals[0], str) and _fold(vals[0], cs).startswith(_fold(value, cs))
    if op == "ends_with":
        return lambda vals: isinstance(vals[0], str) and _fold(vals[0], cs).endswith(_fold(value, cs))
    if op == "text":
        needle = value.casefold()
        return lambda vals: isinstance(vals[0], str) and needle in vals[0].casefold()
    if op == "regex":
        try:
            pattern = re.compile(value, 0 if cs else re.IGNORECASE)
        except re.error as exc:
            raise BadRequest(f"{where}.value: invalid regular expression: {exc}") from exc
        return lambda vals: isinstance(vals[0], str) and pattern.search(vals[0]) is not None
    if not isinstance(value, str):
        raise BadRequest(f"{where}.value: operator {op!r} needs a string")
    if op == "phrase":
        wanted = [w.casefold() for w in _WORD.findall(value)]
        return lambda vals: (
            isinstance(vals[0], str) and _has_sequence([w.casefold() for w in _WORD.findall(vals[0])], wanted)
        )
    stems = {_stem(w) for w in _WORD.findall(value)}  # words
    return lambda vals: isinstance(vals[0], str) and stems <= {_stem(w) for w in _WORD.findall(vals[0])}


def _same(a: Any, b: Any) -> bool:
    """Equality that keeps booleans apart from 1 and 0."""
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def _ordering(op: str, value: int | float | str) -> Callable[[list[Any]], bool]:
    numeric = isinstance(value, int | float)

    def compare(vals: list[Any]) -> bool:
        v = vals[0]
        if isinstance(v, bool) or v is None:
            return False
        if numeric != isinstance(v, int | float):
            return False
        if op == "gt":
            return bool(v > value)
        if op == "lt":
            return bool(v < value)
        if op == "gte":
            return bool(v >= value)
        return bool(v <= value)

    return compare


def _has_sequence(words: list[str], wanted: list[str]) -> bool:
    if not wanted:
        return True
    n = len(wanted)
    return any(words[i : i + n] == wanted for i in range(len(words) - n + 1))


def _stem(word: str) -> str:
    """A deliberately light English suffix stripper (shoes/shoe, running/run, tagged/tag)."""
    w = word.casefold()
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif w.endswith(("sses", "xes", "ches", "shes", "zes")):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    elif len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 4 and w.endswith("ed"):
        w = w[:-2]
    else:
        return w
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiousl":
        w = w[:-1]
    return w
