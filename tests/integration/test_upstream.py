"""dnsd.upstream: a plugin completes its answer through the server's own routing and chains."""

from __future__ import annotations

import dns.rcode
import dns.rdatatype
import pytest

from dnsd.testing import serve_corefile
from tests.integration.stubs import stub_plugin

COREFILE = """
alias.example {
    stub cname target.example.
}
target.example {
    stub tag 7
}
loop.example {
    stub cname loop.example.
}
"""


async def test_cname_target_resolved_through_own_chain() -> None:
    with stub_plugin():
        async with serve_corefile(COREFILE) as srv:
            reply = await srv.query("www.alias.example", "A")
    assert reply.rcode() == dns.rcode.NOERROR
    types = [(str(r.name), dns.rdatatype.to_text(r.rdtype)) for r in reply.answer]
    assert types == [("www.alias.example.", "CNAME"), ("target.example.", "A")]
    assert reply.answer[1][0].address == "10.0.0.7"


async def test_outside_every_zone_adds_nothing() -> None:
    with stub_plugin():
        text = "alias.example {\n    stub cname elsewhere.test.\n}\n"
        async with serve_corefile(text) as srv:
            reply = await srv.query("www.alias.example", "A")
    assert reply.rcode() == dns.rcode.NOERROR
    assert [dns.rdatatype.to_text(r.rdtype) for r in reply.answer] == ["CNAME"]


async def test_self_loop_stops_at_the_depth_limit() -> None:
    with stub_plugin():
        async with serve_corefile(COREFILE) as srv:
            reply = await srv.query("loop.example", "A", timeout=5)
    assert reply.rcode() == dns.rcode.NOERROR  # answered: the recursion ended
    assert [dns.rdatatype.to_text(r.rdtype) for r in reply.answer] == ["CNAME"]


async def test_depth_limit_counts_nested_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    import dnsd.upstream

    seen: list[int] = []
    real = dnsd.upstream.Request.init

    def spy(self: dnsd.upstream.Request, *args: object) -> dnsd.upstream.Request:
        out = real(self, *args)  # type: ignore[arg-type]
        seen.append(1)
        return out

    monkeypatch.setattr(dnsd.upstream.Request, "init", spy)
    with stub_plugin():
        async with serve_corefile(COREFILE) as srv:
            await srv.query("loop.example", "A", timeout=5)
    # the client's query plus one internal query per level, up to MAX_DEPTH
    assert len(seen) == 1 + dnsd.upstream.MAX_DEPTH
