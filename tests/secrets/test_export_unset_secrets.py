"""Issue 11 item 10: export never writes a secret whose variable is unset at export time.

The manifests say which values come from `${{ env.X }}`; with X unset, export
cannot tell where X's value sits in the live namespace, so it refuses and names
the variables to set, rather than writing the live values in plain text.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from mixops.cli.main import cli

SECRET = "sk_live_Q1w2E3r4T5y6"


def _with_secret(catalog: Path) -> None:
    manifest = catalog / "manifests" / "retrievers.yaml"
    text = manifest.read_text()
    marker = "description: Semantic product search for the storefront search box."
    assert marker in text
    # Keys that do not look secret: only the manifests know these values are secrets.
    manifest.write_text(
        text.replace(marker, 'description: "Search (token ${{ env.SEARCH_TOKEN }})"', 1).replace(
            "tags: [storefront, search]", 'tags: [storefront, search, "${{ env.SEARCH_TOKEN }}"]', 1
        )
    )


def _run(catalog: Path, env: dict[str, str | None], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-C", str(catalog), *args], env=env)
    return result.exit_code, result.output + (repr(result.exception) if result.exception else "")


def test_export_refuses_when_a_secret_variable_is_unset(catalog: Path, tmp_path: Path) -> None:
    _with_secret(catalog)
    code, out = _run(catalog, {"SEARCH_TOKEN": SECRET}, "apply", "--no-tests", "--auto-approve")
    assert code == 0, out
    out_dir = tmp_path / "exported"

    code, out = _run(catalog, {"SEARCH_TOKEN": None}, "export", "-o", str(out_dir))

    assert code == 1, out
    assert "SEARCH_TOKEN" in out and "not set" in out, out
    assert "nothing was written" in out, out
    assert SECRET not in out
    assert not out_dir.exists() or not list(out_dir.rglob("*")), "no file is written when a secret cannot be checked"


def test_export_with_the_variable_set_writes_placeholders(catalog: Path, tmp_path: Path) -> None:
    _with_secret(catalog)
    assert _run(catalog, {"SEARCH_TOKEN": SECRET}, "apply", "--no-tests", "--auto-approve")[0] == 0
    out_dir = tmp_path / "exported"

    code, out = _run(catalog, {"SEARCH_TOKEN": SECRET}, "export", "-o", str(out_dir))

    assert code == 0, out
    written = "\n".join(p.read_text() for p in out_dir.rglob("*.yaml"))
    assert SECRET not in written + out
    assert written.count("${{ env.SEARCH_TOKEN }}") == 2, written


def test_export_puts_placeholders_back_when_other_manifests_do_not_load(catalog: Path, tmp_path: Path) -> None:
    """Manifests that fail validation for another reason still say which values are secrets."""
    _with_secret(catalog)
    assert _run(catalog, {"SEARCH_TOKEN": SECRET}, "apply", "--no-tests", "--auto-approve")[0] == 0
    broken = catalog / "manifests" / "clusters.yaml"
    broken.write_text(broken.read_text().replace("clusters:", "clusterz:", 1))
    out_dir = tmp_path / "exported"

    code, out = _run(catalog, {"SEARCH_TOKEN": SECRET}, "export", "-o", str(out_dir))

    assert code == 0, out
    written = "\n".join(p.read_text() for p in out_dir.rglob("*.yaml"))
    assert SECRET not in written + out
    assert "${{ env.SEARCH_TOKEN }}" in written
