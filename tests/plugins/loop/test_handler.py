"""The loop handler alone: it counts its own probe and halts on the third sighting."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from dnslib import DNSRecord

from dnsd.errors import PluginError
from dnsd.instance import Block, Instance
from dnsd.plugins.loop.handler import Loop, join_host_port, probe_name
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.wire import parse_query


class FakeRuntime:
    def __init__(self) -> None:
        self.fatal_calls: list[str] = []
        self.instance: object = None

    def fatal(self, message: str) -> None:
        self.fatal_calls.append(message)


def make_loop(zone: str = ".") -> tuple[Loop, FakeRuntime]:
    instance = Instance(filename="Corefile")
    runtime = FakeRuntime()
    instance.runtime = runtime
    block = Block(keys=[], addrs=[], zones=[zone], root=".")
    loop = Loop(zone, block, instance)
    loop.addr = ":53"
    return loop, runtime


def query(name: str, qtype: str = "HINFO", client: str = "127.0.0.1") -> Request:
    wire = bytes(DNSRecord.question(name, qtype).pack())
    return parse_query(wire, Request).init(client, 40000, "udp", "", "dns://:53")


async def answered(req: Request) -> Reply | None:
    return Reply(req.reply())


@dataclass(frozen=True)
class Case:
    qname: str  # "{probe}" is the handler's probe name (in example.org.)
    qtype: str = "HINFO"
    upper: bool = False
    disabled: bool = False
    counts: bool = False


CASES = {
    "probe": Case("{probe}", counts=True),
    "probe-other-case": Case("{probe}", upper=True, counts=True),
    "other-name": Case("1.2.example.org."),
    "other-type": Case("{probe}", qtype="A"),
    "disabled": Case("{probe}", disabled=True),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_counts_only_its_probe_and_passes_everything_on(case: Case) -> None:
    loop, runtime = make_loop("example.org.")
    loop.disabled = case.disabled
    qname = case.qname.format(probe=loop.qname)
    req = query(qname.upper() if case.upper else qname, case.qtype)
    reply = await loop.serve(req, answered)
    assert reply is not None and reply.rcode == 0  # passed on: next answered
    assert loop.seen == (1 if case.counts else 0)
    assert runtime.fatal_calls == []


@pytest.mark.parametrize(
    ("zone", "client", "src"),
    [(".", "127.0.0.1", "127.0.0.1:40000"), ("example.org.", "::1", "[::1]:40000")],
)
async def test_third_sighting_is_fatal(zone: str, client: str, src: str) -> None:
    loop, runtime = make_loop(zone)
    req = query(loop.qname, client=client)
    for _ in range(2):
        assert await loop.serve(req, answered) is not None
    assert runtime.fatal_calls == []
    with pytest.raises(PluginError):
        await loop.serve(req, answered)
    assert runtime.fatal_calls == [
        f'plugin/loop: Loop ({src} -> :53) detected for zone "{zone}", '
        f'see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO {loop.qname}"'
    ]


def test_probe_name() -> None:
    names = {probe_name(".") for _ in range(20)}
    assert len(names) == 20
    for name in names:
        first, second, rest = name.split(".")
        assert first.isdigit() and second.isdigit() and rest == ""
        assert int(first) < 2**63 and int(second) < 2**63
    assert probe_name("example.org.").endswith(".example.org.")


@pytest.mark.parametrize(
    ("host", "want"), [("", ":53"), ("127.0.0.1", "127.0.0.1:53"), ("::1", "[::1]:53")]
)
def test_join_host_port(host: str, want: str) -> None:
    assert join_host_port(host, 53) == want
