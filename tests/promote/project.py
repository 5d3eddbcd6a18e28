"""Projects for the promotion tests: `mixops init`'s, with a `dev` and a `prod` environment."""

from __future__ import annotations

from pathlib import Path

import yaml


def add_environments(root: Path, parameters: dict[str, dict[str, object]] | None = None) -> None:
    """Replace the `local` environment by `dev` and `prod`: two namespaces of one local backend."""
    path = root / "mixops.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    local = config["environments"]["local"]
    config["environments"] = {
        env: {**local, "namespace": f"{root.name}-{env}", **({"parameters": parameters[env]} if parameters else {})}
        for env in ("dev", "prod")
    }
    config["default_environment"] = "dev"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
