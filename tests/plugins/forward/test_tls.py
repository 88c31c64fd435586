"""DNS over TLS upstreams: a dnsd server behind a TLS-terminating proxy with a test CA."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from dnsd.plugins.forward.health import HealthCheck
from dnsd.plugins.forward.targets import To
from dnsd.plugins.forward.tlsconfig import client_context
from dnsd.plugins.forward.upstream import Upstream
from dnsd.testing import serve_corefile
from tests.plugins.forward.fakes import StreamProxy
from tests.plugins.forward.pki import SERVER_NAME, make_pki, server_context

WHOAMI = ".:53 {\n    whoami\n}\n"
NOERROR, SERVFAIL = 0, 2


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki"))


def fwd(to: str, *lines: str) -> str:
    body = "".join(f"        {line}\n" for line in lines)
    block = f" {{\n{body}    }}" if lines else ""
    return f".:53 {{\n    errors\n    forward . {to}{block}\n}}\n"


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "plugin/errors"]


GOOD = [
    ("ip-san", "tls://127.0.0.1:{port}", ["tls {ca}"]),
    ("per-upstream-name", "tls://127.0.0.1%" + SERVER_NAME + ":{port}", ["tls {ca}"]),
    ("tls_servername", "tls://127.0.0.1:{port}", ["tls {ca}", f"tls_servername {SERVER_NAME}"]),
    ("health-checked", "tls://127.0.0.1:{port}", ["tls {ca}", "health_check 50ms"]),
]


@pytest.mark.parametrize(("to", "lines"), [c[1:] for c in GOOD], ids=[c[0] for c in GOOD])
async def test_dot_upstream_answers_over_one_connection(
    pki: Path, to: str, lines: list[str]
) -> None:
    async with serve_corefile(WHOAMI) as up, StreamProxy(up.port, server_context(pki)) as proxy:
        addr = f"127.0.0.1:{proxy.port}"
        labels = {"proxy_name": "forward", "to": addr, "proto": "tcp-tls"}
        hits = REGISTRY.get_sample_value("coredns_proxy_conn_cache_hits_total", labels) or 0.0
        ca = str(pki / "ca.crt")
        text = fwd(to.format(port=proxy.port), *(line.format(ca=ca) for line in lines))
        async with serve_corefile(text) as srv:
            for tcp in (False, True, False):
                reply = await srv.query("example.org", "A", tcp=tcp)
                assert reply.rcode() == NOERROR
                srv_owner = next(str(r.name) for r in reply.additional if r.rdtype == 33)
                assert srv_owner.startswith("_tcp.")  # the proxy relays to dnsd over TCP
    assert proxy.connections == 1
    assert (
        REGISTRY.get_sample_value("coredns_proxy_conn_cache_hits_total", labels) or 0
    ) - hits == 2


BAD = [
    (
        "wrong-servername",
        ["tls {ca}", "tls_servername other.test"],
        r"tls: failed to verify certificate: Hostname mismatch.*",
    ),
    ("other-ca", ["tls {other}"], r"tls: failed to verify certificate: .*"),
    ("system-cas", [], r"tls: failed to verify certificate: .*"),
]


@pytest.mark.parametrize(("lines", "pattern"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
async def test_unverified_upstream_is_servfail(
    pki: Path, lines: list[str], pattern: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with serve_corefile(WHOAMI) as up, StreamProxy(up.port, server_context(pki)) as proxy:
        args = {"ca": pki / "ca.crt", "other": pki / "other.crt"}
        text = fwd(f"tls://127.0.0.1:{proxy.port}", *(line.format(**args) for line in lines))
        async with serve_corefile(text) as srv:
            reply = await srv.query("example.org", "A", timeout=5)
    assert reply.rcode() == SERVFAIL
    (line,) = errors(caplog)
    assert re.fullmatch(r"2 example\.org\. A: plugin/forward: " + pattern, line), line


async def test_client_certificate(pki: Path) -> None:
    ctx = server_context(pki, require_client_cert=True)
    async with serve_corefile(WHOAMI) as up, StreamProxy(up.port, ctx) as proxy:
        to = f"tls://127.0.0.1:{proxy.port}"
        mutual = fwd(to, f"tls {pki / 'client.crt'} {pki / 'client.key'} {pki / 'ca.crt'}")
        async with serve_corefile(mutual) as srv:
            ok = await srv.query("example.org", "A")
        async with serve_corefile(fwd(to, f"tls {pki / 'ca.crt'}", "read_timeout 500ms")) as srv:
            refused = await srv.query("example.org", "A", timeout=5)
    assert ok.rcode() == NOERROR
    assert refused.rcode() == SERVFAIL


async def test_health_check_goes_over_tls(pki: Path) -> None:
    async with serve_corefile(WHOAMI) as up, StreamProxy(up.port, server_context(pki)) as proxy:
        upstream = Upstream(
            To("tls", "127.0.0.1", proxy.port), ssl_context=client_context(ca=str(pki / "ca.crt"))
        )
        upstream.fails = 3
        try:
            assert await HealthCheck(upstream).check()
        finally:
            upstream.close()
    assert upstream.fails == 0
    assert proxy.connections == 1
