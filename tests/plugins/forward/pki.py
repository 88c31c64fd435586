"""A throw-away PKI for the DNS-over-TLS tests, made with the openssl CLI.

``make_pki(folder)`` writes a CA (``ca.crt``), a server certificate for
``IP:127.0.0.1`` and ``DNS:dns.test`` (``server.crt``/``server.key``), a client
certificate (``client.crt``/``client.key``), and an unrelated CA (``other.crt``)
whose trust must not be enough.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

SERVER_NAME = "dns.test"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(folder: Path) -> Path:
    """Write the certificates into ``folder`` and return it."""
    if shutil.which("openssl") is None:
        raise RuntimeError("openssl is needed to make test certificates")
    for ca in ("ca", "other"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", f"/CN=test-{ca}", "-keyout", f"{ca}.key", "-out", f"{ca}.crt",
                 cwd=folder)  # fmt: skip
    (folder / "san.ext").write_text(f"subjectAltName=IP:127.0.0.1,DNS:{SERVER_NAME}\n")
    for name, ext in (("server", ["-extfile", "san.ext"]), ("client", [])):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=folder)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", *ext,
                 cwd=folder)  # fmt: skip
    return folder


def server_context(pki: Path, *, require_client_cert: bool = False) -> ssl.SSLContext:
    """The DoT proxy's context: the server certificate; optionally demand a client certificate."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki / "server.crt", pki / "server.key")
    if require_client_cert:
        ctx.load_verify_locations(pki / "ca.crt")
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx
