"""*template* through the real server: the README's AAAA suppression in front of *kubernetes*,
CNAME targets followed through the chain, extended errors, failures, memos and reloads."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import dns.asyncquery
import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest
from prometheus_client import REGISTRY

from dnsd.server import Dispatcher
from dnsd.testing import TestServer, serve_corefile

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "plugins" / "template" / "README.md").read_text()
CLUSTER = ROOT / "examples" / "cluster.yaml"
WEB = "web.demo.svc.cluster.local"  # dual-stack in examples/cluster.yaml
WEB_V4, WEB_V6 = "10.96.10.20", "fd00:10:96::a14"


def readme_aaaa_example() -> str:
    """The README's first Corefile example, with the cluster file's absolute path."""
    block = re.findall(r"```corefile\n(.*?)```", README, re.S)[0]
    assert "template ANY AAAA" in block and "objects examples/cluster.yaml" in block
    return block.replace("objects examples/cluster.yaml", f"objects {CLUSTER}")


def dispatcher(srv: TestServer) -> Dispatcher:
    (listener,) = srv.runtime.listeners.values()
    found: Dispatcher = listener.dispatcher
    return found


def addresses(reply: dns.message.Message, rdtype: int) -> list[str]:
    return sorted(rd.address for rrset in reply.answer if rrset.rdtype == rdtype for rd in rrset)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
async def test_readme_aaaa_suppression_in_front_of_kubernetes(tcp: bool) -> None:
    async with serve_corefile(readme_aaaa_example()) as srv:
        aaaa = await srv.query(WEB, "AAAA", tcp=tcp)
        a = await srv.query(WEB, "A", tcp=tcp)
        other = await srv.query("nosuch.demo.svc.cluster.local", "AAAA", tcp=tcp)
    assert aaaa.rcode() == dns.rcode.NOERROR and aaaa.answer == [] and aaaa.authority == []
    assert aaaa.flags & dns.flags.AA
    assert addresses(a, dns.rdatatype.A) == [WEB_V4]
    # every AAAA is NODATA, even for names that do not exist: CoreDNS does the same
    assert other.rcode() == dns.rcode.NOERROR and other.answer == []


async def test_without_the_template_the_same_cluster_answers_aaaa() -> None:
    """The control: the Service is dual-stack, so the NODATA above is the template's."""
    text = re.sub(r"    template ANY AAAA \{\n.*?\n    \}\n", "", readme_aaaa_example(), flags=re.S)
    assert "template ANY" not in text
    async with serve_corefile(text) as srv:
        aaaa = await srv.query(WEB, "AAAA")
    assert addresses(aaaa, dns.rdatatype.AAAA) == [WEB_V6]


async def test_aaaa_nodata_is_served_again_from_a_memo_and_counted() -> None:
    labels = {"server": "dns://:53", "zone": ".", "view": "", "class": "IN", "type": "AAAA"}
    text = ". {\n    template ANY AAAA {\n        rcode NOERROR\n    }\n    whoami\n}\n"
    async with serve_corefile(text) as srv:
        labels["server"] = dispatcher(srv).label
        before = REGISTRY.get_sample_value("coredns_template_matches_total", labels) or 0.0
        for _ in range(3):
            reply = await srv.query("memo.example.org", "AAAA")
            assert reply.rcode() == dns.rcode.NOERROR and reply.answer == []
        assert len(dispatcher(srv).memos) == 1
    after = REGISTRY.get_sample_value("coredns_template_matches_total", labels)
    assert after == before + 3  # memo hits count as matches


async def test_remote_answers_are_per_client_and_never_memoized() -> None:
    """``.Remote`` makes the answer the client's: a second client with the same query bytes
    gets its own address, and the block keeps no memo at all (the plugin is not memo-safe,
    so even *hosts*' answers behind it are not remembered)."""
    text = (
        ". {\n"
        "    template IN TXT whoami.test {\n"
        '        answer "{{ .Name }} 5 IN TXT \\"{{ .Remote }}\\""\n'
        "    }\n"
        "    hosts {\n        10.0.0.1 host.example.org\n    }\n"
        "}\n"
    )
    async with serve_corefile(text) as srv:
        q = dns.message.make_query("me.whoami.test", "TXT")
        got = []
        for source in ("127.0.0.1", "127.0.0.2", "127.0.0.1", "127.0.0.2"):
            reply = await dns.asyncquery.udp(q, srv.host, port=srv.port, source=source, timeout=2)
            got.append(reply.answer[0][0].strings[0].decode())
        for _ in range(2):
            hosts = await srv.query("host.example.org", "A")
            assert addresses(hosts, dns.rdatatype.A) == ["10.0.0.1"]
        assert dispatcher(srv).memos == {}
    assert got == ["127.0.0.1", "127.0.0.2", "127.0.0.1", "127.0.0.2"]


async def test_cname_target_is_resolved_through_the_server() -> None:
    text = (
        ". {\n"
        "    template IN ANY foogle.com {\n"
        '        match "^foogle\\.com\\.$"\n'
        '        answer "foogle.com 60 IN CNAME google.com"\n'
        "    }\n"
        "    hosts {\n        10.0.0.7 google.com\n    }\n"
        "}\n"
    )
    async with serve_corefile(text) as srv:
        a = await srv.query("foogle.com", "A")
        txt = await srv.query("foogle.com", "TXT")
    assert [rrset.to_text() for rrset in a.answer] == [
        "foogle.com. 60 IN CNAME google.com.",
        "google.com. 3600 IN A 10.0.0.7",
    ]
    # only A and AAAA queries follow the CNAME, as in CoreDNS
    assert [rrset.to_text() for rrset in txt.answer] == ["foogle.com. 60 IN CNAME google.com."]


async def test_extended_error_only_with_edns() -> None:
    text = (
        ". {\n"
        "    template ANY ANY invalid {\n"
        "        rcode NXDOMAIN\n"
        '        ederror 21 "Blocked according to RFC2606"\n'
        "    }\n"
        "}\n"
    )
    async with serve_corefile(text) as srv:
        with_edns = await srv.query("a.invalid", "A", use_edns=0)
        without = await srv.query("a.invalid", "A", use_edns=False)
    assert with_edns.rcode() == dns.rcode.NXDOMAIN
    (ede,) = with_edns.options
    assert isinstance(ede, dns.edns.EDEOption)
    assert (ede.code, ede.text) == (21, "Blocked according to RFC2606")
    assert without.rcode() == dns.rcode.NXDOMAIN and without.edns == -1


async def test_render_failure_is_servfail_logged_by_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="plugin/errors")
    text = (
        ". {\n"
        "    errors\n"
        "    template IN TXT example {\n"
        '        answer "{{ .Name }} 60 IN TXT \\"{{ index .Match 2 }}\\""\n'
        "    }\n"
        "}\n"
    )
    async with serve_corefile(text) as srv:
        reply = await srv.query("test.example", "TXT")
    assert reply.rcode() == dns.rcode.SERVFAIL
    logged = [r.getMessage() for r in caplog.records if r.name == "plugin/errors"]
    assert logged == [
        '2 test.example. TXT: plugin/template: template: answer:1:26: executing "answer" at '
        "<index .Match 2>: error calling index: index out of range: 2"
    ]


async def test_reload_answers_from_the_new_templates() -> None:
    first = '. {\n    template IN TXT {\n        answer "{{ .Name }} 5 IN TXT one"\n    }\n}\n'
    second = first.replace("TXT one", "TXT two")
    async with serve_corefile(first) as srv:
        for _ in range(2):  # the second is a memo hit
            reply = await srv.query("a.example", "TXT")
            assert reply.answer[0][0].strings == (b"one",)
        assert await srv.reload(second)
        reply = await srv.query("a.example", "TXT")
    assert reply.answer[0][0].strings == (b"two",)
