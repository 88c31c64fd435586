"""loadbalance through the real server, with a stub backend answering as a message or as bytes."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import dns.rdatatype
import pytest

from dnsd.plugins.loadbalance.handler import Loadbalance
from dnsd.testing import serve_corefile, wait_for
from tests.plugins.loadbalance.backend import ANSWERS, lbstub

A3 = [f"www.example.com. 60 IN A 100.64.1.{i}" for i in (1, 2, 3)]
CNAME = "alias.example.com. 60 IN CNAME www.example.com."


def addresses(reply: object) -> list[str]:
    return [
        rr.to_text()
        for rrset in reply.answer  # type: ignore[attr-defined]
        for rr in rrset
        if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)
    ]


def handler(srv: object) -> Loadbalance:
    (block,) = srv.instance.blocks  # type: ignore[attr-defined]
    return next(h for h in block.handlers if isinstance(h, Loadbalance))


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
@pytest.mark.parametrize("form", ["msg", "wire"])
async def test_round_robin_keeps_cname_first(form: str, tcp: bool) -> None:
    with lbstub():
        ANSWERS["alias.example.com."] = ([CNAME, *A3], [])
        async with serve_corefile(f". {{\n    loadbalance\n    lbstub {form}\n}}\n") as srv:
            firsts = set()
            for _ in range(60):
                reply = await srv.query("alias.example.com", "A", tcp=tcp)
                assert reply.answer[0].rdtype == dns.rdatatype.CNAME
                got = addresses(reply)
                assert sorted(got) == ["100.64.1.1", "100.64.1.2", "100.64.1.3"]
                firsts.add(got[0])
    assert firsts == {"100.64.1.1", "100.64.1.2", "100.64.1.3"}


async def test_weighted_with_the_example_file() -> None:
    """examples/weights.txt (relative to root, the working directory): 3 : 1 : 2."""
    with lbstub():
        ANSWERS["www.example.com."] = (A3, [])
        corefile = ". {\n    loadbalance weighted examples/weights.txt\n    lbstub wire\n}\n"
        async with serve_corefile(corefile) as srv:
            tops: Counter[str] = Counter()
            n = 300
            for _ in range(n):
                got = addresses(await srv.query("www.example.com", "A"))
                assert sorted(got) == ["100.64.1.1", "100.64.1.2", "100.64.1.3"]
                tops[got[0]] += 1
    for addr, weight in (("100.64.1.1", 3), ("100.64.1.2", 1), ("100.64.1.3", 2)):
        expected = n * weight / 6
        assert 0.5 * expected < tops[addr] < 1.5 * expected, tops


async def test_weight_file_reload(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "weights"
    path.write_text("www.example.com\n100.64.1.1 255\n")
    corefile = (
        f". {{\n    loadbalance weighted {path} {{\n        reload 50ms\n    }}\n"
        "    lbstub wire\n}\n"
    )
    with lbstub(), caplog.at_level(logging.INFO, logger="plugin/loadbalance"):
        ANSWERS["www.example.com."] = (A3, [])
        async with serve_corefile(corefile) as srv:
            weights = handler(srv).weights
            assert weights is not None
            first = weights.table

            async def tops(n: int = 30) -> Counter[str]:
                got: Counter[str] = Counter()
                for _ in range(n):
                    got[addresses(await srv.query("www.example.com", "A"))[0]] += 1
                return got

            assert (await tops())["100.64.1.1"] >= 25
            path.write_text("www.example.com\n100.64.1.3 255\n")
            await wait_for(lambda: weights.table is not first, timeout=5.0)
            assert (await tops())["100.64.1.3"] >= 25

            second = weights.table
            path.write_text("www.example.com\n100.64.1.2 999\n")
            message = (
                f"{path}:2: wrong weight value '999' (want 1 to 255); keeping the previous weights"
            )
            await wait_for(lambda: message in caplog.messages, timeout=5.0)
            assert weights.table is second
            assert (await tops())["100.64.1.3"] >= 25
            task = weights._task
            assert task is not None and not task.done()
        assert task.done()  # shutdown stopped the reload loop


async def test_prefer() -> None:
    answer = [
        f"www.example.com. 60 IN A {ip}" for ip in ("1.1.1.1", "10.0.0.1", "8.8.8.8", "10.0.0.2")
    ]
    corefile = (
        ". {\n    loadbalance round_robin {\n        prefer 10.0.0.0/8\n    }\n    lbstub wire\n}\n"
    )
    with lbstub():
        ANSWERS["www.example.com."] = (answer, [])
        async with serve_corefile(corefile) as srv:
            for _ in range(30):
                got = addresses(await srv.query("www.example.com", "A"))
                assert set(got[:2]) == {"10.0.0.1", "10.0.0.2"}
                assert set(got[2:]) == {"1.1.1.1", "8.8.8.8"}


async def test_negative_and_other_types_pass_untouched() -> None:
    txt = [f'www.example.com. 60 IN TXT "{i}"' for i in range(4)]
    with lbstub():
        ANSWERS["www.example.com."] = (txt, [])
        async with serve_corefile(". {\n    loadbalance\n    lbstub wire\n}\n") as srv:
            for _ in range(10):
                reply = await srv.query("www.example.com", "TXT")
                assert [rr.to_text() for rr in reply.answer[0]] == [f'"{i}"' for i in range(4)]
            reply = await srv.query("missing.example.com", "A")
            assert reply.rcode() == 3
