"""Handler of *hosts*: A, AAAA and PTR answers from the hosts data (CoreDNS's ``hosts.go``).

* Other classes than IN go to the next plugin.
* PTR: answered when the address is in the data, for any reverse name whatever ZONES say;
  otherwise the next plugin answers, whatever ``fallthrough`` says.
* A name outside ZONES goes to the next plugin.
* A name with no entry (and no wildcard for it) goes to the next plugin where ``fallthrough``
  covers it, else gets SERVFAIL: the plugin has no SOA to send an NXDOMAIN with.
* A or AAAA: the name's addresses of that family (NODATA when it has only the other family).
* Any other type for a name that exists: NODATA, or the next plugin with
  ``fallthrough_unsupported`` where ``fallthrough`` covers the name.

Answers are authoritative and have no authority section. The owner is the name as asked.
"""

from __future__ import annotations

from collections.abc import Callable

from dnslib import AAAA, PTR, RR, A, DNSLabel

from dnsd.plugin import Next
from dnsd.plugins.hosts.hostsfile import Table, in_zones
from dnsd.plugins.hosts.setup import NAME, HostsOptions
from dnsd.plugins.hosts.source import HostsSource
from dnsd.reply import Reply
from dnsd.request import Request

IN = 1
TYPE_A, TYPE_PTR, TYPE_AAAA = 1, 12, 28
SERVFAIL = 2
REVERSE_ZONES = ("in-addr.arpa.", "ip6.arpa.")


class Hosts:
    """Answers from :attr:`source`'s current table."""

    name = NAME

    def __init__(self, opts: HostsOptions, source: HostsSource) -> None:
        self.opts = opts
        self.source = source
        self.ttl = opts.ttl
        reverse = [z for z in REVERSE_ZONES if opts.reverse and not in_zones(z, opts.zones)]
        self._zones = (*opts.zones, *reverse)

    @property
    def zones(self) -> tuple[str, ...]:
        """The zones whose answers change with the data: ZONES, plus the reverse zones when
        PTR records are generated (they are answered whatever ZONES say)."""
        return self._zones

    def on_data_changed(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` whenever the hosts data change (the cache drops its answers in
        :attr:`zones` then). Returns a function that stops the calls."""
        return self.source.on_change(callback)

    async def serve(self, req: Request, next: Next) -> Reply | None:
        if req.qclass != IN:
            return await next(req)
        table = self.source.table
        reply = self._answer(req, table)
        if reply is None:
            return await next(req)
        if reply.rcode != SERVFAIL:
            # The same bytes are right while this table serves (a reload swaps in a new one).
            source = self.source
            reply.memo = lambda: source.table is table
        return reply

    def _answer(self, req: Request, table: Table) -> Reply | None:
        """Our reply from ``table``, or None: the next plugin answers."""
        name = req.name_lower
        qtype = req.qtype
        if qtype == TYPE_PTR:
            targets = table.ptr.get(name)
            if not targets:
                return None
            msg = req.reply(aa=True)
            owner = DNSLabel(list(req.labels))
            for target in targets:
                msg.add_answer(RR(owner, TYPE_PTR, IN, self.ttl, PTR(target)))
            return Reply(msg)
        if not in_zones(name, self.opts.zones):
            return None
        found = table.owner(name)
        fall = self.opts.fallthrough
        if found is None:
            if fall.through(name):
                return None
            return Reply(req.reply(rcode=SERVFAIL))
        if qtype != TYPE_A and qtype != TYPE_AAAA:
            if self.opts.fallthrough_unsupported and fall.through(name):
                return None
            return Reply(req.reply(aa=True))
        msg = req.reply(aa=True)
        v4 = qtype == TYPE_A
        addresses = (table.v4 if v4 else table.v6).get(found, ())
        if addresses:
            owner = DNSLabel(list(req.labels))
            for address in addresses:
                rdata = A(address) if v4 else AAAA(address)
                msg.add_answer(RR(owner, qtype, IN, self.ttl, rdata))
        return Reply(msg)
