"""Handler of *errors*: log what went wrong below it, as CoreDNS does, and answer SERVFAIL.

A deliberate failure (:class:`~dnsd.errors.PluginError`) raised below *errors*
is logged as ``[ERROR] plugin/errors: 2 example.org. A: plugin/forward: <msg>``
(rcode, lowercase query name, type, then the error) and answered with an empty
SERVFAIL, as CoreDNS's server writes one. A chain that ends with no plugin
answering is CoreDNS's ``plugin/<last>: no next plugin found``, named after the
block's last handler; the server then answers SERVFAIL. Panics (any other
exception) pass through untouched: the server counts and logs them.

Consolidation is CoreDNS's: the first error matching a pattern (patterns in
the order written; a pattern matches the whole text or the error's own
message, so ``^read udp`` style patterns keep working) starts a timer of the
pattern's period; when it fires the count is logged as ``N errors like '<re>'
occurred in last <period>``. With ``show_first`` the first error is logged at
once at the pattern's level and a count of one is not repeated. When the
config stops (reload or exit) pending counts are logged at once and later
errors are logged one by one.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dnsd.duration import format_duration
from dnsd.errors import ChainError
from dnsd.log import plugin_logger
from dnsd.plugin import Handler, Next
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import SERVFAIL

if TYPE_CHECKING:
    from dnsd.plugins.errors.setup import Consolidate, ErrorsOptions

log = plugin_logger("errors")

#: The levels ``consolidate`` accepts, as logging levels.
LEVELS = {
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}
NO_NEXT = "no next plugin found"


class Pattern:
    """One ``consolidate`` line at run time: its regexp and the count of the current period."""

    __slots__ = ("regex", "period", "level", "show_first", "count", "timer")

    def __init__(self, spec: Consolidate) -> None:
        self.regex = re.compile(spec.pattern)
        self.period = spec.period
        self.level = LEVELS[spec.level]
        self.show_first = spec.show_first
        self.count = 0
        self.timer: asyncio.TimerHandle | None = None

    def matches(self, text: str, message: str) -> bool:
        return self.regex.search(text) is not None or self.regex.search(message) is not None

    def flush(self) -> None:
        """Log the period's count (unless it is the one error ``show_first`` already logged)."""
        count, self.count, self.timer = self.count, 0, None
        if count > 1 or (count == 1 and not self.show_first):
            log.log(
                self.level,
                "%d errors like '%s' occurred in last %s",
                count,
                self.regex.pattern,
                format_duration(self.period),
            )


class Errors:
    """Log the chain's deliberate failures; answer SERVFAIL for them."""

    name = "errors"
    #: Depends on the query's bytes only; per-query work is a reply observer (dnsd.fastpath).
    memo_safe = True

    def __init__(self, options: ErrorsOptions, handlers: Sequence[Handler] = ()) -> None:
        self.options = options
        self.patterns = tuple(Pattern(spec) for spec in options.consolidate)
        #: The block's chain (filled in after this setup), for "no next plugin found".
        self.handlers = handlers
        self.stopped = False

    async def serve(self, req: Request, next: Next) -> Reply | None:
        try:
            reply = await next(req)
        except ChainError as exc:
            if exc.panic:
                raise
            self.report(req, str(exc), str(exc.error))
            return Reply(req.reply(rcode=SERVFAIL), plugin="")
        if reply is None:
            last = self.handlers[-1].name if self.handlers else self.name
            self.report(req, f"plugin/{last}: {NO_NEXT}", NO_NEXT)
        return reply

    def report(self, req: Request, text: str, message: str) -> None:
        """Log one error (``text``: ``plugin/x: message``) or count it for its pattern."""
        level = logging.ERROR
        for pattern in self.patterns:
            if pattern.matches(text, message):
                if self._consolidate(pattern):
                    return
                level = pattern.level
                break
        log.log(level, "%d %s %s: %s", SERVFAIL, req.name_lower, req.type_name, text)

    def _consolidate(self, pattern: Pattern) -> bool:
        """Count the error; False when it must be logged now (first with show_first, or stopped)."""
        if self.stopped:
            return False
        pattern.count += 1
        if pattern.count == 1:
            loop = asyncio.get_running_loop()
            pattern.timer = loop.call_later(pattern.period, pattern.flush)
            return not pattern.show_first
        return True

    async def stop(self) -> None:
        """Shutdown hook: log the pending counts now; log later errors one by one."""
        self.stopped = True
        for pattern in self.patterns:
            if pattern.timer is not None:
                pattern.timer.cancel()
                pattern.flush()
