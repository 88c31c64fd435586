"""whoami's answers, through the real server, for each transport and family."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from dnsd.testing import serve_corefile

CASES = [
    # (id, host, qname, qtype, tcp, want A/AAAA record type, SRV owner)
    ("udp-v4-A", "127.0.0.1", "example.org", "A", False, "A", "_udp.example.org."),
    ("tcp-v4-MX", "127.0.0.1", "Example.ORG", "MX", True, "A", "_tcp.Example.ORG."),
    ("udp-v6-AAAA", "::1", "example.org", "AAAA", False, "AAAA", "_udp.example.org."),
    ("root", "127.0.0.1", ".", "NS", False, "A", "_udp."),
]


@pytest.mark.parametrize(
    ("host", "qname", "qtype", "tcp", "family", "srv_owner"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
async def test_whoami(
    host: str, qname: str, qtype: str, tcp: bool, family: str, srv_owner: str
) -> None:
    try:
        ctx = serve_corefile(". {\n    whoami\n}\n", host=host)
        srv = await ctx.__aenter__()
    except OSError:
        pytest.skip(f"{host} not available")
    try:
        reply = await srv.query(qname, qtype, tcp=tcp)
    finally:
        await ctx.__aexit__(None, None, None)
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.flags & dns.flags.AA
    assert reply.answer == []
    extra = {dns.rdatatype.to_text(r.rdtype): r for r in reply.additional}
    addr = extra[family]
    assert str(addr.name) == (qname if qname.endswith(".") else qname + ".")
    assert addr.ttl == 0
    assert addr[0].address == host
    srv_rr = extra["SRV"]
    assert str(srv_rr.name) == srv_owner
    assert str(srv_rr[0].target) == "."
    assert srv_rr[0].port > 1024
