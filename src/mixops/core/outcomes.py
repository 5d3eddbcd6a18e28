"""Test outcomes: what the test runner returns and every renderer reads (pure).

A test has one `Status`:

* ``passed``  every expectation that could be checked held;
* ``failed``  an expectation did not hold: a verdict on the configuration (exit 3);
* ``error``   the execution itself failed (an API error after retries, a failed run):
  no verdict, the run is broken (exit 1);
* ``skipped`` the test did not run (a budget stop, a configuration that cannot be
  executed yet, a capability the API lacks), with the reason.

A check inside a test that could not be made (say `same_cluster` when the API
returns no membership) is a `SkippedCheck` of the execution, with its reason: the
rest of the test still gives the verdict, and renderers show what was skipped.

`Execution` is one execution against one configuration (the desired one, or at
plan time the live one); `TestOutcome` is the test, with up to two executions and
the behavioural diff between them (core/behaviour.py). The JSON of a plan carries
`TestOutcome.to_json()`; `TestOutcome.model_validate` reads it back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["retriever", "taxonomy", "cluster"]
Phase = Literal["plan", "applied"]


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SkippedCheck(_Frozen):
    """An expectation that was not checked, and why (e.g. the API returns no cluster membership)."""

    check: str = Field(description="The expectation, e.g. `same_cluster`.")
    reason: str = Field(description="Why it was not checked.")


class Execution(_Frozen):
    """One execution of a test against one configuration."""

    status: Literal[Status.PASSED, Status.FAILED, Status.ERROR] = Field(
        description="`passed`, `failed` (an expectation did not hold) or `error` (the execution failed)."
    )
    failures: tuple[str, ...] = Field(
        default=(), description="One message per failed expectation: expected vs observed."
    )
    reason: str | None = Field(default=None, description="`error`: why the execution failed.")
    observed: dict[str, Any] = Field(
        default_factory=dict,
        description="What the test looked at (top results with the fields it checked, metrics, latency); "
        "free-form per kind.",
    )
    execution_id: str | None = Field(
        default=None, description="The Mixpeek execution (or cluster run), when the API returned one."
    )
    skipped_checks: tuple[SkippedCheck, ...] = Field(
        default=(),
        description="Expectations that were not checked, with why (e.g. `same_cluster` when the API returns no "
        "membership): the rest of the test still gives its status.",
    )

    @classmethod
    def verdict(
        cls,
        failures: Iterable[str],
        observed: Mapping[str, Any],
        execution_id: str | None = None,
        skipped_checks: Iterable[SkippedCheck] = (),
    ) -> Execution:
        """Passed when no expectation failed, else failed."""
        failed = tuple(failures)
        return cls(
            status=Status.FAILED if failed else Status.PASSED,
            failures=failed,
            observed=dict(observed),
            execution_id=execution_id,
            skipped_checks=tuple(skipped_checks),
        )

    @classmethod
    def error(cls, reason: str, execution_id: str | None = None) -> Execution:
        """The execution itself failed: no verdict on the configuration."""
        return cls(status=Status.ERROR, reason=reason, observed={"error": reason}, execution_id=execution_id)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED


class TestOutcome(_Frozen):
    """One test's outcome, as the runner returns it and every renderer reads it."""

    __test__ = False  # not a pytest class

    name: str = Field(description="The test's name from the manifests.")
    kind: Kind = Field(description="`retriever`, `taxonomy` or `cluster`.")
    target: str = Field(description="`kind/name` of the resource under test, e.g. `retriever/product_search`.")
    phase: Phase = Field(description="`plan` (against the desired config) or `applied` (against applied resources).")
    status: Status = Field(
        description="`passed`, `failed` (an expectation did not hold), `error` (the execution itself failed, "
        "e.g. HTTP 503 after retries: no verdict) or `skipped` (the test did not run). Same as `desired.status` "
        "when the test ran."
    )
    reason: str | None = Field(
        default=None,
        description="`skipped` and `error`: why (e.g. the run's `test_budget` would be exceeded, the desired "
        "config cannot be executed yet, the API lacks a capability).",
    )
    desired: Execution | None = Field(
        default=None,
        description="Execution against the desired config (after apply: against the applied resources); `null` "
        "when skipped.",
    )
    live: Execution | None = Field(
        default=None,
        description="Plan time: the same execution against the live config; `null` when the target does not "
        "exist live yet.",
    )
    diff: dict[str, Any] | None = Field(
        default=None,
        description="The behavioural diff live -> desired (see `tests[].diff` below); `null` without a live run.",
    )
    seconds: float | None = Field(default=None, description="Wall time of the test.")

    @classmethod
    def ran(
        cls,
        name: str,
        kind: Kind,
        resource: str,
        phase: Phase,
        desired: Execution,
        *,
        live: Execution | None = None,
        diff: Mapping[str, Any] | None = None,
        seconds: float | None = None,
    ) -> TestOutcome:
        """A test that executed against the desired config: its status is that execution's."""
        return cls._of(
            name,
            kind,
            resource,
            phase,
            status=desired.status,
            reason=desired.reason,
            desired=desired,
            live=live,
            diff=dict(diff) if diff is not None else None,
            seconds=seconds,
        )

    @classmethod
    def skipped(
        cls,
        name: str,
        kind: Kind,
        resource: str,
        phase: Phase,
        reason: str,
        *,
        live: Execution | None = None,
        seconds: float | None = None,
    ) -> TestOutcome:
        """A test that did not run against the desired config (at plan time the live side may have)."""
        return cls._of(name, kind, resource, phase, status=Status.SKIPPED, reason=reason, live=live, seconds=seconds)

    @classmethod
    def _of(cls, name: str, kind: Kind, resource: str, phase: Phase, **outcome: Any) -> TestOutcome:
        """The fields every outcome has (the test, its target `kind/resource`, the phase), then `outcome`."""
        return cls(name=name, kind=kind, target=f"{kind}/{resource}", phase=phase, **outcome)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    @property
    def skipped_checks(self) -> tuple[SkippedCheck, ...]:
        return self.desired.skipped_checks if self.desired is not None else ()

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def count(outcomes: Iterable[TestOutcome]) -> dict[Status, int]:
    """How many outcomes have each status (every status present, in enum order)."""
    out = dict.fromkeys(Status, 0)
    for o in outcomes:
        out[o.status] += 1
    return out


def green(outcomes: Iterable[TestOutcome]) -> bool:
    """True when no test failed or errored: what exit code 0 means, and what promotion's gate accepts.

    Skipped tests (and skipped checks) do not make a run red: they say why they did not
    run, and every summary shows how many there were.
    """
    return not any(o.status in (Status.FAILED, Status.ERROR) for o in outcomes)


def tally(counts: Mapping[str, int] | Mapping[Status, int]) -> str:
    """`19 passed, 2 skipped`: passed always, the other statuses when there are any."""
    by_name = {str(k): v for k, v in counts.items()}
    shown = [s for s in Status if s is Status.PASSED or by_name.get(str(s), 0)]
    return ", ".join(f"{by_name.get(str(s), 0):,} {s}" for s in shown)


def warnings(outcomes: Iterable[TestOutcome]) -> list[str]:
    """One line per test or check that was skipped, saying why: what a user must know is unproven."""
    lines = []
    for o in outcomes:
        if o.status is Status.SKIPPED:
            lines.append(f"test {o.name!r} was skipped: {o.reason}")
        for check in o.skipped_checks:
            lines.append(f"test {o.name!r}: check {check.check} was skipped: {check.reason}")
    return lines


__all__ = [
    "Execution",
    "Kind",
    "Phase",
    "SkippedCheck",
    "Status",
    "TestOutcome",
    "count",
    "green",
    "tally",
    "warnings",
]
