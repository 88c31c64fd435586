"""The NSID option (RFC 5001) in a dnslib reply's OPT record; no server knowledge.

A query asks for the name server identifier with an NSID option (code 3,
empty payload) in its OPT record; the reply carries the identifier as that
option's payload. The server writes the reply's OPT for the client (size, DO,
version, see :mod:`dnsd.encode`) and keeps the options a plugin put in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dnslib import EDNS0, EDNSOption

NSID = 3
TYPE_OPT = 41


def asks(options: Iterable[tuple[int, bytes]]) -> bool:
    """Whether the query's EDNS options ask for the NSID (any NSID option, as CoreDNS)."""
    return any(code == NSID for code, _ in options)


def add(msg: Any, data: bytes, *, keep_options: bool) -> None:
    """Put ``data`` as the NSID option in ``msg``'s OPT record (one is added when missing).

    An NSID option already there is replaced. With ``keep_options`` False the
    reply's other options go: an upstream's OPT (a reply *forward* relays) is never
    passed to the client, only its extended rcode bits.
    """
    option = EDNSOption(NSID, data)
    opt = next((rr for rr in msg.ar if rr.rtype == TYPE_OPT), None)
    if opt is None:
        msg.add_ar(EDNS0(opts=[option]))
        return
    kept = [o for o in opt.rdata if o.code != NSID] if keep_options else []
    opt.rdata = [*kept, option]
