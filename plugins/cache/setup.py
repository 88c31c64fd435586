"""Setup of *cache*: ``cache [TTL] [ZONES...] { ... }`` with CoreDNS's options and defaults.

::

    cache [TTL] [ZONES...] {
        success CAPACITY [TTL] [MINTTL]
        denial CAPACITY [TTL] [MINTTL]
        prefetch AMOUNT [[DURATION] [PERCENTAGE%]]
        serve_stale [DURATION] [immediate [RESPONSE_TTL [RECHECK]]
                               | verify [TIMEOUT [RESPONSE_TTL [RECHECK]]]]
        servfail DURATION
        disable success|denial [ZONES...]
        keepttl
    }

Error wording follows CoreDNS's ``plugin/cache/setup.go`` where it has its own
messages; numbers that do not parse get a message naming the option (CoreDNS
prints Go's ``strconv.Atoi`` error). Stricter than CoreDNS: a negative
capacity and a negative prefetch duration are errors, and so are extra
arguments to ``success``/``denial`` (CoreDNS ignores them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dnsd.address import normalize_zones
from dnsd.controller import Controller
from dnsd.duration import parse_duration

NAME = "cache"

#: The most a SERVFAIL may be cached (RFC 2308 section 7.1), and a failed refresh rechecked.
MAX_FAIL_TTL = 300.0
_INT = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class CacheOptions:
    """Every option, with CoreDNS's default. TTLs are seconds."""

    #: The zones cached (default: the server block's zones).
    zones: tuple[str, ...] = (".",)
    success_capacity: int = 10000
    success_ttl: int = 3600
    success_minttl: int = 5
    denial_capacity: int = 10000
    denial_ttl: int = 1800
    denial_minttl: int = 5
    #: Prefetch entries asked this many times (0: no prefetching)...
    prefetch: int = 0
    #: ...with no gap of this many seconds or more between the queries...
    prefetch_duration: float = 60.0
    #: ...once their remaining TTL is at most this percentage of the original.
    prefetch_percentage: int = 10
    #: Serve expired entries up to this many seconds after expiry (0: never).
    serve_stale: float = 0.0
    #: ``verify``: ask the rest of the chain before answering from an expired entry.
    verify_stale: bool = False
    #: How long a ``verify`` waits for the chain before answering stale (0: as long as it takes).
    verify_timeout: float = 0.0
    #: The TTL of stale answers (RFC 8767 suggests 30).
    stale_ttl: float = 0.0
    #: After a failed refresh of a stale entry, wait this long before trying again.
    stale_recheck: float = 0.0
    #: How long SERVFAIL (and NOTIMP) replies are cached.
    servfail: float = 5.0
    #: Zones whose positive / negative replies are not cached.
    disable_success: tuple[str, ...] = ()
    disable_denial: tuple[str, ...] = ()
    #: Answer hits with the TTL they were stored with instead of counting down.
    keepttl: bool = False


def parse(c: Controller) -> CacheOptions:
    """Read the block's single ``cache`` directive."""
    values: dict[str, object] = {}
    while c.next_once():
        args = c.remaining_args()
        if args and _INT.fullmatch(args[0]):
            ttl = int(args[0])
            if ttl <= 0:
                c.err(f"cache TTL can not be zero or negative: {ttl}")
            values["success_ttl"] = values["denial_ttl"] = ttl
            args = args[1:]
        try:
            values["zones"] = tuple(normalize_zones(args)) if args else tuple(c.zones)
        except ValueError as exc:
            c.err(str(exc))
        while c.next_block():
            _option(c, values)
    return CacheOptions(**values)  # type: ignore[arg-type]


def _option(c: Controller, values: dict[str, object]) -> None:
    prop = c.val()
    args = c.remaining_args()
    if prop in ("success", "denial"):
        _capacity(c, prop, args, values)
    elif prop == "prefetch":
        _prefetch(c, args, values)
    elif prop == "serve_stale":
        _serve_stale(c, args, values)
    elif prop == "servfail":
        if len(args) != 1:
            c.arg_err()
        ttl = _duration(c, args[0])
        if ttl < 0:
            c.err("invalid negative ttl for servfail")
        if ttl > MAX_FAIL_TTL:
            c.err("caching SERVFAIL responses over 5 minutes is not permitted")
        values["servfail"] = ttl
    elif prop == "disable":
        if not args:
            c.arg_err()
        if args[0] not in ("success", "denial"):
            c.err('cache type for disable must be "success" or "denial"')
        zones: list[str] = []
        for zone in args[1:]:
            try:
                zones.extend(normalize_zones([zone]))
            except ValueError:
                c.err(f"invalid disabled zone: {zone}")
        values[f"disable_{args[0]}"] = tuple(zones) if zones else (".",)
    elif prop == "keepttl":
        if args:
            c.arg_err()
        values["keepttl"] = True
    else:
        c.err(f"unknown property '{prop}'")  # c.val() has moved on to the last argument


def _capacity(c: Controller, prop: str, args: list[str], values: dict[str, object]) -> None:
    """``success|denial CAPACITY [TTL] [MINTTL]``."""
    if not args or len(args) > 3:
        c.arg_err()
    capacity = _int(c, f"{prop} capacity", args[0])
    if capacity < 0:
        c.err(f"{prop} capacity can not be negative: {capacity}")
    values[f"{prop}_capacity"] = capacity
    if len(args) > 1:
        ttl = _int(c, f"{prop} TTL", args[1])
        if ttl <= 0:
            c.err(f"cache TTL can not be zero or negative: {ttl}")
        values[f"{prop}_ttl"] = ttl
    if len(args) > 2:
        minttl = _int(c, f"{prop} min TTL", args[2])
        if minttl < 0:
            c.err(f"cache min TTL can not be negative: {minttl}")
        values[f"{prop}_minttl"] = minttl


def _prefetch(c: Controller, args: list[str], values: dict[str, object]) -> None:
    """``prefetch AMOUNT [[DURATION] [PERCENTAGE%]]``."""
    if not args or len(args) > 3:
        c.arg_err()
    amount = _int(c, "prefetch amount", args[0])
    if amount < 0:
        c.err(f"prefetch amount should be positive: {amount}")
    values["prefetch"] = amount
    if len(args) > 1:
        duration = _duration(c, args[1])
        if duration < 0:
            c.err("invalid negative duration for prefetch")
        values["prefetch_duration"] = duration
    if len(args) > 2:
        pct = args[2]
        if not pct.endswith("%"):
            c.err(f"last character of percentage should be `%`, but is: '{pct[-1]}'")
        num = _int(c, "prefetch percentage", pct[:-1])
        if not 10 <= num <= 90:
            c.err(f"percentage should fall in range [10, 90]: {num}")
        values["prefetch_percentage"] = num


def _serve_stale(c: Controller, args: list[str], values: dict[str, object]) -> None:
    """``serve_stale [DURATION] [immediate [RESPONSE_TTL [RECHECK]] | verify [TIMEOUT [...]]]``."""
    if len(args) > 5:
        c.arg_err()
    stale = 3600.0
    if args:
        stale = _duration(c, args[0])
        if stale < 0:
            c.err("invalid negative duration for serve_stale")
    values["serve_stale"] = stale
    if len(args) < 2:
        return
    mode = args[1].lower()
    if mode not in ("immediate", "verify"):
        c.err(f"invalid value for serve_stale refresh mode: {mode}")
    rest = args[2:]
    if mode == "verify":
        values["verify_stale"] = True
        if rest:
            timeout = _duration(c, rest[0])
            if timeout < 0:
                c.err("invalid negative duration for serve_stale verify timeout")
            values["verify_timeout"] = timeout
            rest = rest[1:]
    if len(rest) > 2:
        c.arg_err()
    if rest:
        ttl = _duration(c, rest[0])
        if ttl < 0:
            c.err("invalid negative duration for serve_stale response TTL")
        values["stale_ttl"] = ttl
    if len(rest) > 1:
        recheck = _duration(c, rest[1])
        if recheck < 0:
            c.err("invalid negative duration for serve_stale failure recheck")
        if recheck > MAX_FAIL_TTL:
            c.err("serve_stale failure recheck over 5 minutes is not permitted")
        values["stale_recheck"] = recheck


def _int(c: Controller, what: str, text: str) -> int:
    if not _INT.fullmatch(text):
        c.err(f"{what} must be an integer: '{text}'")
    return int(text)


def _duration(c: Controller, text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        c.err(str(exc))


def setup(c: Controller) -> None:
    """Parse, then put the cache in the chain with its start-up and shutdown hooks."""
    from dnsd.plugins.cache.handler import Cache

    cache = Cache(parse(c))
    block = c.block
    c.add_handler(cache)

    async def start() -> None:
        cache.start(block.handlers)

    c.on_startup(start)
    c.on_shutdown(cache.stop)
