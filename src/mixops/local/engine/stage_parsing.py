"""A retriever's stages, checked once with the manifest models; handlers get typed values.

``parse_stages`` is called where a request enters (create/update retriever, both executes,
and ``run_pipeline`` for callers that hand it plain dicts): it checks each stage's shape
(``stage_name``, ``config.stage_id``, ``on_error``), resolves aliases and validates the
parameters, as written, with ``core.models.retriever_stages`` (the models ``mixops validate``
uses, whose bounds follow the SDK's StageParams* models). A problem raises ``StageProblem``
naming the field (``stages[0].config.parameters.searches[0].top_k: ...``) in the wording
``mixops validate`` uses.

Templates: ``{{INPUT.x}}`` values are only known at execution. The models accept a template
where the API does (a whole-string template in a number field); ``resolve`` substitutes the
inputs and validates the result with the same model, so a value that only breaks a bound
once substituted is still refused with its field. A template naming a missing input means
the parameter was not given (its default applies). Stages without templates are not
validated again. Stages the local backend has no handler for (LLM, network) keep free
parameters: they fail the execution with a clear error before anything runs.

``hybrid_search`` (seed 002) and ``semantic_search`` take a flat
``{feature_uri, query_text, top_k}``; they are rewritten to a one-search ``feature_search``
(and validated as one) when they have no ``searches``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from mixops.core.locations import problems_from_validation
from mixops.core.models.retriever_stages import KNOWN_STAGES, TYPED_PARAMS, FeatureSearchParams
from mixops.local.engine.errors import BadRequest
from mixops.local.engine.filters import Predicate, compile_filter
from mixops.local.engine.templates import has_input_templates, missing_inputs, substitute

#: Stage ids the engine runs with its feature_search; the flat ones take seed 002's form.
SEARCH_IDS = ("feature_search", "feature_filter", "hybrid_search", "semantic_search")
FLAT_SEARCH_IDS = ("hybrid_search", "semantic_search")
ALIASES = {"taxonomy_join": "taxonomy_enrich", "feature_filter": "feature_search"}
#: Stages with a local handler (search.py, stage_handlers.py); the rest of the catalog is refused
#: at execution as needing an LLM, a model service or the network.
HANDLED = frozenset(
    {
        "feature_search", "attribute_filter", "sort_attribute", "sort_relevance", "rerank", "mmr",
        "group_by", "sample", "taxonomy_enrich", "document_enrich",
    }
)  # fmt: skip
UNSUPPORTED_STAGES = frozenset(KNOWN_STAGES) - HANDLED - set(SEARCH_IDS) - set(ALIASES)
ALL_STAGES = tuple(sorted({*SEARCH_IDS, *HANDLED, *UNSUPPORTED_STAGES, *ALIASES}))


class StageProblem(BadRequest):
    """A stage or its parameters break the models: ``details.validation_errors`` lists each
    problem (``loc`` from the body's root, ``msg``); the routes answer 422."""

    error_type = "validation_error"
    status = 422


@dataclass(frozen=True)
class ParsedStage:
    """One stage, validated. ``params`` is the typed model (None for stages without a handler)."""

    index: int
    name: str
    stage_id: str  # as sent
    kind: str  # the handler: "feature_search", a HANDLED id, or an unsupported id
    raw: dict[str, Any]  # the parameters as written (templates unresolved)
    params: BaseModel | None
    templated: bool  # the parameters hold `{{INPUT.x}}` templates: resolve() validates again
    pre_filters: Predicate
    on_error: str

    @property
    def where(self) -> str:
        return f"stages[{self.index}].config.parameters"

    def resolve(self, inputs: Mapping[str, Any], warnings: list[str]) -> BaseModel | None:
        """The parameters with ``inputs`` substituted, validated (the parsed ones when untemplated)."""
        if not self.templated or self.params is None:
            return self.params
        lost = missing_inputs(self.raw, inputs)
        resolved = _drop_missing(self.raw, substitute(self.raw, inputs))
        if self.kind == "feature_search" and self.stage_id in FLAT_SEARCH_IDS and "searches" not in self.raw:
            resolved = _flat_to_searches(resolved, _fallback_query(resolved, lost, inputs, warnings, self.where))
        model = type(self.params)
        try:
            return model.model_validate(resolved)
        except ValidationError as exc:
            message, details = _problem(exc, resolved, self.where, model)
            raise BadRequest(message + " (after substituting the inputs)", details) from None


def parse_stages(stages: Any) -> list[ParsedStage]:
    """Every stage of a request, validated; ``StageProblem`` names the first broken field."""
    if not isinstance(stages, list | tuple) or not stages:
        raise StageProblem("stages: at least one stage is required")
    return [_parse_stage(stage, i) for i, stage in enumerate(stages)]


def _parse_stage(stage: Any, i: int) -> ParsedStage:
    where = f"stages[{i}]"
    if not isinstance(stage, Mapping):
        raise StageProblem(f"{where}: must be an object")
    config = stage.get("config")
    if config is None and "stage_id" in stage:
        config = stage  # the flat {stage_name, stage_id, parameters} of a taxonomy's retriever
    if not isinstance(config, Mapping):
        raise StageProblem(f"{where}.config: required (an object with stage_id and parameters)")
    stage_id = config.get("stage_id")
    if not isinstance(stage_id, str) or not stage_id:
        raise StageProblem(f"{where}.config.stage_id: required")
    if stage_id not in ALL_STAGES:
        raise StageProblem(
            f"{where}.config.stage_id: unknown stage {stage_id!r}; known stages: {', '.join(ALL_STAGES)}"
        )
    name = stage.get("stage_name") or stage_id
    if not isinstance(name, str):
        raise StageProblem(f"{where}.stage_name: must be a string")
    on_error = stage.get("on_error") or "error"
    if on_error not in ("error", "skip"):
        raise StageProblem(f"{where}.on_error: must be 'error' or 'skip'")
    raw = config.get("parameters") or {}
    if not isinstance(raw, Mapping):
        raise StageProblem(f"{where}.config.parameters: must be an object")
    raw = dict(raw)
    canonical = ALIASES.get(stage_id, stage_id)
    kind = "feature_search" if canonical in SEARCH_IDS else canonical
    params = _validate(kind, stage_id, raw, f"{where}.config.parameters") if kind in HANDLED else None
    pre = compile_filter(config.get("pre_filters"), where=f"{where}.config.pre_filters")
    templated = params is not None and has_input_templates(raw)
    return ParsedStage(i, name, stage_id, kind, raw, params, templated, pre, on_error)


def _validate(kind: str, stage_id: str, raw: dict[str, Any], where: str) -> BaseModel:
    data: dict[str, Any] = raw
    model = TYPED_PARAMS[kind]
    if stage_id in FLAT_SEARCH_IDS and "searches" not in raw:
        data, model = _flat_to_searches(raw, raw.get("query_text", raw.get("query"))), FeatureSearchParams
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise StageProblem(*_problem(exc, data, where, model)) from None


def _flat_to_searches(params: Mapping[str, Any], query: Any) -> dict[str, Any]:
    """Seed 002's flat ``{feature_uri, query_text, top_k}`` as a one-search feature_search."""
    top = params.get("top_k", 25)
    search: dict[str, Any] = {"feature_uri": params.get("feature_uri"), "top_k": top}
    if isinstance(query, Mapping):
        search["query"] = dict(query)
    elif isinstance(query, list):
        search["query"] = {"input_mode": "vector", "value": query}
    else:
        search["query"] = {"input_mode": "text", "value": query}
    search.update({k: params[k] for k in ("min_score", "weight") if k in params})
    out: dict[str, Any] = {"searches": [search], "final_top_k": params.get("final_top_k", top)}
    out.update({k: params[k] for k in ("collection_identifiers",) if k in params})
    return out


def _fallback_query(
    params: Mapping[str, Any], lost: set[str], inputs: Mapping[str, Any], warnings: list[str], where: str
) -> Any:
    """Seed 002 declares the input ``query`` but templates ``{{INPUT.query_text}}``: when the
    template names a missing input, the ``query_text``/``query`` input is used, with a warning."""
    query = params.get("query_text", params.get("query"))
    if query not in (None, "") or not lost:
        return query
    for name in ("query_text", "query"):
        if isinstance(inputs.get(name), str):
            warnings.append(
                f"{where}: template input(s) {sorted(lost)} not provided; used input {name!r} as query_text"
            )
            return inputs[name]
    return query


def _drop_missing(raw: Any, resolved: Any) -> Any:
    """``resolved`` without the keys whose whole-string template named a missing (or null) input."""
    if isinstance(raw, Mapping) and isinstance(resolved, Mapping):
        return {
            k: _drop_missing(raw[k], v) for k, v in resolved.items() if not (v is None and isinstance(raw.get(k), str))
        }
    if isinstance(raw, list) and isinstance(resolved, list):
        return [_drop_missing(r, v) for r, v in zip(raw, resolved, strict=True)]
    return resolved


class _Params:
    """The minimal ``Locatable`` ``problems_from_validation`` needs (no file, no lines)."""

    file = ""

    def __init__(self, data: Any) -> None:
        self.data = data

    def locate(self, path: Sequence[str | int]) -> tuple[int, int]:
        return 0, 0


def _errors(exc: ValidationError, data: Any, where: str, model: type[BaseModel]) -> list[dict[str, Any]]:
    out = []
    for p in problems_from_validation(exc, _Params(data), data=data, model=model):
        out.append(
            {"loc": f"{where}.{p.path}" if p.path else where, "msg": p.message + (f" ({p.fix})" if p.fix else "")}
        )
    return out


def _problem(exc: ValidationError, data: Any, where: str, model: type[BaseModel]) -> tuple[str, dict[str, Any]]:
    """The message (up to five problems, each naming its field) and the details of an error answer."""
    errors = _errors(exc, data, where, model)
    return "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5]), {"validation_errors": errors}


def concrete_int(value: int | str, where: str) -> int:
    """A number parameter after substitution; a template left (not an INPUT one) is refused."""
    if isinstance(value, str):
        raise BadRequest(f"{where}: {value!r} is not an input template; only {{{{INPUT.name}}}} is substituted here")
    return value
