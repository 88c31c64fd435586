"""Setup of *file*: the options of each line, every error, and reading the zones at start-up."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from dnsd.errors import CorefileError
from dnsd.fall import Fallthrough
from dnsd.instance import load
from dnsd.plugins.file.handler import File
from dnsd.plugins.file.setup import NAME, FileOptions, ZoneFileOptions, parse
from dnsd.testing import check_parse

CWD = os.getcwd()
DB = f"{CWD}/db.example.org"
ORG = ("example.org.",)


@dataclass(frozen=True)
class SetupCase:
    corefile: str
    want: FileOptions | None = None
    error: str | None = None


def block(*lines: str, key: str = "example.org") -> str:
    return f"{key} {{\n" + "".join(f"    {line}\n" for line in lines) + "}\n"


def one(**kw: object) -> FileOptions:
    values: dict[str, object] = {"path": DB, "zones": ORG, **kw}
    return FileOptions((ZoneFileOptions(**values),))  # type: ignore[arg-type]


CASES = {
    "block-zones": SetupCase(block("file db.example.org"), want=one()),
    "several-block-zones": SetupCase(
        block("file db.example.org", key="example.org example.net:1053"),
        want=one(zones=("example.org.", "example.net.")),
    ),
    "zones-given": SetupCase(
        block("file db.example.org Example.ORG example.net. example.org", key="."),
        want=one(zones=("example.org.", "example.net.")),
    ),
    "reverse-zone-from-cidr": SetupCase(
        block("file db.example.org 10.0.0.0/24", key="."),
        want=one(zones=("0.0.10.in-addr.arpa.",)),
    ),
    "absolute": SetupCase(
        block("file /srv/zones/db.example.org"), want=one(path="/srv/zones/db.example.org")
    ),
    "relative-to-root": SetupCase(
        block("root /srv/zones", "file db.example.org"),
        want=one(path="/srv/zones/db.example.org"),
    ),
    "reload": SetupCase(
        block("file db.example.org {", "    reload 30s", "}"), want=one(reload=30.0)
    ),
    "reload-off": SetupCase(
        block("file db.example.org {", "    reload 0", "}"), want=one(reload=0.0)
    ),
    "reload-by-mtime": SetupCase(
        block("file db.example.org {", "    reload_by_mtime", "}"), want=one(reload_by_mtime=True)
    ),
    "fallthrough": SetupCase(
        block("file db.example.org {", "    fallthrough", "}"),
        want=one(fallthrough=Fallthrough((".",))),
    ),
    "fallthrough-zones": SetupCase(
        block("file db.example.org {", "    fallthrough a.example.org", "}"),
        want=one(fallthrough=Fallthrough(("a.example.org.",))),
    ),
    "upstream-ignored": SetupCase(
        block("file db.example.org {", "    upstream 8.8.8.8", "}"), want=one()
    ),
    "two-files": SetupCase(
        block(
            "file db.example.org example.org",
            "file /z/db.net example.net {",
            "reload 1m",
            "}",
            key=".",
        ),
        want=FileOptions(
            (
                ZoneFileOptions(DB, ORG),
                ZoneFileOptions("/z/db.net", ("example.net.",), reload=60.0),
            )
        ),
    ),
    "no-file": SetupCase(
        block("file"),
        error="Corefile:2: file: wrong argument count or unexpected line ending after 'file'",
    ),
    "no-file-block": SetupCase(
        block("file {", "    reload 1s", "}"),
        error="Corefile:2: file: wrong argument count or unexpected line ending after 'file'",
    ),
    "bad-zone": SetupCase(
        block("file db.example.org 10.0.0.0/33", key="."),
        error="Corefile:2: file: invalid CIDR '10.0.0.0/33'",
    ),
    "zone-twice": SetupCase(
        block("file db.a example.org", "file db.b example.org", key="."),
        error=f"Corefile:3: file: zone example.org. is already read from {CWD}/db.a",
    ),
    "reload-no-value": SetupCase(
        block("file db.example.org {", "    reload", "}"),
        error="Corefile:3: file: reload duration value is expected",
    ),
    "reload-two-values": SetupCase(
        block("file db.example.org {", "    reload 1s 2s", "}"),
        error="Corefile:3: file: unexpected argument '2s' after the reload duration",
    ),
    "reload-bad": SetupCase(
        block("file db.example.org {", "    reload often", "}"),
        error="Corefile:3: file: invalid reload duration 'often'",
    ),
    "reload-negative": SetupCase(
        block("file db.example.org {", "    reload -1s", "}"),
        error="Corefile:3: file: invalid reload duration '-1s'",
    ),
    "reload-by-mtime-argument": SetupCase(
        block("file db.example.org {", "    reload_by_mtime yes", "}"),
        error="Corefile:3: file: wrong argument count or unexpected line ending after 'yes'",
    ),
    "fallthrough-bad-zone": SetupCase(
        block("file db.example.org {", "    fallthrough 10.0.0.0/33", "}"),
        error="Corefile:3: file: invalid CIDR '10.0.0.0/33'",
    ),
    "unknown-property": SetupCase(
        block("file db.example.org {", "    transfer to *", "}"),
        error="Corefile:3: file: unknown property 'transfer'",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_setup(case: SetupCase) -> None:
    check_parse(case.corefile, NAME, parse, want=case.want, error=case.error)


# -- reading the zones at start-up ------------------------------------------------------------

ZONE = "$TTL 60\n@ IN SOA ns hm 1 2 3 4 5\n@ IN NS ns\nns IN A 192.0.2.1\n"


def handler_of(text: str) -> File:
    (loaded,) = load(text, "Corefile").blocks
    (handler,) = [h for h in loaded.handlers if isinstance(h, File)]
    return handler


def test_zones_are_read_at_setup(tmp_path: Path) -> None:
    (tmp_path / "db").write_text(ZONE)
    h = handler_of(block(f"file {tmp_path}/db example.org example.net", key="."))
    assert h.zones == ("example.org.", "example.net.")
    assert [s.zone.serial if s.zone else None for s in h.sources] == [1, 1]
    assert [s.zone.origin_text if s.zone else None for s in h.sources] == list(h.zones)


def test_one_handler_for_every_line_and_hooks(tmp_path: Path) -> None:
    (tmp_path / "a").write_text(ZONE)
    text = block(f"file {tmp_path}/a example.org", f"file {tmp_path}/a example.net", key=".")
    instance = load(text, "Corefile")
    (loaded,) = instance.blocks
    assert [h.name for h in loaded.handlers] == ["file"]
    assert len(instance.startup) == 1 and len(instance.shutdown) == 1


BAD_ZONES = {
    "syntax": (
        "$TTL 60\n@ IN SOA ns hm 1 2 3 4 5\nwww IN A 192.0.2\n",
        "{db}:3: Text input is malformed.",
    ),
    "no-soa": (
        "$TTL 60\nwww IN A 192.0.2.1\n",
        'file "{db}" has no SOA record for origin example.org.',
    ),
    "soa-elsewhere": (
        "$TTL 60\n@ IN SOA ns hm 1 2 3 4 5\nx IN SOA ns hm 1 2 3 4 5\n",
        "{db}:3: a SOA record must be at the zone's origin",
    ),
    "cname-and-a": (
        "$TTL 60\n@ IN SOA ns hm 1 2 3 4 5\nw IN CNAME x\nw IN A 192.0.2.1\n",
        "{db}:4: a CNAME cannot share its name with other records",
    ),
}


@pytest.mark.parametrize(("content", "error"), BAD_ZONES.values(), ids=BAD_ZONES.keys())
def test_bad_zone_is_a_positioned_error(content: str, error: str, tmp_path: Path) -> None:
    db = tmp_path / "db"
    db.write_text(content)
    text = block("root /nowhere", f"file {db} {{", "    reload 5s", "}")
    with pytest.raises(CorefileError) as exc:
        load(text, "Corefile")
    assert str(exc.value) == f"Corefile:3: file: {error.format(db=db)}"


def test_missing_file_without_reload_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorefileError) as exc:
        load(block(f"file {tmp_path}/none {{", "    reload 0", "}"), "Corefile")
    assert str(exc.value) == (f"Corefile:2: file: open {tmp_path}/none: no such file or directory")


def test_missing_file_is_logged_and_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="plugin/file"):
        h = handler_of(block(f"file {tmp_path}/none"))
    assert [s.zone for s in h.sources] == [None]
    assert caplog.messages == [
        f'Failed to open "open {tmp_path}/none: no such file or directory": trying again in 1m0s'
    ]
