"""Issue 13 item 8: a value that differs per environment because of a parameter says so.

The origin comes from the loader's placeholder resolution (core/placeholders.py),
checked against the value where it is shown: never inferred from equal values.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.promote.project import add_environments

from mixops.cli.main import cli
from mixops.core.placeholders import ParamOrigin, params_behind, resolve
from mixops.core.plan import Plan


def mixops(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(project), *args], env={"NO_COLOR": "1"})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    assert mixops(tmp_path, "init", str(root)).exit_code == 0
    add_environments(root, {"dev": {"search_top_k": 4, "team": "search"}, "prod": {"search_top_k": 6, "team": "ops"}})
    manifest = root / "manifests" / "retrievers.yaml"
    text = manifest.read_text(encoding="utf-8")
    text = text.replace("            final_top_k: 5", '            final_top_k: "${{ params.search_top_k }}"')
    text = text.replace(
        "    description: Semantic search over the help-centre articles.",
        '    description: "Help-centre search (owned by ${{ params.team }})"',
    )
    text = text.replace(
        'version: "1.0"\n',
        'version: "1.0"\nparameters:\n  - {name: search_top_k, type: integer, default: 5}\n'
        "  - {name: team, type: string, default: search}\n",
    )
    manifest.write_text(text, encoding="utf-8")
    return root


def test_the_plan_names_the_parameter_behind_a_value_in_text_markdown_and_json(project: Path) -> None:
    assert mixops(project, "apply", "--env", "dev", "--auto-approve").exit_code == 0
    config = project / "mixops.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("search_top_k: 4", "search_top_k: 3"))

    text = mixops(project, "plan", "--env", "dev", "--no-tests")
    assert text.exit_code == 0, text.output
    assert "      ~ stages[0].config.parameters.final_top_k: 4 -> 3 (params.search_top_k)" in text.output.splitlines()
    md = mixops(project, "plan", "--env", "dev", "--no-tests", "--format", "markdown")
    assert (
        "- stages[0].config.parameters.final_top_k: 4\n+ stages[0].config.parameters.final_top_k: 3 (params.search_top_k)\n"
        in md.output
    )
    raw = mixops(project, "plan", "--env", "dev", "--no-tests", "--format", "json")
    step = json.loads(raw.output)["steps"][0]
    assert [(c["path"], c["params"]) for c in step["changes"]] == [
        ("stages[0].config.parameters.final_top_k", ["search_top_k"])
    ]
    assert step["params"] == {
        "description": ["team"],
        "stages[0].config.parameters.final_top_k": ["search_top_k"],
    }
    assert Plan.from_json(json.loads(raw.output)).steps[0].changes[0].params == ("search_top_k",)
    # A plan saved before origins were recorded still loads (a field added within format 1).
    older = json.loads(raw.output)
    for s in older["steps"]:
        s.pop("params")
        for c in s["changes"]:
            c.pop("params")
    assert Plan.from_json(older).steps[0].changes[0].params == ()

    # prod: a create, each field from a parameter marked, interpolation included; literals are not.
    prod = mixops(project, "plan", "--env", "prod", "--no-tests").output.splitlines()
    assert "      + stages[0].config.parameters.final_top_k: 6 (params.search_top_k)" in prod
    assert '      + description: "Help-centre search (owned by ops)" (params.team)' in prod
    assert "      + stages[0].config.parameters.searches[0].top_k: 20" in prod


def test_an_origin_is_claimed_only_where_the_resolved_value_still_is() -> None:
    res = resolve(
        {"retrievers": [{"collection_identifiers": ["zeta", "${{ params.extra }}"], "top_k": "${{ params.k }}"}]},
        {"extra": "alpha", "k": 1},
        {},
    )
    origins = {path[2:]: origin for path, origin in res.param_paths.items()}
    assert origins == {
        ("collection_identifiers", 1): ParamOrigin(("extra",), "alpha"),
        ("top_k",): ParamOrigin(("k",), 1),
    }
    # Normalisation sorts the list: "zeta" now sits where the placeholder was; it is not the parameter's.
    assert params_behind(origins, ("collection_identifiers", 1), "zeta") == ()
    assert params_behind(origins, ("collection_identifiers",), ["alpha", "zeta"]) == ()
    assert params_behind(origins, ("collection_identifiers",), ["zeta", "alpha"]) == ("extra",)
    assert params_behind(origins, ("top_k",), 1) == ("k",)
    assert params_behind(origins, ("top_k",), True) == ()  # True == 1 in Python, not here
    assert params_behind(origins, (), {"top_k": 1, "collection_identifiers": ["zeta", "alpha"]}) == ("extra", "k")
