"""The client TLS context of ``tls [CERT KEY] [CA]`` (CoreDNS's ``pkg/tls.NewTLSConfigFromArgs``).

No arguments: the system CAs verify the upstream; ``CA``: that file does; ``CERT KEY``:
a client certificate, system CAs; ``CERT KEY CA``: both. TLS 1.2 is the minimum,
TLS 1.2 suites are limited to ECDHE with AEAD ciphers, as in CoreDNS. The upstream's
certificate is always verified, against the server name (``tls_servername`` or
``tls://IP%name``) or else the IP address.
"""

from __future__ import annotations

import ssl

_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


class TlsConfigError(ValueError):
    """A certificate, key or CA file that cannot be used."""


def client_context(cert: str = "", key: str = "", ca: str = "") -> ssl.SSLContext:
    """A verifying client context; raises :class:`TlsConfigError` with CoreDNS's wording."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_ciphers(_CIPHERS)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    if cert:
        try:
            for path in (cert, key):
                with open(path, "rb"):
                    pass
            ctx.load_cert_chain(cert, key)
        except ssl.SSLError:
            raise TlsConfigError(
                f"could not load TLS cert: no matching PEM certificate and key in {cert}, {key}"
            ) from None
        except OSError as exc:
            raise TlsConfigError(f"could not load TLS cert: {_reason(exc)}") from None
    if ca:
        try:
            with open(ca, "rb") as f:
                pem = f.read()
        except OSError as exc:
            raise TlsConfigError(f"error reading {ca}: {_reason(exc)}") from None
        try:
            ctx.load_verify_locations(cadata=pem.decode("ascii", errors="replace"))
        except (ssl.SSLError, ValueError):
            raise TlsConfigError(f"could not read root certs from {ca}") from None
    else:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    return ctx


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, ssl.SSLError):
        return f"open {exc.filename}: {exc.strerror.lower()}" if exc.filename else exc.strerror
    return str(exc)


def tls_args(args: list[str]) -> tuple[str, str, str]:
    """``tls`` arguments as (cert, key, ca); ``tls CA`` is the one-argument form."""
    if len(args) == 1:
        return "", "", args[0]
    if len(args) == 2:
        return args[0], args[1], ""
    if len(args) == 3:
        return args[0], args[1], args[2]
    return "", "", ""
