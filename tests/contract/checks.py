"""Judging one recorded request body, and one read, against the SDK or a seed page."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from tests.contract.recorder import Call
from tests.contract.sdk_contract import body_errors, find_route, model, read_verdict
from tests.contract.seed_models import SEED_BODIES, SEED_RESPONSES
from tests.sdk.contract_table import stage_parameter_models

# Routes whose SDK body type accepts anything (`Payload = anyOf(ExecuteTaxonomyRequest,
# object)`): issue 12 holds mixops to the typed alternative, as the API's docs describe it.
BODY_OVERRIDES = {
    "POST /v1/taxonomies/{taxonomy_identifier}/execute": "ExecuteTaxonomyRequest",
    "POST /v1/taxonomies/execute/{taxonomy_identifier}": "ExecuteTaxonomyRequest",
}
FREE_FORM = "Dict[str, Any]"
COLLECTION_PATCH = "PATCH /v1/collections/{collection_identifier}"
# The SDK types a collection PATCH as a free-form object but names its mutable fields in prose
# (mixpeek-api.md 3.4, held in core/surfaces.COLLECTION_PATCHABLE) and types every entry of the
# application lists; mixops' PATCH bodies are held to both.
ENTRY_MODELS = {
    "taxonomy_applications": "TaxonomyApplicationConfigInput",
    "cluster_applications": "ClusterApplicationConfig",
    "retriever_enrichments": "RetrieverEnrichmentConfigInput",
}
STAGE_MODELS = stage_parameter_models()  # stage_id -> StageParams<StageId>


def route_of(call: Call) -> str:
    route = find_route(call.method, call.path)
    return route.key if route else f"{call.method} {call.path}"


def body_model(key: str) -> type[BaseModel] | str | None:
    """The model a route's body is held to, FREE_FORM, or None (the route takes no body / is unknown)."""
    if key in BODY_OVERRIDES:
        return model(BODY_OVERRIDES[key])
    if key in SEED_BODIES:
        return SEED_BODIES[key]
    method, path = key.split(" ", 1)
    route = find_route(method, path)
    if route is None or route.body is None:
        return None
    return FREE_FORM if route.body == FREE_FORM else model(route.body)


def _documented_rules(key: str, body: dict[str, Any]) -> list[str]:
    """Rules the SDK states in prose rather than in types."""
    errors = []
    if key == "POST /v1/collections":
        # CreateCollectionRequest: "Each collection has EXACTLY ONE feature extractor";
        # SourceConfig: "Type of source ... 'bucket' ... 'collection'" (the only two it documents).
        makers = [k for k in ("feature_extractor", "features", "retriever_transform") if body.get(k)]
        if len(makers) != 1:
            errors.append(f"exactly one of feature_extractor / features / retriever_transform required, got {makers}")
        source = body.get("source") if isinstance(body.get("source"), dict) else {}
        if source.get("type") not in ("bucket", "collection"):
            errors.append(f"source.type {source.get('type')!r}: only 'bucket' and 'collection' are documented")
    return errors


def body_problems(call: Call) -> list[str]:
    key = route_of(call)
    target = body_model(key)
    if call.body is None:
        return []
    if target is None:
        return [f"{key}: a body was sent, but neither the SDK nor a seed page documents one for this route"]
    if target == FREE_FORM:
        if not isinstance(call.body, dict):
            return [f"{key}: the body must be a JSON object"]
        return collection_patch_problems(call.body) if key == COLLECTION_PATCH else []
    assert not isinstance(target, str)
    errors = body_errors(call.body, target)
    if isinstance(call.body, dict):
        errors += _documented_rules(key, call.body)
    return errors + stage_parameter_errors(call.body)


def collection_patch_problems(body: dict[str, Any]) -> list[str]:
    """A collection PATCH: only the documented mutable fields, each application entry fitting
    its SDK model (undeclared keys refused at every depth)."""
    from mixops.core.surfaces import COLLECTION_PATCHABLE

    errors = [f"{k}: not a documented mutable field of a collection" for k in body if k not in COLLECTION_PATCHABLE]
    for list_key, name in ENTRY_MODELS.items():
        entries = body.get(list_key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            errors.append(f"{list_key}: a list is expected")
            continue
        for i, entry in enumerate(entries):
            errors += body_errors(entry, model(name), f"{list_key}[{i}]")
    return errors


def stage_parameter_errors(value: Any, path: str = "", in_stages: bool = False) -> list[str]:
    """Undeclared keys in a stage's `parameters`, held to the SDK's StageParams<StageId> model.

    The request models leave a stage's config free-form; the SDK types each stage's
    parameters all the same (tests/sdk/contract_table.py maps the stage ids). Only
    undeclared keys: a parameter may be a template string where the model wants a number.
    """
    errors: list[str] = []
    if isinstance(value, dict):
        stage_id, parameters = value.get("stage_id"), value.get("parameters")
        name = STAGE_MODELS.get(stage_id) if in_stages and isinstance(stage_id, str) else None
        if name is not None and isinstance(parameters, dict):
            where = f"{path}.parameters" if path else "parameters"
            errors += [e for e in body_errors(parameters, model(name), where) if "undeclared key" in e]
        for key, item in value.items():
            if key != "parameters" or name is None:
                errors += stage_parameter_errors(item, f"{path}.{key}" if path else key, in_stages or key == "stages")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            errors += stage_parameter_errors(item, f"{path}[{i}]", in_stages)
    return errors


def response_model(key: str) -> Any:
    if key in SEED_RESPONSES:
        return SEED_RESPONSES[key]
    method, path = key.split(" ", 1)
    route = find_route(method, path)
    if route is None or route.response in (None, "object"):
        return None
    if route.response.startswith("List["):
        return list[model(route.response[5:-1])]  # type: ignore[misc]
    return model(route.response)


def read_documented(key: str, dotted: str) -> str | None:
    target = response_model(key)
    return None if target is None else read_verdict(target, dotted)
