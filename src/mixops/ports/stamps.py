"""Records written on owned resources: what digest was applied, and how its tests went.

Promotion (`mixops promote --from A --to B`) must know, from the namespace of A
alone, that A runs exactly the current manifests and that they were tested
there. Every resource this stack declares carries two metadata keys:

    mixops_applied: <Stack.digest()>                    # after every apply
    mixops_tests:   {digest: ..., passed: bool, at: ISO, counts: {passed: N, ...}}
                                                         # after every run of the WHOLE test set

An apply stamps `mixops_applied` on the resources it touched AND on the
unchanged ones (a metadata-only PATCH, skipped when the stamp is already
right), so a change that only touched tests or one resource still moves the
whole namespace to the new digest. A new digest drops the old test record:
tests of another digest say nothing about this one.

A run is recorded only when it ran every declared test: `mixops test` without
`-k`, and `mixops apply` when its selection covered every test (`--tests all`,
or a change that touched every test's target). A run passes when no test
failed or errored (core/outcomes.green): skipped tests say why, and their
number is in `counts`, which promotion shows.

Both keys are in `normalise.OWNER_KEYS`, so they never show up in a diff.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mixops.core.live import LiveResource, LiveState
from mixops.core.normalise import APPLICATIONS_KEY
from mixops.core.outcomes import TestOutcome, count, green
from mixops.core.stack import KINDS, Stack
from mixops.errors import MixopsError
from mixops.ports.client import MixpeekClient
from mixops.ports.live_reader import read_live

APPLIED_KEY = "mixops_applied"
TESTS_KEY = "mixops_tests"
# Application entries have no metadata of their own: their collection's records cover them
# (an entry's ownership record lives on the collection, core/normalise.APPLICATIONS_KEY).
STAMPED_KINDS = tuple(k for k in KINDS if k != "application")


def declared_owned(stack: Stack, live: LiveState) -> Iterable[LiveResource]:
    """The live resources this stack declares and owns (what the records live on)."""
    owner = stack.project.stack
    for kind in STAMPED_KINDS:
        for name in sorted(stack.resources(kind)):
            res = live.resources.get((kind, name))
            if res is not None and res.owner_stack == owner:
                yield res


async def patch_metadata(client: MixpeekClient, res: LiveResource, metadata: dict[str, Any]) -> None:
    """Replace a resource's metadata and nothing else (every kind's PATCH takes it in place)."""
    body = {"metadata": metadata}
    if res.kind == "retriever":
        await client.patch_retriever(res.id, body)
    elif res.kind == "taxonomy":
        await client.patch_taxonomy(res.id, body)
    elif res.kind == "collection":
        # The per-entry application records as they are now: another stack may have attached
        # (or removed) an entry since `res` was read, and a PATCH replaces the whole metadata.
        current = await client.get_collection(res.id)
        records = (current.get("metadata") or {}).get(APPLICATIONS_KEY)
        meta = {k: v for k, v in metadata.items() if k != APPLICATIONS_KEY}
        await client.patch_collection(
            res.id, {"metadata": {**meta, **({APPLICATIONS_KEY: records} if records else {})}}
        )
    else:
        await client.patch_cluster(res.id, body)


async def stamp_applied(client: MixpeekClient, stack: Stack, namespace: str, live: LiveState | None = None) -> int:
    """Record the manifests' digest on every declared, owned resource; returns how many were patched."""
    live = live if live is not None else await read_live(client, namespace)
    digest = stack.digest()
    stale = [res for res in declared_owned(stack, live) if res.metadata.get(APPLIED_KEY) != digest]

    def stamped(res: LiveResource) -> dict[str, Any]:
        meta = {k: v for k, v in res.metadata.items() if k != TESTS_KEY}
        return {**meta, APPLIED_KEY: digest}

    # Concurrently: the client's parallelism bounds the requests in flight.
    await _patch_all(client, [(res, stamped(res)) for res in stale], "the applied digest")
    return len(stale)


async def stamp_tests(
    client: MixpeekClient,
    stack: Stack,
    namespace: str,
    passed: bool,
    *,
    counts: Mapping[str, int] | None = None,
    at: str | None = None,
    live: LiveState | None = None,
) -> int:
    """Record the outcome of a run of the whole test set of the manifests' digest; returns how many
    resources were patched. `counts`: tests per status (`{"passed": 19, "skipped": 2}`)."""
    live = live if live is not None else await read_live(client, namespace)
    record: dict[str, Any] = {
        "digest": stack.digest(),
        "passed": passed,
        "at": at or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }
    if counts is not None:
        record["counts"] = {str(k): int(v) for k, v in counts.items() if v}
    owned = list(declared_owned(stack, live))
    await _patch_all(client, [(res, {**res.metadata, TESTS_KEY: record}) for res in owned], "the test outcome")
    return len(owned)


async def record_run(client: MixpeekClient, stack: Stack, namespace: str, outcomes: Sequence[TestOutcome]) -> int:
    """Record a run of the whole test set: passing when none failed or errored, with its counts."""
    counts = {str(status): n for status, n in count(outcomes).items()}
    return await stamp_tests(client, stack, namespace, green(outcomes), counts=counts)


async def _patch_all(client: MixpeekClient, patches: list[tuple[LiveResource, dict[str, Any]]], what: str) -> None:
    """Every patch runs to its end; then one error names how many failed and the first failure."""
    results = await asyncio.gather(
        *(patch_metadata(client, res, meta) for res, meta in patches), return_exceptions=True
    )
    failures = [(res, r) for (res, _), r in zip(patches, results, strict=True) if isinstance(r, BaseException)]
    if not failures:
        return
    for _, err in failures:
        if not isinstance(err, Exception):  # cancellation and the like: not ours to summarise
            raise err
    res, first = failures[0]
    cause = str(first) if isinstance(first, MixopsError) else f"internal error: {type(first).__name__}: {first}"
    raise MixopsError(
        f"recording {what} failed on {len(failures)} of {len(patches)} resources "
        f"(first: {res.kind} {res.name!r}: {cause}); the changes themselves are applied, run the command again"
    ) from first


@dataclass(frozen=True)
class Records:
    """What a namespace says about one stack digest (pure reading of the stamps)."""

    digest: str
    missing: tuple[str, ...]  # declared resources (and application entries) absent
    other_digest: tuple[tuple[str, str | None], ...]  # (resource, its mixops_applied)
    untested: tuple[str, ...]  # no test record for this digest
    failed: tuple[tuple[str, str], ...]  # (resource, when the failing run happened)
    declared: int
    # The passing run of this digest, when every declared resource records it: when it ran
    # and its tests per status (empty for records written before counts were kept).
    tested_at: str | None = None
    counts: tuple[tuple[str, int], ...] = ()
    # The application entries the manifests declare that are attached and recorded as this
    # stack's there (names). They carry no stamps of their own (their collection may be another
    # stack's), so the gate checks that each is there; absent ones are in `missing`.
    entries: tuple[str, ...] = ()
    # Declared resources and entries present there but recorded for another stack, or for
    # none: (resource, that stack or None). An apply would refuse them until adopted.
    foreign: tuple[tuple[str, str | None], ...] = ()

    @property
    def applied(self) -> bool:
        return self.declared > 0 and not self.missing and not self.other_digest and not self.foreign

    @property
    def tests_passed(self) -> bool:
        return self.applied and not self.untested and not self.failed


def read_records(stack: Stack, live: LiveState) -> Records:
    digest = stack.digest()
    owner = stack.project.stack
    missing, other, untested, failed = [], [], [], []
    foreign: list[tuple[str, str | None]] = []
    runs: list[dict[str, Any]] = []
    declared = 0
    for kind in STAMPED_KINDS:
        for name in sorted(stack.resources(kind)):
            declared += 1
            label = f"{kind} {name!r}"
            res = live.resources.get((kind, name))
            if res is None:
                missing.append(label)
                continue
            if res.owner_stack != owner:
                foreign.append((label, res.owner_stack))
                continue
            applied = res.metadata.get(APPLIED_KEY)
            if applied != digest:
                other.append((label, None if applied is None else str(applied)))
                continue
            tests = res.metadata.get(TESTS_KEY)
            if not isinstance(tests, dict) or tests.get("digest") != digest:
                untested.append(label)
            elif tests.get("passed") is not True:
                failed.append((label, str(tests.get("at") or "unknown time")))
            else:
                runs.append(tests)
    tested_at, counts = _one_run(runs) if runs and len(runs) == declared else (None, ())
    entries = []
    for name in sorted(stack.applications):
        entry = live.resources.get(("application", name))
        if entry is None:
            missing.append(f"application {name!r}")
        elif entry.owner_stack != owner:
            foreign.append((f"application {name!r}", entry.owner_stack))
        else:
            entries.append(name)
    return Records(
        digest,
        tuple(missing),
        tuple(other),
        tuple(untested),
        tuple(failed),
        declared,
        tested_at,
        counts,
        tuple(entries),
        tuple(foreign),
    )


def _one_run(runs: list[dict[str, Any]]) -> tuple[str | None, tuple[tuple[str, int], ...]]:
    """When and with what counts the recorded run happened, if every resource records the same one."""
    first = runs[0]
    if any(r.get("at") != first.get("at") or r.get("counts") != first.get("counts") for r in runs):
        return None, ()
    raw = first.get("counts")
    counts = (
        tuple((str(k), v) for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool))
        if isinstance(raw, dict)
        else ()
    )
    at = first.get("at")
    return (at if isinstance(at, str) else None), counts
