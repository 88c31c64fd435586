"""Setup of *forward*: every TO form and option, the defaults, and every error message whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from dnsd.errors import CorefileError
from dnsd.instance import load
from dnsd.plugins.forward.handler import Forward
from dnsd.plugins.forward.setup import NAME, ForwardOptions, parse
from dnsd.plugins.forward.targets import To
from dnsd.testing import parsed_options

DATA = Path(__file__).resolve().parent / "testdata"
RESOLV = str(DATA / "resolv.conf")
NOT_A_CERT = str(DATA / "not-a-cert.pem")


def fwd(args: str, *lines: str) -> str:
    """A one-block Corefile with ``forward ARGS`` and its option lines (line 3 on)."""
    body = "".join(f"        {line}\n" for line in lines)
    block = f" {{\n{body}    }}" if lines else ""
    return f". {{\n    forward {args}{block}\n}}\n"


LOCAL = (To("dns", "127.0.0.1", 53),)


def opts(**kw: object) -> ForwardOptions:
    kw.setdefault("to", LOCAL)
    return ForwardOptions(**kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    want: tuple[ForwardOptions, ...] | None = None
    error: str | None = None


def err(line: int, message: str) -> str:
    return f"Corefile:{line}: forward: {message}"


def after(line: int, token: str) -> str:
    return err(line, f"wrong argument count or unexpected line ending after '{token}'")


CASES = [
    # -- TO forms ---------------------------------------------------------------------------
    SetupCase("minimal", fwd(". 127.0.0.1"), (opts(),)),
    SetupCase(
        "from-zone-and-ports",
        fwd("Example.ORG dns://127.0.0.1:1053 127.0.0.2"),
        (
            opts(
                from_zone="example.org.",
                to=(To("dns", "127.0.0.1", 1053), To("dns", "127.0.0.2", 53)),
            ),
        ),
    ),
    SetupCase(
        "ipv6",
        fwd(". [::1]:1053 ::1 dns://[::1]"),
        (opts(to=(To("dns", "::1", 1053), To("dns", "::1", 53), To("dns", "::1", 53))),),
    ),
    SetupCase(
        "tls-forms",
        fwd(". tls://127.0.0.1 tls://127.0.0.1%dns.test tls://127.0.0.1%dns.test:8853"),
        (
            opts(
                to=(
                    To("tls", "127.0.0.1", 853),
                    To("tls", "127.0.0.1", 853, "dns.test"),
                    To("tls", "127.0.0.1", 8853, "dns.test"),
                )
            ),
        ),
    ),
    SetupCase(
        "tls-ipv6-with-name",
        fwd(". tls://[::1]%dns.test:8853"),
        (opts(to=(To("tls", "::1", 8853, "dns.test"),)),),
    ),
    SetupCase(
        "resolv-conf",
        fwd(f". {RESOLV} 127.0.0.3:5353"),
        (
            opts(
                to=(To("dns", "127.0.0.1", 53), To("dns", "::1", 53), To("dns", "127.0.0.3", 5353))
            ),
        ),
    ),
    SetupCase(
        "reverse-from", fwd("10.0.0.0/24 127.0.0.1"), (opts(from_zone="0.0.10.in-addr.arpa."),)
    ),
    SetupCase(
        "two-directives-in-order",
        ". {\n    forward example.org 127.0.0.1\n    forward . 127.0.0.2\n}\n",
        (opts(from_zone="example.org."), opts(to=(To("dns", "127.0.0.2", 53),))),
    ),
    # -- options ---------------------------------------------------------------------------
    SetupCase(
        "every-option",
        fwd(
            ". 127.0.0.1",
            "except example.org 10.0.0.0/24",
            "except internal.",
            "force_tcp",
            "prefer_udp",
            "expire 20s",
            "max_age 1m",
            "max_idle_conns 4",
            "read_timeout 500ms",
            "max_fails 3",
            "max_connect_attempts 5",
            "health_check 2s no_rec domain Example.com",
            "policy round_robin",
            "tls_servername dns.test",
            "max_concurrent 1000",
            "next NXDOMAIN servfail",
            "next_on_nodata",
            "failover REFUSED SERVFAIL",
            "failfast_all_unhealthy_upstreams",
            "source_address 127.0.0.1",
            "resolver 127.0.0.53 127.0.0.54:53",
            "doh_method get",
        ),
        (
            opts(
                ignored=("example.org.", "0.0.10.in-addr.arpa.", "internal."),
                force_tcp=True,
                prefer_udp=True,
                expire=20.0,
                max_age=60.0,
                max_idle_conns=4,
                read_timeout=0.5,
                max_fails=3,
                max_connect_attempts=5,
                health_check=2.0,
                hc_recursion_desired=False,
                hc_domain="example.com.",
                policy="round_robin",
                tls_servername="dns.test",
                max_concurrent=1000,
                next_rcodes=(3, 2),
                next_on_nodata=True,
                failover_rcodes=(5, 2),
                failfast_all_unhealthy_upstreams=True,
                source_address="127.0.0.1",
            ),
        ),
    ),
    SetupCase(
        "health-check-plain", fwd(". 127.0.0.1", "health_check 100ms"), (opts(health_check=0.1),)
    ),
    SetupCase("max-fails-0", fwd(". 127.0.0.1", "max_fails 0"), (opts(max_fails=0),)),
    SetupCase(
        "no-attempts-cap",
        fwd(". 127.0.0.1", "max_connect_attempts 0"),
        (opts(max_connect_attempts=0),),
    ),
    SetupCase(
        "policy-sequential", fwd(". 127.0.0.1", "policy sequential"), (opts(policy="sequential"),)
    ),
    SetupCase("expire-0", fwd(". 127.0.0.1", "expire 0s"), (opts(expire=0.0),)),
    SetupCase(
        "tls-system-cas",
        fwd(". tls://127.0.0.1", "tls"),
        (opts(to=(To("tls", "127.0.0.1", 853),)),),
    ),
    # -- errors ----------------------------------------------------------------------------
    SetupCase("no-args", fwd(""), error=after(2, "forward")),
    SetupCase("no-to", fwd("."), error=after(2, ".")),
    SetupCase("bad-from", fwd("a..b 127.0.0.1"), error=err(2, "unable to normalize 'a..b'")),
    SetupCase(
        "host-name",
        fwd(". dns.example.com"),
        error=err(
            2, 'not an IP address or file: "dns.example.com"; dnsd does not resolve host names'
        ),
    ),
    SetupCase(
        "missing-file",
        fwd(". /nonexistent/resolv.conf"),
        error=err(2, 'not an IP address or file: "/nonexistent/resolv.conf"'),
    ),
    SetupCase(
        "resolv-conf-without-nameservers",
        fwd(f". {DATA / 'empty-resolv.conf'}"),
        error=err(2, "no nameservers found"),
    ),
    SetupCase(
        "https",
        fwd(". https://9.9.9.9"),
        error=err(
            2, "'https' is not supported as a destination protocol in forward: https://9.9.9.9"
        ),
    ),
    SetupCase(
        "bad-port", fwd(". 127.0.0.1:99999"), error=err(2, "invalid port in '127.0.0.1:99999'")
    ),
    SetupCase(
        "port-not-a-number", fwd(". 127.0.0.1:dns"), error=err(2, "invalid port in '127.0.0.1:dns'")
    ),
    SetupCase(
        "tls-file",
        fwd(f". tls://{RESOLV}"),
        error=err(2, f'not an IP address or file: "tls://{RESOLV}"'),
    ),
    SetupCase(
        "sixteen-upstreams",
        fwd(". " + " ".join(f"127.0.0.{i}" for i in range(1, 17))),
        error=err(2, "more than 15 TOs configured: 16"),
    ),
    SetupCase("except-empty", fwd(". 127.0.0.1", "except"), error=after(3, "except")),
    SetupCase(
        "except-bad",
        fwd(". 127.0.0.1", "except a..b"),
        error=err(3, "zone is not a valid domain name: 'a..b'"),
    ),
    SetupCase("force-tcp-arg", fwd(". 127.0.0.1", "force_tcp yes"), error=after(3, "yes")),
    SetupCase("prefer-udp-arg", fwd(". 127.0.0.1", "prefer_udp yes"), error=after(3, "yes")),
    SetupCase("next-on-nodata-arg", fwd(". 127.0.0.1", "next_on_nodata x"), error=after(3, "x")),
    SetupCase(
        "failfast-arg",
        fwd(". 127.0.0.1", "failfast_all_unhealthy_upstreams x"),
        error=after(3, "x"),
    ),
    SetupCase("max-fails-none", fwd(". 127.0.0.1", "max_fails"), error=after(3, "max_fails")),
    SetupCase("max-fails-two", fwd(". 127.0.0.1", "max_fails 1 2"), error=after(3, "2")),
    SetupCase(
        "max-fails-word",
        fwd(". 127.0.0.1", "max_fails x"),
        error=err(3, "max_fails must be a whole number: 'x'"),
    ),
    SetupCase(
        "max-fails-negative",
        fwd(". 127.0.0.1", "max_fails -1"),
        error=err(3, "max_fails can't be negative: -1"),
    ),
    SetupCase(
        "max-idle-negative",
        fwd(". 127.0.0.1", "max_idle_conns -2"),
        error=err(3, "max_idle_conns can't be negative: -2"),
    ),
    SetupCase(
        "max-concurrent-negative",
        fwd(". 127.0.0.1", "max_concurrent -5"),
        error=err(3, "max_concurrent can't be negative: -5"),
    ),
    SetupCase(
        "max-connect-attempts-word",
        fwd(". 127.0.0.1", "max_connect_attempts many"),
        error=err(3, "max_connect_attempts must be a whole number: 'many'"),
    ),
    SetupCase("expire-none", fwd(". 127.0.0.1", "expire"), error=after(3, "expire")),
    SetupCase(
        "expire-bad",
        fwd(". 127.0.0.1", "expire soon"),
        error=err(3, "expire: invalid duration 'soon'"),
    ),
    SetupCase(
        "expire-negative",
        fwd(". 127.0.0.1", "expire -1s"),
        error=err(3, "expire can't be negative: -1s"),
    ),
    SetupCase(
        "read-timeout-zero",
        fwd(". 127.0.0.1", "read_timeout 0s"),
        error=err(3, "read_timeout must be greater than zero: 0s"),
    ),
    SetupCase(
        "max-age-below-expire",
        fwd(". 127.0.0.1", "max_age 5s"),
        error=err(3, "max_age (5s) must not be less than expire (10s)"),
    ),
    SetupCase(
        "expire-above-max-age",
        fwd(". 127.0.0.1", "max_age 30s", "expire 1m"),
        error=err(4, "max_age (30s) must not be less than expire (1m0s)"),
    ),
    SetupCase(
        "health-check-none", fwd(". 127.0.0.1", "health_check"), error=after(3, "health_check")
    ),
    SetupCase(
        "health-check-bad",
        fwd(". 127.0.0.1", "health_check often"),
        error=err(3, "health_check: invalid duration 'often'"),
    ),
    SetupCase(
        "health-check-negative",
        fwd(". 127.0.0.1", "health_check -1s"),
        error=err(3, "health_check can't be negative: -1s"),
    ),
    SetupCase(
        "health-check-unknown",
        fwd(". 127.0.0.1", "health_check 1s fast"),
        error=err(3, "health_check: unknown option fast"),
    ),
    SetupCase(
        "health-check-domain-missing",
        fwd(". 127.0.0.1", "health_check 1s domain"),
        error=after(3, "domain"),
    ),
    SetupCase(
        "health-check-domain-bad",
        fwd(". 127.0.0.1", "health_check 1s domain a..b"),
        error=err(3, "health_check: invalid domain name a..b"),
    ),
    SetupCase("policy-none", fwd(". 127.0.0.1", "policy"), error=after(3, "policy")),
    SetupCase(
        "policy-unknown",
        fwd(". 127.0.0.1", "policy fastest"),
        error=err(3, "unknown policy 'fastest'"),
    ),
    SetupCase("tls-four-args", fwd(". tls://127.0.0.1", "tls a b c d"), error=after(3, "d")),
    SetupCase(
        "tls-missing-ca",
        fwd(". tls://127.0.0.1", "tls /nonexistent/ca.crt"),
        error=err(
            3,
            "error reading /nonexistent/ca.crt: open /nonexistent/ca.crt: "
            "no such file or directory",
        ),
    ),
    SetupCase(
        "tls-bad-ca",
        fwd(". tls://127.0.0.1", f"tls {NOT_A_CERT}"),
        error=err(3, f"could not read root certs from {NOT_A_CERT}"),
    ),
    SetupCase(
        "tls-missing-cert",
        fwd(". tls://127.0.0.1", "tls /nonexistent/c.crt /nonexistent/c.key"),
        error=err(3, "could not load TLS cert: open /nonexistent/c.crt: no such file or directory"),
    ),
    SetupCase(
        "tls-bad-cert",
        fwd(". tls://127.0.0.1", f"tls {NOT_A_CERT} {NOT_A_CERT}"),
        error=err(
            3,
            "could not load TLS cert: no matching PEM certificate and key in "
            f"{NOT_A_CERT}, {NOT_A_CERT}",
        ),
    ),
    SetupCase(
        "tls-servername-none",
        fwd(". tls://127.0.0.1", "tls_servername"),
        error=after(3, "tls_servername"),
    ),
    SetupCase(
        "tls-servername-clash",
        fwd(". tls://127.0.0.1%dns.test", "tls_servername other.test"),
        error=err(
            3,
            "both forward ('other.test') and proxy level ('dns.test') TLS servernames "
            "are set for upstream proxy 'tls://127.0.0.1:853'",
        ),
    ),
    SetupCase("next-none", fwd(". 127.0.0.1", "next"), error=after(3, "next")),
    SetupCase(
        "next-bad",
        fwd(". 127.0.0.1", "next NXDOMAIN NOPE"),
        error=err(3, "NOPE is not a valid rcode"),
    ),
    SetupCase("failover-none", fwd(". 127.0.0.1", "failover"), error=after(3, "failover")),
    SetupCase(
        "failover-noerror",
        fwd(". 127.0.0.1", "failover SERVFAIL NOERROR"),
        error=err(3, "NoError cannot be used in failover"),
    ),
    SetupCase(
        "source-address-bad",
        fwd(". 127.0.0.1", "source_address eth0"),
        error=err(3, "source_address must be an IP address: 'eth0'"),
    ),
    SetupCase("resolver-none", fwd(". 127.0.0.1", "resolver"), error=after(3, "resolver")),
    SetupCase(
        "doh-method-bad",
        fwd(". 127.0.0.1", "doh_method PUT"),
        error=err(3, "doh_method must be GET or POST: 'PUT'"),
    ),
    SetupCase("unknown", fwd(". 127.0.0.1", "bogus 1"), error=err(3, "unknown property 'bogus'")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_parse(case: SetupCase) -> None:
    if case.error is not None:
        with pytest.raises(CorefileError) as exc:
            parsed_options(case.corefile, NAME, parse)
        assert str(exc.value) == case.error
        return
    (got,) = parsed_options(case.corefile, NAME, parse)
    if case.want is not None:
        assert got == case.want


def test_defaults_are_coredns_defaults() -> None:
    o = ForwardOptions(to=LOCAL * 3)
    assert (o.expire, o.max_fails, o.health_check, o.read_timeout, o.policy) == (
        10.0,
        2,
        0.5,
        2.0,
        "random",
    )
    assert (o.max_concurrent, o.max_idle_conns, o.hc_domain, o.hc_recursion_desired) == (
        0,
        0,
        ".",
        True,
    )
    assert o.attempts == 6  # twice the upstreams unless max_connect_attempts says otherwise


def test_each_occurrence_is_a_handler_in_corefile_order() -> None:
    text = (
        ". {\n    forward example.org 127.0.0.1 {\n        next NXDOMAIN\n    }\n"
        "    forward . 127.0.0.2 {\n        next NXDOMAIN\n    }\n    whoami\n}\n"
    )
    (block,) = load(text, "Corefile").blocks
    handlers = [h for h in block.handlers if isinstance(h, Forward)]
    assert [h.zone for h in handlers] == ["example.org.", "."]
    assert [h.name for h in block.handlers] == ["forward", "forward", "whoami"]
    # only a forward followed by another forward may pass a query on for its rcode
    assert [h.next_is_forward for h in handlers] == [True, False]
    assert [bool(h.pass_on) for h in handlers] == [True, False]
