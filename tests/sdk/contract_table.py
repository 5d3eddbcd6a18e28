"""Derive the local backend's request-key table from the official SDK (test-time only).

The local backend refuses undeclared keys at any depth of a request body, as the API
does since 2026-11-02. It must not import the SDK, so it reads a table of the SDK's
request models (declared keys, required keys, nested model types) that this module
writes to ``src/mixops/local/api/request_keys.json``. ``test_request_keys_are_fresh``
fails when the installed SDK and the table disagree; refresh the table with::

    .venv/bin/python -m tests.sdk.contract_table --write

Table grammar (``type``): ``null`` anything; ``{"model": name}``; ``{"list": type}``;
``{"map": type}`` (an object of free keys, values of ``type``); ``{"any": [type, ...]}``.
A model is ``{"fields": {key: type}, "required": [...], "open": bool, "enums": {key: [...]}}``:
``open`` models take undeclared keys (``additionalProperties`` in the OpenAPI document);
``enums`` only help choose among the alternatives of a union. ``stage_parameters`` maps a
stage_id to the model of its ``parameters`` (free-form in the request models, typed per stage
by the SDK's StageParams* models).
"""

from __future__ import annotations

import enum
import inspect
import json
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any

import mixpeek
from mixpeek import models as sdk
from pydantic import BaseModel

TABLE = Path(__file__).resolve().parents[2] / "src" / "mixops" / "local" / "api" / "request_keys.json"

# Routes the local backend serves, with the SDK body model of each ("ExecuteTaxonomyRequest"
# stands for the SDK's Payload / Payload1 unions: the API holds mixops to its first member).
ROUTES: dict[str, str] = {
    "POST /v1/namespaces": "CreateNamespaceRequest",
    "PATCH /v1/namespaces/{namespace_identifier}": "PatchNamespaceRequest",
    "POST /v1/namespaces/list": "ListNamespacesRequest",
    "POST /v1/collections": "CreateCollectionRequest",
    "POST /v1/collections/list": "ListCollectionsRequest",
    "POST /v1/collections/{collection_identifier}/documents/list": "ListDocumentsRequest",
    "POST /v1/collections/{collection_identifier}/apply-taxonomy": "ApplyTaxonomyRequest",
    "POST /v1/retrievers": "CreateRetrieverRequest",
    "PATCH /v1/retrievers/{retriever_id}": "PatchRetrieverRequest",
    "POST /v1/retrievers/list": "ListRetrieversRequest",
    "POST /v1/retrievers/{retriever_id}/clone": "CloneRetrieverRequest",
    "POST /v1/retrievers/execute": "AdhocExecuteRequest",
    "POST /v1/retrievers/executions/list": "ListAdhocExecutionsRequest",
    "POST /v1/retrievers/{retriever_id}/execute": "ExecuteRetrieverRequest",
    "POST /v1/retrievers/{retriever_id}/executions/list": "ListExecutionsRequest",
    "POST /v1/retrievers/{retriever_id}/publish": "PublishRetrieverRequest",
    "POST /v1/taxonomies": "CreateTaxonomyRequest",
    "PATCH /v1/taxonomies/{taxonomy_identifier}": "PatchTaxonomyRequest",
    "POST /v1/taxonomies/list": "ListTaxonomiesRequest",
    "POST /v1/taxonomies/{taxonomy_identifier}/clone": "CloneTaxonomyRequest",
    "POST /v1/taxonomies/{taxonomy_identifier}/execute": "ExecuteTaxonomyRequest",
    "POST /v1/taxonomies/execute/{taxonomy_identifier}": "ExecuteTaxonomyRequest",
    "POST /v1/clusters": "CreateClusterRequest",
    "PATCH /v1/clusters/{cluster_identifier}": "PatchClusterRequest",
    "POST /v1/clusters/list": "ListClustersRequest",
    "POST /v1/clusters/{cluster_id}/execute": "ExecuteClusterByIdRequest",
    "POST /v1/clusters/{cluster_id}/executions/list": "ListClusterExecutionsRequest",
}

_ALIAS = re.compile(r"accepts '(\w+)' as an alias")
_ENUM = re.compile(r"if value not in set\(\[(.*?)\]\)", re.S)


class _Builder:
    def __init__(self) -> None:
        self.models: dict[str, dict[str, Any]] = {}

    def type_of(self, annotation: Any) -> Any:
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Annotated:
            return self.type_of(args[0])
        if origin in (typing.Union, types.UnionType):
            alternatives = [self.type_of(a) for a in args if a is not type(None)]
            return _union(alternatives)
        if origin in (list, set, tuple):
            item = self.type_of(args[0]) if args else None
            return {"list": item}
        if origin is dict:
            value = self.type_of(args[1]) if len(args) == 2 else None
            return {"map": value}
        if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
            return self.model(annotation)
        return None  # str, int, float, bool, datetime, enums, Any

    def model(self, cls: type[BaseModel]) -> Any:
        fields = cls.model_fields
        if "actual_instance" in fields:  # a oneOf / anyOf wrapper of the generator
            alternatives = [
                self.type_of(f.annotation) for name, f in fields.items() if name.endswith("_schema_1_validator")
            ]
            alternatives += [
                self.type_of(f.annotation)
                for name, f in fields.items()
                if re.fullmatch(r"(one|any)of_schema_([2-9]|\d\d+)_validator", name)
            ]
            return _union(alternatives)
        name = cls.__name__
        if name not in self.models:
            entry: dict[str, Any] = {"fields": {}, "required": [], "open": "additional_properties" in fields}
            self.models[name] = entry
            enums: dict[str, list[str]] = {}
            for attr, info in fields.items():
                if attr == "additional_properties":
                    continue
                key = info.alias or attr
                entry["fields"][key] = self.type_of(info.annotation)
                if info.is_required():
                    entry["required"].append(key)
                values = _enum_values(cls, attr, info.annotation)
                if values:
                    enums[key] = values
                for alias in _ALIAS.findall(info.description or ""):
                    entry["fields"].setdefault(alias, entry["fields"][key])
            entry["enums"] = enums
        return {"model": name}


def _union(alternatives: list[Any]) -> Any:
    unique: list[Any] = []
    for alt in alternatives:
        if alt not in unique:
            unique.append(alt)
    if not unique:
        return None
    return unique[0] if len(unique) == 1 else {"any": unique}


def _enum_values(cls: type[BaseModel], attr: str, annotation: Any) -> list[str]:
    validator = getattr(cls, f"{attr}_validate_enum", None)
    if validator is not None:
        found = _ENUM.search(inspect.getsource(validator))
        if found:
            return sorted(re.findall(r"'([^']*)'", found.group(1)))
    for arg in [annotation, *typing.get_args(annotation)]:
        if inspect.isclass(arg) and issubclass(arg, enum.Enum):
            return sorted(str(member.value) for member in arg)
    return []


# A stage's `parameters` are a free-form object in every request model (StageConfig.config,
# StageInstanceConfig.parameters), but the SDK types them per stage: StageParams<StageId>.
STAGE_PARAMS = "StageParams"


def stage_parameter_models() -> dict[str, str]:
    """stage_id -> the SDK model of its parameters (StageParamsFeatureSearch -> feature_search)."""
    out = {}
    for name in sorted(dir(sdk)):
        cls = getattr(sdk, name)
        if name.startswith(STAGE_PARAMS) and inspect.isclass(cls) and issubclass(cls, BaseModel):
            out[re.sub(r"(?<!^)(?=[A-Z])", "_", name[len(STAGE_PARAMS) :]).lower()] = name
    return out


def build() -> dict[str, Any]:
    builder = _Builder()
    routes = {}
    for route, model in ROUTES.items():
        builder.model(getattr(sdk, model))
        routes[route] = model
    stages = stage_parameter_models()
    for model in stages.values():
        builder.model(getattr(sdk, model))
    return {
        "generated_from": f"mixpeek {mixpeek.__version__} (the official SDK's request models)",
        "refresh": "python -m tests.sdk.contract_table --write",
        "routes": routes,
        "stage_parameters": stages,
        "models": dict(sorted(builder.models.items())),
    }


def render(table: dict[str, Any]) -> str:
    return json.dumps(table, indent=1, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    text = render(build())
    if "--write" in argv:
        TABLE.write_text(text, encoding="utf-8")
        print(f"wrote {TABLE.name} ({len(text)} bytes)")
        return 0
    current = TABLE.read_text(encoding="utf-8") if TABLE.exists() else ""
    if current != text:
        print(f"{TABLE.name} is stale: run python -m tests.sdk.contract_table --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
