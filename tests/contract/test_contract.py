"""The contract gate: what mixops sends and reads, judged by the SDK's own models.

Every request of the end-to-end flows (conftest.py) is recorded. Each body is
validated against the SDK's request model for its route (sdk_contract.py: the
route table is read from mixpeek/api/*.py), recursively, undeclared keys refused
at every depth, as the API does since 2026-11-02; routes only a seed page
documents are held to that page (seed_models.py). Every response field mixops
reads (observed, reads.py) must be declared by the route's response model, named
by the prose of a free-form object's description, or be the user's own data
(document fields, metadata). Known departures are `xfail(strict=True)` per case:
when one is fixed the case turns into a failure until its mark is removed.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml
from tests.contract.checks import body_problems, read_documented, route_of
from tests.contract.conftest import EXAMPLE, Flows
from tests.contract.recorder import Call

from mixops.core.live import TEMP_SUFFIX

# Every route the flows use (method + SDK path template, or the path a seed page documents).
ROUTES: dict[str, str | None] = {
    "DELETE /v1/collections/{collection_identifier}": None,
    "DELETE /v1/retrievers/{retriever_id}": None,
    "GET /v1/clusters/{cluster_id}/executions": None,
    "GET /v1/collections/features/extractors": None,
    "GET /v1/collections/{collection_identifier}": None,
    "GET /v1/collections/{collection_identifier}/documents/{document_id}": None,
    "GET /v1/retrievers/{retriever_id}/executions/{execution_id}": None,
    "GET /v1/tasks/{task_id}": None,
    "GET /v1/taxonomies/{taxonomy_id}/versions": None,
    "PATCH /v1/clusters/{cluster_identifier}": None,
    "PATCH /v1/collections/{collection_identifier}": None,
    "PATCH /v1/retrievers/{retriever_id}": None,
    "PATCH /v1/taxonomies/{taxonomy_identifier}": None,
    "POST /v1/clusters": None,
    "POST /v1/clusters/execute": None,
    "POST /v1/clusters/list": None,
    "POST /v1/clusters/{cluster_id}/execute": None,
    "POST /v1/collections": None,
    "POST /v1/collections/list": None,
    "POST /v1/collections/{collection_identifier}/apply-taxonomy": None,
    "POST /v1/collections/{collection_identifier}/documents/list": None,
    "POST /v1/retrievers": None,
    "POST /v1/retrievers/execute": None,
    "POST /v1/retrievers/list": None,
    "POST /v1/retrievers/{retriever_id}/execute": None,
    "POST /v1/taxonomies": None,
    "POST /v1/taxonomies/list": None,
    "POST /v1/taxonomies/{taxonomy_identifier}/execute": None,
    "POST /v1/taxonomies/{taxonomy_id}/versions": None,
}

# Single problems known and accepted on a route, with why; every other problem there still fails.
# Each must still occur in the flows (test_known_problems_still_occur), so none outlives its cause.
KNOWN_PROBLEMS: dict[tuple[str, str], str] = {
    ("POST /v1/collections", "source.type 'none': only 'bucket' and 'collection' are documented"): (
        "the catalog example's collections take documents written directly (POST .../documents), "
        "so they have no bucket or upstream collection; 'none' is a value of the SDK's SourceType, "
        "but its prose documents only 'bucket' and 'collection' (assumption: the API accepts it)"
    ),
}

# Reads documented outside the response model, with where.
DOCUMENTED_ELSEWHERE = {
    ("POST /v1/taxonomies/list", "pagination.next_cursor"): (
        "the route takes ?cursor= / ?next_cursor= (SDK list_taxonomies); the page's pagination object is untyped"
    ),
}

READS_FILE = Path(__file__).with_name("reads.txt")


def _table() -> list[tuple[str, str]]:
    rows = []
    for line in READS_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            route, field = line.split("\t")
            rows.append((route, field))
    return rows


READS = _table()
# Reads no document settles, each marked xfail(strict) until fixed: none left. mixops reads
# credits only from `budget.credits_used` / `stage_statistics.credits_used` of retriever
# executes (no cost field: the budget check is skipped with the reason), and finds a
# cluster task's run as the cluster's latest execution (GET /v1/clusters/{id}/executions).
READS_XFAIL: dict[tuple[str, str], str] = {}


def _by_route(calls: list[Call]) -> dict[str, list[Call]]:
    grouped: dict[str, list[Call]] = defaultdict(list)
    for call in calls:
        grouped[route_of(call)].append(call)
    return grouped


def _marked(table: dict[str, str | None] | dict[tuple[str, str], str], key: object) -> list[pytest.MarkDecorator]:
    reason = table.get(key)  # type: ignore[call-overload]
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


@pytest.mark.parametrize("route", [pytest.param(r, marks=_marked(ROUTES, r), id=r) for r in ROUTES])
def test_every_body_fits_its_model(flows: Flows, route: str) -> None:
    calls = _by_route(flows.calls).get(route)
    assert calls, f"no flow sent {route} any more: remove it from ROUTES"
    problems = sorted({p for call in calls for p in body_problems(call) if (route, p) not in KNOWN_PROBLEMS})
    assert not problems, f"{route}: {len(problems)} problem(s):\n  " + "\n  ".join(problems[:20])


CREATES = {
    "POST /v1/retrievers": "retriever_name",
    "POST /v1/retrievers/{retriever_id}/clone": "retriever_name",
    "POST /v1/taxonomies": "taxonomy_name",
    "POST /v1/taxonomies/{taxonomy_identifier}/clone": "taxonomy_name",
    "POST /v1/clusters": "cluster_name",
    "POST /v1/collections": "collection_name",
}


def test_nothing_is_created_that_the_manifests_do_not_declare(flows: Flows) -> None:
    """By default (`lock: none`) every resource mixops creates is one the manifests declare
    (or its temporary twin during a replacement): no lease, no marker, no helper."""
    declared = set(flows.declared)
    for file in (EXAMPLE / "manifests").glob("*.yaml"):
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        kinds = ("collections", "retrievers", "taxonomies", "clusters")
        declared |= {r["name"] for kind in kinds for r in data.get(kind) or []}
    created = [c.body.get(CREATES[k]) for c in flows.calls if (k := route_of(c)) in CREATES and c.status < 300]
    assert created, "the flows created nothing: the check would prove nothing"
    undeclared = sorted({n for n in created if str(n).removesuffix(TEMP_SUFFIX) not in declared})
    assert not undeclared, f"created without a manifest declaring them: {undeclared}"


def test_known_problems_still_occur(flows: Flows) -> None:
    seen = {(route_of(c), p) for c in flows.calls if c.body is not None for p in body_problems(c)}
    gone = sorted(set(KNOWN_PROBLEMS) - seen)
    assert not gone, f"no longer sent, remove from KNOWN_PROBLEMS: {gone}"


def test_every_route_is_in_the_table(flows: Flows) -> None:
    seen = set(_by_route(flows.calls))
    assert not seen - set(ROUTES), f"routes the flows use that ROUTES does not list: {sorted(seen - set(ROUTES))}"


@pytest.mark.parametrize(
    ("route", "field"), [pytest.param(r, f, marks=_marked(READS_XFAIL, (r, f)), id=f"{r} {f}") for r, f in READS]
)
def test_every_read_is_documented(route: str, field: str) -> None:
    if (route, field) in DOCUMENTED_ELSEWHERE:
        return
    how = read_documented(route, field)
    assert how is not None, f"mixops reads {field!r} from {route}, which neither the SDK nor a seed page documents"


def test_reads_table_is_current(flows: Flows) -> None:
    """MIXOPS_UPDATE_GOLDEN=1 rewrites reads.txt from the flows (then review the diff)."""
    if os.environ.get("MIXOPS_UPDATE_GOLDEN") == "1":
        header = [line for line in READS_FILE.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
        rows = [f"{r}\t{f}" for r, f in sorted(flows.reads)]
        READS_FILE.write_text("\n".join([*header, *rows]) + "\n", encoding="utf-8")
        return
    table = set(READS)
    new = sorted(flows.reads - table)
    gone = sorted(table - flows.reads)
    lines = [f"+ {r}\t{f}" for r, f in new] + [f"- {r}\t{f}" for r, f in gone]
    assert not lines, f"update {READS_FILE.name} (each new read is then checked):\n" + "\n".join(lines)


def test_report(flows: Flows, capsys: pytest.CaptureFixture[str]) -> None:
    """The gate's figures; every body off the contract is on a route marked as a known case."""
    grouped = _by_route(flows.calls)
    with_body = [c for c in flows.calls if c.body is not None]
    problems = [(c, route_of(c), p) for c in with_body for p in body_problems(c)]
    off = [(route, p) for _, route, p in problems if (route, p) not in KNOWN_PROBLEMS]
    known = [(route, p) for _, route, p in problems if (route, p) in KNOWN_PROBLEMS]
    off_bodies = {id(c) for c, route, p in problems if (route, p) not in KNOWN_PROBLEMS}
    reads_off = [r for r in READS if r not in DOCUMENTED_ELSEWHERE and read_documented(*r) is None]
    report = [
        "contract gate:",
        f"  requests recorded: {len(flows.calls)} in {len(flows.by_flow)} flows",
        f"  routes seen: {len(grouped)}",
        f"  bodies checked: {len(with_body)}",
        f"  bodies off-contract: {len(off_bodies)}",
        *[f"    {route}: {n} problem(s)" for route, n in sorted(_count(off).items())],
        f"  bodies with a known problem: {len({id(c) for c, route, p in problems if (route, p) in KNOWN_PROBLEMS})}",
        *[f"    {route}: {n}x {p}" for (route, p), n in sorted(Counter(known).items())],
        f"  response fields read: {len(READS)}, undocumented: {len(reads_off)}",
        *[f"    {r} {f}" for r, f in reads_off],
    ]
    with capsys.disabled():
        print("\n" + "\n".join(report))
    unexpected = {route for route, _ in off if not ROUTES.get(route)}
    assert not unexpected, f"off-contract bodies on routes not marked as known: {sorted(unexpected)}"
    assert not [r for r in reads_off if r not in READS_XFAIL], "undocumented reads not marked as known"


def _count(problems: list[tuple[str, str]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for route, _ in problems:
        out[route] += 1
    return out


def test_the_collection_flows_send_every_collection_write(flows: Flows) -> None:
    """The collections flow reaches each collection route mixops sends, in the form it sends it."""
    calls = [c for flow, made in flows.by_flow.items() if flow.startswith("collections ") for c in made]
    patches = [c.body for c in calls if route_of(c) == "PATCH /v1/collections/{collection_identifier}"]
    sent = {
        "create": any(route_of(c) == "POST /v1/collections" for c in calls),
        "attach": any(p.get("taxonomy_applications") for p in patches),
        "detach": any(p.get("taxonomy_applications") == [] for p in patches),
        "metadata stamp": any(set(p) == {"metadata"} for p in patches),
        "rename in a swap": any("collection_name" in p for p in patches),
        "document count": any(
            route_of(c) == "POST /v1/collections/{collection_identifier}/documents/list" and c.body["include_total"]
            for c in calls
        ),
        "apply-taxonomy": any(
            route_of(c) == "POST /v1/collections/{collection_identifier}/apply-taxonomy" for c in calls
        ),
        "task poll": any(route_of(c) == "GET /v1/tasks/{task_id}" for c in calls),
        "delete": any(route_of(c) == "DELETE /v1/collections/{collection_identifier}" for c in calls),
    }
    assert [what for what, seen in sent.items() if not seen] == []
