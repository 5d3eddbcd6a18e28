"""Property: problems are independent. For any set of broken files added to a valid
project, validate reports exactly the union of what it reports for each one alone:
no problem hides another, and none appears only because of another."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.validate.conftest import run

PROJECT = "stack: shop\nmanifests: [manifests/]\nenvironments:\n  local: {target: local}\n"


def retriever(name: str, stage_id: str = "feature_search", value: str = "{{INPUT.query}}") -> str:
    return f"""\
  - name: {name}
    collection_identifiers: [products]
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


def a_test(name: str, target: str, inputs: str = "{query: x}") -> str:
    return f"  - {{name: {name}, retriever: {target}, inputs: {inputs}, expect: {{min_results: 1}}}}\n"


BASE = 'version: "1.0"\nretrievers:\n' + retriever("base_search")

# Each broken file declares its own names and references only its own or the base's.
BROKEN = {
    "wrong_version": 'version: "2.0"\nretrievers:\n'
    + retriever("alpha_search")
    + "tests:\n"
    + a_test("alpha needs a query", "alpha_search", "{}"),
    "unknown_stage": 'version: "1.0"\nretrievers:\n'
    + retriever("beta_search", stage_id="feature_serch")
    + "tests:\n"
    + a_test("beta works", "beta_search"),
    # Two files, one unit: the test names a retriever that only the unparsable file declares.
    "syntax_error": 'version: "1.0"\nretrievers:\n' + retriever("gamma_search").replace("[products]", "[products"),
    "syntax_error/uses_gamma": 'version: "1.0"\ntests:\n' + a_test("gamma works", "gamma_search"),
    "dangling": 'version: "1.0"\ntaxonomies:\n  - name: delta_tags\n    config: {retriever_id: missing_matcher, '
    "input_mappings: [{input_key: query, path: title}], source_collection: {collection_id: tag_catalog}}\n",
    "duplicate": 'version: "1.0"\nretrievers:\n' + retriever("base_search"),
    "bad_template": 'version: "1.0"\nretrievers:\n' + retriever("eps_search", value="{{INPUT.qry}}"),
    "bad_parameter": 'version: "1.0"\nparameters:\n  - {name: zeta_k, type: integer, default: lots}\nretrievers:\n'
    + retriever("zeta_search").replace(
        "        config:\n", '        config:\n          pre_filters: {k: "${{ params.zeta_k }}"}\n'
    ),
    "unset_env": 'version: "1.0"\nretrievers:\n'
    + retriever("eta_search").replace("collection_identifiers: [products]", 'description: "${{ env.ETA_UNSET }}"')
    + "tests:\n"
    + a_test("eta works", "eta_search", "{query: x, colour: red}"),
}


def problems(names: frozenset[str]) -> set[str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "mixops.yaml").write_text(PROJECT)
        (root / "manifests").mkdir()
        (root / "manifests" / "base.yaml").write_text(BASE)
        for name in names:
            for file, text in BROKEN.items():
                if file.split("/")[0] == name:
                    (root / "manifests" / f"{file.replace('/', '_')}.yaml").write_text(text)
        result = run(root, "validate")
    lines = result.output.splitlines()
    assert (result.exit_code == 0) == (not names or lines[0].startswith("valid:")), result.output
    # The fix may list what else is declared (other files add names): compare without it.
    return {_without_fix(line) for line in lines if not line.startswith("valid:") and not line.endswith(" found")}


def _without_fix(line: str) -> str:
    return line.rsplit(" (", 1)[0] if line.endswith(")") else line


UNITS = sorted({file.split("/")[0] for file in BROKEN})
ALONE = {name: problems(frozenset({name})) for name in UNITS}


def test_each_broken_file_alone_has_a_problem() -> None:
    assert problems(frozenset()) == set()
    assert all(ALONE.values()), ALONE


@settings(max_examples=25, deadline=None)
@given(st.frozensets(st.sampled_from(UNITS), min_size=2))
def test_problems_of_several_files_are_the_union_of_each_alone(names: frozenset[str]) -> None:
    expected = set().union(*(ALONE[n] for n in names))
    assert problems(names) == expected
