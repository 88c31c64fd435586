"""Setup of *bind*: addresses, interfaces (a fake table and the real host), except, errors."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.controller import Controller
from dnsd.errors import CorefileError
from dnsd.plugins.bind import ifaces
from dnsd.plugins.bind.setup import BindOptions, parse
from dnsd.testing import setup_controller

FAKE = {
    "lo": ["127.0.0.1", "::1"],
    "eth0": ["192.0.2.2", "fe80::fc:ff:fe00:1%eth0", "fd00::2"],
    "dummy0": [],
}


def controller(text: str) -> Controller:
    return setup_controller(text, "bind")


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    want: BindOptions | None = None
    error: str | None = None


CASES = [
    SetupCase("one-ipv4", ". {\n    bind 127.0.0.1\n}\n", BindOptions(("127.0.0.1",))),
    SetupCase(
        "ipv4-and-ipv6", ". {\n    bind 127.0.0.1 ::1\n}\n", BindOptions(("127.0.0.1", "::1"))
    ),
    SetupCase(
        "lines-merge",
        ". {\n    bind 127.0.0.1\n    bind ::1\n}\n",
        BindOptions(("127.0.0.1", "::1")),
    ),
    SetupCase(
        "duplicates-dropped-order-kept",
        ". {\n    bind ::1 127.0.0.1\n    bind 0:0:0:0:0:0:0:1 lo\n}\n",
        BindOptions(("::1", "127.0.0.1")),
    ),
    SetupCase("interface", ". {\n    bind lo\n}\n", BindOptions(("127.0.0.1", "::1"))),
    SetupCase(
        "interface-link-local-scoped",
        ". {\n    bind eth0\n}\n",
        BindOptions(("192.0.2.2", "fe80::fc:ff:fe00:1%eth0", "fd00::2")),
    ),
    SetupCase("scoped-address", ". {\n    bind fe80::1%lo\n}\n", BindOptions(("fe80::1%lo",))),
    SetupCase(
        "except-address",
        ". {\n    bind lo {\n        except 127.0.0.1\n    }\n}\n",
        BindOptions(("::1",)),
    ),
    SetupCase(
        "except-interface",
        ". {\n    bind 127.0.0.1 192.0.2.2 {\n        except eth0\n    }\n}\n",
        BindOptions(("127.0.0.1",)),
    ),
    SetupCase(
        "except-canonical-form",
        ". {\n    bind lo {\n        except 0::1\n    }\n}\n",
        BindOptions(("127.0.0.1",)),
    ),
    SetupCase(
        "except-link-local-without-scope",
        ". {\n    bind eth0 {\n        except fe80::fc:ff:fe00:1 192.0.2.2\n    }\n}\n",
        BindOptions(("fd00::2",)),
    ),
    SetupCase(
        "except-only-its-own-line",
        ". {\n    bind 127.0.0.1\n    bind ::1 {\n        except 127.0.0.1\n    }\n}\n",
        BindOptions(("127.0.0.1", "::1")),
    ),
    SetupCase(
        "no-args",
        ". {\n    bind\n}\n",
        error="Corefile:2: bind: at least one address or interface name is expected",
    ),
    SetupCase(
        "unknown-name",
        ". {\n    bind 127.0.0.1 eth9\n}\n",
        error='Corefile:2: bind: not a valid IP address or interface name: "eth9"',
    ),
    SetupCase(
        "bad-address",
        ". {\n    bind 127.0.0.256\n}\n",
        error='Corefile:2: bind: not a valid IP address or interface name: "127.0.0.256"',
    ),
    SetupCase(
        "unknown-in-except",
        ". {\n    bind lo {\n        except nope\n    }\n}\n",
        error='Corefile:3: bind: not a valid IP address or interface name: "nope"',
    ),
    SetupCase(
        "except-without-args",
        ". {\n    bind lo {\n        except\n    }\n}\n",
        error="Corefile:3: bind: at least one address or interface must be given to except"
        " subdirective",
    ),
    SetupCase(
        "unknown-property",
        ". {\n    bind lo {\n        exclude ::1\n    }\n}\n",
        error="Corefile:3: bind: unknown property 'exclude'",
    ),
    SetupCase(
        "interface-without-address",
        ". {\n    bind dummy0\n}\n",
        error="Corefile:2: bind: no address left to listen on",
    ),
    SetupCase(
        "everything-excepted",
        ". {\n    bind lo {\n        except lo\n    }\n}\n",
        error="Corefile:2: bind: no address left to listen on",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_setup(case: SetupCase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ifaces, "interfaces", lambda: FAKE)
    c = controller(case.corefile)
    if case.error is not None:
        with pytest.raises(CorefileError) as info:
            parse(c)
        assert str(info.value) == case.error
    else:
        assert parse(c) == case.want


def test_interfaces_listed_once_per_block() -> None:
    calls: list[int] = []

    def table() -> dict[str, list[str]]:
        calls.append(1)
        return FAKE

    parse(controller(". {\n    bind lo\n    bind eth0 {\n        except lo\n    }\n}\n"), table)
    assert len(calls) == 1


def test_setup_stores_the_list_for_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from dnsd.plugins.bind import setup

    monkeypatch.setattr(ifaces, "interfaces", lambda: FAKE)
    c = controller(". {\n    bind lo 127.0.0.1\n}\n")
    setup(c)
    assert c.block.settings["bind"] == ["127.0.0.1", "::1"]
    assert c.block.bind == ["127.0.0.1", "::1"]


def test_real_loopback_interface() -> None:
    """``bind lo`` on this host: 127.0.0.1, and ::1 when the host has IPv6 on lo."""
    got = parse(controller(". {\n    bind lo\n}\n")).addresses
    assert got[0] == "127.0.0.1"
    has_v6 = any(
        line.split()[-1] == "lo" and line.startswith("0" * 31 + "1")
        for line in _read(ifaces.IF_INET6).splitlines()
    )
    assert got == (("127.0.0.1", "::1") if has_v6 else ("127.0.0.1",))


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""
