"""Feature URIs: which vector index of a collection a feature URI names.

``resolve_index`` maps a feature URI to one of a collection's vector indexes in the
order of mixpeek-api.md 3.6:

1. an exact match on the index's ``feature_uri``;
2. the URI's output segment equals an index name;
3. ``{extractor}_{version}_{output}`` equals an index name;
4. the short form (no output segment) maps to the single or the primary index.

A bare index name (no ``mixpeek://``) is also accepted, and so is a URI whose
extractor, version and output equal those of an index's own URI.
"""

from __future__ import annotations

from mixops.core.feature_uris import parse_uri
from mixops.local.engine.errors import BadRequest
from mixops.local.engine.store import CollectionInfo, VectorIndex


def resolve_index(info: CollectionInfo, uri: str) -> VectorIndex:
    """The index of ``info`` that ``uri`` designates; BadRequest listing the options if none."""
    index = find_index(info, uri)
    if index is None:
        available = ", ".join(f"{ix.feature_uri} ({ix.name})" for ix in info.vector_indexes) or "none"
        raise BadRequest(
            f"feature_uri {uri!r} matches no vector index of collection {info.collection_name!r} "
            f"(available: {available})",
            {"feature_uri": uri, "collection_id": info.collection_id},
        )
    return index


def find_index(info: CollectionInfo, uri: str) -> VectorIndex | None:
    """Like ``resolve_index`` but None when nothing matches."""
    if not isinstance(uri, str) or not uri.strip():
        raise BadRequest("feature_uri must be a non-empty string")
    indexes = info.vector_indexes
    for ix in indexes:
        if ix.feature_uri == uri:
            return ix
    addr = parse_uri(uri)
    if addr is None:
        return next((ix for ix in indexes if ix.name == uri), None)
    if addr.output is not None:
        for ix in indexes:
            if ix.name == addr.output:
                return ix
        storage = f"{addr.extractor}_{addr.version}_{addr.output}"
        for ix in indexes:
            if ix.name == storage:
                return ix
        for ix in indexes:
            other = parse_uri(ix.feature_uri)
            if other is not None and other == addr:
                return ix
        return None
    wanted = (addr.extractor, addr.version)
    same_extractor = [ix for ix in indexes if _extractor_of(ix) == wanted]
    candidates = same_extractor or list(indexes)
    if len(candidates) == 1:
        return candidates[0]
    return next((ix for ix in candidates if ix.primary), None)


def _extractor_of(index: VectorIndex) -> tuple[str, str] | None:
    parsed = parse_uri(index.feature_uri)
    return None if parsed is None else (parsed.extractor, parsed.version)
