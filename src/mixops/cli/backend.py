"""The embedded local backend, as the shell hands it to the ports.

The ports never import `mixops.local` (an import-linter contract): every command
passes `in_process` to `load_project`, and `ports.target.connect` calls it for a
`target: local` environment. The import waits until then, so that commands against
a Mixpeek API never load the web stack, and a missing `mixops[local]` extra is a
clean error rather than a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import httpx

from mixops.errors import MissingExtraError


def in_process(db_path: Path, namespace: str, seed_files: Sequence[Path], api_key: str) -> httpx.AsyncBaseTransport:
    """The local backend on `db_path`, mounted in this process (see `mixops.local.inprocess`)."""
    try:
        from mixops.local.inprocess import local_transport
    except ImportError as err:  # the optional extra is missing
        raise MissingExtraError(
            "the embedded local backend (`target: local`) needs the optional dependencies: "
            f"pip install 'mixops[local]' ({err.name} is missing)"
        ) from None
    return local_transport(db_path, namespace, seed_files=seed_files, api_key=api_key)
