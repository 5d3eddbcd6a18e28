"""The official `mixpeek` SDK (a test-only dependency) against `mixops serve` over loopback.

Creates, gets, lists, patches, clones and deletes a retriever, a taxonomy and a
cluster, and executes the retriever, through the SDK's own generated models, so
the local backend's request and response shapes are checked by the SDK itself.
Deviations from the SDK are listed in the README ("Local backend vs the SDK").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mixpeek
import pytest
import yaml
from tests.support.fixtures import search_stage
from tests.support.server import serve_in_thread

from mixops.local.app import create_app

NAMESPACE = "sdk-ns"
KEY = "sk_sdk_test"
TEXT_EXTRACTOR = {"feature_extractor_name": "text_extractor", "version": "v1", "input_mappings": {"text": "title"}}
PRODUCTS = [
    {"document_id": "doc_a1", "title": "red running shoes", "category": "running"},
    {"document_id": "doc_a2", "title": "trail running shoes", "category": "running"},
    {"document_id": "doc_a3", "title": "leather hiking boots", "category": "hiking"},
    {"document_id": "doc_a4", "title": "waterproof hiking jacket", "category": "hiking"},
    {"document_id": "doc_a5", "title": "cotton yoga mat", "category": "yoga"},
    {"document_id": "doc_a6", "title": "foam yoga block", "category": "yoga"},
]
TAGS = [
    {"document_id": "doc_t1", "tag": "footwear", "label": "footwear", "title": "running shoes boots footwear"},
    {"document_id": "doc_t2", "tag": "outdoor", "label": "outdoor", "title": "hiking outdoor jacket"},
]
SEARCH_STAGE: dict[str, Any] = search_stage(20, 3)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("sdk")
    seed = tmp / "seed.yaml"
    seed.write_text(
        yaml.safe_dump(
            {
                "collections": [
                    {"collection_name": "products", "feature_extractor": TEXT_EXTRACTOR, "documents": PRODUCTS},
                    {"collection_name": "tags", "feature_extractor": TEXT_EXTRACTOR, "documents": TAGS},
                ]
            }
        )
    )
    app = create_app(Path(tmp / "local.db"), api_keys=[KEY], seed_files=[seed], seed_namespace=NAMESPACE)
    with serve_in_thread(app) as url:
        yield url
    app.state.local.close()


@pytest.fixture
def api(base_url: str) -> Any:
    config = mixpeek.Configuration(host=base_url, access_token=KEY, api_key={"NamespaceHeader": NAMESPACE})
    return mixpeek.ApiClient(config)


def test_retriever_lifecycle_and_execute(api: Any) -> None:
    from mixpeek.models import CloneRetrieverRequest, CreateRetrieverRequest, PatchRetrieverRequest

    retrievers = mixpeek.RetrieversApi(api)
    created = retrievers.create_retriever(
        CreateRetrieverRequest.from_dict(
            {
                "retriever_name": "sdk_search",
                "collection_identifiers": ["products"],
                "input_schema": {"query": {"type": "text", "required": True}},
                "stages": [SEARCH_STAGE],
                "metadata": {"team": "search"},
            }
        )
    )
    rid = created.retriever_id
    assert rid and rid.startswith("ret_")
    got = retrievers.get_retriever(rid)
    assert got.retriever_name == "sdk_search" and got.version == 1
    listed = retrievers.list_retrievers()
    assert rid in [r.retriever_id for r in listed.results]

    patched = retrievers.patch_retriever(rid, PatchRetrieverRequest.from_dict({"description": "patched"}))
    assert patched.retriever.description == "patched" and patched.retriever.version == 2

    from mixpeek.models import ExecuteRetrieverRequest

    result = retrievers.execute_retriever(
        rid, ExecuteRetrieverRequest.from_dict({"inputs": {"query": "running shoes"}})
    )
    assert result.status == "completed"
    top = [d["document_id"] for d in result.documents]
    assert set(top[:2]) == {"doc_a1", "doc_a2"}

    clone = retrievers.clone_retriever(rid, CloneRetrieverRequest.from_dict({"retriever_name": "sdk_search_copy"}))
    clone_id = clone.retriever.retriever_id
    assert clone_id != rid
    retrievers.delete_retriever(clone_id)
    retrievers.delete_retriever(rid)
    with pytest.raises(mixpeek.ApiException) as err:
        retrievers.get_retriever(rid)
    assert err.value.status == 404


def test_taxonomy_lifecycle(api: Any) -> None:
    from mixpeek.models import CreateRetrieverRequest, CreateTaxonomyRequest

    retrievers = mixpeek.RetrieversApi(api)
    collections = mixpeek.CollectionsApi(api)
    tag_col = collections.get_collection("tags").collection_id
    matcher = retrievers.create_retriever(
        CreateRetrieverRequest.from_dict(
            {
                "retriever_name": "sdk_tagger",
                "collection_identifiers": ["tags"],
                "input_schema": {"query": {"type": "text", "required": True}},
                "stages": [SEARCH_STAGE],
            }
        )
    ).retriever_id
    taxonomies = mixpeek.TaxonomiesApi(api)
    body = {
        "taxonomy_name": "sdk_tags",
        "config": {
            "taxonomy_type": "flat",
            "retriever_id": matcher,
            "input_mappings": [{"input_key": "query", "source_type": "payload", "path": "title"}],
            "source_collection": {"collection_id": tag_col, "enrichment_fields": [{"field_path": "tag"}]},
        },
    }
    created = taxonomies.create_taxonomy_taxonomies(CreateTaxonomyRequest.from_dict(body))
    tid = created.taxonomy_id
    assert tid and tid.startswith("tax_")
    got = taxonomies.get_taxonomy_taxonomies(tid)
    assert got.taxonomy_name == "sdk_tags" and got.version == 1
    assert tid in [t.taxonomy_id for t in taxonomies.list_taxonomies().results]

    from mixpeek.models import CloneTaxonomyRequest, PatchTaxonomyRequest

    patched = taxonomies.patch_taxonomy_taxonomies(tid, PatchTaxonomyRequest.from_dict({"description": "tags"}))
    assert patched.description == "tags"
    clone = taxonomies.clone_taxonomy_taxonomies(tid, CloneTaxonomyRequest.from_dict({"taxonomy_name": "sdk_tags_2"}))
    assert clone.taxonomy.taxonomy_id != tid
    taxonomies.delete_taxonomy_taxonomies(clone.taxonomy.taxonomy_id)
    taxonomies.delete_taxonomy_taxonomies(tid)
    retrievers.delete_retriever(matcher)


def test_cluster_lifecycle(api: Any) -> None:
    from mixpeek.models import CreateClusterRequest, PatchClusterRequest

    collections = mixpeek.CollectionsApi(api)
    col = collections.get_collection("products").collection_id
    clusters = mixpeek.ClustersApi(api)
    created = clusters.create_cluster(
        CreateClusterRequest.from_dict(
            {
                "cluster_name": "sdk_groups",
                "collection_ids": [col],
                "cluster_type": "vector",
                "vector_config": {
                    "clustering_method": "kmeans",
                    "algorithm_params": {"n_clusters": 3},
                    "feature_uris": ["mixpeek://text_extractor@v1/embedding"],
                },
            }
        )
    )
    cid = created.cluster_id
    assert cid and cid.startswith("clust_")
    got = clusters.get_cluster(cid)
    assert got.cluster_name == "sdk_groups" and got.algorithm == "kmeans" and got.input_collections == [col]
    assert cid in [c.cluster_id for c in clusters.list_clusters().results]
    patched = clusters.patch_cluster(cid, PatchClusterRequest.from_dict({"description": "groups"}))
    assert patched.description == "groups"
    clusters.delete_cluster(cid)
    with pytest.raises(mixpeek.ApiException) as err:
        clusters.get_cluster(cid)
    assert err.value.status == 404
