"""Server-assigned identifiers in Mixpeek's formats (``ret_...``, ``col_`` + 10 characters, ...)."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits


def new_id(prefix: str, length: int = 12) -> str:
    """``prefix`` + '_' + random lowercase alphanumerics (collections use 10, as the API does)."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def collection_id() -> str:
    return new_id("col", 10)
