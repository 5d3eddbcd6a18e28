"""Optional capabilities of the API, asked read-only and once per run (I/O port).

Taxonomy versions: the SDK has `POST /v1/taxonomies/{taxonomy_id}/versions` and its
GET twin, yet CloneTaxonomyRequest's docstring says versioning is "(Not implemented) -
Use clone" (mixpeek-api.md 4.4). Creating a version to find out would change a live
taxonomy, so the probe is the read: `GET /v1/taxonomies/{id}/versions` of a live
taxonomy (documented, read-only; the head is listed as the latest version).

* it answers: the route exists, and a config change is a new version;
* 404 / 405 / 422 / 501 on a taxonomy that the listing just returned: the route is
  not there, and a config change is a replacement (clone-and-swap);
* any other failure: not known, and the plan takes the replacement, the path that
  needs only routes every API documents (create, PATCH, DELETE).

Hazard: an answering GET is taken as evidence that the POST works too; nothing
documents one without the other, and no read can tell them apart. The plan and
`mixops doctor` say which evidence they used.

The answer is cached on the client (one per run), so plan, apply and the tests of one
command ask at most once.

The extractor catalog (`GET /v1/collections/features/extractors`, documented and
read-only) lists each extractor's vector outputs: which feature URIs a collection will
have before the plan creates it (core/feature_uris.py). Read only when a plan builds a
collection that some feature URI is used on, cached the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from mixops.core.feature_uris import CATALOG_ROUTE, ExtractorCatalog, catalog_from
from mixops.core.live import LiveState
from mixops.core.plan import Capability
from mixops.errors import ApiError
from mixops.ports.client import MixpeekClient

# Answers that say "this route is not here", as opposed to "it failed".
ABSENT_STATUSES = frozenset({404, 405, 422, 501})
CACHE_KEY = "taxonomy_versions"
CATALOG_CACHE_KEY = "extractor_catalog"


Status = Literal["present", "absent", "unknown"]


@dataclass(frozen=True)
class Probe:
    status: Status
    evidence: str

    def capability(self) -> Capability:
        """For the plan: only an answering route means versions; otherwise the replacement."""
        return Capability(present=self.status == "present", evidence=f"{self.status}: {self.evidence}")


async def _ask(client: MixpeekClient, route: str, path: str) -> tuple[Status, str, Any]:
    """GET `path` once: whether it answered, the evidence in words, and the body when it did."""
    try:
        body = await client.request("GET", path)
    except ApiError as err:
        if err.status in ABSENT_STATUSES:
            return "absent", f"{route} answered {_why(err)}", None
        return "unknown", f"{route} failed ({_why(err)})", None
    return "present", f"{route} answers", body


def _why(err: ApiError) -> str:
    code = f"/{err.info.code}" if err.info.code else ""
    status = "no answer" if err.status == 0 else f"HTTP {err.status}"
    return f"{status} {err.info.type}{code}"


async def probe_taxonomy_versions(client: MixpeekClient, live: LiveState) -> Probe | None:
    """Whether the API takes taxonomy versions; None when no live taxonomy can be asked about."""
    cached = client.capabilities.get(CACHE_KEY)
    if isinstance(cached, Probe):
        return cached
    ids = sorted(r.id for (kind, _), r in live.resources.items() if kind == "taxonomy")
    if not ids:
        return None
    route = f"GET /v1/taxonomies/{ids[0]}/versions"
    status, evidence, _ = await _ask(client, route, f"/v1/taxonomies/{quote(ids[0], safe='')}/versions")
    probe = Probe(status, evidence)
    client.capabilities[CACHE_KEY] = probe
    return probe


async def read_extractor_catalog(client: MixpeekClient) -> ExtractorCatalog:
    """The extractor catalog (core/feature_uris.py), read once per run.

    An absent route (404 / 405 / 422 / 501) or any other failure is not an error: the
    feature URIs of collections not created yet are then checked for their extractor
    only, and the plan says why in a warning.
    """
    cached = client.capabilities.get(CATALOG_CACHE_KEY)
    if isinstance(cached, ExtractorCatalog):
        return cached
    status, evidence, body = await _ask(client, CATALOG_ROUTE, CATALOG_ROUTE.split(" ", 1)[1])
    catalog = catalog_from(body) if status == "present" else ExtractorCatalog(status, evidence)
    client.capabilities[CATALOG_CACHE_KEY] = catalog
    return catalog


__all__ = ["ABSENT_STATUSES", "Probe", "probe_taxonomy_versions", "read_extractor_catalog"]
