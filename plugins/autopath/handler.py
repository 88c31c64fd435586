"""Handler of *autopath*: walks the client's search list on the server (CoreDNS's autopath.go).

A query is autopathed when its name is in the plugin's zones and is the client's first search
domain with something in front (``web.default.svc.cluster.local.`` for a pod in ``default``):
the client is on its first search step. The base name (``web``) is then tried under every later
search domain and bare, each as its own query down the rest of the chain, and the first reply
that is not NXDOMAIN is returned, with a CNAME from the asked name to the found name in front of
its answer and the question as asked. When every name is NXDOMAIN the first reply goes back
unchanged and the client walks its list itself. Every name stops at the same step whatever the
type, since NXDOMAIN says a name does not exist at all: an A-only name gives the AAAA query
NODATA at the step where the A query found its address.

Each step is a query of its own to the plugins after this one, so *cache* (after *autopath* in
ORDER) only ever stores the plain answer for one name, never a reply made for one client. The
handler is not memo-safe (:mod:`dnsd.fastpath`): its replies depend on the client's address.
As CoreDNS, an exception below stops the walk (SERVFAIL); a step nobody answers counts as
NXDOMAIN.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Protocol, TypeGuard, runtime_checkable

from dnslib import CNAME, RR, DNSLabel
from prometheus_client import Counter

from dnsd.plugin import Next
from dnsd.plugins.autopath.search import Labels, SearchError, base_name, to_labels, walk
from dnsd.plugins.autopath.setup import NAME, AutopathOptions
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import BadQuery, parse_query

NXDOMAIN, NOERROR = 3, 0
_CNAME, _IN, _OPT = 5, 1, 41
_HEADER = struct.Struct("!HHHHHH")
_OPT_RR = struct.Struct("!HHIH")
#: Search domains of plugins remembered as labels, at most (cleared when full).
_LABELS_CACHE = 4096
_MISSING: Labels = (b"",)  # a label tuple no domain has (labels are never empty)

success = Counter(
    "success",
    "Counter of requests that did autopath.",
    ["server"],
    namespace="coredns",
    subsystem=NAME,
)


@runtime_checkable
class SearchPather(Protocol):
    """A plugin that gives each client's search list (*kubernetes*): CoreDNS's AutoPather."""

    def search_path(self, qname: str, client_ip: str) -> Sequence[str] | None:
        """The absolute lowercase search domains of the client at ``client_ip`` asking the
        lowercase ``qname``, first one first; None or empty: no autopath for this query."""
        ...


class Autopath:
    """Server-side search path completion for one server block."""

    name = NAME

    def __init__(self, opts: AutopathOptions) -> None:
        self.opts = opts
        self.zones = opts.zones
        self._search: tuple[Labels, ...] | None = tuple(to_labels(d) for d in opts.search) or None
        self._source: SearchPather | None = None
        self._labels: dict[str, Labels | None] = {}

    def bind(self, source: SearchPather) -> None:
        """Take each client's search list from ``source`` (the ``@PLUGIN``'s handler)."""
        self._source = source

    async def serve(self, req: Request, next: Next) -> Reply | None:
        if not _in_zones(req.name_lower, self.zones):
            return await next(req)
        search = self._client_search(req)
        if not search:
            return await next(req)
        base = base_name(req.labels, search[0])
        if base is None:
            return await next(req)
        first = await next(req)  # the asked name is the base under the first search domain
        if _final(first):
            success.labels(req.server).inc()
            return first
        for labels in walk(base, search):
            sub = subquery(req, labels)
            if sub is None:
                continue
            reply = await next(sub)
            if _final(reply):
                success.labels(req.server).inc()
                return _as_asked(req, reply)
        return first

    def _client_search(self, req: Request) -> tuple[Labels, ...] | None:
        """The search list of this client as labels, or None: no autopath."""
        if self._source is None:
            return self._search
        domains = self._source.search_path(req.name_lower, req.client)
        if not domains:
            return None
        found: list[Labels] = []
        for i, domain in enumerate(domains):
            labels = self._labels.get(domain, _MISSING)
            if labels is _MISSING:
                labels = self._remember(domain)
            if labels is None:
                if i == 0:
                    return None  # cannot tell whether the client is on its first step
                continue
            found.append(labels)
        return tuple(found)

    def _remember(self, domain: str) -> Labels | None:
        if len(self._labels) >= _LABELS_CACHE:
            self._labels.clear()
        try:
            labels: Labels | None = to_labels(domain)
        except SearchError:
            labels = None
        self._labels[domain] = labels
        return labels


def _in_zones(name: str, zones: Sequence[str]) -> bool:
    return any(z == "." or name == z or name.endswith("." + z) for z in zones)


def _final(reply: Reply | None) -> TypeGuard[Reply]:
    """A reply that ends the walk: anything but NXDOMAIN (SERVFAIL and NODATA too, as CoreDNS).
    None (no plugin answered) does not: CoreDNS goes on when nothing was written."""
    return reply is not None and (reply.drop or reply.rcode != NXDOMAIN)


def _as_asked(req: Request, reply: Reply) -> Reply:
    """``reply`` (to another name) as the answer to ``req``: the question as asked and, in front
    of a non-empty answer, a CNAME from the asked name to the owner of its first record."""
    if reply.drop:
        return reply
    msg = reply.msg
    msg.header.id = req.id
    msg.questions = [req.question_rr()]
    asked = tuple(label.lower() for label in req.labels)
    for rr in msg.rr:
        if tuple(label.lower() for label in rr.rname.label) == asked:
            continue
        cname = RR(DNSLabel(list(req.labels)), _CNAME, _IN, rr.ttl, CNAME(rr.rname))
        msg.rr.insert(0, cname)
        break
    return Reply(msg, plugin=NAME)


def subquery(req: Request, labels: Labels) -> Request | None:
    """A copy of ``req`` asking ``labels``: same ID, flags, type, class and EDNS (UDP size, DO,
    options), same client and metadata. None when the name cannot be sent."""
    name = b"".join(bytes((len(label),)) + label for label in labels) + b"\0"
    wire = [
        _HEADER.pack(req.id, req.flags, 1, 0, 0, 1 if req.edns else 0),
        name,
        struct.pack("!HH", req.qtype, req.qclass),
    ]
    if req.edns:
        rdata = b"".join(struct.pack("!HH", code, len(data)) + data for code, data in req.options)
        wire.append(b"\0" + _OPT_RR.pack(_OPT, req.udp_size, 0x8000 if req.do else 0, len(rdata)))
        wire.append(rdata)
    try:
        sub = parse_query(b"".join(wire), Request)
    except BadQuery:
        return None
    sub.init(req.client, req.port, req.proto, req.local, req.server)
    sub.zone = req.zone
    sub.dispatcher = req.dispatcher
    sub.meta.update(req.meta)
    return sub
