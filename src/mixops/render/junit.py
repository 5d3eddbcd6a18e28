"""JUnit XML for CI systems (Jenkins, GitLab, GitHub test reporters) from test entries.

One `<testsuite>` per run; one `<testcase>` per test, `classname` the target
(`retriever.product_search`). A test whose expectations failed gets a
`<failure>`, one whose execution failed (API error) an `<error>`, one that
did not run a `<skipped>` with the reason (never a failure). The observed top
results, and the checks that were skipped (marked `!` as in the plan), go to
`<system-out>`, so a CI report shows why without the plan.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from mixops.core.outcomes import Status, TestOutcome, count
from mixops.render.outcomes import SKIPPED


def _seconds(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "0.000"


def _observed_text(entry: TestOutcome) -> str:
    run = entry.desired
    lines = []
    if run is not None:
        observed = dict(run.observed)
        observed.pop("ids", None)
        observed.pop("members", None)  # hundreds of ids: in the JSON plan, not the CI report
        if run.execution_id:
            lines.append(f"execution: {run.execution_id}")
        lines.append("observed: " + json.dumps(observed, sort_keys=True, default=str))
        lines += [f"{SKIPPED} skipped check {c.check}: {c.reason}" for c in run.skipped_checks]
    if entry.diff:
        lines.append("diff live -> desired: " + json.dumps(entry.diff, sort_keys=True, default=str))
    return "\n".join(lines)


def junit_xml(
    entries: Sequence[TestOutcome],
    *,
    suite: str,
    timestamp: str = "",
    properties: Mapping[str, str] | None = None,
) -> str:
    total_time = sum(e.seconds or 0.0 for e in entries)
    counts = count(entries)
    root = ET.Element(
        "testsuites",
        name="mixops",
        tests=str(len(entries)),
        failures=str(counts[Status.FAILED]),
        errors=str(counts[Status.ERROR]),
        time=_seconds(total_time),
    )
    attrs = {
        "name": suite,
        "tests": str(len(entries)),
        "failures": str(counts[Status.FAILED]),
        "errors": str(counts[Status.ERROR]),
        "skipped": str(counts[Status.SKIPPED]),
        "time": _seconds(total_time),
    }
    if timestamp:
        attrs["timestamp"] = timestamp
    testsuite = ET.SubElement(root, "testsuite", attrs)
    if properties:
        props = ET.SubElement(testsuite, "properties")
        for name, value in properties.items():
            ET.SubElement(props, "property", name=name, value=str(value))
    for entry in entries:
        case = ET.SubElement(
            testsuite,
            "testcase",
            name=entry.name,
            classname=entry.target.replace("/", "."),
            time=_seconds(entry.seconds),
        )
        failures = list(entry.desired.failures) if entry.desired is not None else []
        if entry.status is Status.SKIPPED:
            ET.SubElement(case, "skipped", message=entry.reason or "not run")
        elif entry.status is Status.FAILED:
            element = ET.SubElement(
                case, "failure", message=failures[0] if failures else "failed", type="AssertionError"
            )
            element.text = "\n".join(failures)
        elif entry.status is Status.ERROR:
            reason = entry.reason or "the execution failed"
            element = ET.SubElement(case, "error", message=reason, type="ExecutionError")
            element.text = reason
        if entry.status is not Status.SKIPPED:
            ET.SubElement(case, "system-out").text = _observed_text(entry)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


__all__ = ["junit_xml"]
