"""Handler of *file*: answers its zones from the zone files (CoreDNS's file.go).

A query whose name is in none of the zones, or whose class is not IN, goes to the next plugin.
Inside a zone (the longest one that holds the name):

- AXFR and IXFR are REFUSED (transfers would be the *transfer* plugin's, as in CoreDNS);
- while the zone's file has never been read (missing at start-up): SERVFAIL;
- otherwise :meth:`Zone.lookup <dnsd.plugins.file.zone.Zone.lookup>` answers, authoritatively
  except referrals. NXDOMAIN goes to the next plugin when ``fallthrough`` covers the name; a CNAME
  target outside the zone is resolved through the server (:mod:`dnsd.upstream`) and its answer
  appended, as CoreDNS does.

The records handed out are shared by every reply (built once when the zone is read): plugins
must not change records in place.

For the *cache*, the handler is a data source: ``zones`` and ``on_data_changed(callback)``, called
after each reload, so a cached answer never outlives the zone it came from.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from dnsd import authoritative
from dnsd.controller import Controller
from dnsd.corefile import Token
from dnsd.duration import format_duration
from dnsd.fall import Fallthrough
from dnsd.log import plugin_logger
from dnsd.plugin import Next
from dnsd.plugins.file.setup import NAME, ZoneFileOptions, error_at
from dnsd.plugins.file.source import ZoneFileMissing, ZoneSource
from dnsd.plugins.file.zonefile import Name, ZoneFileError, origin_labels
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.watch import FolderHint

log = plugin_logger(NAME)

IN = 1
SERVFAIL, REFUSED = 2, 5
AXFR, IXFR = 252, 251


class _Served:
    """A zone of the plugin: where it comes from and what falls through."""

    __slots__ = ("source", "fallthrough")

    def __init__(self, source: ZoneSource, fallthrough: Fallthrough) -> None:
        self.source = source
        self.fallthrough = fallthrough


NO_FALLTHROUGH = Fallthrough()


def _synced() -> bool:
    return True


class File:
    """Authoritative for the zones of every ``file`` line of a server block."""

    name = NAME

    def __init__(self) -> None:
        self._zones: dict[Name, _Served] = {}
        self._hint: FolderHint | None = None

    def add(self, source: ZoneSource, fallthrough: Fallthrough = NO_FALLTHROUGH) -> None:
        """Serve ``source``'s zone."""
        self._zones[origin_labels(source.origin)] = _Served(source, fallthrough)

    @property
    def sources(self) -> list[ZoneSource]:
        return [served.source for served in self._zones.values()]

    @property
    def zones(self) -> tuple[str, ...]:
        """The zones this plugin is authoritative for."""
        return tuple(source.origin for source in self.sources)

    def on_data_changed(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` after any zone was reloaded; returns the function that stops it."""
        stops = [source.on_change(callback) for source in self.sources]

        def unsubscribe() -> None:
            for stop in stops:
                stop()

        return unsubscribe

    async def serve(self, req: Request, next: Next) -> Reply | None:
        if req.qclass != IN:
            return await next(req)
        qname = tuple([label.lower() for label in req.labels])
        served = self._match(qname)
        if served is None:
            return await next(req)
        if req.qtype == AXFR or req.qtype == IXFR:
            return Reply(req.reply(rcode=REFUSED))
        zone = served.source.zone
        if zone is None:
            return Reply(req.reply(rcode=SERVFAIL))
        answer = zone.lookup(qname, req.qtype)
        source = served.source

        def unchanged() -> bool:  # memo check: the same bytes are right until a reload swaps it
            return source.zone is zone

        if answer.referral:
            msg = req.reply()
            for rr in answer.authority:
                msg.add_auth(rr)
            for rr in answer.extra:
                msg.add_ar(rr)
            referral = Reply(msg)
            referral.memo = unchanged
            return referral
        return await authoritative.reply(
            req,
            next,
            answer,
            fallthrough=served.fallthrough,
            synced=_synced,
            lookups=answer.lookups,
            memo=unchanged,
        )

    def _match(self, qname: Name) -> _Served | None:
        """The zone holding ``qname`` with the most labels."""
        zones = self._zones
        for i in range(len(qname) + 1):
            served = zones.get(qname[i:])
            if served is not None:
                return served
        return None

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the reloads, and the folder watch that hints at changes."""
        sources = [s for s in self.sources if s.reload > 0]
        for source in sources:
            await source.start()
        folders = [os.path.dirname(path) for s in sources for path in s.files]
        self._hint = FolderHint(folders, self._wake)
        self._hint.start()

    async def stop(self) -> None:
        if self._hint is not None:
            await self._hint.stop()
            self._hint = None
        for source in self.sources:
            await source.stop()

    def _wake(self) -> None:
        for source in self.sources:
            source.wake()


def register(c: Controller, lines: Sequence[tuple[ZoneFileOptions, Token]]) -> None:
    """Read every zone (errors at the line's DBFILE) and put one handler in the chain."""
    handler = File()
    for spec, where in lines:
        for origin in spec.zones:
            source = ZoneSource(origin, spec.path, spec.reload, spec.reload_by_mtime)
            _load(source, spec, where)
            handler.add(source, spec.fallthrough)
    c.add_handler(handler)
    c.on_startup(handler.start)
    c.on_shutdown(handler.stop)


def _load(source: ZoneSource, spec: ZoneFileOptions, where: Token) -> None:
    try:
        source.load()
    except ZoneFileMissing as exc:
        if spec.reload == 0:
            raise error_at(where, str(exc)) from None
        log.warning('Failed to open "%s": trying again in %s', exc, format_duration(spec.reload))
    except ZoneFileError as exc:
        raise error_at(where, str(exc)) from None
