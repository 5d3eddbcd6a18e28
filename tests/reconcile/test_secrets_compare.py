"""Masking is for output only: a secret's value inside a name never changes what is compared.

With `STAGE=prod` used anywhere, "prod" is a secret, and it occurs inside names
such as product_search. Plans once compared the masked desired name
(`***uct_search`) with the unmasked live one and replaced five resources on every
apply. Values under 4 characters are not masked at all (they garbled every URL
and word holding them); a warning names the variable, never the value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.reconcile.conftest import actions, apply, edit, live, plan, resource

from mixops.cli.main import cli
from mixops.core.placeholders import mask, mask_tree


def _stage_in_description(data: dict[str, Any]) -> None:
    resource(data, "retrievers", "product_search")["description"] = "Storefront search (${{ env.STAGE }})"


async def test_a_secret_inside_resource_names_does_not_replace_them_on_every_apply(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGE", "prod")
    edit(project_dir, "retrievers.yaml", _stage_in_description)
    await apply(project_dir)
    before = await live(project_dir)
    second, _ = await apply(project_dir)
    assert actions(second) == {}
    assert not (await plan(project_dir)).has_changes
    after = await live(project_dir)
    assert {k: r.id for k, r in after.resources.items()} == {k: r.id for k, r in before.resources.items()}


async def test_a_changed_secret_is_a_change_shown_masked(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGE", "prod-eu")
    edit(project_dir, "retrievers.yaml", _stage_in_description)
    await apply(project_dir)
    monkeypatch.setenv("STAGE", "prod-us")
    p = await plan(project_dir)
    assert actions(p) == {("retriever", "product_search"): "update"}
    (change,) = p.changes[0].changes
    assert change.path == "description" and "prod-eu" not in str(change.old) and "prod-us" not in str(change.new)


def test_short_secrets_are_not_masked_so_urls_stay_readable() -> None:
    url = "POST http://mixops.local/v1/retrievers/list"
    assert mask(url, frozenset({"re", "li"})) == url
    assert mask_tree({"u": [url]}, frozenset({"li"})) == {"u": [url]}
    assert mask(url, frozenset({"list", "li"})) == "POST http://mixops.local/v1/retrievers/***"


def test_a_two_character_secret_is_named_in_one_warning_and_does_not_garble_the_plan(project_dir: Path) -> None:
    edit(project_dir, "retrievers.yaml", _stage_in_description)
    result = CliRunner().invoke(cli, ["-C", str(project_dir), "plan", "--no-tests"], env={"STAGE": "re"})
    assert result.exit_code == 0, result.output
    assert "***" not in result.output
    assert "retriever" in result.output
    warnings = [line for line in result.output.splitlines() if "STAGE" in line]
    assert len(warnings) == 1 and "not masked" in warnings[0]
