"""Random and mutated input never makes the loader raise: only Problems come back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mixops.errors import Problem
from mixops.ports.yamlsource import SourceDoc, load_file, load_paths

VALID = """\
version: "1.0"
metadata: {name: catalog}
parameters:
  - {name: top_k, type: integer, default: 25}
base: &stage {stage_type: filter, config: {stage_id: feature_search}}
retrievers:
  - name: product_search
    collection_identifiers: [products]
    input_schema: {query: {type: text, required: true}}
    stages:
      - <<: *stage
        stage_name: search
        config:
          stage_id: feature_search
          parameters:
            searches:
              - feature_uri: "mixpeek://text_extractor@v1/embedding"
                query: {input_mode: text, value: "{{INPUT.query}}"}
            final_top_k: "${{ params.top_k }}"
tests:
  - name: running shoes come first
    retriever: product_search
    expect:
      labels: {0: [footwear]}
      note: |
        block text
---
clusters:
  - {name: g, collection_ids: [products], cluster_type: vector}
"""

# Characters that matter to YAML's grammar, so mutations hit interesting paths.
YAML_CHARS = [*":-[]{}&*!|>'\"#%@`,?<~\t\n ", "---", "...", "&a ", "*a", "!!", "<<: ", "\ufeff", "\x00"]

settings_ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check(docs: list[SourceDoc], problems: list[Problem], display: str) -> None:
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.file == display
        assert problem.message
        assert problem.line >= 0 and problem.col >= 0
        problem.render()
    for doc in docs:
        assert doc.file == display
        assert isinstance(doc.data, dict)
        assert doc.locate(()) == doc.positions[()]
        todo: list[object] = [doc.data]
        while todo:
            value = todo.pop()
            assert value is None or isinstance(value, dict | list | str | int | float | bool)
            if isinstance(value, dict):
                assert all(isinstance(k, str) for k in value)
                todo.extend(value.values())
            elif isinstance(value, list):
                todo.extend(value)
        for path in doc.positions:
            line, col = doc.positions[path]
            assert line >= 1 and col >= 1


def write_and_load(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(content)
    docs, problems = load_file(path, display="fuzz.yaml")
    check(docs, problems, "fuzz.yaml")


@settings_
@given(st.lists(st.one_of(st.sampled_from(YAML_CHARS), st.characters()), max_size=150).map("".join))
def test_random_text(tmp_path: Path, text: str) -> None:
    write_and_load(tmp_path, text.encode("utf-8", errors="surrogatepass"))


@settings_
@given(st.binary(max_size=200))
def test_random_bytes(tmp_path: Path, content: bytes) -> None:
    write_and_load(tmp_path, content)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = VALID
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "duplicate_line", "indent"]))
        if op == "insert":
            text = text[:at] + draw(st.sampled_from(YAML_CHARS)) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        elif op == "replace":
            text = text[:at] + draw(st.sampled_from(YAML_CHARS)) + text[at + 1 :]
        else:
            lines = text.split("\n")
            i = at % len(lines)
            lines.insert(i, lines[i] if op == "duplicate_line" else "  " + lines[i])
            text = "\n".join(lines)
    return text


@settings_
@given(mutated())
def test_mutated_valid_yaml(tmp_path: Path, text: str) -> None:
    write_and_load(tmp_path, text.encode("utf-8", errors="surrogatepass"))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(mutated(), min_size=1, max_size=4))
def test_load_paths_over_mutated_projects(tmp_path: Path, texts: list[str]) -> None:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    for old in project.iterdir():
        old.unlink()
    for i, text in enumerate(texts):
        (project / f"{i}.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    docs, problems = load_paths([project, tmp_path / "missing"], root=tmp_path)
    assert any(p.file == "missing" for p in problems)
    for doc in docs:
        assert doc.file.startswith("project/")
    for problem in problems:
        assert isinstance(problem, Problem) and problem.message


def test_the_unmutated_document_is_valid(tmp_path: Path) -> None:
    (tmp_path / "v.yaml").write_text(VALID, encoding="utf-8")
    docs, problems = load_file(tmp_path / "v.yaml", display="v.yaml")
    assert problems == []
    assert docs[0].data["retrievers"][0]["stages"][0]["stage_type"] == "filter"
    assert docs[1].index == 1


# --- the "no placeholder here" flag that lets the stack skip resolving -------------------------

PLACEHOLDER_BITS = ["$", "{", "}", "{{", "${{", "\\", "\\x24", "\\u0024", "\\\n", "\n", "\n  ", " ", "'", '"', "a"]


def _strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in (k, *_strings(v))]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


@settings_
@example(style="double", parts=["\\x24", "{{"])
@example(style="double", parts=["$", "\\u007b", "{"])
@example(style="double", parts=["$", "\\\n", "{{"])
@given(
    style=st.sampled_from(["plain", "single", "double", "literal", "folded"]),
    parts=st.lists(st.sampled_from(PLACEHOLDER_BITS), min_size=1, max_size=12),
)
def test_a_document_said_to_hold_no_placeholder_holds_none(tmp_path: Path, style: str, parts: list[str]) -> None:
    body = "".join(parts)
    value = {
        "plain": body,
        "single": "'" + body + "'",
        "double": '"' + body + '"',
        "literal": "|\n  " + body.replace("\n", "\n  "),
        "folded": ">\n  " + body.replace("\n", "\n  "),
    }[style]
    path = tmp_path / "m.yaml"
    path.write_text(f'version: "1.0"\nkey: {value}\n', encoding="utf-8")
    docs, _ = load_file(path, display="m.yaml")
    for doc in docs:
        if not doc.may_hold_placeholders:
            assert not any("${{" in s for s in _strings(doc.data))


CLUSTER = (
    'version: "1.0"\nclusters:\n  - name: g\n    collection_ids: [products]\n    cluster_type: vector\n'
    '    vector_config: {clustering_method: kmeans, feature_uris: ["mixpeek://text_extractor@v1/embedding"]}\n'
)


def _cluster_with(tmp_path: Path, description: str) -> tuple[list[SourceDoc], Any]:
    """A one-cluster manifest whose description is written as given; its documents and a project."""
    from mixops.core.models.project import ProjectConfig

    path = tmp_path / "m.yaml"
    path.write_text(CLUSTER + f"    description: {description}\n", encoding="utf-8")
    docs, problems = load_file(path, display="m.yaml")
    assert not problems
    project = {"stack": "s", "environments": {"dev": {"target": "local", "namespace": "dev"}}}
    return docs, ProjectConfig.model_validate(project)


def test_an_escaped_placeholder_is_still_resolved_and_masked(tmp_path: Path) -> None:
    from mixops.core.stack import build_stack

    docs, project = _cluster_with(tmp_path, '"\\x24{{ env.TOKEN }}"')
    assert docs[0].may_hold_placeholders
    stack = build_stack(docs, project, "dev", {"TOKEN": "hunter2"})
    assert stack.clusters["g"].description == "hunter2"
    assert stack.secrets == frozenset({"hunter2"})


def test_a_plain_document_skips_resolving_and_loads_the_same(tmp_path: Path) -> None:
    import dataclasses

    from mixops.core.stack import build_stack

    docs, project = _cluster_with(tmp_path, "'costs $5 {not a placeholder}'")
    assert docs[0].may_hold_placeholders is False
    fast = build_stack(docs, project, "dev", {})
    slow = build_stack([dataclasses.replace(d, may_hold_placeholders=True) for d in docs], project, "dev", {})
    assert fast.clusters == slow.clusters and fast.digest() == slow.digest()
    assert fast.secrets == slow.secrets == frozenset()
