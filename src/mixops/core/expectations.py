"""Evaluate a test's expectations against what an execution returned (pure).

Each `observe_*` turns an API response into a compact, JSON-ready summary (the
`observed` of a plan test: ids, the top results with the fields the test looked
at, metrics, the execution id); each `evaluate_*` checks the expectations
against it and returns an `Execution` (core/outcomes.py) whose failures explain themselves:
what was expected, what was observed, and which execution to look at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mixops.core.irmetrics import all_metrics
from mixops.core.models.tests import ClusterExpect, RetrieverExpect, TaxonomyExpect
from mixops.core.outcomes import Execution, SkippedCheck

NOISE_CLUSTERS = frozenset({"cl_cluster_noise", "noise", "-1"})
TOP_SHOWN = 5


def error_outcome(message: str, execution_id: str | None = None) -> Execution:
    """The execution itself failed: an error, not a verdict on the configuration."""
    return Execution.error(message, execution_id)


# --- field access --------------------------------------------------------------------


def field_value(doc: Mapping[str, Any], path: str) -> Any:
    """A result field by dotted path: at the document root, else inside its `payload`."""
    for root in (doc, doc.get("payload")):
        node: Any = root
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                node = _MISSING
                break
            node = node[part]
        if node is not _MISSING:
            return node
    return None


_MISSING = object()


def value_matches(observed: Any, expected: Any) -> bool:
    """Equality, except that a scalar expected of a list field means "the list holds it"
    and an expected list of a list field means "holds every one of them"."""
    if isinstance(observed, list):
        if isinstance(expected, list):
            return all(any(value_matches(o, e) for o in observed) for e in expected)
        return any(value_matches(o, expected) for o in observed)
    if isinstance(observed, bool) or isinstance(expected, bool):
        return observed is expected
    return bool(observed == expected)


def doc_matches(doc: Mapping[str, Any], conditions: Mapping[str, Any]) -> bool:
    return all(value_matches(field_value(doc, k), v) for k, v in conditions.items())


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _conditions(conditions: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in conditions.items()) + "}"


# --- retrievers ----------------------------------------------------------------------


def _documents(response: Mapping[str, Any]) -> list[dict[str, Any]]:
    for key in ("documents", "results", "final_results"):
        docs = response.get(key)
        if isinstance(docs, list) and docs:
            return [d for d in docs if isinstance(d, dict)]
    return []


def _number(*values: Any) -> float | None:
    for v in values:
        if isinstance(v, int | float) and not isinstance(v, bool):
            return float(v)
    return None


# The cost fields a retriever execute documents (ExecuteRetrieverResponse: `budget` whose
# description names credits_used; `stage_statistics.credits_used`; seed 002 shows both).
COST_FIELDS = "budget.credits_used, stage_statistics.credits_used"
NO_COST = f"the response carries none of the documented cost fields ({COST_FIELDS})"


def response_credits(response: Mapping[str, Any]) -> float | None:
    """The credits a retriever execute used, from its documented fields; None when it names none."""
    budget = response.get("budget") or {}
    if isinstance(budget, Mapping):
        found = _number(budget.get("credits_used"))
        if found is not None:
            return found
    stats = response.get("stage_statistics") or {}
    return _number(stats.get("credits_used")) if isinstance(stats, Mapping) else None


def looked_at(expect: RetrieverExpect) -> list[str]:
    """The result fields a retriever test's expectations read (shown with each top result)."""
    names: list[str] = []
    for cond in (
        expect.top_k.any_match if expect.top_k else None,
        expect.top_k.all_match if expect.top_k else None,
        expect.absent.match if expect.absent else None,
    ):
        names += list(cond or {})
    return list(dict.fromkeys(names))


def depth(expect: RetrieverExpect) -> int:
    """How deep this test looks into the ranking: the k of the behavioural diff."""
    ks = [e.k for e in (expect.top_k, expect.absent, expect.relevance) if e is not None]
    return max(ks, default=10)


def observe_retriever(
    expect: RetrieverExpect, response: Mapping[str, Any], wall_ms: float | None = None
) -> dict[str, Any]:
    docs = _documents(response)
    ids = [str(d.get("document_id")) for d in docs]
    fields = looked_at(expect)
    top = []
    for rank, doc in enumerate(docs[: retriever_rows_needed(expect)], start=1):
        row: dict[str, Any] = {"rank": rank, "id": str(doc.get("document_id")), "score": _round(doc.get("score"))}
        row.update({name: field_value(doc, name) for name in fields})
        top.append(row)
    budget = response.get("budget") or {}
    stats = response.get("stage_statistics") or {}
    observed: dict[str, Any] = {
        "status": response.get("status"),
        "count": len(docs),
        "ids": ids,
        "top": top,
        "latency_ms": _round(_number(budget.get("time_used_ms"), stats.get("total_time_ms"), wall_ms)),
        "credits": _round(response_credits(response)),
    }
    if expect.relevance is not None:
        observed["metrics"] = all_metrics(ids, expect.relevance.judgments, expect.relevance.k)
    if response.get("error"):
        observed["error"] = response["error"]
    return observed


def _round(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def evaluate_retriever(expect: RetrieverExpect, observed: Mapping[str, Any], execution_id: str | None) -> Execution:
    failures: list[str] = []
    status = observed.get("status")
    if observed.get("error") or status not in (None, "completed"):
        return error_outcome(f"status {status!r}: {observed.get('error') or 'no error message'}", execution_id)
    ids: list[str] = observed["ids"]
    rank = {doc: i for i, doc in reversed(list(enumerate(ids, start=1)))}
    top: list[dict[str, Any]] = observed["top"]
    count = observed["count"]

    def where(doc: str) -> str:
        return f"at rank {rank[doc]}" if doc in rank else "not returned"

    if expect.min_results is not None and count < expect.min_results:
        failures.append(f"min_results: expected at least {expect.min_results} results, observed {count}")
    if expect.max_results is not None and count > expect.max_results:
        failures.append(f"max_results: expected at most {expect.max_results} results, observed {count}")
    if expect.top_k is not None:
        failures += _check_top_k(expect, observed, where)
    if expect.absent is not None:
        k = expect.absent.k
        for doc in expect.absent.ids or []:
            if rank.get(doc, k + 1) <= k:
                failures.append(f"absent: {doc} must not be in the top {k}, observed {where(doc)}")
        if expect.absent.match:
            hits = [r for r in _rows(observed, k) if doc_matches(r, expect.absent.match)]
            for r in hits:
                failures.append(
                    f"absent: no result in the top {k} may match {_conditions(expect.absent.match)}; "
                    f"observed {r['id']} at rank {r['rank']} ({_fields(r, expect.absent.match)})"
                )
    for rule in expect.order or []:
        b, a = rank.get(rule.before), rank.get(rule.after)
        if b is None or (a is not None and a < b):
            failures.append(
                f"order: {rule.before} must rank above {rule.after}; observed {rule.before} {where(rule.before)}, "
                f"{rule.after} {where(rule.after)}"
            )
    if expect.min_score is not None:
        first = top[0]["score"] if top else None
        if not isinstance(first, int | float) or first < expect.min_score:
            failures.append(
                f"min_score: expected the first result to score at least {expect.min_score}, "
                f"observed {first if first is not None else 'no results'}"
            )
    latency = observed.get("latency_ms")
    if expect.max_latency_ms is not None and isinstance(latency, int | float) and latency > expect.max_latency_ms:
        failures.append(f"max_latency_ms: expected at most {expect.max_latency_ms:g} ms, observed {latency:g} ms")
    credits = observed.get("credits")
    skipped: list[SkippedCheck] = []
    if expect.max_credits is not None:
        if not isinstance(credits, int | float):
            skipped.append(SkippedCheck(check="max_credits", reason=NO_COST))
        elif credits > expect.max_credits:
            failures.append(f"max_credits: expected at most {expect.max_credits:g} credits, observed {credits:g}")
    if expect.relevance is not None:
        metrics = observed.get("metrics") or {}
        wanted = expect.relevance.min.model_dump(exclude_none=True)
        for name, minimum in wanted.items():
            value = metrics.get(name, 0.0)
            if value < minimum:
                failures.append(
                    f"relevance: {name}@{expect.relevance.k} expected at least {minimum:g}, observed {value:g}"
                )
    if failures:
        failures = [f"{f} (execution {execution_id})" if execution_id else f for f in failures]
        failures.append("observed top results: " + _top_line(top[:TOP_SHOWN]))
    return Execution.verdict(failures, observed, execution_id, skipped)


def _rows(observed: Mapping[str, Any], k: int) -> list[dict[str, Any]]:
    """The top-k rows with the looked-at fields (observe_retriever keeps as many as any k needs)."""
    rows: list[dict[str, Any]] = observed["top"]
    return rows[:k]


def _fields(row: Mapping[str, Any], conditions: Iterable[str]) -> str:
    return ", ".join(f"{name}={_show(row.get(name))}" for name in conditions)


def _top_line(top: Sequence[Mapping[str, Any]]) -> str:
    if not top:
        return "(none)"
    parts = []
    for r in top:
        extra = {k: v for k, v in r.items() if k not in ("rank", "id", "score")}
        fields = (" " + _fields(r, extra)) if extra else ""
        parts.append(f"{r['rank']}. {r['id']} (score {r['score']}{fields})")
    return "; ".join(parts)


def _check_top_k(expect: RetrieverExpect, observed: Mapping[str, Any], where: Any) -> list[str]:
    assert expect.top_k is not None
    k = expect.top_k.k
    ids: list[str] = observed["ids"]
    rows = _rows(observed, k)
    out = []
    for doc in expect.top_k.contains or []:
        if doc not in ids[:k]:
            out.append(f"top_k: {doc} must be in the top {k}, observed {where(doc)}")
    if expect.top_k.any_match and not any(doc_matches(r, expect.top_k.any_match) for r in rows):
        out.append(
            f"top_k: at least one of the top {k} must match {_conditions(expect.top_k.any_match)}; "
            f"none of the {len(rows)} observed does"
        )
    if expect.top_k.all_match:
        if len(rows) < k:
            out.append(
                f"top_k: expected {k} results matching {_conditions(expect.top_k.all_match)}, "
                f"observed only {len(rows)} results"
            )
        for r in rows:
            if not doc_matches(r, expect.top_k.all_match):
                out.append(
                    f"top_k: every one of the top {k} must match {_conditions(expect.top_k.all_match)}; "
                    f"observed {r['id']} at rank {r['rank']} with {_fields(r, expect.top_k.all_match)}"
                )
    return out


def retriever_rows_needed(expect: RetrieverExpect) -> int:
    """How many top results `observe_retriever` must keep with their fields."""
    return max(TOP_SHOWN, depth(expect))


# --- taxonomies ----------------------------------------------------------------------


def observe_taxonomy(expect: TaxonomyExpect, response: Mapping[str, Any], sample_ids: Sequence[str]) -> dict[str, Any]:
    """Labels (per sample, in match order) and the enriched fields of each sample document."""
    matches = [m for m in response.get("matches") or [] if isinstance(m, dict)]
    results = [d for d in response.get("results") or [] if isinstance(d, dict)]
    labels: list[list[str]] = []
    fields: list[dict[str, Any]] = []
    wanted = {name for per_doc in (expect.fields or {}).values() for name in per_doc}
    for i, doc_id in enumerate(sample_ids):
        mine = [m for m in matches if m.get("document_id") == doc_id]
        labels.append([str(m.get("label")) for m in mine])
        names = sorted(wanted | {n for m in mine for n in m.get("enriched_fields") or []})
        doc = results[i] if i < len(results) else {}
        fields.append({name: field_value(doc, name) for name in names})
    stats = response.get("stats") or {}
    return {"documents": len(sample_ids), "labels": labels, "fields": fields, "errors": stats.get("errors", 0)}


def evaluate_taxonomy(expect: TaxonomyExpect, observed: Mapping[str, Any]) -> Execution:
    failures: list[str] = []
    labels: list[list[str]] = observed["labels"]
    fields: list[dict[str, Any]] = observed["fields"]
    n = len(labels)
    if observed.get("errors"):
        failures.append(f"the taxonomy failed on {observed['errors']} of {n} sample documents")
    for i, expected in sorted((expect.labels or {}).items()):
        if i >= n:
            failures.append(f"labels: there is no sample document {i} (the test has {n})")
            continue
        missing = [label for label in expected if label not in labels[i]]
        if missing:
            failures.append(f"labels: document {i} expected {expected}, observed {labels[i]} (missing {missing})")
    for i, expected_fields in sorted((expect.fields or {}).items()):
        if i >= n:
            failures.append(f"fields: there is no sample document {i} (the test has {n})")
            continue
        for name, want in expected_fields.items():
            got = fields[i].get(name)
            if not value_matches(got, want):
                failures.append(f"fields: document {i} expected {name}={_show(want)}, observed {_show(got)}")
    for i in expect.unlabeled or []:
        if i < n and labels[i]:
            failures.append(f"unlabeled: document {i} must get no label, observed {labels[i]}")
    return Execution.verdict(failures, observed)


# --- clusters ------------------------------------------------------------------------


def observe_cluster(response: Mapping[str, Any], *, stored: bool = True) -> dict[str, Any]:
    """Both shapes: the ad-hoc response (seed 003) and a stored execution result (by id).

    Membership comes only from what is documented: the `representative_ids` of a stored
    run's centroids (ClusterExecutionResult; a small sample per cluster, not every
    member). Seed 003's ad-hoc response (`stored=False`) documents no membership, so none is read.
    """
    metrics = response.get("metrics") or {}
    centroids = [c for c in response.get("centroids") or [] if isinstance(c, dict)]
    members: dict[str, str] = {}
    for c in centroids if stored else ():
        for rep in c.get("representative_ids") or []:
            doc = rep.get("document_id") if isinstance(rep, dict) else None
            if doc is not None:
                members[str(doc)] = str(c.get("cluster_id"))
    sizes = {str(c.get("cluster_id")): int(c.get("num_members") or 0) for c in centroids}
    sizes = {c: n for c, n in sizes.items() if c not in NOISE_CLUSTERS}
    return {
        "run_id": response.get("run_id"),
        "num_clusters": response.get("num_clusters", len(sizes)),
        # Each shape's own names: ClusterExecutionResult (SDK) vs seed 003 (mixpeek-api.md section 8, rows 4 and 6).
        "num_documents": response.get("num_points" if stored else "num_documents"),
        "silhouette": _round(_number(metrics.get("silhouette_score"))),
        "davies_bouldin": _round(_number(metrics.get("davies_bouldin_index" if stored else "davies_bouldin_score"))),
        "sizes": dict(sorted(sizes.items())),
        "members": members,
    }


def evaluate_cluster(expect: ClusterExpect, observed: Mapping[str, Any]) -> Execution:
    failures: list[str] = []
    run = observed.get("run_id")
    n = observed.get("num_clusters")
    rng = expect.num_clusters
    outside = (
        rng is not None
        and isinstance(n, int)
        and ((rng.min is not None and n < rng.min) or (rng.max is not None and n > rng.max))
    )
    if rng is not None and outside:
        failures.append(
            f"num_clusters: expected between {rng.min if rng.min is not None else 0} and "
            f"{rng.max if rng.max is not None else 'any'}, observed {n}"
        )
    sil = observed.get("silhouette")
    if expect.min_silhouette is not None and (sil is None or sil < expect.min_silhouette):
        failures.append(f"min_silhouette: expected at least {expect.min_silhouette:g}, observed {sil}")
    db = observed.get("davies_bouldin")
    if expect.max_davies_bouldin is not None and (db is None or db > expect.max_davies_bouldin):
        failures.append(f"max_davies_bouldin: expected at most {expect.max_davies_bouldin:g}, observed {db}")
    sizes: dict[str, int] = observed.get("sizes") or {}
    if expect.min_cluster_size is not None:
        small = {c: s for c, s in sizes.items() if s < expect.min_cluster_size}
        if small:
            failures.append(
                f"min_cluster_size: expected every cluster to hold at least {expect.min_cluster_size} "
                f"documents, observed {small}"
            )
    members: dict[str, str] = observed.get("members") or {}
    skipped: list[SkippedCheck] = []
    for check, groups in (("same_cluster", expect.same_cluster), ("different_cluster", expect.different_cluster)):
        for group in groups or []:
            unknown = [doc for doc in group if doc not in members]
            if unknown:
                skipped.append(SkippedCheck(check=f"{check} {group}", reason=_no_membership(unknown, bool(members))))
                continue
            got = {doc: members[doc] for doc in group}
            values = list(got.values())
            if check == "same_cluster" and len(set(values)) != 1:
                failures.append(f"same_cluster: {group} must share a cluster, observed {got}")
            if check == "different_cluster" and len(set(values)) != len(values):
                failures.append(f"different_cluster: {group} must be in different clusters, observed {got}")
    if failures and run:
        failures = [f"{f} (run {run})" for f in failures]
    return Execution.verdict(failures, observed, run, skipped)


def _no_membership(unknown: Sequence[str], any_members: bool) -> str:
    if not any_members:
        return (
            "the run reports no membership (a stored run lists only its centroids' representative_ids, "
            "and seed 003's ad-hoc clustering documents no membership field)"
        )
    return (
        f"{', '.join(unknown)} not among the run's representative_ids (the API lists a small sample "
        "of each cluster, not every member)"
    )


__all__ = [
    "depth",
    "doc_matches",
    "error_outcome",
    "evaluate_cluster",
    "evaluate_retriever",
    "evaluate_taxonomy",
    "field_value",
    "looked_at",
    "observe_cluster",
    "observe_retriever",
    "observe_taxonomy",
    "response_credits",
    "value_matches",
]
