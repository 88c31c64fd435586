"""Search lists: resolv.conf reading, the first-step test and the names a walk tries."""

from __future__ import annotations

from pathlib import Path

import pytest

from dnsd.plugins.autopath.search import (
    SearchError,
    base_name,
    read_search,
    to_labels,
    walk,
    wire_length,
)


def labels(name: str) -> tuple[bytes, ...]:
    return tuple(p.encode() for p in name.rstrip(".").split(".") if p)


def text(name: tuple[bytes, ...]) -> str:
    return ".".join(label.decode() for label in name) + "."


RESOLV_CASES = [
    ("search", "nameserver 10.0.0.10\nsearch a.example B.Example.\noptions ndots:5\n",
     ("a.example.", "b.example.")),
    ("domain", "domain corp.example\n", ("corp.example.",)),
    ("last-line-wins", "search a.example\ndomain corp.example\n", ("corp.example.",)),
    ("search-after-domain", "domain corp.example\nsearch x.example y.example\n",
     ("x.example.", "y.example.")),
    ("duplicates", "search a.example a.example. A.EXAMPLE\n", ("a.example.",)),
    ("comments-and-blanks", "# search no.example\n\n; domain no2.example\nsearch ok.example\n",
     ("ok.example.",)),
    ("none", "nameserver 10.0.0.10\n", ()),
    ("empty-search", "search a.example\nsearch\n", ()),
    ("root", "search .\n", (".",)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "want"), [c[1:] for c in RESOLV_CASES], ids=[c[0] for c in RESOLV_CASES]
)
def test_read_search(tmp_path: Path, content: str, want: tuple[str, ...]) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text(content)
    assert read_search(str(path)) == want


def test_read_search_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_search(str(tmp_path / "nope"))


@pytest.mark.parametrize("domain", ["a..example", "x" * 64 + ".example", ("a" * 60 + ".") * 5])
def test_read_search_bad_domain(tmp_path: Path, domain: str) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text(f"search ok.example {domain}\n")
    with pytest.raises(SearchError, match="not a domain name"):
        read_search(str(path))


def test_to_labels() -> None:
    assert to_labels(".") == ()
    assert to_labels("Default.SVC.cluster.local.") == (b"default", b"svc", b"cluster", b"local")


FIRST = labels("default.svc.cluster.local")
BASE_CASES = [
    ("below-first", "web.default.svc.cluster.local.", "web."),
    ("two-labels-in-front", "a.b.default.svc.cluster.local.", "a.b."),
    ("case-kept", "WeB.DEFAULT.svc.Cluster.local.", "WeB."),
    ("first-itself", "default.svc.cluster.local.", None),
    ("other-namespace", "web.other.svc.cluster.local.", None),
    ("second-step", "web.svc.cluster.local.", None),
    ("suffix-not-label", "web.xdefault.svc.cluster.local.", None),
    ("unrelated", "example.com.", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("qname", "want"), [c[1:] for c in BASE_CASES], ids=[c[0] for c in BASE_CASES]
)
def test_base_name(qname: str, want: str | None) -> None:
    found = base_name(labels(qname), FIRST)
    assert (None if found is None else text(found)) == want


def test_base_name_root_first() -> None:
    assert base_name(labels("a.b."), ()) == labels("a.b.")


SEARCH = tuple(
    labels(d) for d in ("default.svc.cluster.local", "svc.cluster.local", "cluster.local", "ex.net")
)


def test_walk_order() -> None:
    got = [text(n) for n in walk(labels("web"), SEARCH)]
    assert got == ["web.svc.cluster.local.", "web.cluster.local.", "web.ex.net.", "web."]


def test_walk_skips_repeats_and_root() -> None:
    search = (*SEARCH[:2], SEARCH[1], (), SEARCH[0])
    got = [text(n) for n in walk(labels("web"), search)]
    assert got == ["web.svc.cluster.local.", "web."]


def test_walk_skips_names_too_long() -> None:
    base = tuple([b"a" * 63] * 3) + (b"b" * 40,)  # 234 octets: fits alone and under ex.net
    search = (SEARCH[0], labels("x" * 30 + ".example"), SEARCH[3])
    assert wire_length(base + search[1]) > 255
    got = [n[-2:] for n in walk(base, search)]
    assert got == [(b"ex", b"net"), (b"a" * 63, b"b" * 40)]
