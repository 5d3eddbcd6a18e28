"""Data and positions: what a valid file turns into."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from mixops.errors import Problem
from mixops.ports.yamlsafe import format_path
from mixops.ports.yamlsource import SourceDoc

Load = Callable[..., tuple[list[SourceDoc], list[Problem]]]  # the `load` fixture of conftest.py

MANIFEST = """\
version: "1.0"
retrievers:
  - name: product_search
    collection_identifiers: [products, archive]
    stages:
      - stage_name: search
        config:
          stage_id: feature_search
      - stage_name: filter
        stage_type: filter
        config:
          stage_id: attribute_filter
          parameters: {field: price, value: 10}
"""


def test_positions_of_nested_keys_and_list_items(load: Load) -> None:
    (doc,), problems = load(MANIFEST)
    assert problems == []
    pos = doc.positions
    assert pos[()] == (1, 1)
    assert pos[("retrievers",)] == (2, 1)
    assert pos[("retrievers", 0)] == (3, 5)
    assert pos[("retrievers", 0, "collection_identifiers", 1)] == (4, 40)
    assert pos[("retrievers", 0, "stages", 1)] == (9, 9)
    # Keyed entries sit at their key, block values included.
    assert pos[("retrievers", 0, "stages", 1, "config")] == (11, 9)
    assert pos[("retrievers", 0, "stages", 1, "config", "stage_id")] == (12, 11)
    assert pos[("retrievers", 0, "stages", 1, "config", "parameters", "value")] == (13, 38)


def test_positions_cover_every_key_and_item(load: Load) -> None:
    (doc,), _ = load(MANIFEST)

    def paths(value: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
        out = [prefix]
        if isinstance(value, dict):
            for k, v in value.items():
                out += paths(v, (*prefix, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                out += paths(v, (*prefix, i))
        return out

    expected = paths(doc.data)
    assert sorted(map(str, doc.positions)) == sorted(map(str, expected))
    assert len(doc.positions) == len(expected)


def test_locate_falls_back_to_the_longest_known_prefix(load: Load) -> None:
    (doc,), _ = load(MANIFEST)
    # A missing field of stages[1].config is reported at `config:`.
    assert doc.locate(["retrievers", 0, "stages", 1, "config", "nope"]) == (11, 9)
    assert doc.locate(["retrievers", 7, "name"]) == (2, 1)
    assert doc.locate(["nothing"]) == (1, 1)
    assert doc.locate([]) == (1, 1)
    with pytest.raises(KeyError):
        doc.positions[("retrievers", 0, "nope")]


def test_multi_document_file(load: Load) -> None:
    text = "---\nversion: '1.0'\n---\n# an empty document is skipped\n---\nretrievers: []\n---\n"
    docs, problems = load(text)
    assert problems == []
    assert [(d.index, d.data) for d in docs] == [(0, {"version": "1.0"}), (2, {"retrievers": []})]
    assert docs[1].positions[("retrievers",)] == (6, 1)
    assert all(d.file == "m.yaml" for d in docs)


def test_anchors_are_scoped_to_their_document(load: Load) -> None:
    docs, problems = load("a: &x 1\n---\nb: *x\n")
    assert [d.data for d in docs] == [{"a": 1}]
    assert len(problems) == 1 and problems[0].line == 3


def test_documents_before_a_syntax_error_are_kept(load: Load) -> None:
    docs, problems = load("a: 1\n---\nb: [\n")
    assert [d.data for d in docs] == [{"a": 1}]
    assert len(problems) == 1 and "syntax" in problems[0].message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("true", True),
        ("False", False),
        ("TRUE", True),
        ("null", None),
        ("~", None),
        ("", None),
        ("'null'", "null"),
        ("007", 7),
        ("-12", -12),
        ("0x1F", 31),
        ("0o17", 15),
        ("1_000", "1_000"),
        ("1.5", 1.5),
        ("-2e3", -2000.0),
        (".5", 0.5),
        ("'1.5'", "1.5"),
        ("2001-12-14", "2001-12-14"),
        ("12:30:00", "12:30:00"),
        ('"{{INPUT.query}}"', "{{INPUT.query}}"),
        ("${{ params.top_k }}", "${{ params.top_k }}"),
    ],
)
def test_scalars_follow_the_yaml_1_2_core_schema(load: Load, text: str, expected: object) -> None:
    (doc,), problems = load(f"v: {text}\n")
    assert problems == []
    assert doc.data["v"] == expected
    assert type(doc.data["v"]) is type(expected)


def test_numbers_json_cannot_carry_are_problems_at_their_line(load: Load) -> None:
    text = "a: .inf\nb: [1, -.Inf]\nc: !!float .nan\nd: 1e400\ne: 9223372036854775808\nf: " + "9" * 5000 + "\n"
    (doc,), problems = load(text + "ok: [9223372036854775807, -9223372036854775808, 1.5e300, '1e400']\n")
    assert [(p.line, p.col, p.path) for p in problems] == [
        (1, 4, "a"),
        (2, 8, "b[1]"),
        (3, 4, "c"),
        (4, 4, "d"),
        (5, 4, "e"),
        (6, 4, "f"),
    ]
    assert all("not a finite number" in p.message for p in problems[:4])
    assert all("out of range: integers must fit in 64 bits" in p.message for p in problems[4:])
    assert "(5000 characters)" in problems[5].message
    assert all("quote it" in p.fix for p in problems)
    assert doc.data["ok"] == [2**63 - 1, -(2**63), 1.5e300, "1e400"]
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in doc.data.values())


def test_keys_are_always_strings_as_written(load: Load) -> None:
    (doc,), problems = load("0: a\non: b\ntrue: c\n~: d\n1.50: e\n")
    assert problems == []
    assert doc.data == {"0": "a", "on": "b", "true": "c", "~": "d", "1.50": "e"}


def test_block_scalars(load: Load) -> None:
    (doc,), _ = load("a: |\n  line one\n  line two\nb: >-\n  folded\n  text\n")
    assert doc.data == {"a": "line one\nline two\n", "b": "folded text"}


def test_merge_keys(load: Load) -> None:
    text = (
        "defaults: &d {stage_type: filter, config: {stage_id: feature_search}}\n"
        "extra: &e {stage_type: sort, note: x}\n"
        "stage:\n"
        "  <<: [*d, *e]\n"
        "  stage_name: search\n"
        "  stage_type: rerank\n"
    )
    (doc,), problems = load(text)
    assert problems == []
    # Explicit keys win over merged ones; earlier merge sources win over later ones.
    assert doc.data["stage"] == {
        "stage_name": "search",
        "stage_type": "rerank",
        "config": {"stage_id": "feature_search"},
        "note": "x",
    }
    assert doc.positions[("stage", "config")] == (4, 3)


def test_merge_key_needs_a_mapping(load: Load) -> None:
    _, problems = load("a:\n  <<: 3\n")
    assert len(problems) == 1
    assert (problems[0].line, problems[0].path) == (2, "a['<<']")
    assert "needs a mapping" in problems[0].message


def test_quoted_merge_key_is_an_ordinary_key(load: Load) -> None:
    (doc,), _ = load("'<<': 3\n")
    assert doc.data == {"<<": 3}


def test_data_is_plain_python(load: Load) -> None:
    (doc,), _ = load(MANIFEST + "tests:\n  - {name: t, expect: {labels: {0: [footwear]}}}\n")
    allowed = (dict, list, str, int, float, bool, type(None))
    todo: list[object] = [doc.data]
    while todo:
        value = todo.pop()
        assert type(value) in allowed
        if isinstance(value, dict):
            assert all(type(k) is str for k in value)
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)


def test_format_path() -> None:
    assert format_path(["retrievers", 0, "stages", 1, "config", "stage_id"]) == (
        "retrievers[0].stages[1].config.stage_id"
    )
    assert format_path([0, "a b"]) == "[0]['a b']"
    assert format_path([]) == ""
