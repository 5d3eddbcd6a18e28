"""Retriever stage definitions as stored: catalog, normalisation, derived read fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from difflib import get_close_matches
from typing import Any

from mixops.local.problems import invalid

# stage_id -> (category, description). Aliases the seeds and SDK prose use are included.
CATALOG: dict[str, tuple[str, str]] = {
    "feature_search": ("filter", "Vector search over one or more feature URIs, fused"),
    "hybrid_search": ("filter", "Seed 002 alias of feature_search with flat feature_uri/query_text/top_k"),
    "feature_filter": ("filter", "Older name of feature_search"),
    "attribute_filter": ("filter", "Keep documents matching field conditions"),
    "llm_filter": ("filter", "LLM-judged filter (not available locally)"),
    "sort_relevance": ("sort", "Sort by score"),
    "sort_attribute": ("sort", "Sort by a document field"),
    "rerank": ("sort", "Re-score documents against the query"),
    "mmr": ("sort", "Maximal marginal relevance diversification"),
    "maxsim_rerank": ("sort", "Multi-vector late-interaction rerank (not available locally)"),
    "group_by": ("reduce", "Group documents by a field"),
    "aggregate": ("reduce", "Aggregations over documents"),
    "sample": ("reduce", "Random or stratified sample"),
    "cluster": ("reduce", "Cluster the result set"),
    "summarize": ("reduce", "LLM summary (not available locally)"),
    "taxonomy_enrich": ("apply", "Attach taxonomy labels"),
    "taxonomy_join": ("apply", "Older name of taxonomy_enrich"),
    "document_enrich": ("apply", "Join fields from another collection"),
    "llm_enrich": ("apply", "LLM enrichment (not available locally)"),
    "rag_prepare": ("apply", "Prepare a RAG context"),
    "json_transform": ("apply", "Reshape documents with a template"),
    "sql_lookup": ("apply", "SQL lookup (not available locally)"),
    "external_web_search": ("apply", "Web search (not available locally)"),
    "external_reverse_image": ("apply", "Reverse image search (not available locally)"),
    "query_expand": ("filter", "LLM query expansion (not available locally)"),
    "api_call": ("enrich", "HTTP call (not available locally)"),
    "code_execution": ("enrich", "Sandboxed code (not available locally)"),
    "web_scrape": ("enrich", "Web scraping (not available locally)"),
}

_SEARCH_STAGES = ("feature_search", "hybrid_search", "feature_filter")


def normalise_stages(stages: Iterable[Any]) -> list[dict[str, Any]]:
    """Plain-dict stages with ``stage_type`` filled in; unknown stage ids are a 422."""
    out: list[dict[str, Any]] = []
    for i, stage in enumerate(stages):
        data = stage.model_dump(exclude_none=True) if hasattr(stage, "model_dump") else dict(stage)
        data.pop("parameters", None)  # the read-only mirror; recomputed on read
        config = dict(data.get("config") or {})
        stage_id = config.get("stage_id")
        if stage_id not in CATALOG:
            close = get_close_matches(str(stage_id), list(CATALOG), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise invalid(
                f"stages[{i}].config.stage_id: unknown stage '{stage_id}'{hint}",
                code="unknown_stage",
                stage_id=stage_id,
                known=sorted(CATALOG),
            )
        config.setdefault("parameters", {})
        data["config"] = config
        data.setdefault("stage_type", CATALOG[stage_id][0])
        out.append(data)
    names = [s["stage_name"] for s in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise invalid(f"stage_name must be unique within a retriever: {', '.join(dup)}", code="duplicate_stage_name")
    return out


def feature_uris_of(stages: Iterable[Mapping[str, Any]]) -> list[str]:
    """Feature URIs the stages search (feature_search searches and the hybrid_search alias)."""
    uris: list[str] = []
    for stage in stages:
        config = stage.get("config") or {}
        if config.get("stage_id") not in _SEARCH_STAGES:
            continue
        params = config.get("parameters") or {}
        candidates = [params.get("feature_uri")]
        searches = params.get("searches")
        if isinstance(searches, list):
            candidates += [s.get("feature_uri") for s in searches if isinstance(s, Mapping)]
        for uri in candidates:
            if isinstance(uri, str) and uri and uri not in uris:
                uris.append(uri)
    return uris


def stage_fusion(stages: Iterable[Mapping[str, Any]]) -> str | None:
    """The fusion of the first search stage (rrf by default), or None without one."""
    for stage in stages:
        config = stage.get("config") or {}
        if config.get("stage_id") in _SEARCH_STAGES:
            fusion = (config.get("parameters") or {}).get("fusion")
            return str(fusion) if isinstance(fusion, str) else "rrf"
    return None
