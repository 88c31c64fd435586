"""``endpoint https://...`` with ``tls CERT KEY CACERT``: mutual TLS to the API server."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import dns.rcode
import pytest

from dnsd.testing import serve_corefile
from tests.plugins.kubernetes.fakeapi import FakeAPI, make_namespace, make_service


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all from that CA."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make test certificates")
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
             "-keyout", "ca.key", "-out", "ca.crt", cwd=d)  # fmt: skip
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name, ext in (("server", ["-extfile", "san.ext"]), ("client", [])):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", *ext, cwd=d)  # fmt: skip
    return d


def _server_context(pki: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki / "ca.crt"))
    ctx.load_cert_chain(pki / "server.crt", pki / "server.key")
    ctx.verify_mode = ssl.CERT_REQUIRED  # no client certificate, no connection
    return ctx


COREFILE = """. {{
    kubernetes cluster.local {{
        endpoint {url}
        {tls}
        startup_timeout 2s
    }}
}}
"""


async def test_client_certificate_reaches_the_api(pki: Path) -> None:
    with FakeAPI(ssl_context=_server_context(pki)) as api:
        api.add("Namespace", make_namespace("demo"))
        api.add("Service", make_service("demo", "web", cluster_ip="10.96.0.20"))
        tls = f"tls {pki / 'client.crt'} {pki / 'client.key'} {pki / 'ca.crt'}"
        async with serve_corefile(COREFILE.format(url=api.url, tls=tls)) as srv:
            reply = await srv.query("web.demo.svc.cluster.local", "A")
    assert reply.rcode() == dns.rcode.NOERROR
    assert [rd.address for rrset in reply.answer for rd in rrset] == ["10.96.0.20"]


async def test_without_the_client_certificate_nothing_syncs(pki: Path) -> None:
    with FakeAPI(ssl_context=_server_context(pki)) as api:
        api.add("Namespace", make_namespace("demo"))
        api.add("Service", make_service("demo", "web", cluster_ip="10.96.0.20"))
        wrong = f"tls {pki / 'server.crt'} {pki / 'server.key'} {pki / 'client.crt'}"  # bad CA
        async with serve_corefile(COREFILE.format(url=api.url, tls=wrong)) as srv:
            reply = await srv.query("web.demo.svc.cluster.local", "A")
    assert reply.rcode() == dns.rcode.SERVFAIL  # unsynced: a miss is SERVFAIL, never NXDOMAIN
