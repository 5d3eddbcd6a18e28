"""Vector indexes of a collection, derived from its create body.

Three ways to declare them (one collection may combine ``vector_configs`` with one of
the others):

- ``feature_extractor: {feature_extractor_name, version, input_mappings?, params?}``:
  one index ``{name}_{version}_embedding`` with URI ``mixpeek://{name}@{version}/embedding``.
  For text extractors (name containing "text") documents without a vector get one from
  the local embedder, over the text at the mapped fields.
- ``features: ["text_search", ...]``: feature keys; a key naming text maps to
  ``text_extractor`` v1, any other key ``k`` to ``k`` v1 (vectors must be supplied).
- ``vector_configs: [{name, dimension, metric?}]``: bring-your-own vectors; the index
  is addressed by its name or ``mixpeek://custom@v1/{name}``.

Dimensions: the embedder's for text extractors, else ``params.dimensions`` (or
``parameters.dimensions``), else the embedder's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mixops.local.engine.documents import get_plain
from mixops.local.engine.store import VectorIndex
from mixops.local.problems import invalid

TEXT_FALLBACK_FIELDS = ("text", "content", "title", "description")
# The extractors the local backend computes vectors for (its feature catalog's text_search):
# what its extractor catalog lists (local/api/extractors.py).
LOCAL_EXTRACTORS = (("text_extractor", "v1"),)
_METRICS = {"cosine": "cosine", "euclidean": "euclidean", "dot_product": "dot", "dot": "dot"}


def _is_text(extractor: str) -> bool:
    return "text" in extractor.lower()


def _mapped_paths(mappings: Any) -> list[str]:
    """Source field paths named by ``input_mappings`` (dict or list form)."""
    paths: list[str] = []
    if isinstance(mappings, Mapping):
        for value in mappings.values():
            if isinstance(value, str):
                paths.append(value)
            elif isinstance(value, list):
                paths.extend(v for v in value if isinstance(v, str))
    elif isinstance(mappings, list):
        for item in mappings:
            if isinstance(item, Mapping):
                path = item.get("path") or item.get("source") or item.get("source_path")
                if isinstance(path, str):
                    paths.append(path)
            elif isinstance(item, str):
                paths.append(item)
    return paths


def _dims(config: Mapping[str, Any], default: int) -> int:
    for key in ("params", "parameters"):
        block = config.get(key)
        if isinstance(block, Mapping) and isinstance(block.get("dimensions"), int) and block["dimensions"] > 0:
            return int(block["dimensions"])
    return default


# Over 80 lines on purpose: the three declaration forms of the module docstring, one block each,
# all adding through the one `add` so that names, URIs and dimensions are made the same way.
def derive_indexes(body: Mapping[str, Any], embed_dims: int) -> tuple[list[dict[str, Any]], list[str]]:
    """The collection's ``vector_indexes`` (API read shape) and the text fields to embed.

    Raises a 422 ApiProblem for declarations it cannot understand.
    """
    indexes: list[dict[str, Any]] = []
    text_fields: list[str] = []

    def add(extractor: str, version: str, dims: int, distance: str, inference: str, source: str | None) -> None:
        name = f"{extractor}_{version}_embedding"
        entry: dict[str, Any] = {
            "name": name,
            "feature_uri": f"mixpeek://{extractor}@{version}/embedding",
            "type": "single",
            "index": {"name": name, "dimensions": dims, "distance": distance, "inference_name": inference},
        }
        if source:
            entry["source"] = source
        indexes.append(entry)

    fe = body.get("feature_extractor")
    if fe is not None:
        if not isinstance(fe, Mapping) or not isinstance(fe.get("feature_extractor_name"), str):
            raise invalid("feature_extractor.feature_extractor_name is required", field="feature_extractor")
        name = str(fe["feature_extractor_name"])
        version = str(fe.get("version") or "v1")
        text = _is_text(name)
        add(
            name,
            version,
            embed_dims if text else _dims(fe, embed_dims),
            "cosine",
            "local_hashing_embedder" if text else "byo",
            None,
        )
        if text:
            text_fields = _mapped_paths(fe.get("input_mappings")) or list(TEXT_FALLBACK_FIELDS)

    features = body.get("features")
    if features is not None:
        if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
            raise invalid("features must be a list of feature keys", field="features")
        for key in features:
            if _is_text(key):
                if not any(ix["name"] == "text_extractor_v1_embedding" for ix in indexes):
                    add("text_extractor", "v1", embed_dims, "cosine", "local_hashing_embedder", None)
                    text_fields = text_fields or list(TEXT_FALLBACK_FIELDS)
            else:
                add(key, "v1", embed_dims, "cosine", "byo", None)

    configs = body.get("vector_configs")
    if configs is not None:
        if not isinstance(configs, list):
            raise invalid("vector_configs must be a list of {name, dimension, metric?}", field="vector_configs")
        for i, vc in enumerate(configs):
            if (
                not isinstance(vc, Mapping)
                or not isinstance(vc.get("name"), str)
                or not vc["name"]
                or not isinstance(vc.get("dimension"), int)
                or isinstance(vc.get("dimension"), bool)
                or vc["dimension"] < 1
            ):
                raise invalid(
                    f"vector_configs[{i}] needs a name and a positive integer dimension", field="vector_configs"
                )
            metric = _METRICS.get(str(vc.get("metric") or "cosine"))
            if metric is None:
                raise invalid(f"vector_configs[{i}].metric must be cosine, euclidean or dot_product")
            vname = str(vc["name"])
            indexes.append(
                {
                    "name": vname,
                    "feature_uri": f"mixpeek://custom@v1/{vname}",
                    "type": "single",
                    "index": {
                        "name": vname,
                        "dimensions": vc["dimension"],
                        "distance": metric,
                        "inference_name": "byo",
                    },
                    "source": "namespace_vector_config",
                }
            )
    names = [ix["name"] for ix in indexes]
    if len(set(names)) != len(names):
        raise invalid("two vector indexes share a name", field="vector_configs", names=names)
    return indexes, text_fields


def to_engine(indexes: Sequence[Mapping[str, Any]]) -> tuple[VectorIndex, ...]:
    """The engine's view of stored ``vector_indexes``; the first index is the primary one."""
    return tuple(
        VectorIndex(
            name=str(ix["name"]),
            feature_uri=str(ix["feature_uri"]),
            dimensions=int(ix["index"]["dimensions"]),
            distance=str(ix["index"].get("distance", "cosine")),
            primary=i == 0,
        )
        for i, ix in enumerate(indexes)
    )


def resolve_vector_key(indexes: Sequence[Mapping[str, Any]], key: str) -> Mapping[str, Any] | None:
    """Which index a document-create ``vectors`` key (index name, URI or URI output) names."""
    for ix in indexes:
        uri = str(ix["feature_uri"])
        if key in (ix["name"], uri) or key == uri.rsplit("/", 1)[-1]:
            return ix
    return None


def text_of(doc: Mapping[str, Any], paths: Sequence[str]) -> str:
    """The text at ``paths`` (dot paths; lists joined), space separated."""
    parts: list[str] = []
    for path in paths:
        value = get_plain(doc, path)
        if isinstance(value, list):
            parts.extend(str(v) for v in value if v is not None)
        elif value is not None and not isinstance(value, Mapping):
            parts.append(str(value))
    return " ".join(parts).strip()
