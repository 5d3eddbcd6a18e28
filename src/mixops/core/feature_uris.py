"""Which feature URIs a collection the manifests declare can have (pure).

A feature URI names an extractor, its version and one of its vector outputs:
`mixpeek://NAME@VERSION/OUTPUT`, or `mixpeek://NAME@VERSION` for the single or primary
output (mixpeek-api.md 3.6). A collection is built by exactly one extractor, each of
its vector indexes is `mixpeek://NAME@VERSION/OUTPUT` stored as `NAME_VERSION_OUTPUT`,
and a URI resolves against those indexes as `LiveCollection.has_feature` does. So
before a collection exists (the plan creates it, or replaces it with a new extractor):

- from the manifest alone, a URI that names another extractor or version can never
  resolve on it (`could_resolve`): validate refuses it, with no I/O;
- with the extractor's outputs (the extractor catalog the plan reads,
  `ExtractorCatalog`), the indexes it will have are known (`predicted_collection`), and
  the plan checks the URI against them as it checks a live collection's.

URIs that are not `mixpeek://` (a bare index name, `namespace://...`) and URIs holding
a template are left alone: index names can be overridden, and a template is filled
at execute time.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from mixops.core.live import LiveCollection, VectorIndexInfo

_URI = re.compile(r"^mixpeek://(?P<extractor>[^@/]+)@(?P<version>[^/]+)(?:/(?P<output>[^/]+))?/?$")

# The documented, read-only route listing every extractor with its vector outputs
# (SDK feature_extractors_api.list_feature_extractors -> List[FeatureExtractorResponseModel]).
CATALOG_ROUTE = "GET /v1/collections/features/extractors"


@dataclass(frozen=True)
class FeatureAddress:
    """A parsed `mixpeek://extractor@version[/output]` URI (the SDK's FeatureAddress)."""

    extractor: str
    version: str
    output: str | None


def parse_uri(uri: str) -> FeatureAddress | None:
    """The parts of a `mixpeek://` URI; None for any other form."""
    match = _URI.match(uri.strip())
    if match is None:
        return None
    return FeatureAddress(match["extractor"], match["version"], match["output"])


def checkable(uri: str) -> FeatureAddress | None:
    """The parts of a `mixpeek://` URI that holds no template (one is filled at execute time)."""
    return None if "{{" in uri else parse_uri(uri)


def prefix(extractor: str, version: str) -> str:
    return f"mixpeek://{extractor}@{version}"


def could_resolve(address: FeatureAddress, extractor: str, version: str) -> bool:
    """Whether `address` can name some index of a collection built by extractor@version,
    whatever that extractor's outputs are.

    Mirrors `LiveCollection.has_feature` on indexes `mixpeek://E@V/o` named `E_V_o`: the same
    extractor and version; or an output that is itself such an index name; or one that
    spells such a name once the URI's own extractor and version are put in front.
    """
    if (address.extractor, address.version) == (extractor, version):
        return True
    if address.output is None:
        return False
    stored = f"{extractor}_{version}_"
    return address.output.startswith(stored) or (
        f"{address.extractor}_{address.version}_{address.output}".startswith(stored)
    )


def suggestion(address: FeatureAddress, extractor: str, version: str, outputs: tuple[str, ...] = ()) -> str:
    """The URI most likely meant on a collection built by extractor@version."""
    if not outputs:
        out = f"/{address.output}" if address.output else ""
        return f"{prefix(extractor, version)}{out}"
    close = difflib.get_close_matches(address.output or "", list(outputs), n=1, cutoff=0.5)
    return f"{prefix(extractor, version)}/{close[0] if close else outputs[0]}"


CatalogStatus = Literal["present", "absent", "unknown"]


@dataclass(frozen=True)
class Output:
    """One vector output of an extractor: the URI's last segment, and where it is stored
    (`index.name`) when the catalog says; else `{extractor}_{version}_{output}` (3.6)."""

    name: str
    stored: str | None = None


@dataclass(frozen=True)
class ExtractorCatalog:
    """What the extractor catalog said: each listed (name, version) with its vector outputs.

    `status` "absent" (the route is not served) or "unknown" (it failed, or answered
    something unreadable): no outputs are known, and `evidence` says why.
    """

    status: CatalogStatus
    evidence: str
    outputs: dict[tuple[str, str], tuple[Output, ...]] = field(default_factory=dict)


def catalog_from(body: Any) -> ExtractorCatalog:
    """The catalog's answer as data. Only fields of FeatureExtractorResponseModel are read:
    `feature_extractor_name`, `version`, and of each `required_vector_indexes` entry its
    `name` (the URI's output) and `index.name` (where it is stored)."""
    if not isinstance(body, list):
        return ExtractorCatalog("unknown", f"{CATALOG_ROUTE} answered {type(body).__name__}, not a list of extractors")
    outputs: dict[tuple[str, str], tuple[Output, ...]] = {}
    for item in body:
        if not isinstance(item, dict):
            continue
        name, version = item.get("feature_extractor_name"), item.get("version")
        indexes = item.get("required_vector_indexes")
        if not isinstance(name, str) or not isinstance(version, str) or not isinstance(indexes, list):
            continue  # a null `required_vector_indexes` lists no outputs: the extractor stays unknown
        found = [_output(ix) for ix in indexes if isinstance(ix, dict)]
        listed = tuple(o for o in found if o is not None)
        if listed:
            outputs[(name, version)] = tuple(dict.fromkeys((*outputs.get((name, version), ()), *listed)))
    return ExtractorCatalog("present", f"{CATALOG_ROUTE} answers", outputs)


def _output(index: dict[str, Any]) -> Output | None:
    name = index.get("name")
    if not isinstance(name, str) or not name:
        return None
    inner = index.get("index")
    stored = inner.get("name") if isinstance(inner, dict) else None
    return Output(name, stored if isinstance(stored, str) and stored else None)


def predicted_collection(name: str, extractor: str, version: str, outputs: tuple[Output, ...]) -> LiveCollection:
    """The collection as it will be once created with extractor@version (no id yet): one index
    per output, named as 3.6 derives it and also as the catalog stores it, when it says."""
    indexes: list[VectorIndexInfo] = []
    for o in outputs:
        uri = f"{prefix(extractor, version)}/{o.name}"
        for stored in dict.fromkeys((f"{extractor}_{version}_{o.name}", o.stored or "")):
            if stored:
                indexes.append(VectorIndexInfo(stored, uri))
    return LiveCollection(id="", name=name, indexes=tuple(indexes))


__all__ = [
    "CATALOG_ROUTE",
    "CatalogStatus",
    "ExtractorCatalog",
    "FeatureAddress",
    "Output",
    "catalog_from",
    "checkable",
    "could_resolve",
    "parse_uri",
    "predicted_collection",
    "prefix",
    "suggestion",
]
