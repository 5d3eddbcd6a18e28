"""Placeholder scanning is linear: the work is counted, never timed.

The scanner only calls `str.find`; a `str` subclass that counts the characters
each call examines shows the total stays within a small multiple of the input's
length for inputs that made the former regex take cubic time.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.validate.conftest import VALID_MANIFEST, run

from mixops.core.placeholders import iter_placeholders, resolve

# What a placeholder is, as the old (backtracking) pattern said it: the reference for
# the property test below, run only on short strings.
REFERENCE = re.compile(r"\$\{\{\s*([^{}]*?)\s*\}\}")


class CountingText(str):
    """A str that adds up how many characters its `find` calls examined."""

    examined: int

    def find(self, sub: str, start: int | None = None, end: int | None = None) -> int:  # type: ignore[override]
        lo = 0 if start is None else start
        hi = len(self) if end is None else end
        hit = super().find(sub, lo, hi)
        self.examined = getattr(self, "examined", 0) + ((hit + len(sub) if hit >= 0 else hi) - lo)
        return hit


def examined(text: str) -> int:
    counting = CountingText(text)
    list(iter_placeholders(counting))
    return getattr(counting, "examined", 0)


ADVERSARIAL = {
    "open then 100,000 spaces": "${{" + " " * 100_000,
    "open, spaces, one brace": "${{" + " " * 100_000 + "}",
    "many opens": "${{" * 30_000,
    "opens with a brace each": "${{{" * 30_000 + "}",
    "closed placeholders": "${{ params.a }}" * 10_000,
    "lone closers": "${{ a }" * 20_000,
}


def test_the_scan_examines_each_character_a_bounded_number_of_times() -> None:
    for name, text in ADVERSARIAL.items():
        assert examined(text) <= 4 * len(text) + 8, name


@settings(max_examples=300)
@given(st.text(alphabet="${} a.\t", max_size=60))
def test_the_scan_finds_what_the_pattern_finds(text: str) -> None:
    expected = [(m.start(), m.end(), m.group(1)) for m in REFERENCE.finditer(text)]
    assert list(iter_placeholders(text)) == expected
    assert examined(text) <= 4 * len(text) + 8


def test_a_long_unclosed_placeholder_is_plain_text() -> None:
    text = "${{" + " " * 100_000
    res = resolve({"description": text}, {}, {})
    assert res.problems == [] and res.data == {"description": text}


def test_validate_of_an_unclosed_placeholder_with_100000_spaces_completes(project: Path) -> None:
    manifest = VALID_MANIFEST.replace(
        "  - name: search\n", '  - name: search\n    description: "${{' + " " * 100_000 + '"\n', 1
    )
    (project / "manifests" / "main.yaml").write_text(manifest)
    result = run(project, "validate")
    assert result.exit_code == 0, result.output[-2000:]
