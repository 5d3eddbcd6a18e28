"""Plan values built by hand: one of every action, warnings, and test outcomes."""

from __future__ import annotations

from typing import Any

from mixops.core.outcomes import Execution, SkippedCheck, TestOutcome
from mixops.core.plan import FieldChange, Plan, Step

UNSET = "(unset)"


def header(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "stack": "catalog",
        "environment": "staging",
        "namespace": "catalog-staging",
        "target": "https://api.mixpeek.com",
        "manifest_digest": "sha256:4f2a9c",
        "created_at": "2025-01-01T00:00:00+00:00",
    }
    return base | kw


PRODUCT_SEARCH = {
    "name": "product_search",
    "collection_identifiers": ["products"],
    "description": "Storefront search",
    "input_schema": {"query": {"type": "text", "required": True}},
    "stages": [
        {
            "stage_name": "search",
            "stage_type": "filter",
            "config": {
                "stage_id": "feature_search",
                "parameters": {
                    "searches": [
                        {
                            "feature_uri": "mixpeek://text_extractor@v1/embedding",
                            "top_k": 100,
                            "query": {"input_mode": "text", "value": "{{INPUT.query}}"},
                        }
                    ],
                    "final_top_k": 25,
                },
            },
        }
    ],
    "metadata": {"api_key": "***"},  # a secret, masked by normalisation before the plan
}

STEPS = (
    Step("retriever", "product_search", "create", desired=PRODUCT_SEARCH),
    Step(
        "retriever",
        "tag_matcher",
        "update",
        live_id="ret_11",
        wave=0,
        changes=(
            FieldChange("stages[0].config.parameters.final_top_k", 20, 25, "in_place"),
            FieldChange("description", UNSET, "Matches tags", "in_place"),
            FieldChange("tags", ["old"], UNSET, "in_place"),
            FieldChange("collection_identifiers", ["tags_v1"], ["tags_v1", "tags_v2"], "in_place"),
        ),
    ),
    Step(
        "taxonomy",
        "product_tags",
        "version",
        live_id="tax_7",
        wave=1,
        depends_on=(("retriever", "tag_matcher"),),
        changes=(
            FieldChange("config.input_mappings[0].path", "title", "name", "new_version"),
            FieldChange("description", "old", "new", "in_place"),
        ),
        taxonomy_config="new_version",
    ),
    Step(
        "cluster",
        "product_groups",
        "replace",
        live_id="clu_3",
        replace_reasons=("vector_config.clustering_method",),
        changes=(
            FieldChange("vector_config.clustering_method", "kmeans", "hdbscan", "replace"),
            FieldChange(
                "vector_config.algorithm_params",
                {"n_clusters": 5, "init": "k-means++" * 20},
                {"min_cluster_size": 4},
                "in_place",
            ),
        ),
    ),
    Step(
        "retriever",
        "legacy_search",
        "update",
        live_id="ret_9",
        adopt=True,
        changes=(FieldChange("metadata.owner", "someone", "team-search", "in_place"),),
    ),
    Step("cluster", "old_groups", "delete", live_id="clu_1", wave=0),
    Step("taxonomy", "unchanged_tags", "noop", live_id="tax_2"),
    Step("cluster", "steady_groups", "noop", live_id="clu_8"),
)

# Outcomes built with the runner's own builders (core/outcomes.py): a renamed or
# retyped field breaks these, not only the runner.
TESTS = (
    TestOutcome.ran(
        "running shoes come first",
        "retriever",
        "product_search",
        "plan",
        Execution.verdict(
            ["expected a document with category=running in the top 3; none"],
            {"top": ["doc_9", "doc_2", "doc_4"]},
            "exec_42",
        ),
        live=Execution.verdict([], {}),
        diff={
            "k": 3,
            "entered": ["doc_9"],
            "left": ["doc_1"],
            "moved": [["doc_2", 3, 2]],
            "overlap_at_k": 0.667,
            "rbo": 0.512,
            "metric_deltas": {"ndcg@10": [0.91, 0.64], "recall@10": [1.0, 0.5], "results": [10, 10]},
            "unchanged": False,
        },
    ),
    TestOutcome.ran(
        "sneakers get the footwear tag",
        "taxonomy",
        "product_tags",
        "plan",
        Execution.verdict([], {}),
        live=Execution.verdict([], {}),
        diff={
            "label_changes": [[0, ["footwear"], ["footwear", "sale"]]],
            "field_changes": [[0, "category", "shoes", "footwear"]],
            "unchanged": False,
        },
    ),
    TestOutcome.ran(
        "groups stay well separated | strict",
        "cluster",
        "product_groups",
        "plan",
        Execution.verdict(
            [],
            {"num_clusters": 4},
            skipped_checks=[SkippedCheck(check="same_cluster", reason="the API returned no cluster membership")],
        ),
        live=Execution.verdict([], {"num_clusters": 5}),
        diff={
            "cluster": {
                "num_clusters": [5, 4],
                "silhouette": [0.31, 0.27],
                "davies_bouldin": [None, None],
                "ari": 0.82,
                "documents_compared": 40,
            },
            "unchanged": False,
        },
    ),
    TestOutcome.ran(
        "neutral change keeps results",
        "retriever",
        "tag_matcher",
        "plan",
        Execution.verdict([], {}),
        live=Execution.verdict([], {}),
        diff={"k": 10, "entered": [], "left": [], "moved": [], "overlap_at_k": 1.0, "rbo": 1.0, "unchanged": True},
    ),
    TestOutcome.ran("new retriever answers", "retriever", "brand_new", "plan", Execution.verdict([], {})),
    TestOutcome.skipped(
        "stays within budget",
        "retriever",
        "product_search",
        "plan",
        "the run's test_budget (50 credits) would be exceeded",
    ),
    TestOutcome.ran(
        "the matcher answers",
        "retriever",
        "tag_matcher",
        "plan",
        Execution.error("HTTP 503 service_unavailable: try again later", "exec_7"),
    ),
)


def full_plan() -> Plan:
    warnings = ("retriever 'orphan' is owned by this stack but no longer declared (--prune deletes it)",)
    return Plan(
        steps=STEPS,
        fingerprints={"retriever/tag_matcher": "fp1", "cluster/old_groups": "fp2"},
        warnings=warnings,
        tests=TESTS,
        capabilities={
            "taxonomy_versions": {"present": True, "evidence": "present: GET /v1/taxonomies/tax_7/versions answers"}
        },
        **header(),
    )


def noop_plan() -> Plan:
    steps = (Step("retriever", "product_search", "noop", live_id="ret_1"),)
    return Plan(steps=steps, fingerprints={"retriever/product_search": "fp"}, **header(environment="prod"))


def big_plan(n: int) -> Plan:
    """`n` creates with realistic specs and one failing test, for the size limit."""
    steps = tuple(
        Step("retriever", f"search_{i:05d}", "create", desired=PRODUCT_SEARCH | {"name": f"search_{i:05d}"})
        for i in range(n)
    )
    warnings = tuple(f"warning number {i}" for i in range(60))
    return Plan(steps=steps, fingerprints={}, warnings=warnings, tests=TESTS[:1], **header())
