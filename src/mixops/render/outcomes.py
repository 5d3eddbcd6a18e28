"""Test outcomes and the behavioural diff, as lines both renderers share.

`Plan.tests` entries come from the test runner; their shape is documented in
docs/plan-json.md. This module is the one place that reads them: it renders
whatever is present and skips whatever is absent, so the runner's format can
grow without touching the renderers.
"""

from __future__ import annotations

from typing import Any, Literal

from mixops.render.values import compact

Sign = Literal["+", "-", "~", " "]
ID_LIMIT = 10


def side_status(side: dict[str, Any] | None) -> str:
    """`passed` / `failed` for one run of a test; `not live` when it had no live target."""
    if side is None:
        return "not live"
    return "passed" if side.get("passed") else "failed"


def passed(entry: dict[str, Any]) -> bool:
    return bool((entry.get("desired") or {}).get("passed"))


def tests_line(tests: tuple[dict[str, Any], ...]) -> str:
    """`Tests: 3 passed, 1 failed against the desired config.`; empty without tests."""
    if not tests:
        return ""
    ok = sum(passed(t) for t in tests)
    return f"Tests: {ok} passed, {len(tests) - ok} failed against the desired config."


def target_of(entry: dict[str, Any]) -> str:
    return str(entry.get("target") or entry.get("kind") or "")


def failure_lines(entry: dict[str, Any]) -> list[str]:
    """Why the desired config fails the test, with what was observed."""
    desired = entry.get("desired") or {}
    lines = [str(f) for f in desired.get("failures") or ()]
    if lines and desired.get("observed"):
        lines.append(f"observed: {compact(desired['observed'], 240)}")
    return lines


def _ids(ids: list[Any]) -> str:
    shown = ", ".join(str(i) for i in ids[:ID_LIMIT])
    return shown + (f", ... {len(ids) - ID_LIMIT} more" if len(ids) > ID_LIMIT else "")


def _num(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _delta(pair: list[Any]) -> str:
    old, new = pair[0], pair[1]
    text = f"{_num(old)} -> {_num(new)}"
    if isinstance(old, int | float) and isinstance(new, int | float) and not isinstance(old, bool):
        text += f" ({new - old:+.3f})" if isinstance(old, float) or isinstance(new, float) else f" ({new - old:+d})"
    return text


def behaviour_lines(entry: dict[str, Any]) -> list[tuple[Sign, str]]:
    """The behavioural diff live -> desired as signed lines (`+` entered, `-` left)."""
    diff = entry.get("diff")
    if not diff:
        return []
    out: list[tuple[Sign, str]] = []
    ranked = [key for key in ("entered", "left", "moved") if key in diff]
    if ranked and not any(diff[key] for key in ranked):
        out.append((" ", "top k unchanged"))
    if diff.get("entered"):
        out.append(("+", f"entered the top k: {_ids(diff['entered'])}"))
    if diff.get("left"):
        out.append(("-", f"left the top k: {_ids(diff['left'])}"))
    if diff.get("moved"):
        moves = [f"{doc} {old} -> {new}" for doc, old, new in diff["moved"]]
        out.append(("~", f"moved: {_ids(moves)}"))
    scores = [f"{label} {_num(diff[key])}" for key, label in (("overlap_at_k", "overlap@k"), ("rbo", "RBO"))
              if key in diff]  # fmt: skip
    if scores:
        out.append((" ", ", ".join(scores)))
    for metric, pair in sorted((diff.get("metric_deltas") or {}).items()):
        out.append(("~", f"{metric}: {_delta(pair)}"))
    for doc, old, new in diff.get("label_changes") or ():
        out.append(("~", f"document {doc} labels: {compact(old)} -> {compact(new)}"))
    cluster = diff.get("cluster") or {}
    for key, label in (
        ("num_clusters", "clusters"),
        ("silhouette", "silhouette"),
        ("davies_bouldin", "Davies-Bouldin"),
    ):
        if key in cluster:
            out.append(("~", f"{label}: {_delta(cluster[key])}"))
    if "ari" in cluster:
        out.append((" ", f"adjusted Rand index, live vs desired: {_num(cluster['ari'])}"))
    return out
