"""Handler of *k8s_external*: answers its zones from the *kubernetes* plugin's data.

Until :meth:`K8sExternal.bind` has run (the start-up hook), and for other classes than IN, queries
pass to the next plugin. A name that does not exist falls through when ``fallthrough`` covers it,
and is SERVFAIL (with the SOA) while the *kubernetes* plugin has not synced, as that plugin does.
"""

from __future__ import annotations

from dnsd import authoritative
from dnsd.plugin import Next
from dnsd.plugins.k8s_external.records import resolve
from dnsd.plugins.k8s_external.setup import NAME, K8sExternalOptions
from dnsd.plugins.k8s_external.source import Cluster
from dnsd.reply import Reply
from dnsd.request import Request

IN = 1
REFUSED = 5
AXFR, IXFR = 252, 251


class K8sExternal:
    """Authoritative for its zones; see :mod:`.records` for the names."""

    name = NAME

    def __init__(self, opts: K8sExternalOptions) -> None:
        self.opts = opts
        self.cluster: Cluster | None = None

    def bind(self, kubernetes: object) -> None:
        """Answer from ``kubernetes`` (the block's *kubernetes* handler) from now on."""
        self.unbind()
        self.cluster = Cluster.bind(kubernetes, headless=self.opts.headless)

    def unbind(self) -> None:
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    async def serve(self, req: Request, next: Next) -> Reply | None:
        cluster = self.cluster
        if cluster is None or req.qclass != IN:
            return await next(req)
        answer = resolve(cluster, self.opts, req.labels, req.qtype)
        if answer is None:
            return await next(req)
        if req.qtype in (AXFR, IXFR):
            return Reply(req.reply(rcode=REFUSED))  # zone transfers are the transfer plugin's
        return await authoritative.reply(
            req,
            next,
            answer,
            fallthrough=self.opts.fallthrough,
            synced=cluster.ready,
            lookups=answer.lookups,
        )
