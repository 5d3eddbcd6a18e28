"""Run a retriever pipeline over a ``DocumentStore``.

``run_pipeline`` is the one entry point: the HTTP layer calls it for execute-by-id,
ad-hoc execute (seed 002) and the taxonomy engine calls it for node matching.

Errors: an invalid request (unknown stage id, bad parameters, unknown collection,
missing required input) raises ``BadRequest``/``NotFound`` before or while running.
Stages that need an LLM or the network, an exceeded budget, and any engine error
inside a stage with ``on_error: skip`` do NOT raise: the result has
``status: "failed"`` (or the stage is skipped) with a clear ``error``.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from mixops.core.models.retriever_stages import FeatureSearchParams
from mixops.local.engine import documents as D
from mixops.local.engine.credits import Budget, BudgetExceeded, stage_cost
from mixops.local.engine.errors import BadRequest, EngineError, Unsupported
from mixops.local.engine.filters import and_all, compile_filter
from mixops.local.engine.search import run_feature_search
from mixops.local.engine.stage_handlers import HANDLERS, StageContext, StageOutput
from mixops.local.engine.stage_parsing import UNSUPPORTED_STAGES, ParsedStage, parse_stages
from mixops.local.engine.store import DocumentStore

DEFAULT_PAGE_SIZE = 10


@dataclass
class PipelineResult:
    """The outcome of one execution (the ExecuteRetrieverResponse minus ids)."""

    status: str  # "completed" | "failed"
    documents: list[dict[str, Any]]
    stage_statistics: dict[str, Any]
    budget: dict[str, Any]
    pagination: dict[str, Any]
    error: str | None = None
    total: int = 0  # documents before pagination
    warnings: list[str] = field(default_factory=list)

    def to_response(self) -> dict[str, Any]:
        """The response fields (add ``execution_id`` and ``retriever_id`` around it)."""
        return {
            "status": self.status,
            "documents": self.documents,
            "pagination": self.pagination,
            "stage_statistics": self.stage_statistics,
            "budget": self.budget,
            "error": self.error,
            "warnings": list(self.warnings),
        }


def run_pipeline(
    stages: Sequence[Mapping[str, Any]] | Sequence[ParsedStage],
    inputs: Mapping[str, Any] | None,
    input_schema: Mapping[str, Any] | None,
    collection_identifiers: Sequence[str],
    store: DocumentStore,
    *,
    filters: Mapping[str, Any] | None = None,
    budget_limits: Mapping[str, Any] | None = None,
    limit: int | None = None,
    pagination: Mapping[str, Any] | None = None,
) -> PipelineResult:
    """Execute ``stages`` over the named collections and page the final documents.

    ``stages`` are plain dicts (validated here) or the ``parse_stages`` of the route that
    already validated them; either way each stage's parameters are validated once more only
    when they hold input templates (``ParsedStage.resolve``).
    """
    started = time.perf_counter()
    parsed = _parsed(stages)
    values = _check_inputs(inputs or {}, input_schema or {})
    collections = store.resolve_collections(list(collection_identifiers or []))
    request_filter = compile_filter(filters, where="filters")
    warnings: list[str] = []
    resolved = [stage.resolve(values, warnings) for stage in parsed]
    page = _Page.parse(pagination, limit, _default_page_size(resolved))
    run = _Run(StageContext(store, collections, values, request_filter, warnings), Budget(budget_limits), page, started)
    unsupported = next((s for s in parsed if s.stage_id in UNSUPPORTED_STAGES), None)
    if unsupported is not None:
        return run.failed(
            f"stage {unsupported.stage_id!r} (stage_name {unsupported.name!r}) is not supported by the local "
            "backend: it needs an LLM, a model service or the network"
        )
    docs: list[dict[str, Any]] | None = None
    try:
        for stage, params in zip(parsed, resolved, strict=True):
            docs = run.step(stage, params, docs)
    except (BudgetExceeded, _StageFailed) as exc:
        return run.failed(exc.message)
    return run.completed(docs or [])


class _StageFailed(EngineError):
    """A stage that cannot run here (Unsupported) and is not ``on_error: skip``: caught by
    ``run_pipeline``, which answers a failed execution (never raised out of it)."""


@dataclass
class _Run:
    """One execution's state across its stages: statistics, budget, timing, the page to return."""

    ctx: StageContext
    budget: Budget
    page: _Page
    started: float
    stats: dict[str, Any] = field(default_factory=dict)

    def elapsed(self) -> float:
        return (time.perf_counter() - self.started) * 1000.0

    def step(
        self, stage: ParsedStage, params: BaseModel | None, docs: list[dict[str, Any]] | None
    ) -> list[dict[str, Any]]:
        """Run one stage, charge its credits, record its statistics; the documents it returns.

        An engine error in a stage with ``on_error: skip`` passes the documents on, noted in the
        stage's statistics; budget overruns always end the execution.
        """
        t0 = time.perf_counter()
        credits_before = self.ctx.extra_credits
        input_count = len(docs) if docs is not None else 0
        error = None
        try:
            out = _run_stage(self.ctx, stage, docs, params)
        except EngineError as exc:
            if stage.on_error == "skip" and not isinstance(exc, BudgetExceeded):
                out, error = StageOutput(list(docs or []), 0), exc.message
            elif isinstance(exc, Unsupported):
                raise _StageFailed(f"Retriever execution failed: stage {stage.name!r}: {exc.message}") from exc
            else:
                raise
        cost = stage_cost(stage.kind, out.units) + (self.ctx.extra_credits - credits_before)
        self.budget.charge(cost)
        output = len(out.documents)
        self.stats[stage.name] = {
            "stage_id": stage.stage_id,
            "input_count": input_count,
            "output_count": output,
            "duration_ms": round((time.perf_counter() - t0) * 1000.0, 3),
            "efficiency": round(output / input_count, 6) if input_count else 0.0,
            "credits_used": round(cost, 6),
            "cache_hit": False,
            "stage_cache_hit": False,
            **({"error": error} if error else {}),
            **({"metadata": out.metadata} if out.metadata else {}),
        }
        self.budget.check(self.elapsed(), stage.name)
        return out.documents

    def failed(self, message: str) -> PipelineResult:
        return self._result("failed", [], 0, self.page.offset, message)

    def completed(self, final: list[dict[str, Any]]) -> PipelineResult:
        page_docs, start = self.page.slice(final)
        return self._result("completed", page_docs, len(final), start, None)

    def _result(
        self, status: str, page_docs: list[dict[str, Any]], total: int, start: int, error: str | None
    ) -> PipelineResult:
        elapsed = self.elapsed()
        return PipelineResult(
            status,
            [D.finish(d) for d in page_docs],
            {"stages": self.stats, "total_time_ms": round(elapsed, 3), "credits_used": self.budget.credits_used},
            self.budget.snapshot(elapsed),
            self.page.meta(page_docs, total, start),
            error,
            total,
            self.ctx.warnings,
        )


def _parsed(stages: Sequence[Mapping[str, Any]] | Sequence[ParsedStage]) -> list[ParsedStage]:
    if stages and all(isinstance(s, ParsedStage) for s in stages):
        return [s for s in stages if isinstance(s, ParsedStage)]
    return parse_stages(list(stages or []))


def _run_stage(
    ctx: StageContext, stage: ParsedStage, docs: list[dict[str, Any]] | None, params: BaseModel | None
) -> StageOutput:
    where = stage.where
    if isinstance(params, FeatureSearchParams):
        ctx.search_uris.extend(s.feature_uri for s in params.searches)
        predicate = and_all([stage.pre_filters, ctx.request_filter])
        restrict = None if docs is None else {(d["collection_id"], d["document_id"]) for d in docs}
        previous = {} if docs is None else {(d["collection_id"], d["document_id"]): d for d in docs}
        outcome = run_feature_search(ctx.store, ctx.collections, params, predicate, restrict, where)
        out: list[dict[str, Any]] = []
        for (cid, did), score in outcome.hits:
            prior = previous.get((cid, did))
            if prior is not None:
                out.append({**prior, "score": score})
                continue
            stored = ctx.store.get_document(cid, did)
            if stored is not None:
                out.append(D.from_stored(stored, score))
        meta = {"vectors_scored": outcome.scored, "search_hits": outcome.per_search}
        return StageOutput(out, outcome.scored, meta)
    return HANDLERS[stage.kind](ctx, docs, params, stage.pre_filters, where)


def _check_inputs(inputs: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(inputs, Mapping):
        raise BadRequest("inputs: must be an object")
    values = dict(inputs)
    missing = []
    for name, spec in schema.items():
        if not isinstance(spec, Mapping):
            continue
        if name not in values and "default" in spec:
            values[name] = spec["default"]
        if spec.get("required") and values.get(name) in (None, ""):
            missing.append(name)
    if missing:
        raise BadRequest(f"inputs: missing required input(s): {', '.join(missing)}", {"missing": missing})
    return values


def _default_page_size(params: list[BaseModel | None]) -> int:
    """The last search stage's final_top_k (at most 500), else 10."""
    for p in reversed(params):
        if isinstance(p, FeatureSearchParams):
            return min(p.final_top_k, 500) if isinstance(p.final_top_k, int) else 25
    return DEFAULT_PAGE_SIZE


@dataclass(frozen=True)
class _Page:
    """Request pagination (mixpeek-api.md 5.5) and the response's pagination object."""

    method: str
    size: int
    offset: int
    after: Any = None

    @staticmethod
    def parse(pagination: Mapping[str, Any] | None, limit: int | None, default: int) -> _Page:
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 500):
            raise BadRequest("limit: must be an integer between 1 and 500")
        if not pagination:
            return _Page("cursor", limit or default, 0)
        if not isinstance(pagination, Mapping):
            raise BadRequest("pagination: must be an object with a method")
        method = pagination.get("method", "cursor")
        if method == "offset":
            size = _int(pagination.get("page_size", limit or 10), "pagination.page_size", 1, 500)
            number = _int(pagination.get("page_number", 1), "pagination.page_number", 1, 10**9)
            return _Page("offset", size, (number - 1) * size)
        if method in ("cursor", "scroll"):
            cap = 1000 if method == "scroll" else 500
            size = _int(
                pagination.get("limit", limit or (100 if method == "scroll" else 10)), "pagination.limit", 1, cap
            )
            token = pagination.get("cursor" if method == "cursor" else "scroll_id")
            return _Page(method, size, _decode(token) if token else 0)
        if method == "keyset":
            size = _int(pagination.get("limit", limit or 10), "pagination.limit", 1, 500)
            return _Page("keyset", size, 0, pagination.get("after"))
        raise BadRequest(f"pagination.method: unknown method {method!r}; expected offset, cursor, scroll or keyset")

    def slice(self, docs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        """The page and its start offset in ``docs``."""
        start = self.offset
        if self.method == "keyset" and isinstance(self.after, Mapping) and self.after.get("document_id"):
            ids = [d["document_id"] for d in docs]
            start = ids.index(self.after["document_id"]) + 1 if self.after["document_id"] in ids else len(docs)
        return docs[start : start + self.size], start

    def meta(self, page: list[dict[str, Any]], total: int, start: int = 0) -> dict[str, Any]:
        has_next = start + len(page) < total
        common = {
            "limit": self.size,
            "offset": start,
            "returned": len(page),
            "total": total,
            "has_next": has_next,
            "has_previous": start > 0,
        }
        if self.method == "offset":
            return {"method": "offset", "page_number": start // self.size + 1, "page_size": self.size, **common}
        if self.method == "cursor":
            token = _encode(start + len(page)) if has_next else None
            return {"method": "cursor", "cursor": token, "next_cursor": token, "page_size": self.size, **common}
        if self.method == "scroll":
            return {"method": "scroll", "scroll_id": _encode(start + len(page)) if has_next else None, **common}
        after = {"document_id": page[-1]["document_id"], "score": page[-1].get("score")} if page else None
        return {"method": "keyset", "after": after, "next_cursor": after, **common}


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"{where}: must be an integer between {low} and {high}")
    return value


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode(token: Any) -> int:
    try:
        raw = base64.urlsafe_b64decode(str(token) + "=" * (-len(str(token)) % 4))
        offset = json.loads(raw)["o"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise BadRequest("pagination.cursor: invalid or foreign cursor") from None
    if not isinstance(offset, int) or offset < 0:
        raise BadRequest("pagination.cursor: invalid cursor")
    return offset
