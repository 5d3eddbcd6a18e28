"""The local backend's table of the SDK's request keys matches the installed SDK."""

from __future__ import annotations

from tests.sdk.contract_table import TABLE, build, render


def test_request_keys_table_is_fresh() -> None:
    assert TABLE.read_text(encoding="utf-8") == render(build()), (
        f"{TABLE.name} is stale: run python -m tests.sdk.contract_table --write"
    )
