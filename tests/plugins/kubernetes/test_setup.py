"""Setup of *kubernetes*: every option, defaults, and every error message whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from dnsd.fall import Fallthrough
from dnsd.plugins.kubernetes.setup import NAME, KubernetesOptions, parse
from dnsd.testing import check_parse

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = str(ROOT / "examples")


def k8s(*lines: str, zones: str = "cluster.local", key: str = ".") -> str:
    body = "".join(f"        {line}\n" for line in lines)
    block = f" {{\n{body}    }}" if lines else ""
    return f"{key} {{\n    kubernetes {zones}{block}\n}}\n"


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    want: KubernetesOptions | None = None
    error: str | None = None


Z = ("cluster.local.",)
CASES = [
    SetupCase("defaults", k8s(), KubernetesOptions(zones=Z)),
    SetupCase(
        "zones-from-keys",
        "cluster.local 10.0.0.0/24 {\n    kubernetes\n}\n",
        KubernetesOptions(zones=("cluster.local.", "0.0.10.in-addr.arpa.")),
    ),
    SetupCase(
        "kubeadm",
        k8s(
            "pods insecure",
            "fallthrough in-addr.arpa ip6.arpa",
            "ttl 30",
            zones="cluster.local in-addr.arpa ip6.arpa",
        ),
        KubernetesOptions(
            zones=("cluster.local.", "in-addr.arpa.", "ip6.arpa."),
            pods="insecure",
            ttl=30,
            fallthrough=Fallthrough(("in-addr.arpa.", "ip6.arpa.")),
        ),
    ),
    SetupCase(
        "endpoint",
        k8s("endpoint http://127.0.0.1:8001"),
        KubernetesOptions(zones=Z, endpoint="http://127.0.0.1:8001"),
    ),
    SetupCase(
        "namespaces", k8s("namespaces a b"), KubernetesOptions(zones=Z, namespaces=frozenset("ab"))
    ),
    SetupCase(
        "namespace-labels",
        k8s("namespace_labels team in (web, db)"),
        KubernetesOptions(zones=Z, namespace_labels="team in (web, db)"),
    ),
    SetupCase(
        "labels",
        k8s("labels env=prod,!legacy"),
        KubernetesOptions(zones=Z, labels="env=prod,!legacy"),
    ),
    SetupCase(
        "flags",
        k8s("endpoint_pod_names", "noendpoints", "ignore empty_service", "fallthrough"),
        KubernetesOptions(
            zones=Z,
            endpoint_pod_names=True,
            noendpoints=True,
            ignore_empty_service=True,
            fallthrough=Fallthrough((".",)),
        ),
    ),
    SetupCase(
        "limits",
        k8s(
            "apiserver_qps 50.5",
            "apiserver_burst 100",
            "apiserver_max_inflight 4",
            "startup_timeout 30s",
        ),
        KubernetesOptions(
            zones=Z,
            apiserver_qps=50.5,
            apiserver_burst=100,
            apiserver_max_inflight=4,
            startup_timeout=30.0,
        ),
    ),
    SetupCase("ttl-0", k8s("ttl 0"), KubernetesOptions(zones=Z, ttl=0)),
    SetupCase(
        "objects", k8s(f"objects {EXAMPLES}"), KubernetesOptions(zones=Z, objects=(EXAMPLES,))
    ),
    # errors
    SetupCase(
        "twice",
        ". {\n    kubernetes cluster.local\n    kubernetes cluster.local\n}\n",
        error="Corefile:3: kubernetes: can only be used once per server block",
    ),
    SetupCase(
        "reverse-only",
        k8s(zones="in-addr.arpa"),
        error="Corefile:2: kubernetes: non-reverse zone name must be used",
    ),
    SetupCase(
        "pods-bad",
        k8s("pods maybe"),
        error="Corefile:3: kubernetes: wrong value for pods: maybe, must be one of: "
        "disabled, verified, insecure",
    ),
    SetupCase(
        "ttl-range",
        k8s("ttl 3601"),
        error="Corefile:3: kubernetes: ttl must be in range [0, 3600]: 3601",
    ),
    SetupCase(
        "ttl-word", k8s("ttl five"), error="Corefile:3: kubernetes: ttl must be an integer: 'five'"
    ),
    SetupCase(
        "ns-and-labels",
        k8s("namespaces a", "namespace_labels x=y"),
        error="Corefile:5: kubernetes: namespaces and namespace_labels cannot both be set",
    ),
    SetupCase(
        "bad-selector",
        k8s("labels env in prod"),
        error="Corefile:3: kubernetes: unable to parse label selector value: 'env in prod': "
        "'env in prod': values of in/notin go in parentheses: (a,b)",
    ),
    SetupCase(
        "ignore-bad",
        k8s("ignore everything"),
        error="Corefile:3: kubernetes: unable to parse ignore value: 'everything'",
    ),
    SetupCase(
        "endpoint-two",
        k8s("endpoint http://a http://b"),
        error="Corefile:3: kubernetes: "
        "endpoint takes one URL (multiple endpoints are not supported)",
    ),
    SetupCase(
        "endpoint-scheme",
        k8s("endpoint 127.0.0.1:8001"),
        error="Corefile:3: kubernetes: "
        "endpoint must be an http:// or https:// URL: '127.0.0.1:8001'",
    ),
    SetupCase(
        "tls-args",
        k8s("endpoint https://a", "tls cert key"),
        error="Corefile:4: kubernetes: wrong argument count or unexpected line ending after 'key'",
    ),
    SetupCase(
        "tls-without-endpoint",
        k8s("tls c k ca"),
        error="Corefile:4: kubernetes: tls needs an endpoint",
    ),
    SetupCase(
        "multicluster",
        k8s("multicluster clusterset.local"),
        error="Corefile:3: kubernetes: multicluster (the MCS API) is not supported by dnsd",
    ),
    SetupCase(
        "removed",
        k8s("resyncperiod 30s"),
        error="Corefile:3: kubernetes: 'resyncperiod' was removed from CoreDNS's kubernetes "
        "plugin and dnsd does not take it",
    ),
    SetupCase(
        "unknown", k8s("podz insecure"), error="Corefile:3: kubernetes: unknown property 'podz'"
    ),
    SetupCase(
        "objects-missing",
        k8s("objects /nonexistent/objects"),
        error="Corefile:3: kubernetes: objects path does not exist: /nonexistent/objects",
    ),
    SetupCase(
        "startup-bad",
        k8s("startup_timeout soon"),
        error="Corefile:3: kubernetes: invalid duration 'soon'",
    ),
    SetupCase(
        "qps-bad",
        k8s("apiserver_qps fast"),
        error="Corefile:3: kubernetes: apiserver_qps must be a number: 'fast'",
    ),
    SetupCase(
        "burst-negative",
        k8s("apiserver_burst -1"),
        error="Corefile:3: kubernetes: apiserver_burst must not be negative: -1",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_parse(case: SetupCase) -> None:
    check_parse(case.corefile, NAME, parse, want=case.want, error=case.error)


def test_primary_zone_is_the_first_forward_zone() -> None:
    opts = KubernetesOptions(zones=("in-addr.arpa.", "cluster.local.", "example."))
    assert opts.primary_zone == "cluster.local."
