"""*bind* through the real server: the listeners open on the bound addresses only."""

from __future__ import annotations

import asyncio

import dns.asyncquery
import dns.message
import dns.rcode
import pytest

from dnsd.instance import ListenAddr
from dnsd.plugins.bind import ifaces
from dnsd.testing import serve_corefile


async def ask(host: str, port: int, tcp: bool = False) -> dns.message.Message:
    q = dns.message.make_query("example.org", "A")
    if tcp:
        return await dns.asyncquery.tcp(q, host, port=port, timeout=2.0)
    return await dns.asyncquery.udp(q, host, port=port, timeout=2.0)


async def refused_tcp(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 2.0)
    except ConnectionRefusedError:
        return True
    writer.close()
    await writer.wait_closed()
    return False


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
async def test_bind_loopback_answers_there(tcp: bool) -> None:
    async with serve_corefile(". {\n    bind 127.0.0.1\n    whoami\n}\n") as srv:
        assert list(srv.instance.routes) == [ListenAddr("dns", "127.0.0.1", srv.port)]
        reply = await ask("127.0.0.1", srv.port, tcp)
        assert reply.rcode() == dns.rcode.NOERROR
        assert reply.additional[0][0].address == "127.0.0.1"


async def test_bind_other_address_does_not_listen_on_the_default() -> None:
    async with serve_corefile(". {\n    bind 127.0.0.53\n    whoami\n}\n") as srv:
        assert list(srv.instance.routes) == [ListenAddr("dns", "127.0.0.53", srv.port)]
        for tcp in (False, True):
            reply = await ask("127.0.0.53", srv.port, tcp)
            assert reply.rcode() == dns.rcode.NOERROR
        assert await refused_tcp("127.0.0.1", srv.port)


async def test_bind_lo_listens_on_every_loopback_address() -> None:
    want = ifaces.interfaces()["lo"]
    async with serve_corefile(". {\n    bind lo\n    whoami\n}\n") as srv:
        hosts = [addr.host for addr in srv.instance.routes]
        assert hosts == want
        assert "127.0.0.1" in hosts
        for host in hosts:
            reply = await ask(host, srv.port)
            assert reply.rcode() == dns.rcode.NOERROR
            assert reply.additional[0][0].address == host
