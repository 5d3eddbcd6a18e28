"""Safe YAML: text in, plain Python data with source positions out, every problem reported.

We never let PyYAML construct anything. Its parser (libyaml through ``CParser`` when
present, the pure-Python parser otherwise) gives a flat stream of events, and one
iterative loop here builds dicts, lists and scalars from them. Building it ourselves
is what makes the input safe and the errors useful:

- no recursion: nesting is a list of frames, so ``[[[[...`` 100,000 deep is a clean
  problem at depth 101, not a RecursionError (PyYAML's C composer even segfaults);
- aliases are counted as they expand, in nodes (``MAX_ALIAS_NODES``) and in the
  characters of the keys and strings they copy (``MAX_ALIAS_CHARS``), so a
  billion-laughs document, or a 1 MB string aliased 100,000 times, stops at the first
  alias over the budget, in milliseconds and without the copy ever being made;
- duplicate keys are seen (PyYAML silently keeps the last);
- tags other than YAML's own core tags (``!!python/object``, ``!Ref``...) are refused;
- every key and sequence item gets its line and column.

Scalars follow the YAML 1.2 core schema, not PyYAML's YAML 1.1 resolver: only
``true``/``false`` (any case) are booleans, ``yes``/``no``/``on``/``off`` stay strings;
``null``, ``~`` and the empty value are null; integers are decimal, ``0o`` octal or
``0x`` hex (``007`` is 7, ``1_000`` is a string); floats are decimal with optional
exponent; timestamps stay strings. Manifests are sent as JSON, so a number JSON cannot
carry faithfully is a problem at its line: an integer beyond 64 bits (most JSON
implementations lose or refuse it), ``.inf``, ``.nan``, or a float that overflows (``1e400``). Mapping keys are always
strings, exactly as written (``0:`` is the key ``"0"``, ``on:`` is ``"on"``), because
manifests are JSON-shaped: the JSON Schemas and the API only know string keys.

Anchors and aliases work, and so does the YAML 1.1 merge key ``<<`` (a mapping or a
list of mappings; keys written in the mapping itself win, then earlier merge sources).
Each alias use yields a fresh copy, so later in-place edits of one use cannot leak into
another. Positions inside an aliased copy are not recorded separately: they resolve to
the alias itself (``locate`` falls back to the longest known prefix).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from mixops.core.locations import Unrepresentable
from mixops.errors import Problem
from mixops.ports.gcpause import gc_paused

try:
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None  # type: ignore[assignment,misc]

MAX_DEPTH = 100
"""Deepest nesting of collections accepted (the document root is depth 1)."""

MAX_ALIAS_NODES = 100_000
"""Nodes that aliases may add to one file, counting every node of every expansion."""

MAX_ALIAS_CHARS = 10_000_000
"""Characters (of keys and scalars) that aliases may add to one file: the expanded size
of everything the aliases stand for, as large again as the largest file accepted. A
parse shares an aliased string rather than copying it, but every later step (resolving,
validating, hashing, sending) pays for its expanded size."""

PathKey = tuple[str | int, ...]

# Positions are packed into one int (line << 32 | col) to keep the index small: a
# 10,000-resource project has half a million positions.
_COL_BITS = 32
_COL_MASK = (1 << _COL_BITS) - 1

_CORE = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_CORE + t for t in ("str", "int", "float", "bool", "null"))
_MAP, _SEQ = _CORE + "map", _CORE + "seq"
_SCALAR_TAGS = frozenset({_STR, _INT, _FLOAT, _BOOL, _NULL, "!"})

_NULLS = frozenset({"~", "null", "Null", "NULL"})
_INT_RE = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT_RE = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_SPECIAL_FLOATS = {
    ".inf": float("inf"), ".Inf": float("inf"), ".INF": float("inf"),
    "+.inf": float("inf"), "+.Inf": float("inf"), "+.INF": float("inf"),
    "-.inf": float("-inf"), "-.Inf": float("-inf"), "-.INF": float("-inf"),
    ".nan": float("nan"), ".NaN": float("nan"), ".NAN": float("nan"),
}  # fmt: skip
# A plain scalar that starts with none of these is a string: skips the regexes for most values.
_MAYBE_TYPED = frozenset("0123456789+-.~nNtTfF")


def _pack(line: int, col: int) -> int:
    return (line << _COL_BITS) | col


def _unpack(packed: int) -> tuple[int, int]:
    return packed >> _COL_BITS, packed & _COL_MASK


class PositionIndex(Mapping[PathKey, tuple[int, int]]):
    """Where each value of a document was written: ``path -> (line, col)``, 1-based.

    A mapping entry is located at its key, a sequence item at the item's first
    character, the root (path ``()``) at the document's first node. Stored as a tree
    shadowing the data (``shadow`` entries are a packed position, or a pair of packed
    position and child shadow for collections), not as one dict of path tuples.
    """

    __slots__ = ("_root", "_shadow")

    def __init__(self, root: int, shadow: dict[str, Any] | list[Any] | None) -> None:
        self._root = root
        self._shadow = shadow

    def _walk(self, path: Sequence[str | int]) -> tuple[int, int]:
        """(packed position, number of path items matched) for the longest known prefix."""
        best, matched = self._root, 0
        shadow = self._shadow
        for key in path:
            if shadow is None:
                break
            entry: Any
            if isinstance(shadow, dict):
                entry = shadow.get(key) if isinstance(key, str) else None
            elif isinstance(key, int) and not isinstance(key, bool) and 0 <= key < len(shadow):
                entry = shadow[key]
            else:
                entry = None
            if entry is None:
                break
            if isinstance(entry, tuple):
                best, shadow = entry
            else:
                best, shadow = entry, None
            matched += 1
        return best, matched

    def locate(self, path: Sequence[str | int]) -> tuple[int, int]:
        return _unpack(self._walk(path)[0])

    def __getitem__(self, path: PathKey) -> tuple[int, int]:
        packed, matched = self._walk(path)
        if matched != len(path):
            raise KeyError(path)
        return _unpack(packed)

    def __iter__(self) -> Iterator[PathKey]:
        yield ()
        # Depth is bounded by MAX_DEPTH, but an explicit stack costs nothing here.
        todo: list[tuple[PathKey, Any]] = [((), self._shadow)]
        while todo:
            prefix, shadow = todo.pop()
            items = shadow.items() if isinstance(shadow, dict) else enumerate(shadow)
            for key, entry in items:
                path = (*prefix, key)
                yield path
                if isinstance(entry, tuple) and entry[1] is not None:
                    todo.append((path, entry[1]))

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass(frozen=True)
class ParsedDoc:
    """One non-empty YAML document whose root is a mapping."""

    index: int
    data: dict[str, Any]
    positions: PositionIndex


def format_path(path: Sequence[str | int]) -> str:
    """``("retrievers", 0, "stages")`` -> ``retrievers[0].stages`` (odd keys quoted)."""
    out: list[str] = []
    for key in path:
        if isinstance(key, int):
            out.append(f"[{key}]")
        elif key and re.fullmatch(r"[A-Za-z0-9_$@-]+", key):
            out.append(f".{key}" if out else key)
        else:
            out.append(f"[{key!r}]")
    return "".join(out)


class _Fatal(Exception):
    """Stops the rest of the file: the structure cannot be trusted past this point."""

    def __init__(self, line: int, col: int, path: str, message: str, fix: str) -> None:
        super().__init__(message)
        self.line, self.col, self.path, self.message, self.fix = line, col, path, message, fix


class _Frame:
    """A collection being built. ``key`` is the pending mapping key (None: expecting a key)."""

    __slots__ = (
        "anchor",
        "data",
        "height",
        "is_map",
        "key",
        "key_pos",
        "merge_pos",
        "merges",
        "merging",
        "node_pos",
        "shadow",
        "size",
    )

    def __init__(self, is_map: bool, anchor: str | None, node_pos: int) -> None:
        self.is_map = is_map
        self.node_pos = node_pos
        self.data: Any = {} if is_map else []
        self.shadow: Any = {} if is_map else []
        self.anchor = anchor
        self.key: str | None = None
        self.key_pos = 0
        self.size = 1
        self.height = 1
        self.merges: list[Any] | None = None
        self.merging = False
        self.merge_pos = 0


@dataclass
class _Anchor:
    value: Any
    size: int
    height: int
    key_text: str | None  # the scalar as written, when the anchor is used as a mapping key
    chars: int | None = None  # expanded size of `value` in characters, computed at first use


def _chars(value: Any) -> int:
    """Characters of every key and scalar in ``value`` (each non-string scalar counts 1).

    Iterative, and only ever run on an anchored value (whose node count is already
    within budget), once per anchor.
    """
    total = 0
    todo = [value]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            total += sum(len(k) for k in node)
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, str):
            total += len(node)
        else:
            total += 1
    return total


def _new_parser(text: str) -> Any:
    if _CParser is not None:
        return _CParser(text)
    return _PyParser(text)


class _PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's pure-Python event parser, for installs without libyaml."""

    def __init__(self, text: str) -> None:
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string"


def _copy(value: Any) -> Any:
    """Fresh containers for one alias use; depth is already bounded by MAX_DEPTH."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


INT_MIN, INT_MAX = -(2**63), 2**63 - 1


class _NotJson(ValueError):
    """A number that the JSON sent to the API cannot carry."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message, self.fix = message, fix


def _shown(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:10]}...{text[-4:]} ({len(text)} characters)"


def _too_big(text: str) -> _NotJson:
    return _NotJson(
        f"integer {_shown(text)} is out of range: integers must fit in 64 bits ({INT_MIN:,} to {INT_MAX:,})",
        "use a smaller number, or quote it to keep it as text",
    )


def _finite(value: float, text: str) -> float:
    if value != value or value in (_INF, -_INF):
        raise _NotJson(
            f"{_shown(text)} is not a finite number: JSON has no infinity or NaN",
            "write a finite number, or quote it to keep it as text",
        )
    return value


_INF = float("inf")


def _resolve_plain(value: str) -> Any:
    if not value:
        return None
    if value[0] not in _MAYBE_TYPED:
        return value
    if value in _NULLS:
        return None
    if len(value) in (4, 5):
        low = value.lower()
        if low == "true":
            return True
        if low == "false":
            return False
    if _INT_RE.fullmatch(value):
        return _to_int(value)
    if _FLOAT_RE.fullmatch(value):
        return _finite(float(value), value)
    special = _SPECIAL_FLOATS.get(value)
    return value if special is None else _finite(special, value)


def _to_int(text: str) -> int:
    """The integer written as ``text``; raises _NotJson past 64 bits (before Python's own
    4,300-digit conversion limit could raise)."""
    if len(text) > 24:  # more digits than any 64-bit integer has, in any base written here
        raise _too_big(text)
    if text.startswith("0o"):
        number = int(text[2:], 8)
    elif text.startswith("0x"):
        number = int(text[2:], 16)
    else:
        number = int(text)
    if not INT_MIN <= number <= INT_MAX:
        raise _too_big(text)
    return number


class _Builder:
    """Turns the event stream of one file into ParsedDocs and Problems."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.docs: list[ParsedDoc] = []
        self.problems: list[Problem] = []
        self.stack: list[_Frame] = []
        self.anchors: dict[str, _Anchor] = {}
        self.open_anchors: set[str] = set()
        self.alias_nodes = 0
        self.alias_chars = 0
        self.doc_index = -1
        self.documents_seen = 0
        self.empty_documents = 0
        self.root: Any = None
        self.root_pos = 0
        self.root_shadow: Any = None
        self.root_empty = False
        self.root_set = False

    # -- problems ---------------------------------------------------------------------

    def _path(self, *extra: str | int) -> str:
        keys: list[str | int] = []
        for frame in self.stack:
            if frame.is_map:
                if frame.key is not None:
                    keys.append(frame.key)
            else:
                keys.append(len(frame.data))
        keys.extend(extra)
        return format_path(keys)

    def _problem(self, mark: Any, message: str, fix: str, path: str = "") -> None:
        self.problems.append(Problem(self.file, mark.line + 1, mark.column + 1, path, message, fix))

    def _fatal(self, mark: Any, message: str, fix: str) -> _Fatal:
        path = self._path()
        if len(path) > 120:  # a runaway nesting: the start of the path says enough
            path = path[:60] + "..."
        return _Fatal(mark.line + 1, mark.column + 1, path, message, fix)

    # -- scalars ----------------------------------------------------------------------

    def _scalar(self, ev: Any) -> Any:
        tag = ev.tag
        try:
            return self._typed_scalar(ev)
        except _NotJson as bad:
            self._problem(ev.start_mark, bad.message, bad.fix, self._path())
            return Unrepresentable(ev.value)
        except ValueError:
            pass
        if tag in _SCALAR_TAGS:
            self._problem(
                ev.start_mark,
                f"{ev.value!r} is not a valid {tag.removeprefix(_CORE)}",
                "remove the tag or correct the value",
                self._path(),
            )
        else:
            self._refuse_tag(ev.start_mark, tag)
        return ev.value

    def _typed_scalar(self, ev: Any) -> Any:
        """The scalar's value; ValueError when its tag does not fit (the caller says so)."""
        tag = ev.tag
        if tag is None:
            return ev.value if ev.style else _resolve_plain(ev.value)
        if tag == "!" or tag == _STR:
            return ev.value
        value = ev.value.strip()
        if tag == _INT and _INT_RE.fullmatch(value):
            return _to_int(value)
        if tag == _FLOAT and (_FLOAT_RE.fullmatch(value) or value in _SPECIAL_FLOATS):
            special = _SPECIAL_FLOATS.get(value)
            return _finite(float(value) if special is None else special, value)
        if tag == _BOOL and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if tag == _NULL and (value in _NULLS or not value):
            return None
        raise ValueError(value)

    def _refuse_tag(self, mark: Any, tag: str) -> None:
        shown = "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag
        self._problem(
            mark,
            f"YAML tag {shown} is not allowed",
            "remove the tag: manifests hold plain mappings, lists and scalars",
            self._path(),
        )

    def _key(self, ev: Any) -> str:
        if ev.tag is not None and ev.tag not in ("!", _STR):
            self._refuse_tag(ev.start_mark, ev.tag)
        return str(ev.value)

    # -- structure --------------------------------------------------------------------

    def _set_key(self, top: _Frame, key: str, mark: Any, plain: bool) -> None:
        pos = _pack(mark.line + 1, mark.column + 1)
        if plain and key == "<<":
            if top.merges is not None:
                self._problem(
                    mark, "duplicate merge key '<<'", "merge several mappings with `<<: [*a, *b]`", self._path()
                )
            top.merging = True
            top.merge_pos = pos
        elif key in top.data:
            first = top.shadow[key]
            line = (first[0] if isinstance(first, tuple) else first) >> _COL_BITS
            self._problem(
                mark,
                f"duplicate key {key!r} (first defined on line {line})",
                "remove one of them: YAML keeps only the last",
                self._path(key),
            )
        top.key = key
        top.key_pos = pos

    def _attach(self, value: Any, pos: int, shadow: Any, size: int, height: int) -> None:
        """Puts a finished value into the collection being built (or makes it the root)."""
        stack = self.stack
        if not stack:
            self.root, self.root_pos, self.root_shadow, self.root_set = value, pos, shadow, True
            return
        top = stack[-1]
        top.size += size
        if height >= top.height:
            top.height = height + 1
        entry = pos if shadow is None else (pos, shadow)
        if not top.is_map:
            top.data.append(value)
            top.shadow.append(entry)
            return
        key = top.key
        top.key = None
        if top.merging:
            top.merging = False
            self._add_merge(top, value)
            return
        entry = (top.key_pos, shadow) if shadow is not None else top.key_pos
        assert key is not None
        top.data[key] = value
        top.shadow[key] = entry

    def _add_merge(self, top: _Frame, value: Any) -> None:
        sources = value if isinstance(value, list) else [value]
        if top.merges is None:
            top.merges = []
        for source in sources:
            if isinstance(source, dict):
                top.merges.append(source)
            else:
                line, col = _unpack(top.merge_pos)
                self.problems.append(
                    Problem(
                        self.file,
                        line,
                        col,
                        self._path("<<"),
                        f"merge key '<<' needs a mapping or a list of mappings, not {_kind(source)}",
                        "point it at an anchored mapping, e.g. `<<: *defaults`",
                    )
                )

    def _finish_merges(self, frame: _Frame) -> None:
        assert frame.merges is not None
        data, shadow = frame.data, frame.shadow
        for source in frame.merges:
            for key, value in source.items():
                if key not in data:
                    data[key] = value
                    shadow[key] = frame.merge_pos

    def _open(self, ev: Any, is_map: bool) -> _Frame:
        stack = self.stack
        mark = ev.start_mark
        if stack and stack[-1].is_map and stack[-1].key is None:
            raise self._fatal(
                mark, "a mapping key must be a plain string, not a list or mapping", "write the key as a string"
            )
        if len(stack) >= MAX_DEPTH:
            raise self._fatal(mark, f"nesting is deeper than {MAX_DEPTH} levels", _DEPTH_FIX)
        tag = ev.tag
        if tag is not None and tag != "!" and tag != (_MAP if is_map else _SEQ):
            self._refuse_tag(mark, tag)
        frame = _Frame(is_map, ev.anchor, _pack(mark.line + 1, mark.column + 1))
        if ev.anchor is not None:
            self.open_anchors.add(ev.anchor)
        stack.append(frame)
        return frame

    def _close(self) -> None:
        frame = self.stack.pop()
        if frame.merges is not None:
            self._finish_merges(frame)
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = _Anchor(frame.data, frame.size, frame.height, None)
        # For an entry of a mapping, _attach records the key's position instead of node_pos.
        self._attach(frame.data, frame.node_pos, frame.shadow, frame.size, frame.height)

    def _alias(self, ev: Any) -> None:
        mark = ev.start_mark
        name = ev.anchor
        anchor = self.anchors.get(name)
        if anchor is None:
            if name in self.open_anchors:
                raise self._fatal(
                    mark,
                    f"alias *{name} refers to the collection that contains it",
                    "recursive structures are not allowed; copy the values instead",
                )
            raise self._fatal(
                mark,
                f"alias *{name} has no anchor &{name} before it in this document",
                f"define `&{name}` earlier in the same document",
            )
        top = self.stack[-1] if self.stack else None
        if top is not None and top.is_map and top.key is None:
            if anchor.key_text is None:
                raise self._fatal(
                    mark, f"alias *{name} used as a key must refer to a string", "write the key as a string"
                )
            self._count_chars(mark, len(anchor.key_text))
            self._set_key(top, anchor.key_text, mark, plain=False)
            return
        self.alias_nodes += anchor.size
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise self._fatal(
                mark,
                f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes (alias bomb?)",
                "use fewer or smaller anchors/aliases",
            )
        if anchor.chars is None:
            anchor.chars = _chars(anchor.value)
        self._count_chars(mark, anchor.chars)
        if len(self.stack) + anchor.height > MAX_DEPTH:
            raise self._fatal(
                mark, f"alias *{name} makes nesting deeper than {MAX_DEPTH} levels", "flatten the anchored structure"
            )
        value = _copy(anchor.value) if anchor.height else anchor.value
        self._attach(value, _pack(mark.line + 1, mark.column + 1), None, anchor.size, anchor.height)

    def _count_chars(self, mark: Any, chars: int) -> None:
        self.alias_chars += chars
        if self.alias_chars > MAX_ALIAS_CHARS:
            raise self._fatal(
                mark,
                f"aliases expand to more than {MAX_ALIAS_CHARS:,} characters (alias bomb?)",
                "use fewer aliases of long values, or write the value once",
            )

    # -- documents --------------------------------------------------------------------

    def _start_document(self) -> None:
        self.doc_index += 1
        self.anchors = {}
        self.open_anchors = set()
        self.root, self.root_set, self.root_empty, self.root_shadow = None, False, False, None

    def _end_document(self) -> None:
        if self.root_empty:
            self.empty_documents += 1
            return
        self.documents_seen += 1
        if isinstance(self.root, dict):
            self.docs.append(ParsedDoc(self.doc_index, self.root, PositionIndex(self.root_pos, self.root_shadow)))
            return
        line, col = _unpack(self.root_pos)
        self.problems.append(
            Problem(
                self.file,
                line,
                col,
                "",
                f"the document root must be a mapping, not {_kind(self.root)}",
                'start the document with `version: "1.0"` and put resources under `retrievers:`, '
                "`taxonomies:`, `clusters:` or `tests:`",
            )
        )

    def _slow_scalar(self, ev: Any) -> None:
        """A scalar with a tag or an anchor, a special key, or the document root."""
        mark = ev.start_mark
        stack = self.stack
        if stack:
            top = stack[-1]
            if top.is_map and top.key is None:
                key = ev.value if ev.tag is None else self._key(ev)
                self._set_key(top, key, mark, plain=not ev.style and ev.tag is None)
                if ev.anchor is not None:
                    self.anchors[ev.anchor] = _Anchor(key, 1, 0, key)
                return
        elif not ev.value and not ev.style and ev.tag is None:
            self.root_empty = True
        value = self._scalar(ev)
        if ev.anchor is not None:
            self.anchors[ev.anchor] = _Anchor(value, 1, 0, ev.value)
        self._attach(value, _pack(mark.line + 1, mark.column + 1), None, 1, 0)

    def run(self, parser: Any) -> None:
        # The hot loop: one pass over ~3 events per YAML line. Plain untagged scalars
        # (nearly all of them) are handled inline; everything else goes through the
        # methods above. ``top`` caches stack[-1].
        get_event = parser.get_event
        stack = self.stack
        resolve = _resolve_plain
        top: _Frame | None = None
        while True:
            ev = get_event()
            kind = type(ev)
            if kind is ScalarEvent:
                if top is not None and ev.tag is None and ev.anchor is None:
                    # `resolve` raises _NotJson before anything is stored: the slow path
                    # then takes the same event again and reports it.
                    try:
                        if top.is_map:
                            key = top.key
                            if key is None:
                                key = ev.value
                                if key in top.data or key == "<<":
                                    self._set_key(top, key, ev.start_mark, plain=not ev.style)
                                else:
                                    mark = ev.start_mark
                                    top.key = key
                                    top.key_pos = ((mark.line + 1) << _COL_BITS) | (mark.column + 1)
                                continue
                            if not top.merging:
                                top.data[key] = ev.value if ev.style else resolve(ev.value)
                                top.shadow[key] = top.key_pos
                                top.key = None
                                top.size += 1
                                continue
                        else:
                            mark = ev.start_mark
                            top.data.append(ev.value if ev.style else resolve(ev.value))
                            top.shadow.append(((mark.line + 1) << _COL_BITS) | (mark.column + 1))
                            top.size += 1
                            continue
                    except _NotJson:
                        pass
                self._slow_scalar(ev)
            elif kind is MappingStartEvent:
                top = self._open(ev, True)
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                self._close()
                top = stack[-1] if stack else None
            elif kind is SequenceStartEvent:
                top = self._open(ev, False)
            elif kind is AliasEvent:
                self._alias(ev)
            elif kind is DocumentStartEvent:
                self._start_document()
                top = None
            elif kind is DocumentEndEvent:
                self._end_document()
            elif kind is StreamEndEvent:
                break


def parse_yaml(text: str, file: str) -> tuple[list[ParsedDoc], list[Problem]]:
    """Every document of ``text`` whose root is a mapping, and every problem found (see parse_stream)."""
    docs, problems, _ = parse_stream(text, file)
    return docs, problems


def parse_stream(text: str, file: str) -> tuple[list[ParsedDoc], list[Problem], bool]:
    """Every document of ``text`` whose root is a mapping, every problem found, and whether
    the whole text was read (False after a problem that stops the file).

    ``file`` is only used to label problems. Empty documents (nothing but comments, or
    what a leading or trailing ``---`` leaves) are skipped; a text with no non-empty
    document at all is a problem ("file is empty"). A syntax error, an alias bomb or
    excessive nesting stops the file: documents completed before it are still returned.
    """
    builder = _Builder(file)
    parser: Any = None
    complete = False
    try:
        parser = _new_parser(text)  # the pure-Python reader already checks characters here
        with gc_paused():
            builder.run(parser)
        complete = True
    except _Fatal as fatal:
        builder.problems.append(Problem(file, fatal.line, fatal.col, fatal.path, fatal.message, fatal.fix))
    except yaml.MarkedYAMLError as err:
        builder.problems.append(_syntax_problem(file, text, err))
    except yaml.reader.ReaderError as err:
        builder.problems.append(_reader_problem(file, text, err, char_offsets=_CParser is None))
    except yaml.YAMLError as err:  # pragma: no cover - PyYAML raises only the two above while parsing
        builder.problems.append(Problem(file, 1, 1, "", f"invalid YAML: {err}", "fix the YAML syntax"))
    finally:
        if parser is not None:
            parser.dispose()
    if not builder.problems and builder.documents_seen == 0:
        builder.problems.append(
            Problem(
                file,
                1,
                1,
                "",
                "file is empty",
                'add `version: "1.0"` and at least one of `retrievers:`, `taxonomies:`, `clusters:`, '
                "`tests:`, or delete the file",
            )
        )
    return builder.docs, builder.problems, complete


_SYNTAX_HINTS = (
    ("found character '\\t'", "indent with spaces: YAML does not allow tabs"),
    ("mapping values are not allowed", "quote the value if it contains ': ', or fix the indentation"),
    ("found undefined tag handle", "remove the tag"),
    ("found unexpected end of stream", "close the open quote or bracket"),
    ("found duplicate anchor", "give each anchor a unique name"),
)


_DEPTH_FIX = "flatten the structure; manifests never need this depth"


def _syntax_problem(file: str, text: str, err: yaml.MarkedYAMLError) -> Problem:
    mark = err.problem_mark or err.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    if "maximum nesting depth" in (err.problem or ""):
        # libyaml (0.2.5+) has its own, deeper limit, and its scanner can reach it before the
        # events reach ours: deeper than libyaml's limit is deeper than ours, so say it our way.
        return Problem(file, line, col, "", f"nesting is deeper than {MAX_DEPTH} levels", _DEPTH_FIX)
    message = err.problem or "invalid YAML"
    if err.context:
        context = err.context_mark
        where = "" if context is None or mark is None or context.line == mark.line else f" on line {context.line + 1}"
        message = f"{message} ({err.context}{where})"
    fix = next((hint for needle, hint in _SYNTAX_HINTS if needle in message), "fix the YAML syntax near this position")
    if mark is not None and _char_at(text, mark.index) == "\t":  # libyaml does not name the character
        fix = "indent with spaces: YAML does not allow tabs"
    return Problem(file, line, col, "", f"YAML syntax error: {message}", fix)


def _char_at(text: str, index: int) -> str:
    return text[index] if 0 <= index < len(text) else ""


def _reader_problem(file: str, text: str, err: yaml.reader.ReaderError, *, char_offsets: bool) -> Problem:
    # libyaml counts the offset in bytes of the UTF-8 text, the Python reader in characters.
    if char_offsets:
        prefix = text[: err.position]
    else:
        prefix = text.encode("utf-8")[: err.position].decode("utf-8", errors="replace")
    line = prefix.count("\n") + 1
    col = len(prefix) - (prefix.rfind("\n") + 1) + 1
    char = err.character
    code = ord(char) if isinstance(char, str) else char
    shown = f"U+{code:04X}" if isinstance(code, int) else repr(code)
    return Problem(
        file,
        line,
        col,
        "",
        f"character {shown} is not allowed in YAML ({err.reason})",
        "remove the control character, or write it as an escape inside double quotes",
    )


__all__ = [
    "MAX_ALIAS_CHARS",
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "ParsedDoc",
    "PositionIndex",
    "format_path",
    "parse_stream",
    "parse_yaml",
]
