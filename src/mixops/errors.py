"""The one exception tree of mixops.

    MixopsError                  every error mixops raises on purpose (exit code 1)
    ├── ManifestError            problems in manifests or mixops.yaml; carries every Problem found
    ├── ProjectError             mixops.yaml missing or unusable, unknown environment
    ├── MissingExtraError        an optional dependency (`mixops[local]`) is not installed
    ├── SeedError                a seed file of the local backend cannot be read or loaded
    ├── DatabaseFileError        the local backend's database file is not SQLite (mixops.local.db)
    ├── ApiError                 Mixpeek answered with its error envelope (or not at all)
    ├── PaginationError          a list endpoint paged inconsistently (a repeated cursor, endless pages)
    ├── PlanError                the plan cannot be made (unowned resources, missing collections...)
    ├── StalePlanError           a saved plan no longer matches live state or manifests
    ├── LeaseError               the opt-in lease cannot be taken (the API refused or failed it)
    │   └── LeaseTimeoutError    another apply held the stack's lease past the wait
    ├── LeaseLostError           our lease expired and another run took it over
    ├── ApplyError               apply stopped part-way; carries the report of done / not done
    │   └── ReplacementTestsFailed  a replacement failed its tests before the swap (exit code 3)
    └── PromotionRefused         the source environment has not applied and passed these manifests

Foreign errors (pydantic, yaml, httpx) are translated once, at the boundary where
they happen; nothing above the ports ever sees them.

Outside the tree, on purpose (tests/arch/test_errors.py holds this list to the code):

- The local backend's own errors, the server side of the HTTP boundary: its app turns
  them into Mixpeek's error envelope, which the client reads as ApiError, so they never
  reach the CLI: mixops.local.problems.ApiProblem; mixops.local.engine.errors.EngineError
  and every subclass (BadRequest, NotFound, Unsupported, and the engines' own such as
  BudgetExceeded); mixops.local.app.BodyTooLarge (a Starlette HTTPException).
- Signals caught inside the module that raises them: mixops.core.testbodies.NotRunnable,
  mixops.ports.retry.RetryableResponse, mixops.ports.yamlsafe._Fatal,
  mixops.ports.yamlsafe._NotJson, mixops.ports.apply.StepSkipped,
  mixops.local.db.WouldWait, mixops.local.db.UniqueViolation. Deriving them from
  MixopsError would let an `except MixopsError` on the way swallow them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


def printable(text: str) -> str:
    """`text` as is when every character of it prints, else with those that do not as escapes
    (`\\x1b`, `\\u200b`): text read from a file or a namespace never acts on the terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can.

    Rendered as ``file:line:col: path: message (fix)``.
    """

    file: str
    line: int = 0
    col: int = 0
    path: str = ""
    message: str = ""
    fix: str = ""
    # The resource the problem belongs to, when it belongs to one ("retriever", "product_search"):
    # set on plan problems, so a renderer never has to recover a name from the message.
    kind: str = ""
    name: str = ""

    def render(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.col or 1}"
        out = f"{printable(where)}: "
        if self.path:
            # A path holds keys as written in the file: an escape sequence there must not reach the terminal.
            out += f"{printable(self.path)}: "
        out += self.message
        if self.fix:
            out += f" ({self.fix})"
        return out

    def render_github(self) -> str:
        """A GitHub Actions workflow command: shows inline on the pull request's diff."""

        def esc(text: str, prop: bool = False) -> str:
            text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            return text.replace(":", "%3A").replace(",", "%2C") if prop else text

        props = f"file={esc(self.file, True)}," if self.file else ""
        if self.file and self.line:
            props += f"line={self.line},col={self.col or 1},"
        body = f"{self.path}: {self.message}" if self.path else self.message
        if self.fix:
            body += f" ({self.fix})"
        return f"::error {props}title=mixops::{esc(body)}"

    def render_plain(self) -> str:
        """The message and its fix, without the location: one line of a plan error's list."""
        return f"{self.message} ({self.fix})" if self.fix else self.message

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "path": self.path,
            "message": self.message,
            "fix": self.fix,
        }
        if self.kind:
            out["kind"] = self.kind
            out["name"] = self.name
        return out


# The `error.type` Mixpeek's envelope carries for an HTTP status: what the local backend
# sends, and what the client assumes when a body names no type.
STATUS_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class MixopsError(Exception):
    """Root of every error mixops raises on purpose."""

    exit_code = 1


class ManifestError(MixopsError):
    """Manifests (or mixops.yaml) are invalid; holds ALL problems found in the run."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(p.render() for p in self.problems))


class ProjectError(MixopsError):
    """The project cannot be used: no mixops.yaml, unknown environment, missing API key."""


class MissingExtraError(MixopsError):
    """An optional dependency group is not installed."""


class DatabaseFileError(MixopsError):
    """The local backend's database file exists but is not a SQLite database it can use."""


class SeedError(MixopsError):
    """A seed file of the local backend cannot be read or loaded; the message names the file and the entry.

    ``needs_reset``: the local database disagrees with the seed in a way only
    `mixops local reset` repairs (the caller that knows the environment names it).
    """

    def __init__(self, message: str, *, needs_reset: bool = False) -> None:
        super().__init__(message)
        self.needs_reset = needs_reset


@dataclass
class ApiErrorInfo:
    status: int
    type: str = "unknown"
    code: str | None = None
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


class ApiError(MixopsError):
    """Mixpeek (or the local backend) answered with an error, or could not be reached."""

    def __init__(self, method: str, url: str, info: ApiErrorInfo) -> None:
        self.method = method
        self.url = url
        self.info = info
        code = f"/{info.code}" if info.code else ""
        super().__init__(f"{method} {url}: HTTP {info.status} {info.type}{code}: {info.message}")

    @property
    def status(self) -> int:
        return self.info.status


class PaginationError(MixopsError):
    """A list endpoint paged inconsistently (a repeated cursor, pages that never end)."""


class PlanError(MixopsError):
    """The plan cannot be built (for example, a same-name resource this stack does not own).

    ``problems`` holds what was found, each located at the manifest entry that caused it
    when there is one (file empty otherwise); the message is their text for a reader.
    """

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        self.problems = tuple(problems)
        super().__init__(message)

    @classmethod
    def of(cls, header: str, problems: Sequence[Problem]) -> PlanError:
        """``header:`` then one indented line per problem, located (``file:line:col: ...``) where
        it has a place in the manifests; unlocated problems with the same text are listed once."""
        lines = dict.fromkeys(p.render() if p.file else p.render_plain() for p in problems)
        return cls(f"{header}:\n  " + "\n  ".join(lines), problems)


class StalePlanError(MixopsError):
    """A saved plan was made against live state or manifests that have changed since."""


class LeaseError(MixopsError):
    """The opt-in lease (`lock: lease`) cannot be taken: the API refused the lease resource, or failed."""


class LeaseTimeoutError(LeaseError):
    """Another apply holds the stack's lease and did not release it in time."""


class LeaseLostError(MixopsError):
    """Our lease expired and was taken over while we held it."""


class ApplyError(MixopsError):
    """Apply stopped after a failed step; ``report`` says what was done and what was not."""

    def __init__(self, message: str, report: Any = None) -> None:
        self.report = report
        super().__init__(message)


class ReplacementTestsFailed(ApplyError):
    """A replacement failed its tests before the swap; the old resource was left serving."""

    exit_code = 3  # as `mixops test` when a test fails


class PromotionRefused(MixopsError):
    """The source environment does not run, or has not passed tests for, the current manifests."""


__all__ = [
    "STATUS_TYPES",
    "ApiError",
    "ApiErrorInfo",
    "ApplyError",
    "LeaseError",
    "LeaseLostError",
    "LeaseTimeoutError",
    "ManifestError",
    "MissingExtraError",
    "MixopsError",
    "PaginationError",
    "PlanError",
    "Problem",
    "ProjectError",
    "PromotionRefused",
    "ReplacementTestsFailed",
    "SeedError",
    "StalePlanError",
]
