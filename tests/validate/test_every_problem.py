"""`mixops validate` reports every independent problem in one run, and no consequence.

A schema error in one resource, a wrong version, a duplicate name or a file that does
not parse must not hide the problems of the other resources; and a reference to a
name that a broken resource or an unparsable file declares is not a problem of its own.
"""

from __future__ import annotations

from pathlib import Path

from tests.validate.conftest import run

PROJECT = "stack: books\nmanifests: [manifests/]\nenvironments:\n  local: {target: local}\n"


def _search(name: str, value: str = "{{INPUT.query}}", stage_id: str = "feature_search") -> str:
    return f"""\
  - name: {name}
    collection_identifiers: [books]
    input_schema: {{query: {{type: text, required: true}}}}
    stages:
      - stage_name: search
        config:
          stage_id: {stage_id}
          parameters:
            searches:
              - feature_uri: mixpeek://text_extractor@v1/embedding
                query: {{value: "{value}"}}
"""


FILES = {
    # 1: unsupported version; 2: unknown stage; 3: a template naming an undeclared input.
    "retrievers.yaml": 'version: "2.0"\nretrievers:\n'
    + _search("book_search", value="{{INPUT.qeury}}")
    + _search("author_search", stage_id="feature_serach"),
    # 4: a required input missing; 5: an unknown input. author_search is broken and
    # genre_search is declared in a file that does not parse: no "unknown retriever".
    "tests.yaml": """\
version: "1.0"
tests:
  - {name: no query, retriever: book_search, inputs: {}, expect: {min_results: 1}}
  - {name: odd input, retriever: book_search, inputs: {query: x, colour: red}, expect: {min_results: 1}}
  - {name: authors, retriever: author_search, inputs: {query: x}, expect: {min_results: 1}}
  - {name: genres, retriever: genre_search, inputs: {query: x}, expect: {min_results: 1}}
""",
    # 6: a YAML syntax error.
    "genres.yaml": 'version: "1.0"\nretrievers:\n' + _search("genre_search").replace("[books]", "[books"),
    # 7: a duplicate name; 8: a dangling retriever_id behind it.
    "taxonomies.yaml": """\
version: "1.0"
taxonomies:
  - name: tags
    config: {retriever_id: book_search, input_mappings: [{input_key: query, path: title}],
             source_collection: {collection_id: tag_catalog}}
  - name: tags
    config: {retriever_id: book_search, input_mappings: [{input_key: query, path: title}],
             source_collection: {collection_id: tag_catalog}}
  - name: labels
    config: {retriever_id: label_matcher, input_mappings: [{input_key: query, path: title}],
             source_collection: {collection_id: tag_catalog}}
""",
}

EXPECTED = [
    ("manifests/genres.yaml:", "YAML syntax error"),
    ("manifests/retrievers.yaml:1:1: version:", "unsupported manifest version '2.0'"),
    (
        "manifests/retrievers.yaml:13:",
        "retrievers[0].stages[0].config.parameters.searches[0].query.value: "
        "template uses input 'qeury', which input_schema does not declare (did you mean 'query'?)",
    ),
    ("manifests/retrievers.yaml:20:", "retrievers[1].stages[0].config.stage_id: unknown stage 'feature_serach'"),
    ("manifests/taxonomies.yaml:6:", "taxonomies[1].name: duplicate taxonomy name 'tags'"),
    ("manifests/taxonomies.yaml:10:", "taxonomies[2].config.retriever_id: unknown retriever 'label_matcher'"),
    ("manifests/tests.yaml:3:", "tests[0].inputs: retriever 'book_search' requires input 'query'"),
    ("manifests/tests.yaml:4:", "tests[1].inputs.colour: retriever 'book_search' has no input 'colour'"),
]


def test_every_independent_problem_in_one_run_and_no_consequence(tmp_path: Path) -> None:
    (tmp_path / "mixops.yaml").write_text(PROJECT)
    (tmp_path / "manifests").mkdir()
    for name, text in FILES.items():
        (tmp_path / "manifests" / name).write_text(text)
    result = run(tmp_path, "validate")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    for where, what in EXPECTED:
        assert any(line.startswith(where) and what in line for line in lines), (where, what, result.output)
    assert lines[-1] == f"{len(EXPECTED)} problems found", result.output
    # No problem of their own for the broken or unreadable retrievers' users (the fix of
    # another problem may list author_search among the declared names).
    assert "'author_search'" not in result.output and "'genre_search'" not in result.output


def test_a_broken_parameter_declaration_is_not_reported_again_where_it_is_used(project: Path) -> None:
    manifest = project / "manifests" / "main.yaml"
    manifest.write_text(manifest.read_text().replace("type: integer, default: 20", "type: integer, default: twenty"))
    result = run(project, "validate", "--env", "staging")
    assert result.exit_code == 1
    assert "parameters[0].default: expected an integer, got str 'twenty'" in result.output
    assert "unknown parameter" not in result.output and "not declared" not in result.output
    assert result.output.splitlines()[-1] == "1 problem found"


def test_a_misspelt_reference_to_a_broken_resource_suggests_its_name(tmp_path: Path) -> None:
    # The retriever has a schema error of its own, so it is not in the stack; a test that
    # misspells its name is a real problem, and the fix names it ("no retrievers are
    # declared" would be false).
    (tmp_path / "mixops.yaml").write_text(PROJECT)
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "retrievers.yaml").write_text(
        'version: "1.0"\nretrievers:\n' + _search("book_search", stage_id="feature_serach")
    )
    (tmp_path / "manifests" / "tests.yaml").write_text(
        'version: "1.0"\ntests:\n  - {name: t, retriever: book_serch, inputs: {query: x}, expect: {min_results: 1}}\n'
    )
    result = run(tmp_path, "validate")
    assert result.exit_code == 1
    assert "tests[0].retriever: unknown retriever 'book_serch' (did you mean 'book_search'?)" in result.output
    assert "no retrievers are declared" not in result.output
    assert "2 problems found" in result.output


def test_an_environment_value_for_an_undeclared_parameter_is_located_with_did_you_mean(project: Path) -> None:
    (project / "mixops.yaml").write_text((project / "mixops.yaml").read_text().replace("{top_k: 40}", "{top_kk: 40}"))
    result = run(project, "validate", "--env", "staging")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "mixops.yaml:6:26: environments.staging.parameters.top_kk: parameter 'top_kk' is not declared in any "
        "manifest (did you mean 'top_k'?)"
    ), result.output


def test_a_wrong_environment_value_is_located_at_its_line(project: Path) -> None:
    (project / "mixops.yaml").write_text((project / "mixops.yaml").read_text().replace("{top_k: 40}", "{top_k: forty}"))
    result = run(project, "validate", "--env", "staging")
    assert result.exit_code == 1
    assert result.output.startswith("mixops.yaml:6:"), result.output
    assert "environments.staging.parameters.top_k: expected an integer" in result.output


def test_a_control_character_in_a_key_is_shown_escaped_in_the_problem_path(project: Path) -> None:
    """The path names keys as written; a terminal escape there (here: set the window title, then
    BEL, which click does not strip) is shown escaped, never sent to the terminal."""
    text = (project / "mixops.yaml").read_text()
    (project / "mixops.yaml").write_text(text.replace("{top_k: 40}", '{"top\\e]0;pwned\\ak": 40}'))
    result = run(project, "validate", "--env", "staging")
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output, repr(result.output)
    assert "environments.staging.parameters.top\\x1b]0;pwned\\x07k: parameter" in result.output, result.output
