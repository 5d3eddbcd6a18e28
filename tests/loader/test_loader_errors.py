"""One test per class of bad input: each comes back as a located Problem, never an exception."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from mixops.errors import Problem
from mixops.ports.yamlsafe import MAX_ALIAS_CHARS, MAX_ALIAS_NODES, MAX_DEPTH
from mixops.ports.yamlsource import MAX_FILE_BYTES, SourceDoc, load_file

Load = Callable[..., tuple[list[SourceDoc], list[Problem]]]  # the `load` fixture of conftest.py


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [p.render() for p in problems]
    return problems[0]


def test_syntax_error_points_at_the_problem_mark(load: Load) -> None:
    docs, problems = load('version: "1.0"\nretrievers:\n  - name: a\n    description: a: b\n')
    p = only(problems)
    assert (p.file, p.line, p.col) == ("m.yaml", 4, 19)
    assert p.message.startswith("YAML syntax error: mapping values are not allowed")
    assert "quote the value" in p.fix
    assert docs == []


def test_tab_indentation_gets_a_tab_specific_fix(load: Load) -> None:
    _, problems = load("version: '1.0'\nretrievers:\n\t- name: a\n")
    p = only(problems)
    assert p.line == 3
    assert "tabs" in p.fix


def test_unclosed_flow_sequence(load: Load) -> None:
    _, problems = load("version: '1.0'\ntags: [a, b\n")
    p = only(problems)
    assert p.line >= 2
    assert "YAML syntax error" in p.message


def test_duplicate_key_reports_the_second_with_the_line_of_the_first(load: Load) -> None:
    text = "version: '1.0'\nretrievers:\n  - name: a\n    description: x\n    name: b\n"
    docs, problems = load(text)
    p = only(problems)
    assert (p.line, p.col, p.path) == (5, 5, "retrievers[0].name")
    assert "duplicate key 'name' (first defined on line 3)" in p.message
    # The document is still returned so the rest of it can be validated in the same run.
    assert docs[0].data["retrievers"][0]["name"] == "b"


def test_every_duplicate_is_reported(load: Load) -> None:
    _, problems = load("a: 1\nb: 2\na: 3\nb: 4\n")
    assert [(p.line, p.path) for p in problems] == [(3, "a"), (4, "b")]


def test_quoted_and_plain_spellings_of_one_key_are_duplicates(load: Load) -> None:
    _, problems = load("'on': 1\non: 2\n")
    assert only(problems).line == 2


def test_empty_file(load: Load) -> None:
    docs, problems = load("")
    p = only(problems)
    assert (p.file, p.line, p.message) == ("m.yaml", 1, "file is empty")
    assert 'version: "1.0"' in p.fix
    assert docs == []


def test_file_with_only_comments_is_empty(load: Load) -> None:
    _, problems = load("# nothing here yet\n\n   # still nothing\n")
    assert only(problems).message == "file is empty"


def test_file_with_only_separators_is_empty(load: Load) -> None:
    _, problems = load("---\n---\n# x\n")
    assert only(problems).message == "file is empty"


def test_root_that_is_a_list(load: Load) -> None:
    _, problems = load("# header\n- name: a\n- name: b\n")
    p = only(problems)
    assert (p.line, p.col) == (2, 1)
    assert p.message == "the document root must be a mapping, not a list"
    assert "version" in p.fix


def test_root_that_is_a_scalar_or_explicit_null(load: Load) -> None:
    _, problems = load("just text\n")
    assert only(problems).message.endswith("not a string")
    _, problems = load("null\n")
    assert only(problems).message.endswith("not null")


def test_root_problem_in_one_document_keeps_the_others(load: Load) -> None:
    docs, problems = load("a: 1\n---\n- x\n---\nb: 2\n")
    assert [d.index for d in docs] == [0, 2]
    p = only(problems)
    assert (p.line, p.message) == (3, "the document root must be a mapping, not a list")


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:  # sparse: the size is real, the bytes are never read
        handle.truncate(MAX_FILE_BYTES + 1)
    docs, problems = load_file(path, display="big.yaml")
    p = only(problems)
    assert p.file == "big.yaml"
    assert "over the 10 MB limit" in p.message
    assert "split" in p.fix
    assert docs == []


def test_file_just_under_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    line = "# padding padding padding padding padding padding padding padding padding\n"
    body = 'version: "1.0"\n'
    path.write_text(body + line * ((MAX_FILE_BYTES - len(body)) // len(line)), encoding="utf-8")
    docs, problems = load_file(path, display="ok.yaml")
    assert problems == []
    assert docs[0].data == {"version": "1.0"}


def billion_laughs() -> str:
    lines = ['lol0: &lol0 "lol"']
    for i in range(1, 10):
        refs = ", ".join([f"*lol{i - 1}"] * 10)
        lines.append(f"lol{i}: &lol{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_stops_at_the_alias_budget_quickly(load: Load) -> None:
    start = time.process_time()
    docs, problems = load(billion_laughs())
    elapsed = time.process_time() - start
    p = only(problems)
    assert f"more than {MAX_ALIAS_NODES:,} nodes" in p.message
    assert p.line == 6  # lol5: 10 x 11,111 nodes is the first line over 100,000
    assert docs == []
    # Not a timing assertion on wall clock: CPU seconds, with a huge margin (it takes ~10 ms).
    assert elapsed < 5


def test_a_long_string_aliased_many_times_is_refused_by_its_expanded_size(load: Load) -> None:
    # 1 MB aliased 99,000 times: under the node budget, ~99 GB once expanded by a later step.
    lines = ['version: "1.0"', 'metadata: {description: &s "' + "x" * 1_000_000 + '"}', "copies:"]
    lines += ["  - *s"] * 99_000
    tracemalloc.start()
    docs, problems = load("\n".join(lines) + "\n")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    p = only(problems)
    assert p.message == f"aliases expand to more than {MAX_ALIAS_CHARS:,} characters (alias bomb?)"
    assert (p.line, p.col, p.path) == (3 + MAX_ALIAS_CHARS // 1_000_000 + 1, 5, "copies[10]")
    assert "write the value once" in p.fix
    assert docs == []
    assert peak < 64 * 1024 * 1024  # parsing never holds more than a few copies of the file


def test_aliased_keys_count_toward_the_character_budget(load: Load) -> None:
    lines = ['k: &k "' + "y" * 1_000_000 + '"', "m:"]
    lines += [f"  - {{*k : {i}}}" for i in range(20)]
    _, problems = load("\n".join(lines) + "\n")
    assert "characters (alias bomb?)" in only(problems).message


def test_aliases_within_budget_are_copies(load: Load) -> None:
    docs, problems = load("base: &b {k: [1, 2]}\nx: *b\ny: *b\n")
    assert problems == []
    data = docs[0].data
    assert data["x"] == data["y"] == {"k": [1, 2]}
    data["x"]["k"].append(3)
    assert data["y"] == {"k": [1, 2]}, "alias uses must not share containers"


def test_nesting_deeper_than_the_limit(load: Load) -> None:
    _, problems = load("a: " + "[" * 100_000 + "\n")
    p = only(problems)
    assert p.message == f"nesting is deeper than {MAX_DEPTH} levels"
    # Our own limit stops at the 101st bracket; libyaml (0.2.5+) may stop its scanner at its own
    # deeper limit first. Either way the problem is ours, on the line, past the limit.
    assert p.line == 1 and p.col >= 3 + MAX_DEPTH
    assert len(p.path) < 100


def test_nesting_reported_the_same_by_both_parsers(load: Load, monkeypatch: pytest.MonkeyPatch) -> None:
    import mixops.ports.yamlsafe as yamlsafe

    text = "a: " + "[" * 5_000 + "\n"
    _, with_c = load(text)
    monkeypatch.setattr(yamlsafe, "_CParser", None)
    _, pure = load(text)
    assert [p.message for p in with_c] == [p.message for p in pure] == [f"nesting is deeper than {MAX_DEPTH} levels"]


def test_nesting_at_the_limit_is_accepted(load: Load) -> None:
    depth = MAX_DEPTH - 1  # plus the root mapping
    docs, problems = load("a: " + "[" * depth + "]" * depth + "\n")
    assert problems == []
    value = docs[0].data["a"]
    for _ in range(depth - 1):
        value = value[0]
    assert value == []


def test_block_nesting_and_aliases_count_toward_depth(load: Load) -> None:
    _, problems = load("- " * 150 + "x\n")
    assert "deeper than" in only(problems).message
    nested = "[" * 60 + "]" * 60
    # 60 levels inside the anchor, 41 around the alias, plus the root mapping.
    wrapped = "[" * 41 + "*a" + "]" * 41
    _, problems = load(f"a: &a {nested}\nb: {wrapped}\n")
    assert "deeper than" in only(problems).message


def test_non_utf8_file_names_the_byte_and_line(load: Load) -> None:
    docs, problems = load(b"version: '1.0'\ndescription: caf\xe9\n")
    p = only(problems)
    assert (p.line, p.col) == (2, 17)
    assert "not valid UTF-8: byte 0xE9 at byte offset 31" in p.message
    assert "UTF-8" in p.fix
    assert docs == []


def test_utf16_file_is_named_as_such(load: Load) -> None:
    _, problems = load("version: '1.0'\n".encode("utf-16"))
    assert only(problems).message == "file is encoded as UTF-16; mixops reads UTF-8"


def test_utf8_bom_is_accepted_and_does_not_shift_columns(load: Load) -> None:
    docs, problems = load(b"\xef\xbb\xbfversion: '1.0'\nname: x\n")
    assert problems == []
    assert docs[0].data == {"version": "1.0", "name": "x"}
    assert docs[0].positions[("version",)] == (1, 1)


def test_control_character(load: Load) -> None:
    _, problems = load("a: 1\nb: x\x07y\n")
    p = only(problems)
    assert (p.line, p.col) == (2, 5)
    assert "U+0007" in p.message


def test_python_object_tag_is_refused_and_never_constructed(load: Load) -> None:
    text = "a: !!python/object/apply:os.system ['echo pwned']\nb: !!python/name:os.system ''\n"
    docs, problems = load(text)
    assert [(p.line, p.path) for p in problems] == [(1, "a"), (2, "b")]
    assert "YAML tag !!python/object/apply:os.system is not allowed" in problems[0].message
    assert docs[0].data == {"a": ["echo pwned"], "b": ""}


def test_custom_and_non_core_tags_are_refused(load: Load) -> None:
    _, problems = load("a: !Ref x\nb: !!binary aGk=\nc: !!set {x}\nd: !!timestamp 2001-01-01\n")
    assert [p.line for p in problems] == [1, 2, 3, 4]
    assert all("is not allowed" in p.message for p in problems)


def test_core_tags_are_honoured(load: Load) -> None:
    docs, problems = load("a: !!str 12\nb: !!int '7'\nc: !!float '1.5'\nd: !!bool 'true'\ne: !!null ''\n")
    assert problems == []
    assert docs[0].data == {"a": "12", "b": 7, "c": 1.5, "d": True, "e": None}


def test_core_tag_with_a_bad_value(load: Load) -> None:
    _, problems = load("top_k: !!int ten\n")
    p = only(problems)
    assert (p.line, p.path) == (1, "top_k")
    assert "'ten' is not a valid int" in p.message


def test_undefined_and_recursive_aliases(load: Load) -> None:
    _, problems = load("a: *missing\n")
    assert "has no anchor &missing" in only(problems).message
    _, problems = load("a: &loop [1, *loop]\n")
    assert "refers to the collection that contains it" in only(problems).message


def test_complex_mapping_key(load: Load) -> None:
    _, problems = load("? [a, b]\n: c\n")
    assert "mapping key must be a plain string" in only(problems).message


def test_missing_file_and_directory_given_as_file(tmp_path: Path) -> None:
    _, problems = load_file(tmp_path / "nope.yaml", display="nope.yaml")
    assert only(problems).message == "file does not exist"
    _, problems = load_file(tmp_path, display="dir")
    assert only(problems).message == "not a regular file"
