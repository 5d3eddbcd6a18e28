"""Renderers of a plan: text (terminal), JSON (machines, saved plans), Markdown (PR comments).

    render(plan, "text", color=True)        # terraform-like, ANSI only when asked
    render(plan, "json")                    # stable, versioned: docs/plan-json.md
    render(plan, "markdown", max_chars=N)   # fits a GitHub comment, cut with a note

Renderers only format: every decision is already in the `Plan` value.
"""

from __future__ import annotations

from typing import Literal

from mixops.core.plan import Plan
from mixops.render.render_json import render_json
from mixops.render.render_markdown import GITHUB_BUDGET, render_markdown
from mixops.render.render_text import render_text

__all__ = ["Format", "render"]

Format = Literal["text", "json", "markdown"]


def render(plan: Plan, fmt: Format | str, *, color: bool = False, max_chars: int = GITHUB_BUDGET) -> str:
    """`plan` as `fmt`; `color` affects text only, `max_chars` Markdown only."""
    if fmt == "text":
        return render_text(plan, color=color)
    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return render_markdown(plan, max_chars=max_chars)
    raise ValueError(f"unknown plan format {fmt!r} (text, json or markdown)")
