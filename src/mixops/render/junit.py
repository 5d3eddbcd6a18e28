"""JUnit XML for CI systems (Jenkins, GitLab, GitHub test reporters) from test entries.

One `<testsuite>` per run; one `<testcase>` per test, `classname` the target
(`retriever.product_search`). A test whose expectations failed gets a
`<failure>`, one whose execution failed (API error) an `<error>`, one that
did not run a `<skipped>` with the reason. The observed top results go to
`<system-out>`, so a CI report shows why without the plan.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

EXECUTION_FAILED = "the execution failed:"


def _outcome(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    desired = entry.get("desired")
    return desired if isinstance(desired, Mapping) else {}


def _status(entry: Mapping[str, Any]) -> str:
    if entry.get("passed") is None:
        return "skipped"
    if entry.get("passed"):
        return "passed"
    failures = _outcome(entry).get("failures") or []
    if failures and all(str(f).startswith(EXECUTION_FAILED) for f in failures):
        return "error"
    return "failed"


def _seconds(value: Any) -> str:
    return f"{float(value):.3f}" if isinstance(value, int | float) else "0.000"


def _observed_text(entry: Mapping[str, Any]) -> str:
    observed = dict(_outcome(entry).get("observed") or {})
    observed.pop("ids", None)
    observed.pop("members", None)  # hundreds of ids: in the JSON plan, not the CI report
    lines = []
    if _outcome(entry).get("execution_id"):
        lines.append(f"execution: {_outcome(entry)['execution_id']}")
    lines.append("observed: " + json.dumps(observed, sort_keys=True, default=str))
    if entry.get("diff"):
        lines.append("diff live -> desired: " + json.dumps(entry["diff"], sort_keys=True, default=str))
    return "\n".join(lines)


def junit_xml(
    entries: Sequence[Mapping[str, Any]],
    *,
    suite: str,
    timestamp: str = "",
    properties: Mapping[str, str] | None = None,
) -> str:
    statuses = [_status(e) for e in entries]
    total_time = sum(float(e.get("seconds") or 0.0) for e in entries)
    counts = {s: statuses.count(s) for s in ("failed", "error", "skipped")}
    root = ET.Element(
        "testsuites",
        name="mixops",
        tests=str(len(entries)),
        failures=str(counts["failed"]),
        errors=str(counts["error"]),
        time=_seconds(total_time),
    )
    attrs = {
        "name": suite,
        "tests": str(len(entries)),
        "failures": str(counts["failed"]),
        "errors": str(counts["error"]),
        "skipped": str(counts["skipped"]),
        "time": _seconds(total_time),
    }
    if timestamp:
        attrs["timestamp"] = timestamp
    testsuite = ET.SubElement(root, "testsuite", attrs)
    if properties:
        props = ET.SubElement(testsuite, "properties")
        for name, value in properties.items():
            ET.SubElement(props, "property", name=name, value=str(value))
    for entry, status in zip(entries, statuses, strict=True):
        case = ET.SubElement(
            testsuite,
            "testcase",
            name=str(entry["name"]),
            classname=str(entry.get("target", "")).replace("/", "."),
            time=_seconds(entry.get("seconds")),
        )
        failures = [str(f) for f in _outcome(entry).get("failures") or []]
        if status == "skipped":
            ET.SubElement(case, "skipped", message=str(entry.get("skipped") or "not run"))
        elif status in ("failed", "error"):
            tag = "failure" if status == "failed" else "error"
            element = ET.SubElement(
                case,
                tag,
                message=failures[0] if failures else "failed",
                type="AssertionError" if status == "failed" else "ExecutionError",
            )
            element.text = "\n".join(failures)
        if status != "skipped":
            ET.SubElement(case, "system-out").text = _observed_text(entry)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


__all__ = ["junit_xml"]
