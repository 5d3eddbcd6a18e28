"""Vector scoring: a query vector against a matrix of stored vectors, and the top k.

``score_matrix`` scores a query vector against an ``(n, d)`` matrix by the index's
distance: cosine (default) and dot give the similarity itself; euclidean and
manhattan give ``1 / (1 + distance)`` so that higher is always better. Inverse row
norms are cached per matrix object (stores return the same array until a write),
so a cosine search costs one matrix-vector product.
"""

from __future__ import annotations

import contextlib
import weakref

import numpy as np
import numpy.typing as npt

from mixops.local.engine.errors import BadRequest

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
