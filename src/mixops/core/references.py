"""Offline cross-resource checks (pure).

Every reference by NAME must point to a resource declared in the manifests,
except collections, which may also be collections the manifests do not declare
(made by hand, by a seed, or by another stack): their existence is checked at plan
time against the live namespace. Also: no reference cycles, every
`{{INPUT.x}}` template names a declared input, and tests target declared
resources and give every required input.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from mixops.core.collection_checks import declared_feature_problems
from mixops.core.locations import Path
from mixops.core.models.retriever import Retriever
from mixops.core.models.taxonomy import HierarchicalConfig, Taxonomy
from mixops.core.models.tests import ClusterTest, RetrieverTest, TaxonomyTest
from mixops.core.stack import KINDS, Kind, Stack, Undecided
from mixops.core.wording import plural, with_article
from mixops.errors import Problem

ID_PREFIX = {"retriever": "ret_", "taxonomy": "tax_", "cluster": "clust_", "collection": "col_"}
INPUT_TEMPLATE_RE = re.compile(r"\{\{\s*(input|inputs)\.([A-Za-z0-9_]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Ref:
    """One reference found in a resource: where (sub-path), to what kind, which name."""

    sub: Path
    kind: str  # retriever | taxonomy | cluster | collection
    name: str


def refs_of(stack: Stack, kind: Kind, name: str) -> Iterator[Ref]:
    """Every reference of a resource, from the one table in `refpaths`."""
    for path, ref_kind, value in stack.refs(kind, name):
        if ref_kind == "collection" and path[-1] == "parent_collection_id":
            continue  # a level of the same taxonomy, checked by _check_hierarchy
        yield Ref(path, ref_kind, value)


def referenced_collections(stack: Stack) -> set[str]:
    """Collection names the stack uses but does not declare; plan checks they exist in the namespace."""
    out: set[str] = set()
    for kind in KINDS:
        for name in stack.resources(kind):
            out |= {r.name for r in refs_of(stack, kind, name) if r.kind == "collection"}
    return out - set(stack.collections)


def check_references(stack: Stack, undecided: Undecided | None = None) -> list[Problem]:
    """Every cross-resource problem of the declared resources.

    A reference to a name that `undecided` covers (declared by a resource or file with
    problems of its own) is not reported: it is a consequence, not a problem.
    """
    undecided = undecided or Undecided()
    problems: list[Problem] = []
    edges: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for kind in KINDS:
        for name, res in stack.resources(kind).items():
            key = (kind, name)
            origin, doc = stack.origins[key], stack.docs[key]
            edges[key] = []
            for ref in refs_of(stack, kind, name):
                if ref.kind == "collection" and ref.name not in stack.collections:
                    if ref.name.startswith(ID_PREFIX["collection"]) and len(ref.name) > 4:
                        problems.append(
                            origin.problem(
                                f"{ref.name!r} looks like a collection id; manifests reference collections by name",
                                "write the collection's name so the manifest works in every namespace",
                                ref.sub,
                                doc,
                            )
                        )
                    continue
                declared = stack.resources(ref.kind)  # type: ignore[arg-type]
                if ref.name not in declared:
                    if not undecided.covers(ref.kind, ref.name):
                        problems.append(
                            origin.problem(
                                *_unknown(ref.kind, ref.name, _names(declared, undecided, ref.kind)), ref.sub, doc
                            )
                        )
                    continue
                if (ref.kind, ref.name) == key:
                    problems.append(origin.problem(f"{kind} {name!r} refers to itself", "", ref.sub, doc))
                    continue
                edges[key].append((ref.kind, ref.name))
            if isinstance(res, Retriever):
                problems += _check_templates(res, origin, doc)
                problems += _check_query_values(res, origin, doc)
            if isinstance(res, Taxonomy):
                problems += _check_hierarchy(res, origin, doc)
    problems += _check_cycles(stack, edges)
    problems += _check_tests(stack, undecided)
    problems += declared_feature_problems(stack)
    return problems


def _names(declared: Iterable[str], undecided: Undecided, kind: str) -> list[str]:
    """Names to suggest: the valid resources and those declared with problems of their own.

    A retriever with a schema error is not in the stack, but its name is still the one
    a misspelt reference most likely meant; "no retrievers are declared" would be false.
    """
    return sorted({*declared, *undecided.names.get(kind, ())})


def _unknown(kind: str, name: str, declared: list[str]) -> tuple[str, str]:
    if name.startswith(ID_PREFIX.get(kind, "\0")):
        return (
            f"{name!r} looks like {with_article(kind)} id; manifests reference {plural(kind)} by name",
            f"write the name of {with_article(kind)} declared in the manifests",
        )
    close = difflib.get_close_matches(name, declared, n=1, cutoff=0.6)
    if close:
        return f"unknown {kind} {name!r}", f"did you mean {close[0]!r}?"
    if not declared:
        return f"unknown {kind} {name!r}", f"declare it: no {plural(kind)} are declared"
    return f"unknown {kind} {name!r}", f"declare it, or use one of: {', '.join(sorted(declared))}"


def _templates_in(node: Any, path: Path, out: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """Append (path, input name) for every `{{INPUT.x}}` under `node`; returns `out`."""
    if isinstance(node, dict):
        for k, v in node.items():
            if not isinstance(v, str) or "{{" in v:
                _templates_in(v, (*path, k), out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _templates_in(v, (*path, i), out)
    elif isinstance(node, str):
        out.extend((path, m.group(2)) for m in INPUT_TEMPLATE_RE.finditer(node))
    return out


def _check_templates(r: Retriever, origin: Any, doc: Any) -> list[Problem]:
    out: list[Problem] = []
    for si, stage in enumerate(r.stages):
        raw = stage.model_dump(mode="json", by_alias=True, exclude_unset=True)["config"]
        for sub, key in _templates_in(raw, ("stages", si, "config"), []):
            if key not in r.input_schema:
                declared = ", ".join(sorted(r.input_schema)) or "none"
                close = difflib.get_close_matches(key, list(r.input_schema), n=1)
                fix = f"did you mean {close[0]!r}?" if close else f"declare it in input_schema (declared: {declared})"
                out.append(
                    origin.problem(f"template uses input {key!r}, which input_schema does not declare", fix, sub, doc)
                )
    return out


def _check_query_values(r: Retriever, origin: Any, doc: Any) -> list[Problem]:
    """A text or vector query written with no value at all can never run.

    The models take `value` as optional (the SDK's do: a template naming an optional input
    that was not sent leaves it out, and the search's `on_empty` decides); a manifest that
    writes neither a value nor a template fails every execution, so validate says so.
    """
    out: list[Problem] = []
    for si, stage in enumerate(r.stages):
        params = stage.parameters_dict()
        for j, search in enumerate(params.get("searches") or []):
            query = search.get("query") if isinstance(search, dict) else None
            if not isinstance(query, dict) or query.get("input_mode", "text") not in ("text", "vector"):
                continue
            if query.get("value") is None and query.get("text") is None:
                sub = ("stages", si, "config", "parameters", "searches", j, "query")
                out.append(
                    origin.problem(
                        f"a {query.get('input_mode', 'text')} query needs `value`",
                        'add `value:`, for example "{{INPUT.query}}"',
                        sub,
                        doc,
                    )
                )
    return out


def _check_hierarchy(t: Taxonomy, origin: Any, doc: Any) -> list[Problem]:
    cfg = t.config
    if not isinstance(cfg, HierarchicalConfig) or not cfg.hierarchical_nodes:
        return []
    out: list[Problem] = []
    nodes = {n.collection_id for n in cfg.hierarchical_nodes}
    roots = [n for n in cfg.hierarchical_nodes if n.parent_collection_id is None]
    for i, n in enumerate(cfg.hierarchical_nodes):
        if n.parent_collection_id is not None and n.parent_collection_id not in nodes:
            out.append(
                origin.problem(
                    f"parent_collection_id {n.parent_collection_id!r} is not a level of this taxonomy",
                    f"use one of: {', '.join(sorted(nodes))}",
                    ("config", "hierarchical_nodes", i, "parent_collection_id"),
                    doc,
                )
            )
    if not roots:
        out.append(
            origin.problem(
                "the hierarchy has no root level",
                "leave parent_collection_id out on the top level",
                ("config", "hierarchical_nodes"),
                doc,
            )
        )
    parent = {n.collection_id: n.parent_collection_id for n in cfg.hierarchical_nodes}
    for start in parent:
        seen: set[str] = set()
        cur: str | None = start
        while cur is not None and cur in parent:
            if cur in seen:
                out.append(
                    origin.problem(
                        f"hierarchy levels form a cycle through {cur!r}", "", ("config", "hierarchical_nodes"), doc
                    )
                )
                return out
            seen.add(cur)
            cur = parent[cur]
    return out


def _check_cycles(stack: Stack, edges: dict[tuple[str, str], list[tuple[str, str]]]) -> list[Problem]:
    """Depth-first search; one problem per cycle, reported on its first member."""
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(edges, white)
    out: list[Problem] = []
    for start in sorted(edges):
        if color[start] != white:
            continue
        stack_path: list[tuple[str, str]] = []
        iters = [iter(edges[start])]
        color[start] = grey
        stack_path.append(start)
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                color[stack_path.pop()] = black
                iters.pop()
                continue
            if color.get(nxt, black) == grey:
                cyc = [*stack_path[stack_path.index(nxt) :], nxt]
                where = stack.origins[nxt]
                text = " -> ".join(f"{k} {n!r}" for k, n in cyc)
                out.append(
                    where.problem(
                        f"reference cycle: {text}",
                        "break the cycle; resources cannot depend on themselves",
                        (),
                        stack.docs[nxt],
                    )
                )
            elif color.get(nxt) == white:
                color[nxt] = grey
                stack_path.append(nxt)
                iters.append(iter(edges[nxt]))
    return out


def _check_tests(stack: Stack, undecided: Undecided) -> list[Problem]:
    out: list[Problem] = []
    for test in stack.tests:
        origin, doc = stack.origins[("test", test.name)], stack.docs[("test", test.name)]
        if isinstance(test, RetrieverTest):
            target_kind, target = "retriever", test.retriever
        elif isinstance(test, TaxonomyTest):
            target_kind, target = "taxonomy", test.taxonomy
        else:
            assert isinstance(test, ClusterTest)
            target_kind, target = "cluster", test.cluster
        declared = stack.resources(target_kind)  # type: ignore[arg-type]
        if target not in declared:
            if not undecided.covers(target_kind, target):
                out.append(
                    origin.problem(
                        *_unknown(target_kind, target, _names(declared, undecided, target_kind)), (target_kind,), doc
                    )
                )
            continue
        if isinstance(test, RetrieverTest):
            retriever = stack.retrievers[target]
            for key, spec in retriever.input_schema.items():
                if spec.required and spec.default is None and key not in test.inputs:
                    out.append(
                        origin.problem(
                            f"retriever {target!r} requires input {key!r}",
                            f"add `{key}:` under inputs",
                            ("inputs",),
                            doc,
                        )
                    )
            for key in test.inputs:
                if key not in retriever.input_schema:
                    close = difflib.get_close_matches(key, list(retriever.input_schema), n=1)
                    fix = (
                        f"did you mean {close[0]!r}?"
                        if close
                        else (f"declared inputs: {', '.join(sorted(retriever.input_schema)) or 'none'}")
                    )
                    out.append(origin.problem(f"retriever {target!r} has no input {key!r}", fix, ("inputs", key), doc))
    return out
