"""Test outcomes and the behavioural diff, as lines both renderers share.

`Plan.tests` entries come from the test runner (`ports/testrunner.py`, diffs
from `core/behaviour.py`); their shape is documented in docs/plan-json.md.
This module is the one place that reads them: it renders whatever is present
and skips whatever is absent, so the runner's format can grow without touching
the renderers.
"""

from __future__ import annotations

from typing import Any, Literal

from mixops.render.values import compact

Sign = Literal["+", "-", "~", " "]
Status = Literal["passed", "failed", "skipped"]
ID_LIMIT = 10
CLUSTER_METRICS = (("num_clusters", "clusters"), ("silhouette", "silhouette"), ("davies_bouldin", "Davies-Bouldin"))


def status(entry: dict[str, Any]) -> Status:
    """The test's verdict against the desired config; `skipped` when it did not run."""
    verdict = entry.get("passed", (entry.get("desired") or {}).get("passed"))
    if entry.get("skipped") or verdict is None:
        return "skipped"
    return "passed" if verdict else "failed"


def live_status(entry: dict[str, Any]) -> str:
    """The same test against the live config; `not live` when there was no live run."""
    live = entry.get("live")
    if live is None:
        return "not live"
    return "passed" if live.get("passed") else "failed"


def tests_line(tests: tuple[dict[str, Any], ...]) -> str:
    """`Tests: 3 passed, 1 failed against the desired config.`; empty without tests."""
    if not tests:
        return ""
    seen = [status(t) for t in tests]
    counts = [f"{seen.count(s)} {s}" for s in ("passed", "failed", "skipped") if s != "skipped" or s in seen]
    return f"Tests: {', '.join(counts)} against the desired config."


def target_of(entry: dict[str, Any]) -> str:
    return str(entry.get("target") or entry.get("kind") or "")


def failure_lines(entry: dict[str, Any]) -> list[str]:
    """Why the test failed or did not run, with what was observed and the execution id."""
    desired = entry.get("desired") or {}
    lines = [f"skipped: {entry['skipped']}"] if entry.get("skipped") else []
    failures = [str(f) for f in desired.get("failures") or ()]
    lines += failures
    if failures and desired.get("observed"):
        lines.append(f"observed: {compact(desired['observed'], 240)}")
    if failures and desired.get("execution_id"):
        lines.append(f"execution: {desired['execution_id']}")
    return lines


def _ids(ids: list[Any]) -> str:
    shown = ", ".join(str(i) for i in ids[:ID_LIMIT])
    return shown + (f", ... {len(ids) - ID_LIMIT} more" if len(ids) > ID_LIMIT else "")


def _num(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _delta(pair: list[Any]) -> str:
    old, new = pair[0], pair[1]
    text = f"{_num(old)} -> {_num(new)}"
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (old, new))
    if numbers and old != new:
        text += f" ({new - old:+d})" if isinstance(old, int) and isinstance(new, int) else f" ({new - old:+.3f})"
    return text


def behaviour_lines(entry: dict[str, Any]) -> list[tuple[Sign, str]]:
    """The behavioural diff live -> desired as signed lines (`+` entered, `-` left)."""
    diff = entry.get("diff")
    if not diff:
        return []
    if diff.get("unchanged"):
        return [(" ", "results unchanged")]
    top = f"top {diff['k']}" if "k" in diff else "top k"
    out: list[tuple[Sign, str]] = []
    ranked = [key for key in ("entered", "left", "moved") if key in diff]
    if ranked and not any(diff[key] for key in ranked):
        out.append((" ", f"{top} unchanged"))
    if diff.get("entered"):
        out.append(("+", f"entered the {top}: {_ids(diff['entered'])}"))
    if diff.get("left"):
        out.append(("-", f"left the {top}: {_ids(diff['left'])}"))
    if diff.get("moved"):
        out.append(("~", f"moved: {_ids([f'{doc} {old} -> {new}' for doc, old, new in diff['moved']])}"))
    scores = [
        f"{label} {_num(diff[key])}" for key, label in (("overlap_at_k", "overlap@k"), ("rbo", "RBO")) if key in diff
    ]
    if scores:
        out.append((" ", ", ".join(scores)))
    for metric, pair in sorted((diff.get("metric_deltas") or {}).items()):
        out.append(("~", f"{metric}: {_delta(pair)}"))
    for doc, old, new in diff.get("label_changes") or ():
        out.append(("~", f"document {doc} labels: {compact(old)} -> {compact(new)}"))
    for doc, name, old, new in diff.get("field_changes") or ():
        out.append(("~", f"document {doc} {name}: {compact(old)} -> {compact(new)}"))
    cluster = diff.get("cluster") or {}
    for key, label in CLUSTER_METRICS:
        if key in cluster and any(v is not None for v in cluster[key]):
            out.append(("~", f"{label}: {_delta(cluster[key])}"))
    if cluster.get("ari") is not None:
        over = f" over {cluster['documents_compared']} documents" if "documents_compared" in cluster else ""
        out.append((" ", f"adjusted Rand index, live vs desired: {_num(cluster['ari'])}{over}"))
    return out
