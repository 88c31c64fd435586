"""What a handler returns: a reply, as a dnslib message or as wire bytes.

Plugins that build answers hand over a :class:`dnslib.DNSRecord`; plugins that
already hold the encoded answer (cache, forward) hand over bytes and skip a
parse and a pack. Either way the server scrubs the reply (EDNS, truncation)
before it is sent.
"""

from __future__ import annotations

from collections.abc import Callable

from dnslib import DNSRecord

from dnsd.errors import PluginError


class Reply:
    """A handler's answer. ``plugin`` names the plugin that wrote it (metrics' ``plugin`` label)."""

    __slots__ = ("_msg", "_wire", "plugin", "drop", "memo")

    def __init__(
        self,
        msg: DNSRecord | None = None,
        *,
        wire: bytes | None = None,
        plugin: str | None = None,
    ) -> None:
        if (msg is None) == (wire is None):
            raise ValueError("Reply needs exactly one of msg or wire")
        self._msg = msg
        self._wire = wire
        self.plugin = plugin
        #: True when the query must get no reply at all (acl's drop).
        self.drop = False
        #: The answering plugin's memo check (:mod:`dnsd.fastpath`): the same query bytes may
        #: get the same reply bytes, before the chain, while it returns True.
        self.memo: Callable[[], bool] | None = None

    @classmethod
    def dropped(cls, plugin: str | None = None) -> Reply:
        """A reply that sends nothing."""
        reply = cls(wire=b"", plugin=plugin)
        reply.drop = True
        return reply

    @property
    def msg(self) -> DNSRecord:
        """The reply as a dnslib message, parsed on first use.

        Taking the message means the caller may change it, so the wire form
        is forgotten and the server packs the message again.
        """
        if self._msg is None:
            assert self._wire is not None
            try:
                self._msg = DNSRecord.parse(self._wire)
            except Exception as exc:  # dnslib raises more than DNSError on bad input
                raise PluginError(f"unparseable reply: {exc}") from exc
            self._wire = None
        return self._msg

    @property
    def wire(self) -> bytes | None:
        """The reply's bytes as the plugin gave them, or None once it is a message."""
        return self._wire

    @property
    def rcode(self) -> int:
        """The 4-bit header rcode."""
        if self._msg is not None:
            return int(self._msg.header.rcode)
        assert self._wire is not None
        return self._wire[3] & 0x0F if len(self._wire) >= 4 else 0
