"""Bring desired and live specs to one comparable form (pure).

Named functions, applied to BOTH sides before the diff (the gitops-engine
way): read shapes mapped to write shapes, ids mapped to names, server fields
dropped, API defaults filled, empties dropped, set-like lists sorted,
ownership metadata removed. Secrets are NOT masked here: masking is for
output, and this form is what is compared. A plan right after an apply or
an export must show no changes; golden desired/live pairs test each kind.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from mixops.core.models.common import OWNER_KEYS  # keys mixops writes into `metadata`; never part of a spec
from mixops.core.refpaths import iter_refs, set_path

# On a collection: `{"<type>:<applied id>": "<stack>"}`, one record per application entry a
# stack attached (core/models/collection.Application). Per entry, so that a stack that applies
# its taxonomy to another stack's collection prunes only its own entries.
APPLICATIONS_KEY = "mixops_applications"
MANAGED_BY = "mixops"

# Lists whose order carries no meaning in the API.
SET_LIKE: dict[str, tuple[tuple[str, ...], ...]] = {
    "retriever": (("collection_identifiers",), ("tags",)),
    "taxonomy": (("config", "inference_collections"), ("config", "cluster_ids")),
    "cluster": (("collection_ids",), ("source_cluster_ids",), ("vector_config", "feature_uris")),
    "collection": (("source", "collection_ids"), ("source", "bucket_ids"), ("features",)),
}

# Fields the read shape never returns, so mixops records their last applied values in
# metadata.mixops_extra to compare them: a retriever's `visibility` (not in the SDK's
# RetrieverModelOutput; the raw field is never read) and the cluster fields the
# flattened read shape never echoes (mixpeek-api.md 6.3).
RETRIEVER_UNOBSERVED: tuple[tuple[str, ...], ...] = (("visibility",),)
# A collection's `features` are resolved to an extractor server-side (CollectionResponse has no
# `features`), and its `input_schema` is inferred from the source when left out: both are
# compared with the values mixops last applied.
COLLECTION_UNOBSERVED: tuple[tuple[str, ...], ...] = (("features",), ("input_schema",))
CLUSTER_UNOBSERVED: tuple[tuple[str, ...], ...] = (
    ("vector_config", "normalize_features"),
    ("vector_config", "output_strategy"),
    ("vector_config", "feature_weights"),
    ("vector_config", "weight_learning_config"),
    ("auto_execute_on_batch",),
    ("auto_execute_min_documents",),
    ("auto_execute_cooldown_seconds",),
)

# Keys the server merges into a resource's `metadata` (mixpeek-api.md 4.3: taxonomy
# metadata gains `validation_warnings`): not the user's, never compared.
SERVER_METADATA: dict[str, frozenset[str]] = {"taxonomy": frozenset({"validation_warnings"})}

# Defaults the API fills on read when the request left them out. A nested default
# applies only where its parent object exists (labeling defaults only on a cluster
# that has `llm_labeling`); the values are those of the SDK's output models.
API_DEFAULTS: dict[str, tuple[tuple[tuple[str, ...], Any], ...]] = {
    "retriever": ((("visibility",), "private"),),
    "collection": (
        (("enabled",), True),
        (("feature_extractor", "include_all_source_fields"), False),
        (("embedding_task",), "retrieval_document"),
    ),
    "cluster": (
        (("vector_config", "multi_feature_strategy"), "concatenate"),
        (("vector_config", "normalize_features"), True),
        (("vector_config", "output_strategy"), "single"),
        (("vector_config", "effective_feature_method"), "mean"),
        (("vector_config", "hierarchical"), False),
        (("vector_config", "max_hierarchy_depth"), 3),
        (("vector_config", "vis_n_components"), 2),
        (("vector_config", "layout_stability"), "align"),
        (("vector_config", "face_cluster_merge", "enabled"), True),
        (("vector_config", "face_cluster_merge", "centroid_cosine_threshold"), 0.55),
        (("vector_config", "face_cluster_merge", "bbox_iou_threshold"), 0.4),
        (("vector_config", "face_cluster_merge", "scene_jaccard_threshold"), 0.3),
        (("vector_config", "face_cluster_merge", "bbox_field"), "bbox"),
        (("vector_config", "face_cluster_merge", "frame_field"), "frame_number"),
        (("vector_config", "face_cluster_merge", "scene_field"), "scene_id"),
        (("llm_labeling", "enabled"), False),
        (("llm_labeling", "include_summary"), True),
        (("llm_labeling", "include_keywords"), True),
        (("llm_labeling", "sample_text_max_length"), 200),
        (("llm_labeling", "sample_selection_strategy"), "nearest"),
        (("llm_labeling", "use_embedding_dedup"), True),
        (("llm_labeling", "embedding_similarity_threshold"), 0.8),
        (("llm_labeling", "cache_ttl_seconds"), 604800),
        (("enrich_source_collection",), False),
        (("auto_execute_on_batch",), False),
    ),
}

# Application entry defaults per type (TaxonomyApplicationConfigInput, ClusterApplicationConfig,
# RetrieverEnrichmentConfigInput).
APPLICATION_DEFAULTS: dict[str, dict[str, Any]] = {
    "taxonomy": {"execution_phase": 1, "priority": 0},
    "cluster": {"auto_execute_on_batch": True, "cooldown_seconds": 3600, "execution_phase": 2, "priority": 0},
    "retriever": {"execution_phase": 4, "priority": 0, "enabled": True},
}

# Taxonomy config defaults per taxonomy_type (FlatTaxonomyConfigOutput, HierarchicalTaxonomyConfigOutput).
TAXONOMY_CONFIG_DEFAULTS: dict[str, dict[str, Any]] = {
    "flat": {"top_k": 1},
    "hierarchical": {"llm_sample_size": 0, "cluster_overlap_threshold": 0.7, "path_separator": "/"},
}

# Optional objects that mean nothing while switched off: `{enabled: false}` equals leaving them out.
SWITCHED_OFF: dict[str, tuple[tuple[str, ...], ...]] = {
    "cluster": (("llm_labeling",), ("vector_config", "face_cluster_merge")),
}

# Stage fields the API fills: the catalog's stage_type for the stage_id, and on_error's default.
STAGE_ON_ERROR_DEFAULT = "error"


def _get(node: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _set(node: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


_ABSENT: Any = object()


def _pop(node: Any, path: tuple[str | int, ...]) -> Any:
    """Remove and return the value at `path` (dict keys and list indexes); `_ABSENT` when missing."""
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return _ABSENT
    if isinstance(node, dict) and path[-1] in node:
        return node.pop(path[-1])
    return _ABSENT


_MODELS: dict[str, type[BaseModel]] = {}


def _model_for(kind: str) -> type[BaseModel]:
    if not _MODELS:  # imported late: the models import this module's neighbours
        from mixops.core.models.cluster import Cluster
        from mixops.core.models.collection import Application, Collection
        from mixops.core.models.retriever import Retriever
        from mixops.core.models.taxonomy import Taxonomy

        _MODELS.update(
            retriever=Retriever, taxonomy=Taxonomy, cluster=Cluster, collection=Collection, application=Application
        )
    return _MODELS[kind]


# --- the named steps ------------------------------------------------------------


def _fill_model_defaults(kind: str, spec: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Round-trip through the manifest model so both sides carry the same defaults,
    dropping keys the model does not know (a newer API's fields).

    A live object may carry fields the API added after mixops' models were written;
    they are dropped (and returned, rendered, so the caller can warn) rather than
    making the whole object incomparable. An object that fails for another reason
    (a value mixops' models refuse) is compared as it is rather than failing the plan.
    """
    from mixops.core.locations import render_path, user_path

    model_cls = _model_for(kind)
    try:
        # The happy path reads `spec` without copying it: validation never mutates its input.
        model = model_cls.model_validate(spec, strict=False)
    except ValidationError:
        pass
    else:
        return model.model_dump(mode="json", by_alias=True, exclude_none=True), []
    data = copy.deepcopy(dict(spec))  # the drop rounds below pop keys from it
    dropped: list[str] = []
    for _ in range(_MAX_DROP_ROUNDS):
        try:
            model = model_cls.model_validate(data, strict=False)
        except ValidationError as err:
            errors = err.errors()
            extras = [user_path(e["loc"], data, "extra_forbidden") for e in errors if e["type"] == "extra_forbidden"]
            removed = [path for path in extras if path and _pop(data, path) is not _ABSENT]
            dropped.extend(render_path(path) for path in removed)
            if not removed or len(removed) < len(errors):
                break  # not only unknown keys: compare what is left as it is
            continue
        out: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
        return out, sorted(set(dropped))
    return data, sorted(set(dropped))


_MAX_DROP_ROUNDS = 5  # unknown keys inside a union member surface only once the member is picked


def _fill_api_defaults(kind: str, out: dict[str, Any]) -> None:
    for path, value in API_DEFAULTS.get(kind, ()):
        if len(path) > 1 and not isinstance(_get(out, path[:-1]), dict):
            continue
        if _get(out, path) is None:
            _set(out, path, value)
    if kind == "application":
        # `backfill` is mixops' own flag (when to run the apply-taxonomy task), never on the
        # wire: the live entry has none, so it is not part of what is compared.
        out.pop("backfill", None)
        for key, value in APPLICATION_DEFAULTS.get(str(out.get("type")), {}).items():
            if out.get(key) is None:
                out[key] = value
        for field in out.get("write_back_fields") or []:
            if isinstance(field, dict) and field.get("mode") is None:
                field["mode"] = "first"
    if kind == "collection":
        source = out.get("source")
        if isinstance(source, dict):
            source.pop("inherited_bucket_ids", None)  # lineage the API computes; never compared
    if kind == "taxonomy" and isinstance(out.get("config"), dict):
        config = out["config"]
        for key, value in TAXONOMY_CONFIG_DEFAULTS.get(config.get("taxonomy_type", "flat"), {}).items():
            if config.get(key) is None:
                config[key] = value


def _fill_stage_defaults(kind: str, out: dict[str, Any]) -> None:
    """Each stage's `stage_type` from the stage catalog (the API infers it) and `on_error`'s default."""
    from mixops.core.models.retriever_stages import DEFAULT_STAGE_TYPE, STAGE_ALIASES

    if kind != "retriever":
        return
    for stage in out.get("stages") or []:
        if not isinstance(stage, dict):
            continue
        stage_id = str((stage.get("config") or {}).get("stage_id"))
        if stage.get("stage_type") is None:
            inferred = DEFAULT_STAGE_TYPE.get(stage_id) or DEFAULT_STAGE_TYPE.get(STAGE_ALIASES.get(stage_id, ""))
            if inferred is not None:
                stage["stage_type"] = inferred
        if stage.get("on_error") is None:
            stage["on_error"] = STAGE_ON_ERROR_DEFAULT


def _fill_algorithm_params(kind: str, out: dict[str, Any]) -> None:
    """Absent `algorithm_params` are the method's defaults: the same as `{}` or every default written out."""
    from mixops.core.models.cluster import METHOD_PARAMS

    vector = out.get("vector_config") if kind == "cluster" else None
    if not isinstance(vector, dict) or vector.get("algorithm_params") is not None:
        return
    params = METHOD_PARAMS.get(vector.get("clustering_method", ""))
    if params is not None:
        vector["algorithm_params"] = params().model_dump(mode="json", exclude_none=True)


def _drop_switched_off(kind: str, out: dict[str, Any]) -> None:
    """`llm_labeling: {enabled: false}` (and face_cluster_merge likewise) means the same as leaving it out."""
    for path in SWITCHED_OFF.get(kind, ()):
        value = _get(out, path)
        if isinstance(value, dict) and value.get("enabled") is False:
            _pop(out, path)


def _drop_server_metadata(kind: str, out: dict[str, Any]) -> None:
    """Metadata keys the server adds (see SERVER_METADATA) left out."""
    meta = out.get("metadata")
    server = SERVER_METADATA.get(kind, frozenset())
    if isinstance(meta, dict) and server & meta.keys():
        out["metadata"] = {k: v for k, v in meta.items() if k not in server}


def drop_empties(node: Any) -> Any:
    """None, "", [] and {} all mean "not set" to the API; drop them recursively.

    Always returns new containers (callers rely on it to own the result). Written
    as one loop rather than two comprehensions: every plan runs it on every resource.
    """
    kind = type(node)
    if kind is dict or (kind is not list and isinstance(node, dict)):
        out = {}
        for k, v in node.items():
            vk = type(v)
            if vk is dict or vk is list or (vk is not str and isinstance(v, (dict, list))):
                v = drop_empties(v)
                if not v:
                    continue
            elif v is None or v == "":
                continue
            out[k] = v
        return out
    if kind is list or isinstance(node, list):
        return [drop_empties(v) if isinstance(v, (dict, list)) else v for v in node]
    return node


def strip_ownership(spec: dict[str, Any]) -> dict[str, Any]:
    return _without_ownership(copy.deepcopy(spec))


def _without_ownership(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy without mixops' metadata keys (nested values shared with `spec`)."""
    out = dict(spec)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta = {k: v for k, v in meta.items() if k not in OWNER_KEYS}
        if meta:
            out["metadata"] = meta
        else:
            out.pop("metadata")
    return out


def _sort_set_like(kind: str, out: dict[str, Any]) -> None:
    """Lists whose order means nothing (SET_LIKE) sorted, each value once."""
    for path in SET_LIKE.get(kind, ()):
        value = _get(out, path)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            _set(out, path, sorted(set(value)))


def normalise(kind: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The comparable form of a manifest-shaped spec, desired or live.

    The steps are the named functions above. After the model round trip, which
    builds a fresh tree, each changes that tree in place: no step copies, since a
    plan normalises every resource twice and copies dominated it at 10,000.
    """
    return normalise_report(kind, spec)[0]


def normalise_report(kind: str, spec: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`normalise`, plus the paths of the fields it dropped because no model knows them.

    Desired specs never have such fields (validation refuses them); for a live
    spec they are fields of a newer API, which the plan should name in a warning.
    """
    out, dropped = _fill_model_defaults(kind, _without_ownership(spec))
    _drop_server_metadata(kind, out)
    _fill_stage_defaults(kind, out)
    _fill_algorithm_params(kind, out)
    _fill_api_defaults(kind, out)
    _drop_switched_off(kind, out)
    _sort_set_like(kind, out)
    # Never masked here: this form is what plans compare and digests hash. A masked name
    # ("prod" secret in "product_search") once compared unequal to the live one forever.
    cleaned: dict[str, Any] = drop_empties(out)
    return cleaned, dropped


# --- read shapes -> manifest shapes ----------------------------------------------

IdToName = Callable[[str, str], str]


def _rewrite_fresh(kind: str, spec: dict[str, Any], id_to_name: IdToName) -> dict[str, Any]:
    """Ids to names in a tree this module just built (no copy; `rewrite_refs` copies)."""
    for path, ref_kind, value in list(iter_refs(kind, spec)):
        set_path(spec, path, id_to_name(ref_kind, value))
    return spec


def retriever_from_live(raw: Mapping[str, Any], id_to_name: IdToName) -> dict[str, Any]:
    stages = []
    for stage in raw.get("stages") or []:
        # Output stages carry a read-only `parameters` mirror of config.parameters.
        stages.append({k: v for k, v in stage.items() if k != "parameters"})
    spec = {
        "name": raw.get("retriever_name"),
        "description": raw.get("description"),
        "collection_identifiers": raw.get("collection_ids") or raw.get("collection_identifiers") or [],
        "stages": stages,
        "input_schema": raw.get("input_schema") or {},
        "budget_limits": raw.get("budget_limits"),
        "tags": raw.get("tags"),
        "metadata": raw.get("metadata"),
        "display_config": raw.get("display_config"),
    }
    _apply_extra(spec, raw)
    return _rewrite_fresh("retriever", drop_empties(spec), id_to_name)


def _apply_extra(spec: dict[str, Any], raw: Mapping[str, Any], skip: str | None = None) -> None:
    """The recorded values of unobserved fields (metadata.mixops_extra) into `spec`."""
    extra = ((raw.get("metadata") or {}).get("mixops_extra")) or {}
    for dotted, value in extra.items():
        path = tuple(dotted.split("."))
        if path[0] != skip:
            _set(spec, path, value)


def taxonomy_from_live(raw: Mapping[str, Any], id_to_name: IdToName) -> dict[str, Any]:
    spec = {
        "name": raw.get("taxonomy_name"),
        "description": raw.get("description"),
        "config": raw.get("config") or {},
        "metadata": raw.get("metadata"),
    }
    return _rewrite_fresh("taxonomy", drop_empties(spec), id_to_name)


_CLUSTER_VECTOR_FIELDS = {
    "feature_uris": "feature_uris",
    "algorithm": "clustering_method",
    "algorithm_params": "algorithm_params",
    "sample_size": "sample_size",
    "multi_feature_strategy": "multi_feature_strategy",
    "effective_feature_method": "effective_feature_method",
    "face_cluster_merge": "face_cluster_merge",
    "preprocessing_steps": "preprocessing_steps",
    "hierarchical_vector": "hierarchical",
    "max_hierarchy_depth": "max_hierarchy_depth",
    "vis_n_components": "vis_n_components",
    "layout_stability": "layout_stability",
}
_CLUSTER_ATTRIBUTE_FIELDS = {
    "clustered_attributes": "attributes",
    "hierarchical_grouping": "hierarchical_grouping",
    "aggregation_method": "aggregation_method",
}


def cluster_from_live(raw: Mapping[str, Any], id_to_name: IdToName) -> dict[str, Any]:
    """Un-flatten ClusterMetadata (mixpeek-api.md 6.3) into the create-request shape."""
    cluster_type = raw.get("cluster_type") or ("attribute" if raw.get("clustered_attributes") else "vector")
    spec: dict[str, Any] = {
        "name": raw.get("cluster_name"),
        "description": raw.get("description"),
        "metadata": raw.get("metadata"),
        "collection_ids": raw.get("input_collections") or [],
        "source_cluster_ids": raw.get("source_cluster_ids"),
        "cluster_type": cluster_type,
        "filters": raw.get("filters"),
        "llm_labeling": raw.get("llm_labeling"),
        "enrich_source_collection": raw.get("enrich_source"),
        "source_enrichment_config": raw.get("source_enrichment_config"),
    }
    if cluster_type == "vector":
        spec["vector_config"] = {dst: raw.get(src) for src, dst in _CLUSTER_VECTOR_FIELDS.items()}
    else:
        spec["attribute_config"] = {dst: raw.get(src) for src, dst in _CLUSTER_ATTRIBUTE_FIELDS.items()}
    _apply_extra(spec, raw, skip=None if cluster_type == "vector" else "vector_config")
    return _rewrite_fresh("cluster", drop_empties(spec), id_to_name)


def collection_from_live(raw: Mapping[str, Any], id_to_name: IdToName) -> dict[str, Any]:
    """CollectionResponse into the create-request shape, application lists left out (they are
    compared entry by entry: `applications_from_live`)."""
    extractor = raw.get("feature_extractor")
    if isinstance(extractor, dict):
        extractor = {k: v for k, v in extractor.items() if k != "feature_extractor_id"}
    spec: dict[str, Any] = {
        "name": raw.get("collection_name"),
        "description": raw.get("description"),
        "source": raw.get("source"),
        "feature_extractor": extractor,
        "enabled": raw.get("enabled"),
        "metadata": raw.get("metadata"),
        "schedule": raw.get("schedule"),
        "embedding_task": raw.get("embedding_task"),
    }
    extra = ((raw.get("metadata") or {}).get("mixops_extra")) or {}
    if "features" in extra:
        spec.pop("feature_extractor")  # the extractor the API resolved the features to
    _apply_extra(spec, raw)
    return _rewrite_fresh("collection", drop_empties(spec), id_to_name)


def applications_from_live(
    raw: Mapping[str, Any], id_to_name: IdToName
) -> list[tuple[dict[str, Any], str | None, str]]:
    """Every application entry of a CollectionResponse as an `application` spec, with the stack
    recorded as its owner (None: attached by hand, or by a mixops without per-entry records)
    and the entry's live id `<collection id>/<type>/<applied id>`."""
    from mixops.core.models.collection import APPLICATION_LIST, APPLICATION_TARGET, application_name

    collection = str(raw.get("collection_name"))
    # A plain copy: the records' keys hold ids, so what is looked up in them is ours, not a field.
    found = (raw.get("metadata") or {}).get(APPLICATIONS_KEY)
    records = dict(found) if isinstance(found, dict) else {}
    out: list[tuple[dict[str, Any], str | None, str]] = []
    for app_type, list_key in APPLICATION_LIST.items():
        for entry in raw.get(list_key) or []:
            if not isinstance(entry, dict) or not isinstance(entry.get(APPLICATION_TARGET[app_type]), str):
                continue
            target_id = entry[APPLICATION_TARGET[app_type]]
            spec = {**entry, "collection": collection, "type": app_type}
            spec = _rewrite_fresh("application", drop_empties(spec), id_to_name)
            spec["name"] = application_name(collection, app_type, spec[APPLICATION_TARGET[app_type]])
            owner = records.get(f"{app_type}:{target_id}")
            live_id = f"{raw.get('collection_id')}/{app_type}/{target_id}"
            out.append((spec, str(owner) if owner is not None else None, live_id))
    return out


UNOBSERVED: dict[str, tuple[tuple[str, ...], ...]] = {
    "collection": COLLECTION_UNOBSERVED,
    "retriever": RETRIEVER_UNOBSERVED,
    "cluster": CLUSTER_UNOBSERVED,
}


def unobserved(kind: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The desired values of fields the read shape never echoes, keyed by dotted path."""
    out = {}
    for path in UNOBSERVED.get(kind, ()):
        value = _get(spec, path)
        if value is not None:
            out[".".join(path)] = value
    return out


FROM_LIVE: dict[str, Callable[[Mapping[str, Any], IdToName], dict[str, Any]]] = {
    "retriever": retriever_from_live,
    "taxonomy": taxonomy_from_live,
    "cluster": cluster_from_live,
    "collection": collection_from_live,
}
