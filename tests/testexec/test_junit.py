"""JUnit XML: well-formed, valid against the JUnit schema CI servers use, and truthful."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from mixops.core.outcomes import Execution, SkippedCheck, TestOutcome
from mixops.render.junit import junit_xml

SCHEMA = Path(__file__).with_name("junit.xsd")


OBSERVED = {"top": [{"rank": 1, "id": "doc_1"}]}


def ran(name: str, execution: Execution) -> TestOutcome:
    outcome = TestOutcome.ran(name, "retriever", "product_search", "applied", execution)
    return outcome.model_copy(update={"seconds": 0.25})


ENTRIES = [
    ran("passes", Execution.verdict([], OBSERVED)),
    ran(
        'fails <&> "quoted"',
        Execution.verdict(["top_k: doc_9 must be in the top 3, observed at rank 7 (execution exec_1)"], OBSERVED),
    ),
    ran("errors", Execution.error("HTTP 400 bad stage")),
    TestOutcome.skipped("skipped", "retriever", "product_search", "applied", "test budget: 10 of 10 credits used"),
    ran(
        "passes, one check skipped",
        Execution.verdict([], OBSERVED, skipped_checks=[SkippedCheck(check="same_cluster", reason="no membership")]),
    ),
]


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA))


def test_report_validates_against_the_junit_schema(schema: xmlschema.XMLSchema, tmp_path: Path) -> None:
    xml = junit_xml(
        ENTRIES,
        suite="mixops.catalog.local",
        timestamp="2025-01-01T00:00:00+00:00",
        properties={"environment": "local"},
    )
    path = tmp_path / "report.xml"
    path.write_text(xml, encoding="utf-8")
    schema.validate(str(path))


def test_counts_and_elements_tell_what_happened() -> None:
    root = ET.fromstring(junit_xml(ENTRIES, suite="s"))
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "5",
        "1",
        "1",
        "1",
    )
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["passes"].find("failure") is None and cases["passes"].find("error") is None
    failure = cases['fails <&> "quoted"'].find("failure")
    assert failure is not None and "doc_9" in (failure.get("message") or "") and "exec_1" in (failure.text or "")
    error = cases["errors"].find("error")
    assert error is not None and "HTTP 400 bad stage" in (error.get("message") or "")
    skipped = cases["skipped"].find("skipped")
    assert skipped is not None and "test budget" in (skipped.get("message") or "")
    assert cases["passes"].get("classname") == "retriever.product_search"
    out = cases['fails <&> "quoted"'].find("system-out")
    assert out is not None and "doc_1" in (out.text or "")
    partial = cases["passes, one check skipped"]
    assert partial.find("skipped") is None and partial.find("failure") is None  # the test passed
    out = partial.find("system-out")
    assert out is not None and "skipped check same_cluster: no membership" in (out.text or "")


def test_an_invalid_report_is_caught_by_the_schema(schema: xmlschema.XMLSchema) -> None:
    # The check has teeth: a testcase without a name is not a JUnit report.
    bad = '<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase/></testsuite></testsuites>'
    assert not schema.is_valid(bad)
