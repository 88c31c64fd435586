"""Setup of *autopath*: zones, RESOLV-CONF, @PLUGIN and every error, whole."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from dnsd.errors import CorefileError
from dnsd.instance import load
from dnsd.plugins.autopath.handler import Autopath
from dnsd.plugins.autopath.setup import NAME, AutopathOptions, parse
from dnsd.testing import check_parse

CWD = os.getcwd()
OBJECTS = "examples/cluster.yaml"


@dataclass(frozen=True)
class SetupCase:
    corefile: str
    want: AutopathOptions | None = None
    error: str | None = None


def block(*lines: str, key: str = ".") -> str:
    return key + " {\n" + "".join(f"    {line}\n" for line in lines) + "}\n"


@pytest.fixture
def resolv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path holds resolv.conf (two domains), empty.conf (none) and bad.conf; it is the cwd."""
    (tmp_path / "resolv.conf").write_text("nameserver 10.0.0.1\nsearch Ex.Org ex.net.\n")
    (tmp_path / "empty.conf").write_text("nameserver 10.0.0.1\n")
    (tmp_path / "bad.conf").write_text("search ok.example a..b\n")
    (tmp_path / "dir").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cases(tmp: Path) -> dict[str, SetupCase]:
    conf = str(tmp / "resolv.conf")
    search = ("ex.org.", "ex.net.")
    return {
        "file": SetupCase(
            block("autopath resolv.conf"),
            want=AutopathOptions(zones=(".",), resolv_conf=conf, search=search),
        ),
        "file-absolute": SetupCase(
            block(f"autopath {conf}"),
            want=AutopathOptions(zones=(".",), resolv_conf=conf, search=search),
        ),
        "file-under-root": SetupCase(
            block(f"root {tmp}", "autopath resolv.conf"),
            want=AutopathOptions(zones=(".",), resolv_conf=conf, search=search),
        ),
        "zones-from-block": SetupCase(
            block("autopath resolv.conf", key="Cluster.Local:53 example.org"),
            want=AutopathOptions(
                zones=("cluster.local.", "example.org."), resolv_conf=conf, search=search
            ),
        ),
        "zones-given": SetupCase(
            block("autopath Cluster.Local dns://example.org:53 10.0.0.0/24 resolv.conf"),
            want=AutopathOptions(
                zones=("cluster.local.", "example.org.", "0.0.10.in-addr.arpa."),
                resolv_conf=conf,
                search=search,
            ),
        ),
        "file-without-search": SetupCase(
            block("autopath empty.conf"),
            want=AutopathOptions(zones=(".",), resolv_conf=str(tmp / "empty.conf")),
        ),
        "plugin": SetupCase(
            block("autopath @kubernetes"), want=AutopathOptions(zones=(".",), plugin="kubernetes")
        ),
        "plugin-zones": SetupCase(
            block("autopath cluster.local @kubernetes"),
            want=AutopathOptions(zones=("cluster.local.",), plugin="kubernetes"),
        ),
        "no-argument": SetupCase(
            block("autopath"), error="Corefile:2: autopath: no resolv-conf specified"
        ),
        "bare-at": SetupCase(
            block("autopath @"), error="Corefile:2: autopath: no plugin named after '@'"
        ),
        "missing-file": SetupCase(
            block("autopath nope.conf"),
            error='Corefile:2: autopath: failed to parse "nope.conf": no such file or directory',
        ),
        "folder": SetupCase(
            block("autopath dir"),
            error='Corefile:2: autopath: failed to parse "dir": is a directory',
        ),
        "bad-domain": SetupCase(
            block("autopath bad.conf"),
            error="Corefile:2: autopath: failed to parse \"bad.conf\": not a domain name: 'a..b.'",
        ),
        "bad-zone": SetupCase(
            block("autopath 10.0.0.0/33 resolv.conf"),
            error="Corefile:2: autopath: invalid CIDR '10.0.0.0/33'",
        ),
        "twice": SetupCase(
            block("autopath resolv.conf", "autopath @kubernetes"),
            error="Corefile:3: autopath: can only be used once per server block",
        ),
        "block": SetupCase(
            block("autopath resolv.conf {", "    x", "}"),
            error="Corefile:3: autopath: unknown property 'x'",
        ),
    }


CASE_IDS = list(cases(Path("/x")))


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_setup(resolv: Path, case_id: str) -> None:
    case = cases(resolv)[case_id]
    check_parse(case.corefile, NAME, parse, want=case.want, error=case.error)


def kubernetes(*options: str) -> list[str]:
    return [
        "kubernetes cluster.local {",
        f"    objects {os.path.join(CWD, OBJECTS)}",
        *(f"    {o}" for o in options),
        "}",
    ]


BLOCK_CASES = {
    "kubernetes-pods-verified": (block("autopath @kubernetes", *kubernetes("pods verified")), None),
    "kubernetes-lines-before": (block(*kubernetes("pods verified"), "autopath @kubernetes"), None),
    "no-kubernetes": (
        block("autopath @kubernetes", "whoami"),
        "Corefile:2: autopath: @kubernetes: no kubernetes plugin in this server block",
    ),
    "kubernetes-in-another-block": (
        block("autopath @kubernetes", "whoami")
        + block(*kubernetes("pods verified"), key="cluster.local"),
        "Corefile:2: autopath: @kubernetes: no kubernetes plugin in this server block",
    ),
    "pods-insecure": (
        block("whoami", "autopath @kubernetes", *kubernetes("pods insecure")),
        "Corefile:3: autopath: "
        "the kubernetes plugin needs 'pods verified' to find a client's namespace",
    ),
    "pods-default": (
        block("autopath @kubernetes", *kubernetes()),
        "Corefile:2: autopath: "
        "the kubernetes plugin needs 'pods verified' to find a client's namespace",
    ),
    "not-an-autopather": (
        block("autopath @whoami", "whoami"),
        "Corefile:2: autopath: whoami does not implement the AutoPather interface",
    ),
    "unknown-plugin": (
        block("autopath @nosuch", "whoami"),
        "Corefile:2: autopath: @nosuch: no nosuch plugin in this server block",
    ),
}


@pytest.mark.parametrize(("corefile", "error"), list(BLOCK_CASES.values()), ids=list(BLOCK_CASES))
def test_plugin_checked_with_the_block(corefile: str, error: str | None) -> None:
    if error is not None:
        with pytest.raises(CorefileError) as exc:
            load(corefile, "Corefile")
        assert str(exc.value) == error
        return
    instance = load(corefile, "Corefile")
    (handler,) = [h for h in instance.blocks[0].handlers if h.name == NAME]
    assert isinstance(handler, Autopath)
    kubernetes = next(h for h in instance.blocks[0].handlers if h.name == "kubernetes")
    assert handler._source is kubernetes
    assert [h.name for h in instance.blocks[0].handlers] == ["autopath", "kubernetes"]


def test_file_without_search_warns(resolv: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        instance = load(block("autopath empty.conf", "whoami"), "Corefile")
    assert [h.name for h in instance.blocks[0].handlers] == ["autopath", "whoami"]
    path = resolv / "empty.conf"
    assert f'no search domains in "{path}": nothing to autopath' in caplog.text
