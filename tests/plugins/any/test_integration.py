"""*any* through the real server, read back with dnspython as a real HINFO record."""

from __future__ import annotations

import dns.flags
import dns.rcode
import dns.rdatatype
import pytest

from dnsd.testing import serve_corefile

COREFILE = ". {\n    any\n    whoami\n}\n"


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
async def test_any_is_answered_with_hinfo(tcp: bool) -> None:
    async with serve_corefile(COREFILE) as srv:
        reply = await srv.query("Example.Org", "ANY", tcp=tcp, use_edns=0)
    assert reply.rcode() == dns.rcode.NOERROR
    assert not reply.flags & dns.flags.AA
    assert len(reply.answer) == 1
    rrset = reply.answer[0]
    assert str(rrset.name) == "Example.Org."
    assert rrset.rdtype == dns.rdatatype.HINFO
    assert rrset.ttl == 8482
    assert [(rd.cpu, rd.os) for rd in rrset] == [(b"ANY obsoleted", b"See RFC 8482")]
    assert reply.additional == []


async def test_other_types_reach_the_next_plugin() -> None:
    async with serve_corefile(COREFILE) as srv:
        reply = await srv.query("example.org", "A")
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.flags & dns.flags.AA  # whoami's answer
    assert reply.answer == []
    assert {rrset.rdtype for rrset in reply.additional} == {
        dns.rdatatype.A,
        dns.rdatatype.SRV,
    }
