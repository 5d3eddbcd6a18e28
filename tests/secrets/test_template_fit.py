"""Whether a live value fits a secret's template (core/placeholders.fits_template).

Masking decides from this whether the secret part of a live value can be told
from its literal text; a value that does not fit is masked whole.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from mixops.core.placeholders import Template, fits_template, mask_with_template

# A small alphabet so that literals and values overlap often (the interesting cases).
_text = st.text(alphabet="ab:", max_size=6)
_segment = st.one_of(st.tuples(st.just(False), _text), st.tuples(st.just(True), st.just("S")))


def _by_regex(value: str, template: Template) -> bool:
    # The definition: each hole matches anything, literals match themselves.
    pattern = "".join("(.*?)" if hole else re.escape(text) for hole, text in template)
    return re.fullmatch(pattern, value, re.DOTALL) is not None


@given(st.lists(_segment, max_size=6).map(tuple), st.text(alphabet="ab:", max_size=12))
def test_fit_is_wildcard_matching(template: Template, value: str) -> None:
    assert fits_template(value, template) == _by_regex(value, template)


@given(st.lists(_segment, max_size=6).map(tuple), st.lists(st.text(alphabet="ab:", max_size=4), max_size=6))
def test_a_template_filled_in_always_fits(template: Template, fills: list[str]) -> None:
    filled = "".join(
        (fills[i % len(fills)] if fills else "") if hole else text for i, (hole, text) in enumerate(template)
    )
    assert fits_template(filled, template)


def test_many_holes_and_a_long_value_that_almost_fits_are_decided_at_once() -> None:
    # 12 holes separated by ':' against 20,000 ':' and no closing '!': a regex of
    # lazy groups would try on the order of n^11 splits before saying no.
    template: Template = (*tuple(seg for _ in range(12) for seg in ((True, "S"), (False, ":"))), (False, "!"))
    value = ":" * 20_000
    assert not fits_template(value, template)
    assert mask_with_template(value, template) == "***"
    assert mask_with_template(value + "!", template) == "***:" * 12 + "!"
