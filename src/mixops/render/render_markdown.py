"""The Markdown plan for pull-request comments.

Summary first (verdict, counts table, warnings), then one collapsible block per
changed resource with its fields in a `diff` fence (GitHub colours + and -),
then the tests. A hidden marker lets CI find and update ONE comment per stack
and environment.

GitHub refuses comments over 65,536 characters. The document is built from
self-contained units (a whole `<details>` block, a whole table row), and when
it is too long whole units are dropped from the end (resource details first,
then test details, then test rows), so the Markdown stays well formed. A note
says what was left out and where the full plan is.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from mixops.core.outcomes import Status, TestOutcome
from mixops.core.plan import Plan, Step
from mixops.render.outcomes import (
    behaviour_lines,
    live_status,
    said_lines,
    status,
    target_of,
    tests_line,
)
from mixops.render.values import Row, change_rows, headline, shown_value, step_notes, summary_line

GITHUB_BUDGET = 60_000  # GitHub's limit is 65,536; the rest is room for a CI job's own framing
WARNING_LIMIT = 20
DIFF_SIGN = {"+": "+", "-": "-", "~": "!", " ": " "}
STATUS_ICON = {"passed": "✅", "failed": "❌", "skipped": "⏭️", "error": "⛔"}
COUNT_COLUMNS = (
    ("create", "create"),
    ("update", "update"),
    ("version", "new version"),
    ("replace", "replace"),
    ("delete", "delete"),
    ("noop", "unchanged"),
)
TRUNCATED = (
    "> **Plan truncated: {what} not shown; the full plan is in the job's artifacts "
    "(`mixops plan --format markdown --out-markdown FILE`).**\n\n"
)


@dataclass
class _Units:
    """Droppable units in the order they are given up: resources, test details, test rows."""

    resources: list[str] = field(default_factory=list)
    test_details: list[str] = field(default_factory=list)
    test_rows: list[str] = field(default_factory=list)


def render_markdown(plan: Plan, *, max_chars: int = GITHUB_BUDGET) -> str:
    units = _Units(
        resources=[_resource(step) for step in plan.changes],
        test_details=[_test_details(t) for t in plan.tests if said_lines(t) or behaviour_lines(t)],
        test_rows=[_test_row(t) for t in plan.tests],
    )
    full = _assemble(plan, units, note="")
    if size(full) <= max_chars:
        return full
    worst_note = _note(units, _Units())  # the longest note: everything dropped
    budget = max_chars - size(_assemble(plan, _Units(), note=worst_note))
    kept = _Units()
    kept.test_rows, budget = _prefix(units.test_rows, budget)
    kept.test_details, budget = _prefix(units.test_details, budget)
    kept.resources, budget = _prefix(units.resources, budget)
    return _assemble(plan, kept, note=_note(units, kept))


def size(text: str) -> int:
    """Length as GitHub counts it (UTF-16 code units): an emoji in a value counts twice."""
    return len(text.encode("utf-16-le")) // 2


def _prefix(items: list[str], budget: int) -> tuple[list[str], int]:
    kept: list[str] = []
    for item in items:
        if size(item) > budget:
            break
        kept.append(item)
        budget -= size(item)
    return kept, budget


def _note(all_units: _Units, kept: _Units) -> str:
    parts = []
    for one, many, total, shown in (
        ("resource", "resources", len(all_units.resources), len(kept.resources)),
        ("test's details", "tests' details", len(all_units.test_details), len(kept.test_details)),
        ("test row", "test rows", len(all_units.test_rows), len(kept.test_rows)),
    ):
        if total - shown:
            parts.append(f"{total - shown} {one if total - shown == 1 else many}")
    return TRUNCATED.format(what=", ".join(parts)) if parts else ""


def _assemble(plan: Plan, units: _Units, *, note: str) -> str:
    """The document; its length is the sum of its parts, which `_prefix` relies on."""
    out = _head(plan) + note
    if plan.has_changes:
        out += "### Changes\n\n" + "".join(units.resources)
    if plan.tests:
        out += "### Tests\n\n| | test | target | desired | live |\n| --- | --- | --- | --- | --- |\n"
        out += "".join(units.test_rows) + "\n" + "".join(units.test_details)
    return out


def _head(plan: Plan) -> str:
    counts = plan.counts()
    failing = any(status(t) in (Status.FAILED, Status.ERROR) for t in plan.tests)
    risky = counts["replace"] or counts["delete"]
    icon = "❌" if failing else "⚠️" if risky else "✅"
    verdict = f"{icon} **{summary_line(plan)}** {tests_line(plan.tests)}".rstrip()
    where = " · ".join(
        f"{k} {_code(v)}"
        for k, v in (
            ("stack", plan.stack),
            ("environment", plan.environment),
            ("namespace", plan.namespace),
            ("target", plan.target),
        )
    )
    out = f"<!-- mixops-plan: stack={plan.stack} env={plan.environment} -->\n## mixops plan\n\n{verdict}\n\n{where}\n\n"
    # The backfill column only when the plan has one: most plans never do.
    columns = [*COUNT_COLUMNS[:-1], *([("backfill", "backfill")] if counts["backfill"] else []), COUNT_COLUMNS[-1]]
    out += "| " + " | ".join(label for _, label in columns) + " |\n"
    out += "|" + " ---: |" * len(columns) + "\n"
    out += "| " + " | ".join(str(counts[key]) for key, _ in columns) + " |\n\n"
    if plan.warnings:
        shown = [f"- {_escape(w)}\n" for w in plan.warnings[:WARNING_LIMIT]]
        more = len(plan.warnings) - len(shown)
        out += "**Warnings**\n\n" + "".join(shown) + (f"- ... {more} more in the full plan\n" if more > 0 else "")
        out += "\n"
    return out


def _resource(step: Step) -> str:
    lines = [f"# {note}" for note in step_notes(step)]
    for row in change_rows(step):
        lines += _diff_lines(row)
    summary = f"<code>{html.escape(step.marker)}</code> {html.escape(headline(step), quote=False)}"
    return _details(summary, _fence("diff", lines) if lines else "")


def _diff_lines(row: Row) -> list[str]:
    note = f"  # {row.note}" if row.note else ""
    if row.kind == "more":
        return [f"  {row.path}"]
    if row.kind == "change":
        return [f"- {row.path}: {row.old}", f"+ {row.path}: {shown_value(row)}{note}"]
    sign, value = ("+", shown_value(row)) if row.kind == "add" else ("-", row.old)
    return [f"{sign} {row.path}: {value}{note}"]


def _test_row(entry: TestOutcome) -> str:
    desired, live = status(entry), live_status(entry)
    name, target = _cell(entry.name), _code(target_of(entry)).replace("|", "&#124;")
    return f"| {STATUS_ICON[desired]} | {name} | {target} | {desired} | {live} |\n"


def _test_details(entry: TestOutcome) -> str:
    icon = STATUS_ICON[status(entry)]
    name = html.escape(entry.name, quote=False).replace("\n", " ")
    changes = behaviour_lines(entry)
    summary = f"{icon} {name}" + (": behavioural diff, live → desired" if changes else "")
    body = ""
    said = [f"{mark} {line}" for mark, line in said_lines(entry)]  # the text plan's marks: x failed, ! skipped
    if said:
        body += "Against the desired config:\n\n" + _fence("text", said)
    if changes:
        # `!` is the diff grammar's "changed" line, which GitHub highlights; `~` would stay plain.
        body += ("\n" if body else "") + _fence("diff", [f"{DIFF_SIGN[sign]} {text}" for sign, text in changes])
    return _details(summary, body)


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{summary}</summary>\n\n{body}\n</details>\n\n"


def _fence(lang: str, lines: list[str]) -> str:
    """A fenced block whose fence is longer than any backtick run inside, so values cannot close it."""
    text = "\n".join(lines)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text}\n{ticks}\n"


def _code(value: str) -> str:
    return f"<code>{html.escape(value)}</code>"


def _escape(text: str) -> str:
    return (
        html.escape(text, quote=False).replace("|", "\\|").replace("`", "\\`").replace("*", "\\*").replace("_", "\\_")
    )


def _cell(text: str) -> str:
    return _escape(text).replace("\n", " ")
