"""Handler of *forward*: send the query upstream, hand back the upstream's bytes.

Per query (CoreDNS's ``Forward.ServeDNS``):

1. Names outside FROM, or inside an ``except`` zone (FROM itself never is), go to
   the next handler.
2. With ``max_concurrent``, a query over the limit is answered REFUSED at once
   and counted in ``coredns_forward_max_concurrent_rejects_total``.
3. The upstreams are tried in the policy's order for at most 5 seconds (or
   ``read_timeout`` if longer): a down upstream is skipped; when all are down,
   ``coredns_forward_healthcheck_broken_total`` counts it and a random upstream is
   tried anyway (or SERVFAIL at once with ``failfast_all_unhealthy_upstreams``).
   A network error starts that upstream's health checks and moves on to the next
   upstream, up to ``max_connect_attempts`` errors.
4. The transport is the client's, TCP with ``force_tcp``, UDP with ``prefer_udp``
   (a truncated UDP reply is then asked again over TCP); tls:// is always TLS.
5. A reply that is not a response to our question is answered FORMERR. A
   ``failover`` rcode tries the next upstream (the last answer is kept when all
   were tried); a ``next`` rcode, or NODATA with ``next_on_nodata``, passes the
   query to the next *forward* of the block, if there is one.
6. Anything else is returned as the upstream's bytes (``Reply(wire=...)``): the
   server only patches the ID and the client's EDNS, it does not re-encode.
"""

from __future__ import annotations

import asyncio
import random

from dnsd.controller import Controller
from dnsd.errors import PluginError
from dnsd.plugin import Next
from dnsd.plugins.forward import metrics
from dnsd.plugins.forward.health import HealthCheck
from dnsd.plugins.forward.message import ext_rcode, matches
from dnsd.plugins.forward.policy import make_policy
from dnsd.plugins.forward.setup import NAME, ForwardOptions
from dnsd.plugins.forward.targets import TLS
from dnsd.plugins.forward.tlsconfig import client_context
from dnsd.plugins.forward.upstream import Upstream, UpstreamError
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import FORMERR, REFUSED, error_reply

#: CoreDNS's overall time for one query across upstreams.
DEFAULT_TIMEOUT = 5.0
_TC = 0x02
_EXT_RCODE_MIN = 16
NO_HEALTHY = "no healthy proxies"


class Forward:
    """One ``forward`` directive: its upstreams, their health checks and the query loop."""

    name = NAME

    def __init__(self, opts: ForwardOptions, *, next_is_forward: bool = False) -> None:
        self.opts = opts
        self.zone = opts.from_zone
        self.ignored = opts.ignored
        self.next_is_forward = next_is_forward
        ctx = None
        if any(t.transport == TLS for t in opts.to):
            ctx = client_context(opts.tls_cert, opts.tls_key, opts.tls_ca)
        self.upstreams = [
            Upstream(
                to,
                ssl_context=ctx,
                server_name=opts.tls_servername,
                expire=opts.expire,
                max_age=opts.max_age,
                max_idle_conns=opts.max_idle_conns,
                source_address=opts.source_address,
            )
            for to in opts.to
        ]
        hc_proto = "tcp" if opts.force_tcp else "udp"
        self.health = {
            id(up): HealthCheck(
                up,
                interval=opts.health_check,
                recursion_desired=opts.hc_recursion_desired,
                domain=opts.hc_domain,
                proto=hc_proto,
                timeout=opts.read_timeout,
            )
            for up in self.upstreams
        }
        self.policy = make_policy(opts.policy)
        self.max_fails = opts.max_fails
        self.max_concurrent = opts.max_concurrent
        self.max_attempts = opts.attempts
        self.read_timeout = opts.read_timeout
        self.deadline = max(DEFAULT_TIMEOUT, opts.read_timeout)
        self.concurrent = 0
        self.pass_on = frozenset(opts.next_rcodes) if next_is_forward else frozenset()
        self.nodata_on = opts.next_on_nodata and next_is_forward
        self.failover = frozenset(opts.failover_rcodes)
        self.wide_rcodes = any(r >= _EXT_RCODE_MIN for r in (*self.pass_on, *self.failover))

    def match(self, name: str) -> bool:
        """True when ``name`` (lowercase, absolute) is forwarded by this directive."""
        zone = self.zone
        if name == zone:
            return True
        if zone != "." and not name.endswith("." + zone):
            return False
        for ignored in self.ignored:
            if ignored == "." or name == ignored or name.endswith("." + ignored):
                return False
        return True

    async def serve(self, req: Request, next: Next) -> Reply | None:
        if not self.match(req.name_lower):
            return await next(req)
        if not self.max_concurrent:
            return await self._forward(req, next)
        if self.concurrent >= self.max_concurrent:
            metrics.max_concurrent_rejects.inc()
            return Reply(wire=error_reply(req, REFUSED))
        self.concurrent += 1
        try:
            return await self._forward(req, next)
        finally:
            self.concurrent -= 1

    async def _forward(self, req: Request, next: Next) -> Reply | None:
        opts = self.opts
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.deadline
        proto = "tcp" if opts.force_tcp else "udp" if opts.prefer_udp else req.proto
        order = self.policy.order(self.upstreams)
        count = len(order)
        i = fails = attempts = tried = 0
        error: UpstreamError | None = None
        while loop.time() < deadline and (not self.max_attempts or attempts < self.max_attempts):
            if i >= count:
                i = fails = 0
            upstream = order[i]
            i += 1
            if upstream.down(self.max_fails):
                fails += 1
                if fails < count:
                    continue
                metrics.healthcheck_broken.inc()
                if opts.failfast_all_unhealthy_upstreams:
                    break
                upstream = random.choice(self.upstreams)
            req.meta["forward/upstream"] = upstream.addr
            try:
                timeout = min(self.read_timeout, max(deadline - loop.time(), 0.001))
                wire = await upstream.exchange(req.wire, proto, timeout)
                if wire[2] & _TC and opts.prefer_udp and upstream.transport_for(proto) == "udp":
                    # CoreDNS: a truncated reply to a UDP query made by prefer_udp: ask over TCP
                    timeout = min(self.read_timeout, max(deadline - loop.time(), 0.001))
                    wire = await upstream.exchange(req.wire, "tcp", timeout)
            except UpstreamError as exc:
                error = exc
                if self.max_fails:
                    self.health[id(upstream)].kick()
                attempts += 1
                if fails < count:
                    continue
                break
            if not matches(wire, req.question):
                return Reply(wire=error_reply(req, FORMERR))
            rcode = self._rcode(wire)
            tried += 1
            if rcode in self.failover and tried < count:
                continue
            if rcode in self.pass_on or (self.nodata_on and rcode == 0 and _empty(wire)):
                return await next(req)
            return Reply(wire=wire)
        if error is not None:
            raise PluginError(str(error))
        raise PluginError(NO_HEALTHY)

    def _rcode(self, wire: bytes) -> int:
        rcode = wire[3] & 0x0F
        if self.wide_rcodes:
            rcode |= ext_rcode(wire) << 4
        return rcode

    def close(self) -> None:
        """Stop the health checks and close every upstream socket."""
        for check in self.health.values():
            check.stop()
        for upstream in self.upstreams:
            upstream.close()


def _empty(wire: bytes) -> bool:
    """No answer records (NODATA when the rcode is NOERROR)."""
    return wire[6] == 0 and wire[7] == 0


def register(c: Controller, all_opts: tuple[ForwardOptions, ...]) -> None:
    """Add one handler per occurrence, in order; close them all when the config stops."""
    handlers = [
        Forward(opts, next_is_forward=i < len(all_opts) - 1) for i, opts in enumerate(all_opts)
    ]
    for handler in handlers:
        c.add_handler(handler)

    async def stop() -> None:
        for handler in handlers:
            handler.close()

    c.on_shutdown(stop)
