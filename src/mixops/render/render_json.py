"""The JSON plan: exactly what `mixops plan --out` saves, so either can be applied.

Stable by construction: `Plan.dumps()` sorts keys and indents by 2, steps keep
the plan's order (waves, kind, name), and `format` versions the schema
(docs/plan-json.md). Nothing is added here, so a rendered plan round-trips
through `Plan.from_json`.
"""

from __future__ import annotations

from mixops.core.plan import Plan


def render_json(plan: Plan) -> str:
    return plan.dumps()
