"""On-demand taxonomy execution (mixpeek-api.md 4.5) and the ``taxonomy_enrich`` stage.

For each sample document:

1. Build the retriever inputs from ``input_mappings``: ``payload`` reads a dot path
   from the document root (or from its ``payload`` when the sample is result-shaped),
   ``literal`` takes ``override``, ``vector`` reads a list of numbers at ``path``.
   ``blob`` needs a model: Unsupported.
2. Run the taxonomy's retriever (``retriever_id`` through the store, or the
   ``retriever`` given inline) over the NODE collection: the flat taxonomy's
   ``source_collection.collection_id``, or each hierarchical node's ``collection_id``.
   The retriever's own collection list is replaced by the node collection.
3. Keep ``top_k`` nodes (default 1) scoring at least ``min_score``.
4. Copy ``enrichment_fields`` from the node document into the sample (``replace``
   takes the best node's value, ``append`` collects the values of every kept node;
   ``target_field`` renames). A flat taxonomy without enrichment fields copies the
   whole node payload (never overwriting the sample's ``document_id``/``collection_id``);
   a hierarchical node without them only assigns.

Node labels: a node document's ``label`` field, else ``name``, else ``title``,
else its ``document_id``.

Hierarchical taxonomies (``hierarchical_nodes`` linked by ``parent_collection_id``)
are walked from the roots down. At each level the best node (top 1) is chosen; a
child level is searched only when its parent level matched, and only among node
documents that belong to the chosen parent. CONVENTION: a child node document
names its parent with ``parent_id`` (the parent node's document_id) or
``parent_label`` (the parent's label); child nodes carrying neither are candidates
under any parent. Each matched level gives one match whose ``path`` lists the
labels from the root and whose ``hierarchy_level`` is its depth (root = 0).
``path_field`` and inferred (schema/cluster/llm) hierarchies are Unsupported.

A per-document failure (a missing vector, a failed retriever run) counts in
``stats.errors`` and the document is returned unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mixops.local.engine import documents as D
from mixops.local.engine.errors import BadRequest, EngineError, NotFound, Unsupported
from mixops.local.engine.filters import get_path
from mixops.local.engine.stage_parsing import ParsedStage, parse_stages
from mixops.local.engine.store import DocumentStore


@dataclass
class JoinResult:
    """The JoinResponse of an on-demand execute, plus the credits spent."""

    documents: list[dict[str, Any]]
    matches: list[dict[str, Any]]
    stats: dict[str, int]
    credits_used: float = 0.0
    errors: list[str] = field(default_factory=list)

    def to_response(self) -> dict[str, Any]:
        return {"stats": dict(self.stats), "results": self.documents, "matches": self.matches}


@dataclass(frozen=True)
class _Level:
    collection: str
    parent_collection: str | None
    retriever_id: str | None
    input_mappings: list[Any]
    enrichment_fields: list[Any] | None


def execute_taxonomy(
    store: DocumentStore,
    taxonomy: Mapping[str, Any],
    source_documents: Sequence[Mapping[str, Any]] | None,
    *,
    retriever: Mapping[str, Any] | None = None,
    batch_size: int = 1000,
) -> JoinResult:
    """``POST /v1/taxonomies/{id}/execute`` on-demand: enrich the sample documents.

    ``taxonomy`` is the taxonomy model (``taxonomy_name``, ``taxonomy_id``?, ``config``);
    taxonomy-level ``retriever_id``/``input_mappings`` (seed 000) fill gaps in ``config``.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise BadRequest("batch_size: must be an integer >= 1")
    result = enrich_documents(store, taxonomy, source_documents or [], retriever=retriever)
    n = len(source_documents or [])
    result.stats["batches"] = math.ceil(n / batch_size) if n else 0
    return result


def enrich_documents(
    store: DocumentStore,
    taxonomy: Mapping[str, Any],
    docs: Sequence[Mapping[str, Any]],
    *,
    top_k: int | None = None,
    min_score: float = 0.0,
    enrichment_fields: list[Any] | None = None,
    retriever: Mapping[str, Any] | None = None,
) -> JoinResult:
    """Match each document against the taxonomy's nodes and enrich it (see module doc)."""
    config = taxonomy.get("config")
    if not isinstance(config, Mapping):
        raise BadRequest("taxonomy.config: required (a flat or hierarchical taxonomy config)")
    tax_id = taxonomy.get("taxonomy_id")
    tax_name = taxonomy.get("taxonomy_name")
    kind = config.get("taxonomy_type", "flat")
    default_retriever = config.get("retriever_id") or taxonomy.get("retriever_id")
    default_mappings = config.get("input_mappings") or taxonomy.get("input_mappings") or []
    keep = top_k if top_k is not None else int(config.get("top_k") or 1)
    if keep < 1:
        raise BadRequest("top_k: must be >= 1")
    if kind == "flat":
        source = config.get("source_collection")
        if not isinstance(source, Mapping) or not source.get("collection_id"):
            raise BadRequest("taxonomy.config.source_collection.collection_id: required for a flat taxonomy")
        fields = enrichment_fields if enrichment_fields is not None else source.get("enrichment_fields")
        levels = [_Level(str(source["collection_id"]), None, default_retriever, default_mappings, fields)]
        copy_all = fields is None
    elif kind == "hierarchical":
        if config.get("path_field") or config.get("inference_strategy"):
            raise Unsupported(
                "hierarchical taxonomies built from path_field or inference are not supported by the local backend; "
                "use hierarchical_nodes"
            )
        levels = _levels(config, default_retriever, default_mappings, enrichment_fields)
        copy_all = False
    else:
        raise BadRequest(f"taxonomy.config.taxonomy_type: unknown type {kind!r}; expected flat or hierarchical")

    out = JoinResult([], [], {"processed_docs": 0, "batches": 1 if docs else 0, "errors": 0, "enriched": 0})
    runner = _Runner(store, retriever)
    for doc in docs:
        out.stats["processed_docs"] += 1
        enriched = dict(doc)
        try:
            if kind == "flat":
                matches = runner.flat(doc, levels[0], keep, min_score)
            else:
                matches = runner.walk(doc, levels, min_score)
        except EngineError as exc:
            if isinstance(exc, Unsupported | NotFound) and not runner.ran:
                raise
            out.stats["errors"] += 1
            out.errors.append(exc.message)
            out.documents.append(enriched)
            continue
        for match, node, level in matches:
            # Flat: replace-mode fields come from the best node only; hierarchical: one node per level.
            best = kind == "hierarchical" or match is matches[0][0]
            names = _apply_enrichment(enriched, node, level.enrichment_fields, copy_all, first=best)
            record = {"document_id": doc.get("document_id"), "taxonomy_id": tax_id, "taxonomy_name": tax_name}
            out.matches.append({**record, **match, "enriched_fields": names})
        if matches:
            out.stats["enriched"] += 1
        out.documents.append(enriched)
    out.credits_used = round(runner.credits, 6)
    return out


def node_label(node: Mapping[str, Any]) -> str:
    for key in ("label", "name", "title"):
        value = node.get(key)
        if isinstance(value, str) and value:
            return value
    return str(node.get("document_id"))


def _levels(
    config: Mapping[str, Any], retriever: Any, mappings: list[Any], fields_override: list[Any] | None
) -> list[_Level]:
    nodes = config.get("hierarchical_nodes")
    if not isinstance(nodes, list) or not nodes:
        raise BadRequest("taxonomy.config.hierarchical_nodes: required (at least one node)")
    levels = []
    for i, node in enumerate(nodes):
        if not isinstance(node, Mapping) or not node.get("collection_id"):
            raise BadRequest(f"taxonomy.config.hierarchical_nodes[{i}].collection_id: required")
        fields = fields_override if fields_override is not None else node.get("enrichment_fields")
        levels.append(
            _Level(
                str(node["collection_id"]),
                node.get("parent_collection_id"),
                node.get("retriever_id") or retriever,
                node.get("input_mappings") or mappings,
                fields,
            )
        )
    if not any(level.parent_collection is None for level in levels):
        raise BadRequest("taxonomy.config.hierarchical_nodes: no root node (one without parent_collection_id)")
    return levels


class _Runner:
    """Runs node searches for one taxonomy execution."""

    def __init__(self, store: DocumentStore, inline: Mapping[str, Any] | None) -> None:
        self.store = store
        self.inline = inline
        self.credits = 0.0
        self.ran = False
        self.stages: dict[str, list[ParsedStage]] = {}  # per retriever: validated once per execution

    def flat(
        self, doc: Mapping[str, Any], level: _Level, keep: int, min_score: float
    ) -> list[tuple[dict[str, Any], dict[str, Any], _Level]]:
        nodes = self.search(doc, level, keep, None)
        out = []
        for node in nodes:
            if float(node.get("score") or 0.0) < min_score:
                continue
            label = node_label(node)
            out.append((self._match(node, [label], 0), node, level))
        return out

    def walk(
        self, doc: Mapping[str, Any], levels: list[_Level], min_score: float
    ) -> list[tuple[dict[str, Any], dict[str, Any], _Level]]:
        out: list[tuple[dict[str, Any], dict[str, Any], _Level]] = []
        frontier: list[tuple[str | None, dict[str, Any] | None, list[str]]] = [(None, None, [])]
        depth = 0
        while frontier and depth < 32:
            next_frontier: list[tuple[str | None, dict[str, Any] | None, list[str]]] = []
            for parent_col, parent_node, path in frontier:
                children = [lv for lv in levels if lv.parent_collection == parent_col]
                best: tuple[dict[str, Any], _Level] | None = None
                for level in children:
                    for node in self.search(doc, level, 1, parent_node):
                        if float(node.get("score") or 0.0) < min_score:
                            continue
                        if best is None or float(node["score"]) > float(best[0]["score"]):
                            best = (node, level)
                if best is None:
                    continue
                node, level = best
                label_path = [*path, node_label(node)]
                out.append((self._match(node, label_path, depth), node, level))
                next_frontier.append((level.collection, node, label_path))
                # The chosen node's own collection id may differ from the way children name it.
                resolved = self.store.resolve_collections([level.collection])[0].collection_id
                if resolved != level.collection:
                    next_frontier.append((resolved, node, label_path))
            frontier = next_frontier
            depth += 1
        return out

    def search(
        self, doc: Mapping[str, Any], level: _Level, keep: int, parent: Mapping[str, Any] | None
    ) -> list[dict[str, Any]]:
        from mixops.local.engine.retrieval import run_pipeline  # retrieval imports stages imports us

        spec = self._retriever(level)
        inputs = _inputs(doc, level.input_mappings)
        filters = None
        if parent is not None:
            filters = {
                "OR": [
                    {"field": "parent_id", "operator": "eq", "value": parent["document_id"]},
                    {"field": "parent_label", "operator": "eq", "value": node_label(parent)},
                    {"AND": [{"field": "parent_id", "operator": "is_null", "value": True},
                             {"field": "parent_label", "operator": "is_null", "value": True}]},
                ]
            }  # fmt: skip
        self.ran = True
        key = "" if self.inline is not None else str(level.retriever_id)
        if key not in self.stages:
            self.stages[key] = parse_stages(spec.get("stages") or [])
        result = run_pipeline(
            self.stages[key],
            inputs,
            spec.get("input_schema"),
            [level.collection],
            self.store,
            filters=filters,
            budget_limits=spec.get("budget_limits"),
            limit=min(max(keep, 1), 500),
        )
        self.credits += float(result.budget.get("credits_used") or 0.0)
        if result.status != "completed":
            raise BadRequest(f"taxonomy retriever failed: {result.error}")
        return result.documents[:keep]

    def _retriever(self, level: _Level) -> Mapping[str, Any]:
        if self.inline is not None:
            return self.inline
        if not level.retriever_id:
            raise BadRequest("taxonomy: no retriever_id (set it on the taxonomy config or the hierarchical node)")
        spec = self.store.get_retriever(str(level.retriever_id))
        if spec is None:
            raise NotFound(f"Retriever not found: {level.retriever_id}", {"retriever_id": level.retriever_id})
        return spec

    @staticmethod
    def _match(node: Mapping[str, Any], path: list[str], level: int) -> dict[str, Any]:
        return {
            "node_id": node["document_id"],
            "label": path[-1],
            "score": node.get("score"),
            "path": path,
            "hierarchy_level": level,
        }


def _inputs(doc: Mapping[str, Any], mappings: list[Any]) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for i, mapping in enumerate(mappings):
        where = f"input_mappings[{i}]"
        if not isinstance(mapping, Mapping) or not isinstance(mapping.get("input_key"), str):
            raise BadRequest(f"{where}.input_key: required")
        source = mapping.get("source_type", "payload")
        key = mapping["input_key"]
        if source == "literal":
            inputs[key] = mapping.get("override")
            continue
        if source == "blob":
            raise Unsupported(f"{where}: blob inputs need a model and are not supported by the local backend")
        if source not in ("payload", "vector"):
            raise BadRequest(f"{where}.source_type: must be payload, literal, vector or blob")
        path = mapping.get("path")
        if not isinstance(path, str) or not path:
            raise BadRequest(f"{where}.path: required for source_type {source!r}")
        value = get_path(doc, path)
        if value is None and isinstance(doc.get("payload"), Mapping):
            value = get_path(doc["payload"], path)
        if source == "vector" and not (
            isinstance(value, list) and value and all(isinstance(v, int | float) for v in value)
        ):
            raise BadRequest(f"{where}: document {doc.get('document_id')!r} has no vector at {path!r}")
        inputs[key] = value
    return inputs


def _apply_enrichment(
    target: dict[str, Any], node: Mapping[str, Any], fields: list[Any] | None, copy_all: bool, first: bool
) -> list[str]:
    if fields is None:
        if not copy_all:
            return []
        names = []
        for key, value in D.payload_fields(node).items():
            if first or key not in target:
                target[key] = value
                names.append(key)
        return names
    names = []
    for i, spec in enumerate(fields):
        if not isinstance(spec, Mapping) or not isinstance(spec.get("field_path"), str):
            raise BadRequest(f"enrichment_fields[{i}].field_path: required")
        source_path = spec["field_path"]
        target_path = spec.get("target_field") or source_path
        value = D.get_plain(node, source_path)
        if value is None:
            continue
        mode = spec.get("merge_mode", "replace")
        if mode == "append":
            D.append_path(target, target_path, value)
        elif mode == "replace":
            if not first:
                continue
            D.set_path(target, target_path, value)
        else:
            raise BadRequest(f"enrichment_fields[{i}].merge_mode: must be replace or append")
        names.append(target_path)
    return names
