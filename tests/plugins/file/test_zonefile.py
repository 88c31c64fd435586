"""Reading zone files: directives, $INCLUDE paths and depth, errors with their place, records."""

from __future__ import annotations

from pathlib import Path

import pytest
from dnslib import RD, A, DNSBuffer

from dnsd.plugins.file.zonefile import MAX_INCLUDE_DEPTH, ZoneFileError, digest, read

HEAD = "$TTL 300\n@ IN SOA ns1 hostmaster 7 7200 3600 1209600 60\n"


def texts(path: Path, origin: str = "example.org.") -> list[str]:
    return [
        str(rec.rr).split(None, 1)[0] + " " + _fields(rec.rr)
        for rec in read(str(path), origin).records
    ]


def _fields(rr: object) -> str:
    owner, ttl, cls, rtype, *rdata = str(rr).split()
    return " ".join([ttl, cls, rtype, *rdata])


def test_directives_and_relative_names(tmp_path: Path) -> None:
    db = tmp_path / "db"
    db.write_text(
        "$ORIGIN example.org.\n" + HEAD + "WWW 60 IN A 192.0.2.1\n"
        "  IN AAAA 2001:db8::1\n"
        "$ORIGIN sub\n"
        "x IN CNAME Target.Example.NET.\n"
        "$GENERATE 1-2 host$ A 192.0.2.$\n"
        "@ IN MX ( 10\n  mail )\n"
    )
    assert texts(db) == [
        "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 7 7200 3600 1209600 60",
        "www.example.org. 60 IN A 192.0.2.1",
        "www.example.org. 300 IN AAAA 2001:db8::1",
        "x.sub.example.org. 300 IN CNAME Target.Example.NET.",
        "host1.sub.example.org. 300 IN A 192.0.2.1",
        "host2.sub.example.org. 300 IN A 192.0.2.2",
        "sub.example.org. 300 IN MX 10 mail.sub.example.org.",
    ]
    parsed = read(str(db), "example.org.")
    assert parsed.serial == 7
    assert parsed.origin == (b"example", b"org")
    cname = parsed.records[3]
    assert cname.owner == (b"x", b"sub", b"example", b"org")
    assert cname.target == (b"target", b"example", b"net")


def test_origin_from_the_configuration(tmp_path: Path) -> None:
    """The same file read for two zones: ``@`` and relative names are each zone's."""
    db = tmp_path / "db"
    db.write_text(HEAD + "www IN A 192.0.2.1\n")
    for origin in ("example.org.", "example.net."):
        assert texts(db, origin)[1] == f"www.{origin} 300 IN A 192.0.2.1"


def test_include_relative_to_the_including_file(tmp_path: Path) -> None:
    (tmp_path / "parts" / "more").mkdir(parents=True)
    (tmp_path / "parts" / "a.db").write_text(
        "a IN A 192.0.2.1\n$INCLUDE more/b.db sub.example.org.\n"
    )
    (tmp_path / "parts" / "more" / "b.db").write_text("b IN A 192.0.2.2\n")
    db = tmp_path / "db"
    db.write_text(HEAD + "$INCLUDE parts/a.db\nafter IN A 192.0.2.3\n")
    assert texts(db)[1:] == [
        "a.example.org. 300 IN A 192.0.2.1",
        "b.sub.example.org. 300 IN A 192.0.2.2",
        "after.example.org. 300 IN A 192.0.2.3",  # the origin is back after the include
    ]
    assert read(str(db), "example.org.").files == (
        str(db),
        f"{tmp_path}/parts/a.db",
        f"{tmp_path}/parts/more/b.db",
    )


def test_include_depth_is_limited(tmp_path: Path) -> None:
    db = tmp_path / "db"
    db.write_text(HEAD + "$INCLUDE loop.db\n")
    (tmp_path / "loop.db").write_text("x IN A 192.0.2.1\n$INCLUDE loop.db\n")
    with pytest.raises(ZoneFileError) as exc:
        read(str(db), "example.org.")
    assert str(exc.value) == f"{tmp_path}/loop.db:2: too deeply nested $INCLUDE"
    assert MAX_INCLUDE_DEPTH == 7


ERRORS = {
    "missing-include": (
        HEAD + "$INCLUDE nope.db\n",
        "{db}:3: cannot read $INCLUDE file: open {dir}/nope.db: no such file or directory",
    ),
    "bad-address": (HEAD + "www IN A 192.0.2\n", "{db}:3: Text input is malformed."),
    "error-in-parentheses": (
        HEAD + "www IN MX (\n 10\n )\nx IN A 1\n",
        "{db}:4: expecting an identifier",  # the exchange is missing after 10
    ),
    "no-ttl": (
        "www IN A 192.0.2.1\n@ 1 IN SOA ns1 hm 1 2 3 4 5\n",
        "{db}:1: Missing default TTL value",
    ),
    "nsec3": (
        HEAD + "x IN NSEC3 1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A\n",
        "{db}: NSEC3 zone is not supported (x.example.org. NSEC3)",
    ),
    "no-soa": (
        "$TTL 1\nwww IN A 192.0.2.1\n",
        'file "{db}" has no SOA record for origin example.org.',
    ),
}


@pytest.mark.parametrize(("text", "error"), ERRORS.values(), ids=ERRORS.keys())
def test_errors_say_where(text: str, error: str, tmp_path: Path) -> None:
    db = tmp_path / "db"
    db.write_text(text)
    with pytest.raises(ZoneFileError) as exc:
        read(str(db), "example.org.")
    assert str(exc.value) == error.format(db=db, dir=tmp_path)


def test_unreadable_and_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(ZoneFileError) as exc:
        read(str(tmp_path / "none"), "example.org.")
    assert str(exc.value) == f"open {tmp_path}/none: no such file or directory"
    db = tmp_path / "db"
    db.write_bytes(HEAD.encode() + b'x IN TXT "\xff"\n')
    with pytest.raises(ZoneFileError) as exc:
        read(str(db), "example.org.")
    assert str(exc.value) == f"{db}: not UTF-8 text (byte {len(HEAD) + 10})"


def test_names_outside_the_zone_are_skipped(tmp_path: Path) -> None:
    db = tmp_path / "db"
    db.write_text(HEAD + "www.example.net. IN A 192.0.2.1\nwww IN A 192.0.2.2\n")
    assert texts(db)[1:] == ["www.example.org. 300 IN A 192.0.2.2"]


def test_rdata_is_sent_as_written(tmp_path: Path) -> None:
    """dnslib's types for RFC 1035 records; every other type keeps its wire rdata as is."""
    db = tmp_path / "db"
    db.write_text(
        HEAD + "a IN A 192.0.2.1\n"
        "s IN SVCB 1 . alpn=h2 port=8443\n"
        "u IN TYPE65280 \\# 2 beef\n"
        "e IN TYPE65281 \\# 0\n"
    )
    recs = {rec.owner[0]: rec.rr for rec in read(str(db), "example.org.").records[1:]}
    assert isinstance(recs[b"a"].rdata, A)
    assert isinstance(recs[b"s"].rdata, RD)
    assert recs[b"s"].rdata.data == bytes.fromhex("0001 00 0001 0003 026832 0003 0002 20fb")
    assert recs[b"u"].rdata.data == b"\xbe\xef"
    assert recs[b"e"].rdata.data == b""
    buf = DNSBuffer()
    recs[b"e"].pack(buf)
    assert buf.data[-2:] == b"\x00\x00"  # an empty rdata packs as rdlength 0


def test_digest_covers_included_files(tmp_path: Path) -> None:
    inc = tmp_path / "inc"
    inc.write_text("a IN A 192.0.2.1\n")
    first = digest(b"x", [str(inc)])
    assert digest(b"x", [str(inc)]) == first
    inc.write_text("a IN A 192.0.2.2\n")
    second = digest(b"x", [str(inc)])
    assert second != first
    inc.unlink()
    assert digest(b"x", [str(inc)]) not in (first, second)
    assert digest(b"y", []) != digest(b"x", [])
