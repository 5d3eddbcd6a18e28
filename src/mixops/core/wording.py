"""English for generated messages: plurals, indefinite articles, values in a line (pure).

One place for them so messages read `1 taxonomy, 2 clusters`, `no taxonomies are
declared`, `expected an integer` and `enabled: true -> false` everywhere, whatever
the noun or the command.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from mixops.errors import printable

VALUE_LIMIT = 120

# Nouns whose written vowel is not spoken as one ("a unique name", "a URL").
_CONSONANT_SOUND = ("uni", "use", "usa", "url", "one")
# Nouns whose plural the rules below would get wrong.
_IRREGULAR = {"index": "indexes", "datum": "data", "criterion": "criteria"}


def plural(noun: str) -> str:
    """`taxonomy` -> `taxonomies`, `retriever` -> `retrievers`, `match` -> `matches`."""
    if noun in _IRREGULAR:
        return _IRREGULAR[noun]
    if len(noun) > 1 and noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def count(n: int, noun: str) -> str:
    """`1 taxonomy`, `2 taxonomies`, `0 clusters`; thousands separated (`10,000 tests`)."""
    return f"{n:,} {noun if n == 1 else plural(noun)}"


def with_article(noun: str) -> str:
    """`an integer`, `a string`, `a unique name`, `an array`."""
    low = noun.lower()
    vowel = low[:1] in ("a", "e", "i", "o", "u") and not low.startswith(_CONSONANT_SOUND)
    return f"{'an' if vowel else 'a'} {noun}"


def listing(items: Sequence[str], conjunction: str = "and") -> str:
    """`a`, `a and b`, `a, b and c`: names in a sentence."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def verb(n: int, one: str, many: str) -> str:
    """The verb agreeing with `n` things: `verb(2, "is", "are")` -> `are`."""
    return one if n == 1 else many


# A plan's actions as its summary counts them, in plan order. `version` has no "to ..."
# form ("1 to version" reads wrong), so every action is one phrase, used everywhere
# (text, Markdown, promote, apply): `1 to create`, `2 new versions`.
ACTION_PHRASES: tuple[tuple[str, str, str], ...] = (
    ("create", "to create", "to create"),
    ("update", "to update", "to update"),
    ("version", "new version", "new versions"),
    ("replace", "to replace", "to replace"),
    ("delete", "to delete", "to delete"),
)


def action_count(action: str, n: int) -> str:
    """`1 to create`, `1 new version`, `2 new versions`, `0 to delete`."""
    for name, one, many in ACTION_PHRASES:
        if name == action:
            return f"{n:,} {one if n == 1 else many}"
    raise ValueError(f"unknown plan action {action!r}")


def action_counts(counts: Mapping[str, int], *, zeros: bool = True) -> str:
    """`1 to create, 0 to update, 1 new version, 0 to replace, 0 to delete` (without zeros: only the others)."""
    parts = [action_count(a, counts.get(a, 0)) for a, _, _ in ACTION_PHRASES if zeros or counts.get(a, 0)]
    return ", ".join(parts)


__all__ = [
    "ACTION_PHRASES",
    "action_count",
    "action_counts",
    "compact",
    "count",
    "listing",
    "plural",
    "printable",
    "verb",
    "with_article",
]


def compact(value: Any, limit: int = VALUE_LIMIT) -> str:
    """A value as one line of JSON (strings quoted, like terraform), cut at `limit`."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "), default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
