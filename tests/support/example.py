"""The catalog example in a namespace holding only its collections."""

from __future__ import annotations

from pathlib import Path

import yaml

from mixops.core.plan import PlanOptions
from mixops.local.inprocess import local_transport
from mixops.ports.project import load_project
from mixops.ports.reconcile import plan_and_apply


async def apply_collections_only(root: Path, env: str | None = None) -> None:
    """Apply only the example's collections (the other manifests set aside, then put back), with
    their seed documents: a namespace where the retrievers, taxonomies and clusters do not exist
    yet but the collections they read do, as when a team starts managing an existing namespace."""
    manifests = root / "manifests"
    aside = root / "aside"
    aside.mkdir()
    moved = [p for p in manifests.glob("*.yaml") if p.name not in ("collections.yaml", "parameters.yaml")]
    collections = manifests / "collections.yaml"
    text = collections.read_text(encoding="utf-8")
    for path in moved:
        path.rename(aside / path.name)
    try:
        # Without their applications: the taxonomies they name are set aside too.
        data = yaml.safe_load(text)
        for collection in data["collections"]:
            collection.pop("taxonomy_applications", None)
        collections.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        project = load_project(root, local_backend=local_transport)
        _, report = await plan_and_apply(project, project.env_name(env), PlanOptions(), apply=True)
        assert report is not None and not report.failed
    finally:
        collections.write_text(text, encoding="utf-8")
        for path in moved:
            (aside / path.name).rename(path)
        aside.rmdir()
