"""The container runs as non-root with a read-only root filesystem, and dnsd needs no writes.

The image's last stage must set a numeric, non-zero ``USER`` (so ``runAsNonRoot`` can check it);
the Deployment must set ``runAsNonRoot`` or a non-zero ``runAsUser``, ``readOnlyRootFilesystem``
and ``allowPrivilegeEscalation: false``. Then dnsd itself is run with every filesystem mounted
read-only (a user and mount namespace from ``unshare``, each mount remounted ``ro``), with
*reload*, *hosts*, *cache*, *log* and *errors*: it must start, answer and log no error.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import dns.rcode
import pytest
import yaml

from tests.loadtools import ROOT, ask, dnsd_process
from tests.reliability import Figures, record

pytestmark = pytest.mark.reliability


def final_user(dockerfile: str) -> str:
    user = ""
    for line in dockerfile.splitlines():
        words = line.split()
        if words and words[0].upper() == "FROM":
            user = ""  # each stage starts as root
        elif words and words[0].upper() == "USER":
            user = words[1]
    return user


def containers(doc: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    pod = doc["spec"]["template"]["spec"]
    return pod.get("securityContext") or {}, pod["containers"]


def test_image_and_manifests_are_non_root_and_read_only() -> None:
    user = final_user((ROOT / "containers" / "Dockerfile").read_text())
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"USER {user!r} must be a numeric non-root uid"
    checked = 0
    for path in sorted((ROOT / "containers" / "kubernetes").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not isinstance(doc, dict) or doc.get("kind") not in ("Deployment", "DaemonSet"):
                continue
            pod_ctx, ctrs = containers(doc)
            for ctr in ctrs:
                ctx = pod_ctx | (ctr.get("securityContext") or {})
                if path.parent.name != "kubernetes":  # an overlay's patch: must not undo it
                    assert ctx.get("readOnlyRootFilesystem") is not False, path.name
                    assert ctx.get("allowPrivilegeEscalation") is not True, path.name
                    assert ctx.get("runAsNonRoot") is not False, path.name
                    continue
                non_root = ctx.get("runAsNonRoot") is True or int(ctx.get("runAsUser", 0)) > 0
                assert non_root or int(uid) > 0, f"{path.name}: {ctr['name']} may run as root"
                assert ctx.get("readOnlyRootFilesystem") is True, f"{path.name}: {ctr['name']}"
                assert ctx.get("allowPrivilegeEscalation") is False, f"{path.name}: {ctr['name']}"
                assert "ALL" in ctx.get("capabilities", {}).get("drop", []), path.name
                checked += 1
    assert checked >= 1
    record(
        Figures(
            scenario="Image USER and manifests: non-root, read-only root, no escalation",
            group="abuse",
            notes=f"Dockerfile USER {user}; {checked} container spec(s) with "
            "readOnlyRootFilesystem, allowPrivilegeEscalation false, capabilities drop ALL",
        )
    )


REMOUNT = """set -e
for m in $(awk '{print $5}' /proc/self/mountinfo); do
    case "$m" in /proc*|/sys*|/dev*) ;; *) mount -o remount,bind,ro "$m" 2>/dev/null || true ;; esac
done
for d in "$ROOTDIR" "$TMPDIR_RO" /tmp /; do
    if touch "$d/.dnsd-rw-probe" 2>/dev/null; then echo "WRITABLE $d"; exit 3; fi
done
exec "$@"
"""


def read_only(tmp: Path) -> Any:
    def wrap(argv: list[str]) -> list[str]:
        env = f"ROOTDIR={shlex.quote(str(ROOT))} TMPDIR_RO={shlex.quote(str(tmp))}"
        script = f"{env}; export ROOTDIR TMPDIR_RO; {REMOUNT}"
        return ["unshare", "-rm", "sh", "-c", script, "sh", *argv]

    return wrap


def unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = ["unshare", "-rm", "sh", "-c", "mount -o remount,bind,ro / && ! touch /.ro-probe"]
    return subprocess.run(probe, capture_output=True, timeout=10).returncode == 0


@pytest.mark.skipif(not unshare_works(), reason="no user+mount namespaces here")
def test_dnsd_serves_from_a_read_only_filesystem(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("192.0.2.7 www.example.org\n")
    corefile = (
        ".:{port} {\n    bind 127.0.0.1\n    errors\n    log\n    reload 2s\n"
        f"    hosts {hosts}\n    cache 30\n}}\n"
    )
    with dnsd_process(tmp_path, corefile, wrap=read_only(tmp_path)) as dnsd:
        replies = [ask(dnsd.port, "www.example.org") for _ in range(20)]
        missing = ask(dnsd.port, "nothing.example.org")
        assert dnsd.alive()
    log = dnsd.log.read_text(errors="replace")
    good = [r for r in replies if r is not None and r.rcode() == dns.rcode.NOERROR]
    right = [r for r in good if [rr.to_text() for rr in r.answer[0]] == ["192.0.2.7"]]
    record(
        Figures(
            scenario="dnsd on a read-only filesystem (every mount remounted ro)",
            group="abuse",
            sent=21,
            answered=len([r for r in replies if r is not None]) + (missing is not None),
            wrong=len(good) - len(right),
            lost=sum(r is None for r in replies) + (missing is None),
            notes="started, answered and logged no error with hosts, cache, reload, log, errors",
        )
    )
    assert "WRITABLE" not in log, log
    assert len(right) == 20
    assert missing is not None
    assert "[ERROR]" not in log and "Traceback" not in log, log
