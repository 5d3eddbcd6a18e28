"""Every route of the local backend, driven by the official SDK, answers what the SDK reads.

Each call goes through the SDK's own request models and HTTP client (loopback, strict
mode), and each JSON answer is validated with the SDK's response model for that route
(``Model.model_validate`` and the SDK's own ``from_dict``, which also resolves its
oneOf unions). A last check compares the routes driven with the routes the backend
serves: a new route without an SDK call here fails the suite. The routes outside the
SDK are listed in ``NOT_IN_SDK`` (seed pages and local extras, see the README).
"""

from __future__ import annotations

import inspect
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mixpeek
import pytest
import yaml
from mixpeek import models as sdk
from tests.support.fixtures import search_stage
from tests.support.server import serve_in_thread

from mixops.local.app import create_app

NAMESPACE = "sdk-every-route"
KEY = "sk_sdk_routes"
TEXT_EXTRACTOR = {"feature_extractor_name": "text_extractor", "version": "v1", "input_mappings": {"text": "title"}}
PRODUCTS = [
    {"document_id": f"doc_{i}", "title": title, "category": category}
    for i, (title, category) in enumerate(
        [
            ("red running shoes", "running"),
            ("trail running shoes", "running"),
            ("leather hiking boots", "hiking"),
            ("waterproof hiking jacket", "hiking"),
            ("cotton yoga mat", "yoga"),
            ("foam yoga block", "yoga"),
        ]
    )
]
TAGS = [
    {"document_id": "tag_1", "tag": "footwear", "title": "running shoes boots footwear"},
    {"document_id": "tag_2", "tag": "outdoor", "title": "hiking outdoor jacket"},
]
# Routes the backend serves that the SDK has no method for: seed 003's ad-hoc clustering
# and the local list of a retriever's executions (README, "Local backend vs the SDK").
NOT_IN_SDK = {("POST", "/v1/clusters/execute"), ("GET", "/v1/retrievers/{}/executions")}


def _template(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


class Driver:
    """Calls SDK methods, validates each answer with the route's response model, records the route."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.seen: set[tuple[str, str]] = set()

    def call(self, api_class: str, method: str, *args: Any, validate_as: str | None = None, **kwargs: Any) -> Any:
        api = getattr(mixpeek, api_class)(self.client)
        verb, path = _route_of(type(api), method)
        raw = getattr(api, f"{method}_without_preload_content")(*args, **kwargs)
        assert raw.status == 200, f"{verb} {path}: {raw.status} {raw.data[:500]!r}"
        data = json.loads(raw.data)
        model = validate_as or _response_model(type(api), method)
        _validate(model, data, f"{verb} {path}")
        self.seen.add((verb, _template(path)))
        return data


def _route_of(cls: type, method: str) -> tuple[str, str]:
    src = inspect.getsource(getattr(cls, f"_{method}_serialize"))
    verb = re.search(r"method='(\w+)'", src)
    path = re.search(r"resource_path='([^']+)'", src)
    assert verb and path, method
    return verb.group(1), path.group(1)


def _response_model(cls: type, method: str) -> str:
    found = re.search(r"'200': \"([^\"]+)\"", inspect.getsource(getattr(cls, method)))
    assert found, method
    return found.group(1)


def _validate(model: str, data: Any, where: str) -> None:
    if model in ("object", "Dict[str, object]"):
        assert isinstance(data, dict), where
        return
    listed = re.fullmatch(r"List\[(\w+)\]", model)
    if listed:
        assert isinstance(data, list), where
        for item in data:
            _validate(listed.group(1), item, where)
        return
    cls = getattr(sdk, model)
    try:
        cls.model_validate(data)
        cls.from_dict(data)
    except Exception as exc:  # the SDK raises ValidationError or ValueError (its unions)
        raise AssertionError(f"{where}: the SDK's {model} cannot read the answer: {exc}\n{data}") from exc


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Driver, Any]]:
    tmp = tmp_path_factory.mktemp("sdk-routes")
    seed = tmp / "seed.yaml"
    seed.write_text(
        yaml.safe_dump(
            {
                "collections": [
                    {"collection_name": "products", "feature_extractor": TEXT_EXTRACTOR, "documents": PRODUCTS},
                    {"collection_name": "tag_nodes", "feature_extractor": TEXT_EXTRACTOR, "documents": TAGS},
                ]
            }
        )
    )
    app = create_app(Path(tmp / "local.db"), api_keys=[KEY], seed_files=[seed], seed_namespace=NAMESPACE)
    with serve_in_thread(app) as url:
        config = mixpeek.Configuration(host=url, access_token=KEY, api_key={"NamespaceHeader": NAMESPACE})
        yield Driver(mixpeek.ApiClient(config)), app
    app.state.local.close()


def test_every_route_answers_what_the_sdk_reads(driver: tuple[Driver, Any]) -> None:
    d, app = driver
    m = sdk

    # namespaces
    ns = d.call("NamespacesApi", "create_namespace", m.CreateNamespaceRequest.from_dict({"namespace_name": "sdk-ns2"}))
    d.call("NamespacesApi", "get_namespace", ns["namespace_id"])
    d.call("NamespacesApi", "list_namespaces_get")
    d.call("NamespacesApi", "list_namespaces", list_namespaces_request=m.ListNamespacesRequest.from_dict({}))
    d.call("NamespacesApi", "patch_namespace", "sdk-ns2", m.PatchNamespaceRequest.from_dict({"description": "x"}))
    d.call("NamespacesApi", "delete_namespace", ns["namespace_id"])

    # collections and documents
    col = d.call(
        "CollectionsApi",
        "create_collection",
        m.CreateCollectionRequest.from_dict(
            {
                "collection_name": "sdk_made",
                "source": {"type": "bucket", "bucket_ids": ["bkt_sdk"]},
                "feature_extractor": TEXT_EXTRACTOR,
                "metadata": {"team": "search"},
            }
        ),
    )
    cid = col["collection_id"]
    d.call("CollectionsApi", "get_collection", cid)
    d.call("CollectionsApi", "list_collections_get")
    d.call("CollectionsApi", "list_collections", list_collections_request=m.ListCollectionsRequest.from_dict({}))
    d.call("CollectionsApi", "update_collection", cid, {"description": "patched"})
    d.call("CollectionsApi", "describe_collection_features", cid)
    d.call("FeaturesApi", "discover_features")
    d.call("FeatureExtractorsApi", "list_feature_extractors")
    doc = d.call(
        "CollectionDocumentsApi",
        "create_document",
        cid,
        m.DocumentCreateRequest.from_dict({"title": "blue suede shoes", "metadata": {"k": "v"}}),
    )
    d.call("CollectionDocumentsApi", "get_document", cid, doc["document_id"])
    d.call("CollectionDocumentsApi", "patch_document", cid, doc["document_id"], {"title": "blue shoes"})
    d.call("CollectionDocumentsApi", "list_documents", cid, list_documents_request=m.ListDocumentsRequest.from_dict({}))
    d.call("CollectionDocumentsApi", "list_documents_0", cid)
    d.call("CollectionDocumentsApi", "delete_document", cid, doc["document_id"])
    d.call("CollectionsApi", "delete_collection", cid)

    # retrievers and their executions
    d.call("RetrieverStagesApi", "list_stages_retrievers")
    retriever = {
        "retriever_name": "sdk_search",
        "collection_identifiers": ["products"],
        "input_schema": {"query": {"type": "text", "required": True}},
        "stages": [search_stage(20, 3)],
    }
    rid = d.call("RetrieversApi", "create_retriever", m.CreateRetrieverRequest.from_dict(retriever))["retriever_id"]
    d.call("RetrieversApi", "get_retriever", rid)
    d.call("RetrieversApi", "list_retrievers_get")
    d.call("RetrieversApi", "list_retrievers", list_retrievers_request=m.ListRetrieversRequest.from_dict({}))
    d.call("RetrieversApi", "patch_retriever", rid, m.PatchRetrieverRequest.from_dict({"description": "p"}))
    run = d.call(
        "RetrieversApi", "execute_retriever", rid, m.ExecuteRetrieverRequest.from_dict({"inputs": {"query": "shoes"}})
    )
    d.call("RetrieversApi", "get_execution_retrievers", rid, run["execution_id"])
    d.call("RetrieversApi", "list_executions_retrievers", rid)
    adhoc_body = {k: v for k, v in retriever.items() if k != "retriever_name"} | {"inputs": {"query": "boots"}}
    adhoc = d.call(
        "AdhocRetrieversApi",
        "execute_adhoc_retriever",
        m.AdhocExecuteRequest.from_dict(adhoc_body),
        validate_as="ExecuteRetrieverResponse",  # typed `object` in the SDK; its docs name this model
    )
    d.call("AdhocRetrieversApi", "get_adhoc_execution_retrievers", adhoc["execution_id"])
    d.call("AdhocRetrieversApi", "list_adhoc_executions_retrievers")
    d.call("PublishedRetrieversApi", "publish_retriever", rid, m.PublishRetrieverRequest.from_dict({}))
    d.call("PublishedRetrieversApi", "unpublish_retriever_id_publish", rid)
    clone = d.call(
        "RetrieversApi", "clone_retriever", rid, m.CloneRetrieverRequest.from_dict({"retriever_name": "sdk_copy"})
    )
    d.call("RetrieversApi", "delete_retriever", clone["retriever"]["retriever_id"])

    # taxonomies
    tags = d.call("CollectionsApi", "get_collection", "tag_nodes")["collection_id"]
    matcher = dict(retriever, retriever_name="sdk_tagger", collection_identifiers=["tag_nodes"])
    mid = d.call("RetrieversApi", "create_retriever", m.CreateRetrieverRequest.from_dict(matcher))["retriever_id"]
    config = {
        "taxonomy_type": "flat",
        "retriever_id": mid,
        "input_mappings": [{"input_key": "query", "source_type": "payload", "path": "title"}],
        "source_collection": {"collection_id": tags, "enrichment_fields": [{"field_path": "tag"}]},
    }
    tax = d.call(
        "TaxonomiesApi",
        "create_taxonomy_taxonomies",
        m.CreateTaxonomyRequest.from_dict({"taxonomy_name": "sdk_tags", "config": config}),
    )
    tid = tax["taxonomy_id"]
    d.call("TaxonomiesApi", "get_taxonomy_taxonomies", tid)
    d.call("TaxonomiesApi", "list_taxonomies")
    d.call("TaxonomiesApi", "list_taxonomies_0", list_taxonomies_request=m.ListTaxonomiesRequest.from_dict({}))
    d.call("TaxonomiesApi", "patch_taxonomy_taxonomies", tid, m.PatchTaxonomyRequest.from_dict({"description": "t"}))
    d.call("TaxonomiesApi", "create_taxonomy_version_taxonomies", tid, {"config": config})
    d.call("TaxonomiesApi", "list_taxonomy_versions_taxonomies", tid)
    execute = {
        "taxonomy": {"taxonomy_name": "sdk_tags", "config": config},
        "source_documents": [{"title": "hiking boots"}],
    }
    d.call(
        "TaxonomiesApi",
        "execute_taxonomy_taxonomies_0",
        tid,
        m.Payload1(m.ExecuteTaxonomyRequest.from_dict(execute)),
    )
    with pytest.deprecated_call():  # the verb-first path, deprecated in the SDK; seed 000 still uses it
        d.call(
            "TaxonomiesApi", "execute_taxonomy_taxonomies", tid, m.Payload(m.ExecuteTaxonomyRequest.from_dict(execute))
        )
    # the taxonomy applied to a collection: materialised on ingestion, backfilled by a task
    products_id = d.call("CollectionsApi", "get_collection", "products")["collection_id"]
    d.call("CollectionsApi", "update_collection", products_id, {"taxonomy_applications": [{"taxonomy_id": tid}]})
    added = d.call(
        "CollectionDocumentsApi",
        "create_document",
        products_id,
        m.DocumentCreateRequest.from_dict({"title": "hiking boots"}),
    )
    assert added["tag"] == "outdoor", added
    backfill = d.call(
        "CollectionTaxonomiesApi",
        "apply_taxonomy_to_collection",
        products_id,
        m.ApplyTaxonomyRequest.from_dict({"taxonomy_id": tid, "batch_size": 100}),
    )
    deadline = time.monotonic() + 60
    while d.call("TasksApi", "get_task", backfill["task_id"])["status"] in ("PENDING", "IN_PROGRESS"):
        assert time.monotonic() < deadline, "the apply-taxonomy task did not finish"
        time.sleep(0.05)
    assert d.call("TasksApi", "get_task", backfill["task_id"])["status"] == "COMPLETED"
    d.call("CollectionsApi", "update_collection", products_id, {"taxonomy_applications": []})
    d.call("CollectionDocumentsApi", "delete_document", products_id, added["document_id"])
    tclone = d.call(
        "TaxonomiesApi", "clone_taxonomy_taxonomies", tid, m.CloneTaxonomyRequest.from_dict({"taxonomy_name": "sdk_t2"})
    )
    d.call("TaxonomiesApi", "delete_taxonomy_taxonomies", tclone["taxonomy"]["taxonomy_id"])
    d.call("TaxonomiesApi", "delete_taxonomy_taxonomies", tid)

    # clusters, their task and executions
    products = d.call("CollectionsApi", "get_collection", "products")["collection_id"]
    cluster = d.call(
        "ClustersApi",
        "create_cluster",
        m.CreateClusterRequest.from_dict(
            {
                "cluster_name": "sdk_groups",
                "collection_ids": [products],
                "cluster_type": "vector",
                "vector_config": {
                    "clustering_method": "kmeans",
                    "algorithm_params": {"n_clusters": 3},
                    "feature_uris": ["mixpeek://text_extractor@v1/embedding"],
                },
            }
        ),
    )
    clid = cluster["cluster_id"]
    d.call("ClustersApi", "get_cluster", clid)
    d.call("ClustersApi", "list_clusters_get")
    d.call("ClustersApi", "list_clusters", list_clusters_request=m.ListClustersRequest.from_dict({}))
    d.call("ClustersApi", "patch_cluster", clid, m.PatchClusterRequest.from_dict({"description": "g"}))
    task = d.call("ClustersApi", "execute_clustering_clusters", clid)
    deadline = time.monotonic() + 60
    while d.call("TasksApi", "get_task", task["task_id"])["status"] not in ("COMPLETED", "FAILED"):
        assert time.monotonic() < deadline, "the cluster task did not finish"
        time.sleep(0.1)
    latest = d.call("ClusterExecutionsApi", "get_cluster_execution", clid)
    d.call("ClusterExecutionsApi", "get_cluster_execution_by_run", clid, latest["run_id"])
    d.call("ClusterExecutionsApi", "list_cluster_executions", clid)
    d.call("ClustersApi", "delete_cluster", clid)
    d.call("RetrieversApi", "delete_retriever", rid)

    served = {
        (verb.upper(), _template(path))
        for path, ops in app.openapi()["paths"].items()
        if path.startswith("/v1/")
        for verb in ops
    }
    assert served - NOT_IN_SDK - d.seen == set(), "routes the SDK did not drive"
    assert served >= NOT_IN_SDK
