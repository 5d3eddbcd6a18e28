"""Request bodies of test executions, built from manifest-shaped specs (pure).

Names become ids through `to_id` (the live namespace's ids at plan time, the
applied ids after apply). A body that cannot be built says why with
`NotRunnable`: the runner reports the test as skipped with that reason, never
as passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mixops.core.bodies import ToId
from mixops.core.refpaths import iter_refs, rewrite_refs

# What POST /v1/retrievers/execute takes (mixpeek-api.md 5.7); the rest of a
# retriever (name, description, tags, metadata...) is not part of an execution.
ADHOC_RETRIEVER_KEYS = ("collection_identifiers", "input_schema", "stages", "budget_limits")


class NotRunnable(Exception):
    """This test cannot run against this configuration (the message says why)."""


def references(kind: str, spec: dict[str, Any], ref_kind: str) -> list[str]:
    return list(dict.fromkeys(str(v) for _, k, v in iter_refs(kind, spec) if k == ref_kind))


def adhoc_retriever_body(
    spec: dict[str, Any], to_id: ToId, inputs: Mapping[str, Any], filters: Mapping[str, Any] | None
) -> dict[str, Any]:
    full = rewrite_refs("retriever", spec, to_id)
    body = {k: full[k] for k in ADHOC_RETRIEVER_KEYS if k in full}
    body["inputs"] = dict(inputs)
    if filters:
        body["filters"] = dict(filters)
    return body


def by_id_retriever_body(inputs: Mapping[str, Any], filters: Mapping[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"inputs": dict(inputs)}
    if filters:
        body["filters"] = dict(filters)
    return body


# Stage keys of a retriever's create shape that the SDK's StageInstanceConfig (the stages of a
# RetrieverModelInput) has no place for: an override without them would run something else.
_STAGE_KEYS_WITHOUT_A_PLACE = ("on_error", "output_alias", "batch_size")


def retriever_override(name: str, spec: dict[str, Any], to_id: ToId) -> dict[str, Any]:
    """A taxonomy execute's `retriever` override in the SDK's RetrieverModelInput shape.

    The create shape nests a stage's implementation under `config` (`stage_type`,
    `config.stage_id`, `config.parameters`, `config.pre_filters`); RetrieverModelInput
    takes flat stages (`stage_name`, `stage_id`, `parameters`, `pre_filters`), the input
    schema as `{properties: ...}` and `collection_ids`.
    """
    full = rewrite_refs("retriever", spec, to_id)
    stages = []
    for i, stage in enumerate(full.get("stages") or []):
        lost = [k for k in _STAGE_KEYS_WITHOUT_A_PLACE if stage.get(k) is not None]
        config = stage.get("config") or {}
        if config.get("post_filters"):
            lost.append("config.post_filters")
        if lost:
            raise NotRunnable(
                f"its retriever {name!r} sets {', '.join(lost)} on stage {i}, which a taxonomy execute's "
                "retriever override (RetrieverModelInput) cannot carry"
            )
        flat: dict[str, Any] = {"stage_name": stage["stage_name"], "stage_id": config.get("stage_id")}
        flat["parameters"] = dict(config.get("parameters") or {})
        if config.get("pre_filters"):
            flat["pre_filters"] = config["pre_filters"]
        stages.append(flat)
    return {
        "retriever_name": name,
        "collection_ids": list(full.get("collection_identifiers") or []),
        "input_schema": {"properties": dict(full.get("input_schema") or {})},
        "stages": stages,
    }


def sample_ids(documents: Sequence[Mapping[str, Any]]) -> list[str]:
    """Ids of sample documents; inline ones without an id get `sample_<index>`."""
    return [str(d.get("document_id") or f"sample_{i}") for i, d in enumerate(documents)]


def taxonomy_body(
    name: str,
    taxonomy_id: str,
    spec: dict[str, Any],
    documents: Sequence[Mapping[str, Any]],
    to_id: ToId,
    override: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An on-demand execute (ExecuteTaxonomyRequest) of the taxonomy `taxonomy_id` with `spec` inline.

    `taxonomy` (a TaxonomyModelInput) is required by the SDK: the config under test goes
    there, the desired one at plan time, the live or applied one otherwise. The path names
    the taxonomy by its id: a taxonomy that does not exist yet cannot be executed.
    """
    ids = sample_ids(documents)
    docs = [{**d, "document_id": ids[i]} for i, d in enumerate(documents)]
    full = rewrite_refs("taxonomy", spec, to_id)
    taxonomy = {"taxonomy_id": taxonomy_id, "taxonomy_name": name, "config": full["config"]}
    body: dict[str, Any] = {"taxonomy": taxonomy, "join_mode": "on_demand", "source_documents": docs}
    if override is not None:
        body["retriever"] = override
    return body


def adhoc_cluster_body(spec: dict[str, Any], to_id: ToId) -> dict[str, Any]:
    """`POST /v1/clusters/execute` (seed 003's fields only) with results not stored.

    No `include_members`: seed 003 documents no response field that would carry them.
    """
    if spec.get("source_cluster_ids"):
        raise NotRunnable("a cluster of clusters (source_cluster_ids) cannot run as an ad-hoc clustering")
    if spec.get("filters"):
        raise NotRunnable("ad-hoc clustering takes no filters, so it cannot reproduce this cluster's `filters`")
    collections = [to_id("collection", c) for c in spec.get("collection_ids") or []]
    body: dict[str, Any] = {
        "collection_ids": collections,
        "store_results": False,
        "compute_metrics": True,
    }
    vector = spec.get("vector_config")
    if isinstance(vector, dict):
        uris = vector.get("feature_uris") or []
        if len(uris) != 1:
            raise NotRunnable(f"ad-hoc clustering takes one feature vector; this cluster uses {len(uris)}")
        config: dict[str, Any] = {
            "algorithm": vector["clustering_method"],
            "algorithm_params": dict(vector.get("algorithm_params") or {}),
            "feature_vector": {"feature_address": uris[0]},
        }
        if vector.get("normalize_features") is not None:
            config["normalize_features"] = vector["normalize_features"]
        if vector.get("sample_size"):
            body["sample_size"] = vector["sample_size"]
    elif isinstance(spec.get("attribute_config"), dict):
        config = {"algorithm": "attribute_based", "attribute_config": dict(spec["attribute_config"])}
    else:
        raise NotRunnable("the cluster has neither vector_config nor attribute_config")
    body["config"] = config
    return body


__all__ = [
    "ADHOC_RETRIEVER_KEYS",
    "NotRunnable",
    "adhoc_cluster_body",
    "adhoc_retriever_body",
    "by_id_retriever_body",
    "references",
    "retriever_override",
    "sample_ids",
    "taxonomy_body",
]
