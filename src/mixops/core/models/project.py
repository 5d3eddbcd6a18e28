"""`mixops.yaml`: the stack, where its manifests are, and its environments."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from mixops.core.models.common import Name, StrictModel

# The API takes a namespace name of 3 to 64 characters (CreateNamespaceRequest) and sends it
# back in the X-Namespace header: only characters that are safe there and in a URL path.
NAMESPACE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
URL_PATTERN = r"^https?://"
ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


class TestBudget(StrictModel):
    """Limits for one whole test run (plan, apply or `mixops test`)."""

    max_credits: float | None = Field(default=None, ge=0)
    max_time_ms: int | None = Field(default=None, ge=0)


class Environment(StrictModel):
    """Where an environment lives: the embedded local backend or a Mixpeek API."""

    target: Literal["local", "api"] | None = Field(
        default=None, description="`local` for the embedded backend; implied `api` when api_url is set."
    )
    api_url: str | None = Field(default=None, pattern=URL_PATTERN)
    namespace: str | None = Field(
        default=None,
        description="Namespace name (3 to 64 letters, digits, _ . -) or its ns_... id; sent as X-Namespace.",
        json_schema_extra={"minLength": 3, "maxLength": 64, "pattern": NAMESPACE_PATTERN},
    )
    api_key_env: str | None = Field(
        default=None, pattern=ENV_VAR_PATTERN, description="Name of the variable holding the API key."
    )
    parameters: dict[str, Any] = Field(default_factory=dict)
    protect: bool = Field(default=False, description="Deletes and replaces need --allow-delete.")
    seed: list[str] = Field(default_factory=list, description="Seed files for the local backend (target: local).")
    db: str | None = Field(default=None, description="SQLite file of the local backend (default .mixops/local.db).")
    test_budget: TestBudget | None = None
    request_deadline: float | None = Field(
        default=None,
        gt=0,
        description="Seconds one API call may take, retries included (default 60); "
        "MIXOPS_REQUEST_DEADLINE overrides it for a run.",
    )
    create_namespace: bool = Field(
        default=False,
        description="Create the namespace when it does not exist (API environments); otherwise a missing "
        "namespace is an error before anything else.",
    )
    lock: Literal["none", "lease"] = Field(
        default="none",
        description="`lease`: apply and promote take a lease in the namespace (a retriever "
        "`mixops_lock_<stack>`, removed when done) so that applies started anywhere run one at a time. "
        "`none` (default): mixops creates nothing the manifests do not declare; serialise applies in CI "
        "(GitHub Actions `concurrency:`, docs/ci.md).",
    )

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        if value is not None and not (3 <= len(value) <= 64 and re.fullmatch(NAMESPACE_PATTERN, value)):
            raise ValueError(
                f"invalid namespace {value!r} (a namespace is 3 to 64 letters, digits, `_`, `.` or `-`, "
                "starting with a letter or digit, or its ns_... id)"
            )
        return value

    @model_validator(mode="after")
    def _target(self) -> Environment:
        kind = self.kind
        if kind == "api":
            missing = [f for f in ("api_url", "namespace", "api_key_env") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"an API environment needs {', '.join(missing)} (or `target: local`)")
            if self.seed:
                raise ValueError("`seed` only applies to `target: local` environments")
        return self

    @property
    def kind(self) -> Literal["local", "api"]:
        if self.target is not None:
            return self.target
        return "api" if self.api_url else "local"


class ProjectConfig(StrictModel):
    """The project file at the root of a mixops project."""

    stack: Name = Field(description="Stack name: the ownership marker written on every resource.")
    manifests: list[str] = Field(default_factory=lambda: ["manifests/"], min_length=1)
    default_environment: str | None = None
    environments: dict[str, Environment] = Field(default_factory=lambda: {"local": Environment(target="local")})

    @model_validator(mode="after")
    def _default_env(self) -> ProjectConfig:
        if self.default_environment is not None and self.default_environment not in self.environments:
            raise ValueError(
                f"default_environment {self.default_environment!r} is not one of: {', '.join(self.environments)}"
            )
        if not self.environments:
            raise ValueError("declare at least one environment")
        return self

    def default_env_name(self) -> str:
        if self.default_environment:
            return self.default_environment
        return "local" if "local" in self.environments else next(iter(self.environments))
