"""The terraform-like text plan: markers, changed fields only, a summary line.

Colour (ANSI) only when asked: the CLI asks on a TTY, never in files or pipes.
"""

from __future__ import annotations

from mixops.core.outcomes import TestOutcome
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

ANSI = {
    "+": "32",
    "~": "33",
    "-": "31",
    "-/+": "35",
    "*": "36",
    "passed": "32",
    "failed": "31",
    "skipped": "33",
    "error": "31",
    "warn": "33",
    "bold": "1",
}
ROW_MARKERS = {"add": "+", "remove": "-", "change": "~"}
MARK_COLOR = {"x": "failed", "!": "warn"}


class _Paint:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, key: str) -> str:
        code = ANSI.get(key)
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and code else text


def render_text(plan: Plan, *, color: bool = False) -> str:
    paint = _Paint(color)
    lines = _header(plan, paint)
    for step in plan.changes:
        lines += ["", *_step(step, paint)]
    if plan.warnings:
        lines += ["", paint("Warnings:", "warn"), *(f"  ! {w}" for w in plan.warnings)]
    if plan.tests:
        lines += ["", paint("Tests", "bold") + " (against the desired config; live config in brackets):"]
        for entry in plan.tests:
            lines += _test(entry, paint)
    lines += ["", paint(summary_line(plan), "bold")]
    if plan.tests:
        lines.append(tests_line(plan.tests))
    return "\n".join(lines) + "\n"


def _header(plan: Plan, paint: _Paint) -> list[str]:
    fields = (
        ("stack", plan.stack),
        ("environment", plan.environment),
        ("namespace", plan.namespace),
        ("target", plan.target),
    )
    return [paint("mixops plan", "bold"), *(f"  {k + ':':<13}{v}" for k, v in fields)]


def _step(step: Step, paint: _Paint) -> list[str]:
    marker = step.marker
    lines = [f"{paint(f'{marker:>3}', marker)} {headline(step)}"]
    lines += [f"      # {note}" for note in step_notes(step)]
    lines += [_row(row, paint) for row in change_rows(step)]
    return lines


def _row(row: Row, paint: _Paint) -> str:
    note = f"  # {row.note}" if row.note else ""
    if row.kind == "more":
        return f"        {row.path}"
    marker = paint(ROW_MARKERS[row.kind], ROW_MARKERS[row.kind])
    value = {"add": shown_value(row), "remove": row.old, "change": f"{row.old} -> {shown_value(row)}"}[row.kind]
    return f"      {marker} {row.path}: {value}{note}"


def _test(entry: TestOutcome, paint: _Paint) -> list[str]:
    verdict = status(entry)
    head = f"  {paint(f'{verdict:<7}', verdict)} {entry.name}  [{target_of(entry)}; live: {live_status(entry)}]"
    lines = [head]
    lines += [f"      {paint(mark, MARK_COLOR[mark])} {line}" for mark, line in said_lines(entry)]
    lines += [f"      {paint(sign, sign) if sign != ' ' else ' '} {text}" for sign, text in behaviour_lines(entry)]
    return lines
