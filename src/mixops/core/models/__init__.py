"""Pydantic models of manifests and of `mixops.yaml` (pure: no I/O)."""

from mixops.core.models.cluster import Cluster
from mixops.core.models.manifest import ManifestFile, Parameter
from mixops.core.models.project import Environment, ProjectConfig
from mixops.core.models.retriever import Retriever
from mixops.core.models.retriever_stages import StageConfig
from mixops.core.models.taxonomy import Taxonomy
from mixops.core.models.tests import ClusterTest, RetrieverTest, TaxonomyTest, TestCase

__all__ = [
    "Cluster",
    "ClusterTest",
    "Environment",
    "ManifestFile",
    "Parameter",
    "ProjectConfig",
    "Retriever",
    "RetrieverTest",
    "StageConfig",
    "Taxonomy",
    "TaxonomyTest",
    "TestCase",
]
