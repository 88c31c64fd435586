"""Handler of *k8s_external*: answers its zones from the *kubernetes* plugin's data.

Until :meth:`K8sExternal.bind` has run (the start-up hook), and for other classes than IN, queries
pass to the next plugin. A name that does not exist falls through when ``fallthrough`` covers it,
and is SERVFAIL (with the SOA) while the *kubernetes* plugin has not synced, as that plugin does.
"""

from __future__ import annotations

from dnsd.plugin import Next
from dnsd.plugins.k8s_external.records import resolve
from dnsd.plugins.k8s_external.setup import NAME, K8sExternalOptions
from dnsd.plugins.k8s_external.source import Cluster
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.upstream import lookup

IN = 1
SERVFAIL, NXDOMAIN, REFUSED = 2, 3, 5
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
        rcode = answer.rcode
        if rcode == NXDOMAIN:
            if self.opts.fallthrough.through(req.name_lower):
                return await next(req)
            if not cluster.ready():
                rcode = SERVFAIL
        msg = req.reply(rcode=rcode, aa=True)
        for rr in answer.answer:
            msg.add_answer(rr)
        for rr in answer.authority:
            msg.add_auth(rr)
        for rr in answer.extra:
            msg.add_ar(rr)
        for name, qtype, into_extra in answer.lookups:
            found = await lookup(req, name, qtype)
            if found is None:
                continue
            for rr in found.rr:
                if into_extra:
                    msg.add_ar(rr)
                else:
                    msg.add_answer(rr)
        return Reply(msg)
