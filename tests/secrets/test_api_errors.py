"""Finding 9: an API error echoing the request body never prints a manifest secret.

The client redacts the API key; it must also redact the stack's secrets. Here
the local backend answers 422 quoting a stage name taken from `${{ env.X }}`.
"""

from __future__ import annotations

from pathlib import Path

from tests.secrets.conftest import invoke

SECRET = "sekret-DDDD4444"


def test_api_error_quoting_a_secret_is_masked(catalog: Path) -> None:
    manifest = catalog / "manifests" / "retrievers.yaml"
    text = manifest.read_text()
    # Two stages with the same (secret) name: the API refuses it and names the duplicate.
    for name in ("search", "rating_floor"):
        text = text.replace(f"- stage_name: {name}", '- stage_name: "${{ env.MY_KEY }}"', 1)
    manifest.write_text(text)
    env = {"MY_KEY": SECRET}
    out = invoke(catalog, env, "apply", "--no-tests", "--auto-approve")
    assert "duplicate_stage_name" in out
    assert "stage_name must be unique within a retriever: ***" in out
    assert SECRET not in out
