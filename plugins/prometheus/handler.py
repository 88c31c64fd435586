"""Handler of *prometheus*: records every query once its final reply bytes are known."""

from __future__ import annotations

import time

from dnsd import metrics
from dnsd.plugin import Next
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import rcode_name


class Prometheus:
    """An observer: passes every query on and reports it from ``req.on_reply``.

    Observing the scrubbed reply (not the plugin's) gives the rcode and size
    the client really got, including the SERVFAIL the server writes when a
    plugin fails or nothing answers (``plugin=""`` then, as in CoreDNS).
    """

    name = "prometheus"
    #: Depends on the query's bytes only; per-query work is a reply observer (dnsd.fastpath).
    memo_safe = True

    async def serve(self, req: Request, next: Next) -> Reply | None:
        req.on_reply(observe)
        return await next(req)


def observe(req: Request, wire: bytes | None, plugin: str | None) -> None:
    """Report one query (CoreDNS's ``vars.Report``); ``wire`` None means nothing was sent."""
    if wire is None:
        # Nothing written (acl's drop): CoreDNS's recorder keeps rcode 0, no plugin, size 0.
        rcode, plugin, size = "NOERROR", None, 0
    else:
        rcode, size = rcode_name(wire[3] & 0x0F), len(wire)
    metrics.report(
        server=req.server,
        zone=req.zone,
        proto=req.proto,
        family=req.family,
        qtype=req.type_name,
        do=req.do,
        req_size=len(req.wire),
        rcode=rcode,
        plugin=plugin or "",
        resp_size=size,
        duration=time.perf_counter() - req.start,
    )
