"""The offline rule never refuses a URI the collection could resolve (core/feature_uris.py).

validate refuses a feature URI on a declared collection when `could_resolve` says no
extractor output could ever match it. The plan and the local backend resolve a URI
with `LiveCollection.has_feature` (mixpeek-api.md 3.6). Whatever outputs the extractor
turns out to have, a URI they resolve must pass the offline rule.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mixops.core.feature_uris import Output, checkable, could_resolve, parse_uri, predicted_collection, suggestion

# Short names over a small alphabet with underscores: the collisions the rule must survive
# (an output that spells an index name, extractor and version parts run together) are common.
PART = st.text(alphabet="ab_1v", min_size=1, max_size=6)


@st.composite
def uri_near(draw: st.DrawFn, extractor: str, version: str, outputs: list[str]) -> str:
    """Any URI; one whose output is an index name `E_V_o` (rule 2 of 3.6); or one cut out of
    an index name at other underscores (rule 3)."""
    stored = f"{extractor}_{version}_{draw(st.sampled_from(outputs))}"
    if draw(st.booleans()):
        return f"mixpeek://{draw(PART)}@{draw(PART)}/{stored}"
    cuts = [i for i, ch in enumerate(stored) if ch == "_" and 0 < i < len(stored) - 1]
    if len(cuts) >= 2 and draw(st.booleans()):
        a, b = sorted(draw(st.lists(st.sampled_from(cuts), min_size=2, max_size=2, unique=True)))
        parts = stored[:a], stored[a + 1 : b], stored[b + 1 :]
        if all(parts):
            return "mixpeek://{}@{}/{}".format(*parts)
    output = draw(st.none() | PART)
    return f"mixpeek://{draw(PART)}@{draw(PART)}" + (f"/{output}" if output else "")


@given(data=st.data(), extractor=PART, version=PART, outputs=st.lists(PART, min_size=1, max_size=3, unique=True))
def test_a_uri_some_outputs_resolve_passes_the_offline_rule(
    data: st.DataObject, extractor: str, version: str, outputs: list[str]
) -> None:
    uri = data.draw(uri_near(extractor, version, outputs))
    address = parse_uri(uri)
    assert address is not None
    collection = predicted_collection("c", extractor, version, tuple(Output(o) for o in outputs))
    if collection.has_feature(uri):
        assert could_resolve(address, extractor, version), (uri, extractor, version, outputs)


def test_another_extractor_or_version_is_ruled_out() -> None:
    for uri in ("mixpeek://text_extractr@v1/embedding", "mixpeek://text_extractor@v2/embedding", "mixpeek://x@v1"):
        address = parse_uri(uri)
        assert address is not None and not could_resolve(address, "text_extractor", "v1"), uri


def test_templates_and_other_forms_are_not_parsed() -> None:
    assert checkable("{{INPUT.uri}}") is None
    assert checkable("mixpeek://text_extractor@v1/{{INPUT.output}}") is None
    assert parse_uri("namespace://products/embedding") is None
    assert parse_uri("text_extractor_v1_embedding") is None


def test_the_suggestion_keeps_the_output_or_takes_the_closest_one() -> None:
    address = parse_uri("mixpeek://text_extractr@v1/embeding")
    assert address is not None
    assert suggestion(address, "text_extractor", "v1") == "mixpeek://text_extractor@v1/embeding"
    outputs = ("embedding", "sparse_embedding")
    assert suggestion(address, "text_extractor", "v1", outputs) == "mixpeek://text_extractor@v1/embedding"
