"""Setup of *k8s_external*: every option, defaults, and every error message whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from dnsd.errors import CorefileError
from dnsd.fall import Fallthrough
from dnsd.instance import load
from dnsd.plugins.k8s_external.handler import K8sExternal
from dnsd.plugins.k8s_external.setup import NAME, K8sExternalOptions, parse
from dnsd.testing import parsed_options

ROOT = Path(__file__).resolve().parents[3]
CLUSTER = str(ROOT / "examples" / "cluster.yaml")


def ext(*lines: str, zones: str = "example.com", key: str = ".") -> str:
    body = "".join(f"        {line}\n" for line in lines)
    block = f" {{\n{body}    }}" if lines else ""
    return f"{key} {{\n    k8s_external {zones}{block}\n}}\n"


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    want: K8sExternalOptions | None = None
    error: str | None = None


Z = ("example.com.",)
CASES = [
    SetupCase("defaults", ext(), K8sExternalOptions(zones=Z)),
    SetupCase(
        "zones-from-keys",
        "Example.COM 10.0.0.0/24 {\n    k8s_external\n}\n",
        K8sExternalOptions(zones=("example.com.", "0.0.10.in-addr.arpa.")),
    ),
    SetupCase(
        "zones-and-cidr",
        ext(zones="example.com 192.0.2.0/24"),
        K8sExternalOptions(zones=("example.com.", "2.0.192.in-addr.arpa.")),
    ),
    SetupCase(
        "every-option",
        ext("apex ext", "ttl 3600", "headless", "fallthrough"),
        K8sExternalOptions(
            zones=Z, apex="ext", ttl=3600, headless=True, fallthrough=Fallthrough((".",))
        ),
    ),
    SetupCase("ttl-0", ext("ttl 0"), K8sExternalOptions(zones=Z, ttl=0)),
    SetupCase("apex-trailing-dot", ext("apex ns."), K8sExternalOptions(zones=Z, apex="ns")),
    SetupCase(
        "fallthrough-zones",
        ext("fallthrough in-addr.arpa"),
        K8sExternalOptions(zones=Z, fallthrough=Fallthrough(("in-addr.arpa.",))),
    ),
    SetupCase(
        "twice-zones-replaced-options-kept",
        ".:53 {\n    k8s_external a.org {\n        ttl 7\n    }\n    k8s_external b.org\n}\n",
        K8sExternalOptions(zones=("b.org.",), ttl=7),
    ),
    SetupCase(
        "ttl-missing", ext("ttl"), error="Corefile:3: k8s_external: wrong argument count or "
        "unexpected line ending after 'ttl'"
    ),
    SetupCase(
        "ttl-two", ext("ttl 5 6"), error="Corefile:3: k8s_external: wrong argument count or "
        "unexpected line ending after '6'"
    ),
    SetupCase(
        "ttl-word",
        ext("ttl five"),
        error="Corefile:3: k8s_external: ttl must be an integer: 'five'",
    ),
    SetupCase(
        "ttl-negative",
        ext("ttl -1"),
        error="Corefile:3: k8s_external: ttl must be in range [0, 3600]: -1",
    ),
    SetupCase(
        "ttl-too-big",
        ext("ttl 3601"),
        error="Corefile:3: k8s_external: ttl must be in range [0, 3600]: 3601",
    ),
    SetupCase(
        "apex-missing", ext("apex"), error="Corefile:3: k8s_external: wrong argument count or "
        "unexpected line ending after 'apex'"
    ),
    SetupCase(
        "apex-two-labels",
        ext("apex a.b"),
        error="Corefile:3: k8s_external: apex must be a single DNS label: 'a.b'",
    ),
    SetupCase(
        "headless-argument", ext("headless yes"), error="Corefile:3: k8s_external: wrong argument "
        "count or unexpected line ending after 'yes'"
    ),
    SetupCase(
        "unknown-property",
        ext("upstream 8.8.8.8"),
        error="Corefile:3: k8s_external: unknown property 'upstream'",
    ),
    SetupCase(
        "bad-zone",
        ext(zones="10.0.0.0/33"),
        error="Corefile:2: k8s_external: invalid CIDR '10.0.0.0/33'",
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_parse(case: SetupCase) -> None:
    if case.error is None:
        assert parsed_options(case.corefile, NAME, parse) == [case.want]
        return
    with pytest.raises(CorefileError) as exc:
        parsed_options(case.corefile, NAME, parse)
    assert str(exc.value) == case.error


def with_kubernetes(*lines: str) -> str:
    body = "".join(f"    {line}\n" for line in lines)
    return f".:53 {{\n{body}}}\n"


KUBERNETES = f"kubernetes cluster.local {{\n        objects {CLUSTER}\n    }}"

BLOCKS = [
    ("kubernetes-after", with_kubernetes("k8s_external example.com", KUBERNETES), None),
    ("kubernetes-before", with_kubernetes(KUBERNETES, "k8s_external example.com"), None),
    (
        "no-kubernetes",
        with_kubernetes("whoami", "k8s_external example.com {", "    ttl 30", "}"),
        "Corefile:3: k8s_external: requires the kubernetes plugin in the same server block",
    ),
    (
        "kubernetes-in-another-block",
        f"cluster.local {{\n    {KUBERNETES}\n}}\nexample.com {{\n    k8s_external\n}}\n",
        "Corefile:7: k8s_external: requires the kubernetes plugin in the same server block",
    ),
]


@pytest.mark.parametrize(("corefile", "error"), [b[1:] for b in BLOCKS], ids=[b[0] for b in BLOCKS])
def test_setup_needs_kubernetes(corefile: str, error: str | None) -> None:
    if error is None:
        (block,) = load(corefile, "Corefile").blocks
        names = [h.name for h in block.handlers]
        assert names == ["k8s_external", "kubernetes"]  # the chain order, not the text order
        handler = block.handlers[0]
        assert isinstance(handler, K8sExternal)
        assert handler.opts == K8sExternalOptions(zones=("example.com.",))
        return
    with pytest.raises(CorefileError) as exc:
        load(corefile, "Corefile")
    assert str(exc.value) == error


def test_primary_zone() -> None:
    rev = ("in-addr.arpa.", "example.com.", "example.org.")
    assert K8sExternalOptions(zones=rev).primary_zone == "example.com."
    assert K8sExternalOptions(zones=("in-addr.arpa.",)).primary_zone == "in-addr.arpa."
