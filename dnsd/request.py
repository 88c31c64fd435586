"""A query as the chain sees it: the validated question plus facts about the client.

:class:`Request` extends :class:`dnsd.wire.Query` (header and question parsed and
validated by hand before any plugin runs) with where the query came from and
per-query metadata shared between plugins (CoreDNS's *metadata*).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from dnslib import EDNS0, DNSHeader, DNSLabel, DNSQuestion, DNSRecord, EDNSOption

from dnsd.wire import Query, type_name

#: Called once the reply's bytes are known (None when nothing is sent).
ReplyObserver = Callable[["Request", "bytes | None", "str | None"], None]
#: Rewrites a remembered reply's bytes on every memo hit (loadbalance's shuffle); None: cannot.
MemoTransform = Callable[[bytes], "bytes | None"]

_RD = 0x0100
_CD = 0x0010


class Request(Query):
    """One query in flight."""

    __slots__ = (
        "client",
        "port",
        "proto",
        "local",
        "server",
        "zone",
        "meta",
        "start",
        "_observers",
        "_memo_transforms",
        "_memo_hooks",
        "_msg",
        "dispatcher",
    )

    client: str
    port: int
    proto: str
    local: str
    server: str
    zone: str
    meta: dict[str, Any]
    start: float
    _observers: list[ReplyObserver] | None
    _memo_transforms: list[MemoTransform] | None
    _memo_hooks: list[Callable[[], None]] | None
    _msg: DNSRecord | None
    #: The listener's dispatcher (for :mod:`dnsd.upstream` lookups); None outside a server.
    dispatcher: Any

    def init(self, client: str, port: int, proto: str, local: str, server: str) -> Request:
        """Fill in the transport facts after :func:`dnsd.wire.parse_query` made the object."""
        if client.startswith("::ffff:") and "." in client:
            client = client[7:]  # IPv4 client on a dual-stack socket
        self.client = client
        self.port = port
        self.proto = proto
        self.local = local
        self.server = server
        self.zone = ""
        self.meta = {}
        self.start = time.perf_counter()
        self._observers = None
        self._memo_transforms = None
        self._memo_hooks = None
        self._msg = None
        self.dispatcher = None
        return self

    @property
    def family(self) -> int:
        """1 for IPv4 clients, 2 for IPv6 (CoreDNS's ``family`` label)."""
        return 2 if ":" in self.client else 1

    @property
    def max_size(self) -> int:
        """The largest reply the client accepts: 65535 on TCP, else its EDNS size (>= 512)."""
        if self.proto == "tcp":
            return 65535
        return max(512, self.udp_size) if self.edns else 512

    def set_udp_size(self, size: int) -> None:
        """Change the advertised EDNS UDP size (bufsize), in the wire form too."""
        if not self.edns:
            return
        self.udp_size = size
        off = self.opt_size_offset
        self.wire = self.wire[:off] + size.to_bytes(2, "big") + self.wire[off + 2 :]
        self._msg = None

    def set_flags(self, flags: int) -> None:
        """Change the header flags word (*header*'s query rules), in the wire form too.

        Plugins further down the chain, and upstreams *forward* asks, see the new flags;
        replies built with :meth:`reply` copy RD and CD from them. Opcode and rcode bits
        are the caller's to keep.
        """
        self.flags = flags & 0xFFFF
        self.wire = self.wire[:2] + self.flags.to_bytes(2, "big") + self.wire[4:]
        self._msg = None

    def on_reply(self, observer: ReplyObserver) -> None:
        """Call ``observer(req, wire, plugin)`` once the reply has been encoded."""
        if self._observers is None:
            self._observers = [observer]
        else:
            self._observers.append(observer)

    def observers(self) -> list[ReplyObserver]:
        """The reply observers registered so far."""
        return list(self._observers or ())

    def transform_memo(self, transform: MemoTransform) -> None:
        """When this reply is remembered (:mod:`dnsd.fastpath`), pass every later copy of it
        through ``transform(wire) -> wire`` (None: the copy cannot be made, use the chain)."""
        if self._memo_transforms is None:
            self._memo_transforms = [transform]
        else:
            self._memo_transforms.append(transform)

    def on_memo_hit(self, hook: Callable[[], None]) -> None:
        """When this reply is remembered, call ``hook()`` on every later copy (counting)."""
        if self._memo_hooks is None:
            self._memo_hooks = [hook]
        else:
            self._memo_hooks.append(hook)

    def memo_transforms(self) -> list[MemoTransform]:
        """The transforms registered with :meth:`transform_memo`."""
        return list(self._memo_transforms or ())

    def memo_hooks(self) -> list[Callable[[], None]]:
        """The hooks registered with :meth:`on_memo_hit`."""
        return list(self._memo_hooks or ())

    def replied(self, wire: bytes | None, plugin: str | None) -> None:
        """Run the observers: the server calls this once per query."""
        if self._observers:
            for observer in self._observers:
                observer(self, wire, plugin)

    def question_rr(self) -> DNSQuestion:
        """The question as a dnslib object (original case)."""
        return DNSQuestion(DNSLabel(list(self.labels)), self.qtype, self.qclass)

    def reply(self, rcode: int = 0, *, aa: bool = False) -> DNSRecord:
        """An empty reply to this query: ID, opcode, RD and CD copied, question echoed."""
        header = DNSHeader(
            id=self.id,
            qr=1,
            opcode=self.opcode,
            aa=int(aa),
            rd=int(bool(self.flags & _RD)),
            rcode=rcode & 0x0F,
        )
        header.cd = int(bool(self.flags & _CD))
        return DNSRecord(header, q=self.question_rr())

    @property
    def msg(self) -> DNSRecord:
        """The query as a dnslib message (built from the validated fields, never re-parsed)."""
        if self._msg is None:
            header = DNSHeader(id=self.id, bitmap=self.flags)
            msg = DNSRecord(header, q=self.question_rr())
            if self.edns:
                opts = [EDNSOption(code, data) for code, data in self.options]
                msg.add_ar(EDNS0(udp_len=self.udp_size, flags="do" if self.do else "", opts=opts))
            self._msg = msg
        return self._msg

    @property
    def type_name(self) -> str:
        """The query type's name (``A``, ``TYPE65280``...)."""
        return type_name(self.qtype)
