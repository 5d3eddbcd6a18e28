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
from typing import Literal

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
class ExtractorCatalog:
    """What the extractor catalog said: each listed (name, version) with its vector outputs.

    `status` "absent" (the route is not served) or "unknown" (it failed, or answered
    something unreadable): no outputs are known, and `evidence` says why.
    """

    status: CatalogStatus
    evidence: str
    outputs: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)


def predicted_collection(name: str, extractor: str, version: str, outputs: tuple[str, ...]) -> LiveCollection:
    """The collection as it will be once created with extractor@version (no id yet)."""
    indexes = tuple(VectorIndexInfo(f"{extractor}_{version}_{o}", f"{prefix(extractor, version)}/{o}") for o in outputs)
    return LiveCollection(id="", name=name, indexes=indexes)


__all__ = [
    "CATALOG_ROUTE",
    "CatalogStatus",
    "ExtractorCatalog",
    "FeatureAddress",
    "checkable",
    "could_resolve",
    "parse_uri",
    "predicted_collection",
    "prefix",
    "suggestion",
]
