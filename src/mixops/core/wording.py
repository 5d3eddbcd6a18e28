"""English for generated messages: plurals and indefinite articles (pure).

One place for them so messages read `1 taxonomy, 2 clusters`, `no taxonomies are
declared` and `expected an integer` everywhere, whatever the noun.
"""

from __future__ import annotations

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


__all__ = ["count", "plural", "with_article"]
