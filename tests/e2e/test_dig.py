"""Real clients: dig (BIND) and kdig (Knot) against the real server."""

from __future__ import annotations

import asyncio
import re
import shutil

import pytest

from dnsd.testing import serve_corefile

pytestmark = pytest.mark.e2e

TOOLS = {"dig": "bind9-dnsutils", "kdig": "knot-dnsutils"}


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:  # the README's test command installs them; a missing tool is a failure
        pytest.fail(f"{tool} not found: run the README's test command (apt {TOOLS[tool]})")
    return path


def _flags(out: str) -> set[str]:
    """Header flags from dig (``flags: qr aa;``) or kdig (``Flags: qr aa;``) output."""
    match = re.search(r"(?i)flags:\s*([a-z ]*);", out)
    assert match, out
    return set(match.group(1).split())


async def _run(*argv: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 15)
    return out.decode()


@pytest.mark.parametrize("tool", ["dig", "kdig"])
@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_whoami_with_real_client(tool: str, transport: str) -> None:
    exe = _need(tool)
    async with serve_corefile(".:53 {\n    whoami\n}\n") as srv:
        args = [exe, f"@{srv.host}", "-p", str(srv.port), "whoami.example.org", "A"]
        args.append("+tcp" if transport == "tcp" else "+notcp")
        out = await _run(*args)
    assert "status: NOERROR" in out, out
    assert {"qr", "aa"} <= _flags(out), out
    assert "whoami.example.org." in out and "127.0.0.1" in out, out
    assert f"_{transport}.whoami.example.org." in out, out


@pytest.mark.parametrize("tool", ["dig", "kdig"])
async def test_truncated_udp_falls_back_to_tcp(tool: str) -> None:
    from tests.integration.stubs import stub_plugin

    exe = _need(tool)
    with stub_plugin():
        async with serve_corefile(".:53 {\n    stub many 80\n}\n") as srv:
            base = [exe, f"@{srv.host}", "-p", str(srv.port), "big.example", "A"]
            udp = await _run(*base, "+ignore", "+bufsize=512")
            full = await _run(*base, "+bufsize=512")  # retries over TCP on TC
    assert "tc" in _flags(udp), udp
    assert "tc" not in _flags(full), full
    assert len(re.findall(r"\bIN\s+A\s+10\.0\.", full)) == 80, full


@pytest.mark.parametrize("tool", ["dig", "kdig"])
async def test_refused_outside_zones(tool: str) -> None:
    exe = _need(tool)
    async with serve_corefile("example.org {\n    whoami\n}\n") as srv:
        out = await _run(exe, f"@{srv.host}", "-p", str(srv.port), "example.net", "A")
    assert "status: REFUSED" in out, out
