"""Setup of *hosts*: every option, defaults, inline lines, and every error message whole."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import pytest

from dnsd.fall import Fallthrough
from dnsd.instance import load
from dnsd.plugins.hosts.handler import Hosts
from dnsd.plugins.hosts.setup import NAME, HostsOptions, parse
from dnsd.testing import check_parse

CWD = os.getcwd()
ALL = Fallthrough((".",))


def hosts(args: str = "", *lines: str, key: str = ".") -> str:
    body = "".join(f"        {line}\n" for line in lines)
    block = " {\n" + body + "    }" if lines else ""
    head = f"hosts {args}".rstrip()
    return f"{key} {{\n    {head}{block}\n}}\n"


@dataclass(frozen=True)
class SetupCase:
    corefile: str
    want: HostsOptions | None = None
    error: str | None = None


CASES = {
    "defaults": SetupCase(hosts(), HostsOptions()),
    "zones-from-keys": SetupCase(
        hosts(key="Example.ORG 10.0.0.0/24"),
        HostsOptions(zones=("example.org.", "0.0.10.in-addr.arpa.")),
    ),
    "file-absolute": SetupCase(hosts("/no/such/hosts"), HostsOptions(path="/no/such/hosts")),
    "file-relative-to-cwd": SetupCase(
        hosts("example.hosts"), HostsOptions(path=os.path.join(CWD, "example.hosts"))
    ),
    "file-relative-to-root": SetupCase(
        ". {\n    root /srv/dns\n    hosts example.hosts\n}\n",
        HostsOptions(path="/srv/dns/example.hosts"),
    ),
    "file-and-zones": SetupCase(
        hosts("/h Example.org 192.0.2.0/24"),
        HostsOptions(path="/h", zones=("example.org.", "2.0.192.in-addr.arpa.")),
    ),
    "every-option": SetupCase(
        hosts(
            "/h",
            "ttl 60",
            "no_reverse",
            "reload 300ms",
            "fallthrough example.org",
            "fallthrough_unsupported",
        ),
        HostsOptions(
            path="/h",
            ttl=60,
            reverse=False,
            reload=0.3,
            fallthrough=Fallthrough(("example.org.",)),
            fallthrough_unsupported=True,
        ),
    ),
    "fallthrough-unsupported-first": SetupCase(
        hosts("", "fallthrough_unsupported", "fallthrough"),
        HostsOptions(fallthrough=ALL, fallthrough_unsupported=True),
    ),
    "reload-off": SetupCase(hosts("", "reload 0"), HostsOptions(reload=0.0)),
    "reload-go-duration": SetupCase(hosts("", "reload 1h30m"), HostsOptions(reload=5400.0)),
    "ttl-bounds": SetupCase(hosts("", "ttl 65535"), HostsOptions(ttl=65535)),
    "inline": SetupCase(
        hosts("", "10.0.0.1 Example.org www.example.org.", "::1 localhost", "fallthrough"),
        HostsOptions(
            inline=("10.0.0.1 Example.org www.example.org.", "::1 localhost"), fallthrough=ALL
        ),
    ),
    "inline-after-other-options": SetupCase(
        hosts("", "ttl 5", "10.0.0.1 a.example", "reload 1s", "10.0.0.2 b.example"),
        HostsOptions(ttl=5, reload=1.0, inline=("10.0.0.1 a.example", "10.0.0.2 b.example")),
    ),
    "inline-wildcard-and-scoped-v6": SetupCase(
        hosts("", "192.168.1.10 *.example.com", "fe80::1%eth0 link.example.com"),
        HostsOptions(inline=("192.168.1.10 *.example.com", "fe80::1%eth0 link.example.com")),
    ),
    # -- errors
    "twice": SetupCase(
        ". {\n    hosts\n    hosts /h\n}\n",
        error="Corefile:3: hosts: can only be used once per server block",
    ),
    "file-not-accessible": SetupCase(
        hosts(f"{CWD}/pyproject.toml/hosts"),
        error=f"Corefile:2: hosts: unable to access hosts file '{CWD}/pyproject.toml/hosts': "
        "Not a directory",
    ),
    "bad-zone": SetupCase(
        hosts("/h example..org"),
        error="Corefile:2: hosts: zone is not a valid domain name: 'example..org'",
    ),
    "ttl-missing": SetupCase(
        hosts("", "ttl"),
        error="Corefile:3: hosts: wrong argument count or unexpected line ending after 'ttl'",
    ),
    "ttl-two": SetupCase(
        hosts("", "ttl 5 6"),
        error="Corefile:3: hosts: wrong argument count or unexpected line ending after '6'",
    ),
    "ttl-word": SetupCase(
        hosts("", "ttl five"), error="Corefile:3: hosts: ttl needs a number of seconds: 'five'"
    ),
    "ttl-negative": SetupCase(
        hosts("", "ttl -1"), error="Corefile:3: hosts: ttl needs a number of seconds: '-1'"
    ),
    "ttl-zero": SetupCase(
        hosts("", "ttl 0"), error="Corefile:3: hosts: ttl must be between 1 and 65535: 0"
    ),
    "ttl-too-big": SetupCase(
        hosts("", "ttl 65536"), error="Corefile:3: hosts: ttl must be between 1 and 65535: 65536"
    ),
    "reload-missing": SetupCase(
        hosts("", "reload"),
        error="Corefile:3: hosts: reload needs a duration (zero seconds to disable)",
    ),
    "reload-two": SetupCase(
        hosts("", "reload 1s 2s"),
        error="Corefile:3: hosts: reload needs a duration (zero seconds to disable)",
    ),
    "reload-bad": SetupCase(
        hosts("", "reload soon"), error="Corefile:3: hosts: invalid duration for reload 'soon'"
    ),
    "reload-negative": SetupCase(
        hosts("", "reload -5s"),
        error="Corefile:3: hosts: invalid negative duration for reload '-5s'",
    ),
    "no-reverse-argument": SetupCase(
        hosts("", "no_reverse yes"),
        error="Corefile:3: hosts: wrong argument count or unexpected line ending after 'yes'",
    ),
    "fallthrough-unsupported-argument": SetupCase(
        hosts("", "fallthrough", "fallthrough_unsupported x"),
        error="Corefile:4: hosts: wrong argument count or unexpected line ending after 'x'",
    ),
    "fallthrough-unsupported-alone": SetupCase(
        hosts("", "ttl 5", "fallthrough_unsupported", "reload 1s"),
        error="Corefile:4: hosts: fallthrough_unsupported requires fallthrough",
    ),
    "fallthrough-bad-zone": SetupCase(
        hosts("", "fallthrough a..b"),
        error="Corefile:3: hosts: zone is not a valid domain name: 'a..b'",
    ),
    "unknown-after-fallthrough": SetupCase(
        hosts("", "fallthrough", "10.0.0.1 late.example"),
        error="Corefile:4: hosts: unknown property '10.0.0.1'",
    ),
    "old-no-reverse-spelling": SetupCase(
        hosts("", "no-reverse"), error="Corefile:3: hosts: unknown property 'no-reverse'"
    ),
    "inline-bad-address": SetupCase(
        hosts("", "10.0.0.300 a.example"),
        error="Corefile:3: hosts: unknown property '10.0.0.300'",
    ),
    "inline-no-name": SetupCase(
        hosts("", "10.0.0.1"),
        error="Corefile:3: hosts: wrong argument count or unexpected line ending after '10.0.0.1'",
    ),
    "inline-bad-name": SetupCase(
        hosts("", "10.0.0.1 good.example bad..example"),
        error="Corefile:3: hosts: invalid host name 'bad..example'",
    ),
    "inline-long-label": SetupCase(
        hosts("", f"10.0.0.1 {'a' * 64}.example"),
        error=f"Corefile:3: hosts: invalid host name '{'a' * 64}.example'",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_parse(case: SetupCase) -> None:
    check_parse(case.corefile, NAME, parse, want=case.want, error=case.error)


def test_inline_names_outside_the_zones_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    text = hosts("/h example.org", "10.0.0.1 a.example.org b.example.net Other.COM")
    with caplog.at_level(logging.WARNING, logger="plugin/hosts"):
        check_parse(
            text,
            NAME,
            parse,
            want=HostsOptions(
                path="/h",
                zones=("example.org.",),
                inline=("10.0.0.1 a.example.org b.example.net Other.COM",),
            ),
        )
    assert caplog.messages == [
        "Corefile:3: b.example.net Other.COM not in the zones example.org.; ignored"
    ]


def test_setup_adds_the_handler_and_its_hooks() -> None:
    instance = load(hosts("/no/such/hosts", "10.0.0.1 a.example"), "Corefile")
    (block,) = instance.blocks
    (handler,) = block.handlers
    assert isinstance(handler, Hosts)
    assert handler.opts.inline == ("10.0.0.1 a.example",)
    assert handler.source.table.v4 == {"a.example.": ("10.0.0.1",)}
    assert len(instance.startup) == 1 and len(instance.shutdown) == 1
    assert not handler.source.running  # nothing runs before start-up
