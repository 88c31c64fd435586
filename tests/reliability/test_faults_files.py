"""Hosts and zone files that go wrong under a steady query load (issue 7, point 2 d).

The file is deleted, replaced by a directory or a FIFO (the tests run as root, so ``chmod 000``
would not stop a read: these are the unreadable files root meets), or caught half-written. While
that lasts the data read before keep answering; then a new version is put in place and the time
until it answers is the recovery figure. The inline entries of *hosts* keep answering throughout.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from dnsd.plugins.hosts.handler import Hosts
from dnsd.testing import TestServer, serve_corefile, wait_for
from tests.reliability import record
from tests.reliability.steady import Probe, SteadyLoad, addresses, expect, until

pytestmark = pytest.mark.reliability

SOA = "@ 3600 IN SOA ns.example.org. hostmaster.example.org. {serial} 7200 3600 1209600 3600\n"
ZONE_V1 = "$ORIGIN example.org.\n" + SOA.format(serial=1) + "a IN A 10.0.0.1\n"
ZONE_V2 = "$ORIGIN example.org.\n" + SOA.format(serial=2) + "b IN A 10.0.0.3\na IN A 10.0.0.2\n"
HOSTS_V1 = "10.0.0.1 a.hosts.test\n"
HOSTS_V2 = "10.0.0.3 b.hosts.test\n10.0.0.2 a.hosts.test\n"
#: Each file as a reader would see it mid-write: cut inside the line of the name asked.
HALF = {"zone": ZONE_V2[: ZONE_V2.index("10.0.0.2") + 5], "hosts": HOSTS_V2[:-6]}
NAMES = {"zone": "a.example.org", "hosts": "a.hosts.test"}
INLINE = "inline.hosts.test"


def corefile(tmp_path: Path) -> str:
    return (
        f"example.org:53 {{\n    file {tmp_path / 'zone'} {{\n        reload 100ms\n    }}\n}}\n"
        f"hosts.test:53 {{\n    hosts {tmp_path / 'hosts'} hosts.test {{\n"
        f"        10.9.0.1 {INLINE}\n        reload 100ms\n    }}\n}}\n"
    )


def replace(path: Path, content: str) -> None:
    """Put a new version in place at once (write aside, rename over)."""
    if path.is_dir():
        path.rmdir()
    elif path.exists() or path.is_symlink():
        path.unlink()
    aside = path.with_name(path.name + ".new")
    aside.write_text(content)
    os.replace(aside, path)


def break_file(path: Path, fault: str) -> None:
    path.unlink()
    if fault == "directory":
        path.mkdir()
    elif fault == "fifo":
        os.mkfifo(path)


def hosts_source(srv: TestServer) -> object:
    for block in srv.instance.blocks:
        for h in block.handlers:
            if isinstance(h, Hosts):
                return h.source
    raise AssertionError("no hosts handler")


def logged(caplog: pytest.LogCaptureFixture, *words: str) -> Callable[[], bool]:
    return lambda: any(all(w in r.getMessage() for w in words) for r in caplog.records)


NOTICED = {
    ("zone", "deleted"): ("Failed to open zone", "no such file"),
    ("zone", "directory"): ("Failed to open zone", "is a directory"),
    ("zone", "fifo"): ("Failed to open zone", "not a regular file"),
    ("hosts", "deleted"): ("File does not exist",),
    ("hosts", "directory"): ("cannot read", "Is a directory"),
    ("hosts", "fifo"): ("cannot read", "not a regular file"),
}
FAULTS = ["deleted", "directory", "fifo", "half-written"]


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("kind", ["zone", "hosts"])
async def test_broken_file_keeps_the_old_data_serving(
    tmp_path: Path, kind: str, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    (tmp_path / "zone").write_text(ZONE_V1)
    (tmp_path / "hosts").write_text(HOSTS_V1)
    path, name = tmp_path / kind, NAMES[kind]
    v2 = ZONE_V2 if kind == "zone" else HOSTS_V2
    old, new = expect(name, "A", "10.0.0.1"), expect(name, "A", "10.0.0.2")
    # Right: the old data until the new version is in place, then either (the switch is not
    # instant). No file state but the whole v2 can give 10.0.0.2, so this hides no fault.
    either = Probe(name, "A", lambda r: old.check(r) or new.check(r), f"{old.want} or {new.want}")
    probes = [either, expect(INLINE, "A", "10.9.0.1")] if kind == "hosts" else [either]
    async with serve_corefile(corefile(tmp_path)) as srv:
        assert old.check(await srv.query(name, "A"))
        async with SteadyLoad(srv.host, srv.port, probes, max_seconds=20) as load:
            await load.wait_sent(20)
            start = load.now()
            if fault == "half-written":
                path.write_text(HALF[kind])  # in place, and the writer stalls here...
                if kind == "hosts":  # ...until the reload has read the half file (a stall
                    # longer than hosts' settle time is a finished file to it, as to CoreDNS)
                    source = hosts_source(srv)
                    await wait_for(lambda: source.pending is not None)  # type: ignore[attr-defined]
                else:  # a zone cut mid-record does not parse: the writer may stall for long
                    await wait_for(logged(caplog, "Parsing zone", str(path)))
                    await load.wait_sent(40)
                repair = load.now()
                path.write_text(v2)  # ...then finishes
            else:
                break_file(path, fault)
                await wait_for(logged(caplog, *NOTICED[(kind, fault)]))
                await load.wait_sent(40)
                repair = load.now()
                replace(path, v2)

            async def now() -> list[str]:
                return addresses(await srv.query(name, "A"))

            recovery = await until(now, lambda got: got == ["10.0.0.2"], 10)
            await load.wait_sent(10)
            await load.stop()
    during = load.within(start, repair)
    assert during and all(o.right for o in during), load.problems
    assert load.lost == 0 and all(o.right for o in load.within(0, start)), load.problems
    assert load.wrong == 0, load.problems  # after the repair too: old, then new, nothing else
    assert not any(r.exc_info for r in caplog.records)
    what = "hosts file" if kind == "hosts" else "zone file"
    record(
        load.figures(
            f"{what} {fault.replace('-', ' ')}"
            + (" (a FIFO in its place)" if fault == "fifo" else ""),
            recovery,
            f"old data served during the fault: {len(during)} queries",
        )
    )
