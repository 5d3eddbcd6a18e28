"""Finding 7: problems that stop a plan, and its warnings, never echo a secret."""

from __future__ import annotations

from pathlib import Path

from tests.secrets.conftest import invoke

SECRET = "sekret-BBBB2222"


def test_plan_error_built_from_a_secret_is_masked(catalog: Path) -> None:
    manifest = catalog / "manifests" / "retrievers.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "- feature_uri: mixpeek://text_extractor@v1/embedding",
            '- feature_uri: "mixpeek://x@v1/${{ env.MY_KEY }}"',
            1,
        )
    )
    env = {"MY_KEY": SECRET}
    outputs = [invoke(catalog, env, "plan", "--no-tests", "--format", fmt) for fmt in ("text", "json", "markdown")]
    outputs.append(invoke(catalog, env, "apply", "--no-tests", "--auto-approve"))
    for out in outputs:
        # The problem is still reported, and says where: just not with the value.
        assert "mixpeek://x@v1/***" in out
        assert SECRET not in out
