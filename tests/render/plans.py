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
    Step(
        kind="retriever",
        name="product_search",
        action="create",
        desired=PRODUCT_SEARCH,
        params={"stages[0].config.parameters.final_top_k": ("search_top_k",), "collection_identifiers[0]": ("shop",)},
    ),
    Step(
        kind="retriever",
        name="tag_matcher",
        action="update",
        live_id="ret_11",
        wave=0,
        changes=(
            FieldChange(
                path="stages[0].config.parameters.final_top_k",
                old=20,
                new=25,
                surface="in_place",
                params=("search_top_k",),
            ),
            FieldChange(path="description", old=UNSET, new="Matches tags", surface="in_place"),
            FieldChange(path="tags", old=["old"], new=UNSET, surface="in_place"),
            FieldChange(path="collection_identifiers", old=["tags_v1"], new=["tags_v1", "tags_v2"], surface="in_place"),
        ),
    ),
    Step(
        kind="taxonomy",
        name="product_tags",
        action="version",
        live_id="tax_7",
        wave=1,
        depends_on=(("retriever", "tag_matcher"),),
        changes=(
            FieldChange(path="config.input_mappings[0].path", old="title", new="name", surface="new_version"),
            FieldChange(path="description", old="old", new="new", surface="in_place"),
            FieldChange(
                path="metadata.team", old="search", new="search-eu", surface="in_place", params=("region", "team")
            ),
        ),
        taxonomy_config="new_version",
    ),
    Step(
        kind="cluster",
        name="product_groups",
        action="replace",
        live_id="clu_3",
        replace_reasons=("vector_config.clustering_method",),
        changes=(
            FieldChange(path="vector_config.clustering_method", old="kmeans", new="hdbscan", surface="replace"),
            FieldChange(
                path="vector_config.algorithm_params",
                old={"n_clusters": 5, "init": "k-means++" * 20},
                new={"min_cluster_size": 4},
                surface="in_place",
            ),
        ),
    ),
    Step(
        kind="retriever",
        name="legacy_search",
        action="update",
        live_id="ret_9",
        adopt=True,
        changes=(FieldChange(path="metadata.owner", old="someone", new="team-search", surface="in_place"),),
    ),
    Step(kind="cluster", name="old_groups", action="delete", live_id="clu_1", wave=0),
    Step(
        kind="backfill",
        name="products/taxonomy/product_tags",
        action="backfill",
        live_id="col_1",
        depends_on=(("application", "products/taxonomy/product_tags"),),
        wave=3,
        desired={"collection": "products", "taxonomy_id": "product_tags"},
        documents=358,
        backfill_due=("taxonomy 'product_tags' gets a new version",),
    ),
    Step(kind="taxonomy", name="unchanged_tags", action="noop", live_id="tax_2"),
    Step(kind="cluster", name="steady_groups", action="noop", live_id="clu_8"),
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
    steps = (Step(kind="retriever", name="product_search", action="noop", live_id="ret_1"),)
    return Plan(steps=steps, fingerprints={"retriever/product_search": "fp"}, **header(environment="prod"))


def big_plan(n: int) -> Plan:
    """`n` creates with realistic specs and one failing test, for the size limit."""
    steps = tuple(
        Step(
            kind="retriever",
            name=f"search_{i:05d}",
            action="create",
            desired=PRODUCT_SEARCH | {"name": f"search_{i:05d}"},
        )
        for i in range(n)
    )
    warnings = tuple(f"warning number {i}" for i in range(60))
    return Plan(steps=steps, fingerprints={}, warnings=warnings, tests=TESTS[:1], **header())
