"""Test outcomes and the behavioural diff, as lines both renderers share.

`Plan.tests` holds `TestOutcome`s (core/outcomes.py) from the test runner
(`ports/testrunner.py`, diffs from `core/behaviour.py`). The diff is free-form
per kind: this module renders whatever of it is present.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from mixops.core.outcomes import Execution, Status, TestOutcome, count
from mixops.core.wording import compact

Sign = Literal["+", "-", "~", " "]
# The mark of each line said under a test, the same in every renderer: `x` a failure or an
# error (a verdict, or no verdict at all), `!` something that was not checked and why (a
# skipped test, a skipped check): a warning, never to be read as a failure.
Mark = Literal["x", "!"]
FAILED: Mark = "x"
SKIPPED: Mark = "!"
ID_LIMIT = 10
CLUSTER_METRICS = (("num_clusters", "clusters"), ("silhouette", "silhouette"), ("davies_bouldin", "Davies-Bouldin"))


def status(entry: TestOutcome) -> Status:
    """The test's verdict against the desired config; `skipped` when it did not run."""
    return entry.status


def live_status(entry: TestOutcome) -> str:
    """The same test against the live config; `not live` when there was no live run."""
    return "not live" if entry.live is None else str(entry.live.status)


def tests_line(tests: Sequence[TestOutcome]) -> str:
    """`Tests: 3 passed, 1 failed against the desired config.`; empty without tests."""
    if not tests:
        return ""
    seen = count(tests)
    shown = [s for s in Status if s in (Status.PASSED, Status.FAILED) or seen[s]]
    return f"Tests: {', '.join(f'{seen[s]} {s}' for s in shown)} against the desired config."


def target_of(entry: TestOutcome) -> str:
    return entry.target


def _execution_lines(run: Execution) -> list[str]:
    lines = [f"error: {run.reason}"] if run.status is Status.ERROR and run.reason else []
    lines += list(run.failures)
    if run.failures and run.observed:
        lines.append(f"observed: {compact(run.observed, 240)}")
    if (run.failures or run.status is Status.ERROR) and run.execution_id:
        lines.append(f"execution: {run.execution_id}")
    return lines


def said_lines(entry: TestOutcome) -> list[tuple[Mark, str]]:
    """What is said under a test, each line with its mark: why it did not run (`!`), why it
    failed or errored and what was observed (`x`), and the checks that were skipped (`!`)."""
    lines: list[tuple[Mark, str]] = []
    if entry.status is Status.SKIPPED:
        lines.append((SKIPPED, f"skipped: {entry.reason}"))
    if entry.desired is not None:
        lines += [(FAILED, line) for line in _execution_lines(entry.desired)]
    lines += [(SKIPPED, f"skipped check {c.check}: {c.reason}") for c in entry.skipped_checks]
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


def behaviour_lines(entry: TestOutcome) -> list[tuple[Sign, str]]:
    """The behavioural diff live -> desired as signed lines (`+` entered, `-` left)."""
    diff = entry.diff
    if not diff:
        return []
    if diff.get("unchanged"):
        return [(" ", "results unchanged")]
    k = diff.get("k")
    top = f"top {k}" if k is not None else "top k"
    out: list[tuple[Sign, str]] = []
    ranked = [key for key in ("entered", "left", "moved") if key in diff]
    if ranked and not any(diff[key] for key in ranked):
        out.append((" ", f"{top} unchanged"))
    elif ranked:
        # The scores describe the whole top k, so they head its block: printed after the
        # last document that left, they read as a statement about that document.
        scores = [
            f"{label} {_num(diff[key])}"
            for key, label in (("overlap_at_k", f"overlap@{k if k is not None else 'k'}"), ("rbo", "RBO"))
            if key in diff
        ]
        out.append((" ", f"{top}, live -> desired" + (f": {', '.join(scores)}" if scores else "")))
    if diff.get("entered"):
        out.append(("+", f"entered the {top}: {_ids(diff['entered'])}"))
    if diff.get("left"):
        out.append(("-", f"left the {top}: {_ids(diff['left'])}"))
    if diff.get("moved"):
        out.append(("~", f"moved: {_ids([f'{doc} {old} -> {new}' for doc, old, new in diff['moved']])}"))
    for metric, pair in sorted((diff.get("metric_deltas") or {}).items()):
        if pair[0] != pair[1]:  # `~ results: 10 -> 10` read as a change; the JSON keeps every pair
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
