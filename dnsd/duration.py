"""Go-style durations (``5s``, ``1m30s``, ``250ms``), as CoreDNS's options take them."""

from __future__ import annotations

import re

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> float:
    """Seconds in a Go duration string; a bare number means seconds (some CoreDNS options allow it).

    Raises ValueError with a message fit for a config error.
    """
    s = text.strip()
    if not s:
        raise ValueError(f"invalid duration '{text}'")
    sign = 1.0
    if s[0] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if re.fullmatch(r"\d+", s):
        return sign * float(s)
    pos, total = 0, 0.0
    while pos < len(s):
        m = _PART.match(s, pos)
        if m is None:
            raise ValueError(f"invalid duration '{text}'")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return sign * total


def format_duration(seconds: float) -> str:
    """Go's ``time.Duration.String()``: ``5m0s``, ``1.5s``, ``250ms``, ``0s``."""
    if seconds == 0:
        return "0s"
    neg = seconds < 0
    ns = round(abs(seconds) * 1e9)
    if ns < 1000:
        out = f"{ns}ns"
    elif ns < 1_000_000:
        out = _trim(ns / 1e3) + "µs"
    elif ns < 1_000_000_000:
        out = _trim(ns / 1e6) + "ms"
    else:
        h, rem = divmod(ns, 3_600_000_000_000)
        m, rem = divmod(rem, 60_000_000_000)
        out = _trim(rem / 1e9) + "s"
        if h or m:
            out = f"{m}m" + out
        if h:
            out = f"{h}h" + out
    return "-" + out if neg else out


def _trim(value: float) -> str:
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"
