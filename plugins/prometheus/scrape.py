"""``/metrics``: prometheus_client's default registry, the process-wide one (as in CoreDNS)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder


async def scrape(request: web.Request) -> web.StreamResponse:
    """The registry in the format the scraper accepts: text by default, OpenMetrics on request.

    Compressed with gzip when the scraper accepts it, as Go's promhttp does (and
    only gzip: Prometheus asks for nothing else).
    """
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    resp = web.Response(body=encoder(REGISTRY), headers={"Content-Type": content_type})
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        resp.enable_compression(web.ContentCoding.gzip)
    return resp
