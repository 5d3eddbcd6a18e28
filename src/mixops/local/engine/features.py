"""Feature URIs and vector scoring.

``resolve_index`` maps a feature URI to one of a collection's vector indexes in the
order of mixpeek-api.md 3.6:

1. an exact match on the index's ``feature_uri``;
2. the URI's output segment equals an index name;
3. ``{extractor}_{version}_{output}`` equals an index name;
4. the short form (no output segment) maps to the single or the primary index.

A bare index name (no ``mixpeek://``) is also accepted, and so is a URI whose
extractor, version and output equal those of an index's own URI.

``score_matrix`` scores a query vector against an ``(n, d)`` matrix by the index's
distance: cosine (default) and dot give the similarity itself; euclidean and
manhattan give ``1 / (1 + distance)`` so that higher is always better. Inverse row
norms are cached per matrix object (stores return the same array until a write),
so a cosine search costs one matrix-vector product.
"""

from __future__ import annotations

import contextlib
import re
import weakref
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mixops.local.engine.errors import BadRequest
from mixops.local.engine.store import CollectionInfo, VectorIndex

_URI = re.compile(r"^mixpeek://(?P<extractor>[^@/]+)@(?P<version>[^/]+)(?:/(?P<output>[^/]+))?/?$")


@dataclass(frozen=True)
class FeatureAddress:
    """A parsed ``mixpeek://extractor@version/output`` URI."""

    extractor: str
    version: str
    output: str | None


def parse_uri(uri: str) -> FeatureAddress | None:
    """The parts of a mixpeek:// URI, or None when it is not one."""
    match = _URI.match(uri.strip())
    if match is None:
        return None
    return FeatureAddress(match["extractor"], match["version"], match["output"])


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


_inv_norms: dict[int, tuple[weakref.ref[npt.NDArray[np.float32]], npt.NDArray[np.float32]]] = {}


def _inverse_norms(matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    key = id(matrix)
    hit = _inv_norms.get(key)
    if hit is not None and hit[0]() is matrix and hit[1].shape[0] == matrix.shape[0]:
        return hit[1]
    norms = np.linalg.norm(matrix, axis=1)
    inv = np.zeros_like(norms, dtype=np.float32)
    np.divide(1.0, norms, out=inv, where=norms > 0)
    if len(_inv_norms) > 64:
        for k in [k for k, (ref, _) in _inv_norms.items() if ref() is None]:
            del _inv_norms[k]
        if len(_inv_norms) > 64:
            _inv_norms.clear()
    # An array that refuses weak references is simply not cached.
    with contextlib.suppress(TypeError):
        _inv_norms[key] = (weakref.ref(matrix), inv)
    return inv


def score_matrix(
    matrix: npt.NDArray[np.float32], query: npt.NDArray[np.float32], distance: str = "cosine"
) -> npt.NDArray[np.float32]:
    """Similarity of every row of ``matrix`` to ``query`` (higher is better)."""
    if matrix.shape[0] == 0:
        return np.zeros(0, dtype=np.float32)
    if matrix.shape[1] != query.shape[0]:
        raise BadRequest(
            f"query vector has {query.shape[0]} dimensions, the index has {matrix.shape[1]}",
            {"expected": int(matrix.shape[1]), "got": int(query.shape[0])},
        )
    q = query.astype(np.float32, copy=False)
    if distance == "cosine":
        qn = float(np.linalg.norm(q))
        if qn == 0.0:
            return np.zeros(matrix.shape[0], dtype=np.float32)
        scores: npt.NDArray[np.float32] = (matrix @ (q / qn)) * _inverse_norms(matrix)
        return scores
    if distance == "dot":
        dots: npt.NDArray[np.float32] = matrix @ q
        return dots
    if distance == "euclidean":
        dist = np.linalg.norm(matrix - q, axis=1)
    elif distance == "manhattan":
        dist = np.abs(matrix - q).sum(axis=1)
    else:
        raise BadRequest(f"unknown distance {distance!r}; expected cosine, dot, euclidean or manhattan")
    out: npt.NDArray[np.float32] = (1.0 / (1.0 + dist)).astype(np.float32)
    return out


def top_k(scores: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.intp]:
    """Row indexes of the ``k`` best scores, best first (ties broken by row order)."""
    n = scores.shape[0]
    if k <= 0 or n == 0:
        return np.zeros(0, dtype=np.intp)
    part = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
    order = np.lexsort((part, -scores[part]))
    result: npt.NDArray[np.intp] = part[order]
    return result
