"""JSON Schema for manifests and mixops.yaml, generated from the pydantic models.

Numeric and boolean fields also accept a `${{ ... }}` placeholder string in the
schema, because placeholders are resolved before validation: an editor must
not flag `final_top_k: "${{ params.top_k }}"`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PLACEHOLDER = {"type": "string", "pattern": r"^\s*\$\{\{[^{}]+\}\}\s*$", "description": "A ${{ params.X }} placeholder"}
SCHEMA_BASE = "https://github.com/mixops/mixops/schemas/"


def _allow_placeholders(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _allow_placeholders(v) for k, v in node.items()}
        if node.get("type") in ("integer", "number", "boolean") and "anyOf" not in node:
            scalar = {k: v for k, v in node.items() if k not in ("title", "description", "default")}
            meta = {k: v for k, v in node.items() if k in ("title", "description", "default")}
            return {**meta, "anyOf": [scalar, PLACEHOLDER]}
        return node
    if isinstance(node, list):
        return [_allow_placeholders(v) for v in node]
    return node


def render_schemas() -> dict[str, str]:
    from mixops.core.models.manifest import ManifestFile
    from mixops.core.models.project import ProjectConfig

    out: dict[str, str] = {}
    for name, model, title in (
        ("mixops-manifest.schema.json", ManifestFile, "mixops manifest"),
        ("mixops-project.schema.json", ProjectConfig, "mixops project (mixops.yaml)"),
    ):
        schema = _allow_placeholders(model.model_json_schema(by_alias=True))
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": SCHEMA_BASE + name,
            "title": title,
            **schema,
        }
        out[name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def schema_dir(project_dir: Path) -> Path:
    """schemas/ of the source checkout when running from one, else under the project."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "schemas").is_dir():
            return parent / "schemas"
    return project_dir / "schemas"
