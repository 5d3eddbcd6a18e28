"""Offline validation refuses what the API refuses: the models' bounds mirror the SDK's.

For every manifest model that is sent to the API, each field it shares with the
official SDK's request model must be at least as strict: every numeric bound and
length the SDK declares is declared here too (equal or tighter), and every fixed set
of values the SDK accepts contains all the values mixops accepts. A new SDK bound
shows up here as a failing field, not as an HTTP 422 at apply time.
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from mixops.core.models import cluster as C
from mixops.core.models import retriever as R
from mixops.core.models import retriever_stages as S
from mixops.core.models import taxonomy as T

sdk = pytest.importorskip("mixpeek.models")

PAIRS: list[tuple[type[BaseModel], str]] = [
    (S.FeatureSearchParams, "StageParamsFeatureSearch"),
    (S.FeatureSearch, "StageDefsFeatureSearchConfig"),
    (S.FeatureSearchGroupBy, "StageDefsFeatureSearchGroupBy"),
    (S.FacetField, "StageDefsFacetFieldConfig"),
    (S.TextQuery, "StageDefsTextQueryInput"),
    (S.AttributeFilterParams, "StageParamsAttributeFilter"),
    (S.SortRelevanceParams, "StageParamsSortRelevance"),
    (S.SortAttributeParams, "StageParamsSortAttribute"),
    (S.RerankParams, "StageParamsRerank"),
    (S.MMRParams, "StageParamsMmr"),
    (S.DiversityFeature, "StageDefsDiversityFeatureConfig"),
    (S.GroupByParams, "StageParamsGroupBy"),
    (S.SampleParams, "StageParamsSample"),
    (S.TaxonomyEnrichParams, "StageParamsTaxonomyEnrich"),
    (S.DocumentEnrichParams, "StageParamsDocumentEnrich"),
    (S.StageConfig, "StageConfigInput"),
    (C.KMeansParams, "KMeansParams"),
    (C.DBSCANParams, "DBSCANParams"),
    (C.HDBSCANParams, "HDBSCANParams"),
    (C.AgglomerativeParams, "AgglomerativeParams"),
    (C.SpectralParams, "SpectralParams"),
    (C.GaussianMixtureParams, "GaussianMixtureParams"),
    (C.MeanShiftParams, "MeanShiftParams"),
    (C.OPTICSParams, "OPTICSParams"),
    (C.LeidenParams, "LeidenParams"),
    (C.EVoCParams, "EVoCParams"),
    *((model, "VectorBasedConfigInput") for model in C.VECTOR_MODELS.values()),
    (C.AttributeConfig, "AttributeBasedConfig"),
    (C.LLMLabeling, "LLMLabelingInput"),
    (C.Cluster, "CreateClusterRequest"),
    (R.Retriever, "CreateRetrieverRequest"),
    (R.InputSchemaField, "RetrieverInputSchemaFieldInput"),
    (R.BudgetLimits, "BudgetLimits"),
    (T.FlatConfig, "FlatTaxonomyConfigInput"),
    (T.HierarchicalConfig, "HierarchicalTaxonomyConfigInput"),
    (T.HierarchicalNode, "HierarchicalNodeInput"),
    (T.InputMapping, "InputMapping"),
    (T.SourceCollection, "SourceCollectionInput"),
    (T.StepAnalytics, "StepAnalyticsConfigInput"),
    (T.Taxonomy, "CreateTaxonomyRequest"),
]

LOWER, UPPER = ("ge", "gt", "min_length"), ("le", "lt", "max_length")


def _bounds_of(meta: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in [meta, *(getattr(meta, "metadata", None) or [])]:
        for key in (*LOWER, *UPPER):
            value = getattr(item, key, None)
            if value is not None:
                out[key] = value
    return out


def _branches(tp: Any, inherited: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
    """(leaf type, its bounds) for every member of the unions in `tp`, containers unwrapped."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        base, *metas = typing.get_args(tp)
        bounds = dict(inherited)
        for meta in metas:
            bounds.update(_bounds_of(meta))
        return _branches(base, bounds)
    if origin in (typing.Union, types.UnionType):
        return [b for arg in typing.get_args(tp) if arg is not type(None) for b in _branches(arg, inherited)]
    return [(tp, inherited)]


def _field(info: Any) -> list[tuple[Any, dict[str, Any]]]:
    return _branches(info.annotation, _bounds_of(info))


def _values(tp: Any) -> set[Any] | None:
    """The fixed set of values a leaf accepts (Literal or Enum), None when it is open."""
    if typing.get_origin(tp) is typing.Literal:
        return set(typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {member.value for member in tp}
    return None


def _loosest(branches: list[tuple[Any, dict[str, Any]]], key: str) -> Any:
    """The SDK's bound over all its union members: absent if one member has none."""
    values = [bounds.get(key) for _, bounds in branches]
    if any(v is None for v in values):
        return None
    return min(values) if key in LOWER else max(values)


def _gaps(ours: type[BaseModel], sdk_name: str) -> list[str]:
    theirs = getattr(sdk, sdk_name)
    their_fields = {info.alias or name: info for name, info in theirs.model_fields.items()}
    gaps: list[str] = []
    for name, info in ours.model_fields.items():
        key = info.alias or name
        if key not in their_fields:
            continue
        their_branches = _field(their_fields[key])
        our_branches = _field(info)
        for bound in (*LOWER, *UPPER):
            limit = _loosest(their_branches, bound)
            if limit is None:
                continue
            for tp, bounds in our_branches:
                if tp is str and bound not in ("min_length", "max_length"):
                    continue  # a `{{INPUT.x}}` template: its value is known only at execution
                mine = bounds.get(bound)
                if mine is None or (mine < limit if bound in LOWER else mine > limit):
                    gaps.append(f"{ours.__name__}.{key}: the SDK has {bound}={limit}, mixops {bound}={mine}")
        allowed = set().union(*(v for tp, _ in their_branches if (v := _values(tp)) is not None))
        if allowed and all(_values(tp) is not None or tp is type(None) for tp, _ in their_branches):
            for tp, _ in our_branches:
                mine_values = _values(tp)
                if mine_values is None:
                    gaps.append(f"{ours.__name__}.{key}: the SDK takes one of {sorted(map(str, allowed))}, mixops any")
                elif extra := {v for v in mine_values if v not in allowed and v is not None}:
                    gaps.append(f"{ours.__name__}.{key}: mixops also takes {sorted(map(str, extra))}")
    return gaps


@pytest.mark.parametrize(("ours", "sdk_name"), PAIRS, ids=[f"{o.__name__}-{n}" for o, n in PAIRS])
def test_model_is_at_least_as_strict_as_the_sdk(ours: type[BaseModel], sdk_name: str) -> None:
    assert _gaps(ours, sdk_name) == []


def test_the_pairs_cover_every_typed_stage_and_clustering_method() -> None:
    paired = {ours for ours, _ in PAIRS}
    assert set(S.TYPED_PARAMS.values()) - {S.HybridSearchParams} <= paired  # hybrid_search is not in the SDK
    assert set(C.METHOD_PARAMS.values()) - {C.NoParams} <= paired
