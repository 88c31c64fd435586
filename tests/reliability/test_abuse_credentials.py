"""No credential ever reaches dnsd's logs or metrics, at debug level, through API failures.

dnsd (the real CLI, with *debug*, *log*, *errors* and *prometheus*) talks to a fake API server
that requires a client certificate and first answers 500, garbage and 401, so every error path
logs. The credentials come three ways: a kubeconfig with a bearer token and a client key, a
kubeconfig with a user name and password and a client key, and ``tls CERT KEY CACERT`` with
``endpoint``. Everything the process wrote and the whole /metrics page are searched for the
token, the password, the Basic and Bearer header values and every line of the client key's PEM
body. The fake API's own record shows the secrets were really sent, so the search is not empty
by construction.
"""

from __future__ import annotations

import base64
import secrets
import time
import urllib.request
from pathlib import Path

import dns.rcode
import pytest
import yaml

from dnsd.testing import free_port
from tests.loadtools import ask, dnsd_process
from tests.plugins.kubernetes.fakeapi import FakeAPI, make_namespace, make_service
from tests.plugins.kubernetes.test_tls import _server_context, pki  # noqa: F401  (fixture)
from tests.reliability import Figures, record

pytestmark = pytest.mark.reliability

TOKEN = "dnsd-test-token-" + secrets.token_hex(16)
PASSWORD = "dnsd-test-password-" + secrets.token_hex(16)

COREFILE = """.:{{port}} {{
    bind 127.0.0.1
    debug
    errors
    log
    prometheus 127.0.0.1:{metrics}
    kubernetes cluster.local {{
        {source}
        startup_timeout 1s
    }}
}}
"""


def kubeconfig(path: Path, url: str, pki: Path, user: dict[str, str]) -> Path:  # noqa: F811
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "c", "cluster": {"server": url, "certificate-authority": str(pki / "ca.crt")}}
        ],
        "users": [
            {
                "name": "u",
                "user": {
                    "client-certificate": str(pki / "client.crt"),
                    "client-key": str(pki / "client.key"),
                    **user,
                },
            }
        ],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def secrets_of(pki: Path) -> dict[str, str]:  # noqa: F811
    """What must never be seen, by name."""
    found = {
        "token": TOKEN,
        "bearer header": f"Bearer {TOKEN}",
        "password": PASSWORD,
        "basic header": base64.b64encode(f"admin:{PASSWORD}".encode()).decode(),
    }
    body = [
        line
        for line in (pki / "client.key").read_text().splitlines()
        if line and not line.startswith("-----")
    ]
    found |= {f"client key line {n}": line for n, line in enumerate(body, 1)}
    return found


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        return str(resp.read().decode())


WAYS = {
    "kubeconfig-token": {"token": TOKEN},
    "kubeconfig-password": {"username": "admin", "password": PASSWORD},
    "tls-option": None,
}


@pytest.mark.parametrize("way", list(WAYS))
def test_credentials_stay_out_of_logs_and_metrics(
    tmp_path: Path,
    pki: Path,  # noqa: F811
    way: str,
) -> None:
    with FakeAPI(ssl_context=_server_context(pki)) as api:
        api.add("Namespace", make_namespace("demo"))
        api.add("Service", make_service("demo", "web", cluster_ip="10.96.0.20"))
        for failure in ({"status": 500}, {"garbage": True}, {"status": 401}):
            api.fail(count=1, watch=False, kind="Service", **failure)  # type: ignore[arg-type]
        user = WAYS[way]
        if user is None:
            tls = f"tls {pki / 'client.crt'} {pki / 'client.key'} {pki / 'ca.crt'}"
            source = f"endpoint {api.url}\n        {tls}"
        else:
            source = f"kubeconfig {kubeconfig(tmp_path / 'kubeconfig', api.url, pki, user)}"
        metrics = free_port()
        text = COREFILE.format(metrics=metrics, source=source)
        name = "web.demo.svc.cluster.local"
        with dnsd_process(tmp_path, text, probe=name, deadline=30) as dnsd:
            end = time.monotonic() + 20
            reply = ask(dnsd.port, name)
            while (reply is None or reply.rcode() != dns.rcode.NOERROR) and time.monotonic() < end:
                time.sleep(0.1)
                reply = ask(dnsd.port, name)
            assert reply is not None and reply.rcode() == dns.rcode.NOERROR, "never synced"
            for qname in (name, "nx.demo.svc.cluster.local", "web.demo.svc.cluster.local"):
                ask(dnsd.port, qname)
            page = scrape(metrics)
        log = dnsd.log.read_text(errors="replace")
        sent = [r.headers.get("Authorization", "") for r in api.requests]
    must_hide = secrets_of(pki)
    if user is not None and "token" in user:
        assert f"Bearer {TOKEN}" in sent, "the token was not used: the search proves nothing"
    if user is not None and "password" in user:
        assert any(PASSWORD not in h and h.startswith("Basic ") for h in sent), sent[:3]
    assert "Failed to watch" in log or "500" in log or "401" in log, "no error path was taken"
    leaks = [what for what, value in must_hide.items() if value in log or value in page]
    record(
        Figures(
            scenario=f"credentials in logs and metrics ({way.replace('-', ' ')})",
            group="abuse",
            wrong=len(leaks),
            notes=(
                f"{len(must_hide)} secrets searched in {len(log):,} B of debug log and "
                f"{len(page):,} B of /metrics after 500, garbage and 401 from the API"
            ),
        )
    )
    assert leaks == [], f"seen in the output: {leaks}"
