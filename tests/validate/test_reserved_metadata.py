"""Metadata keys mixops owns (its ownership records) are refused in every kind's `metadata`.

apply writes `managed_by`, `mixops_stack`, `mixops_digest`... over whatever the manifest
says, and the plan ignores them when comparing: a user's value there was dropped without a
word, and plan said "No changes". validate names each key at its line instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.validate.conftest import VALID_MANIFEST, run
from tests.validate.test_collections import GOOD

from mixops.core.models.common import OWNER_KEYS

META = "    metadata:\n      mixops_stack: evil\n      managed_by: nobody\n      mixops_applications: {}\n      team: search\n"

# (kind, file, text with the metadata inserted, the path of the resource in the file)
CASES = [
    (
        "collection",
        "collections.yaml",
        GOOD.replace("    source: {type: none}\n", "    source: {type: none}\n" + META),
        "collections[0]",
    ),
    (
        "retriever",
        "main.yaml",
        VALID_MANIFEST.replace("  - name: search\n", "  - name: search\n" + META, 1),
        "retrievers[0]",
    ),
    (
        "taxonomy",
        "main.yaml",
        VALID_MANIFEST.replace("  - name: tags\n", "  - name: tags\n" + META, 1),
        "taxonomies[0]",
    ),
    (
        "cluster",
        "main.yaml",
        VALID_MANIFEST.replace("  - name: groups\n", "  - name: groups\n" + META, 1),
        "clusters[0]",
    ),
]


@pytest.mark.parametrize(("file", "text", "where"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_keys_mixops_owns_are_refused_in_metadata_at_their_line(
    project: Path, file: str, text: str, where: str
) -> None:
    (project / "manifests" / file).write_text(text)
    result = run(project, "validate")
    assert result.exit_code == 1, result.output
    lines = text.splitlines()
    for key in ("mixops_stack", "managed_by", "mixops_applications"):
        line = next(n for n, row in enumerate(lines, 1) if row.strip().startswith(f"{key}:"))
        shown = f"manifests/{file}:{line}:7: {where}.metadata.{key}: "
        found = [row for row in result.output.splitlines() if row.startswith(shown)]
        assert found, f"no line starting {shown!r} in:\n{result.output}"
        assert "mixops writes" in found[0], found[0]
    assert "metadata.team" not in result.output
    assert result.output.count("\n") == 4, result.output  # three problems and the count line


def test_every_owner_key_is_refused(project: Path) -> None:
    meta = "    metadata:\n" + "".join(f"      {key}: x\n" for key in OWNER_KEYS)
    (project / "manifests" / "collections.yaml").write_text(
        GOOD.replace("    source: {type: none}\n", "    source: {type: none}\n" + meta)
    )
    result = run(project, "validate")
    assert result.exit_code == 1, result.output
    for key in OWNER_KEYS:
        assert f"collections[0].metadata.{key}: " in result.output
