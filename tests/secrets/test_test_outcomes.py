"""Finding 8: test outcomes (failures, observed values, errors) never echo a secret.

Text, JSON, Markdown and JUnit all render the entries the test runner returns.
"""

from __future__ import annotations

from pathlib import Path

from tests.secrets.conftest import invoke

SECRET = "sekret-CCCC3333"


def test_outcomes_built_from_a_secret_are_masked(catalog: Path, tmp_path: Path) -> None:
    tests = catalog / "manifests" / "tests.yaml"
    # The expected category comes from the environment: the failure message quotes it.
    tests.write_text(
        tests.read_text().replace(
            "top_k: {k: 3, all_match: {category: running}}",
            'top_k: {k: 3, all_match: {category: "${{ env.MY_SECRET }}"}}',
            1,
        )
    )
    env = {"MY_SECRET": SECRET}
    outputs = [invoke(catalog, env, "plan", "--format", fmt) for fmt in ("text", "json", "markdown")]
    outputs.append(invoke(catalog, env, "apply", "--auto-approve"))
    junit = tmp_path / "junit.xml"
    outputs.append(invoke(catalog, env, "test", "--junit", str(junit)))
    outputs.append(junit.read_text())
    joined = "\n".join(outputs)
    assert "running shoes come first" in outputs[-2]
    assert "***" in joined, "the failing expectation should still be reported, masked"
    for out in outputs:
        assert SECRET not in out
