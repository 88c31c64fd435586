"""The supervisor's /ready with multisocket: never 200 before the workers it expects exist."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from dnsd.workers import Pool, Slot, SupervisedHttp


async def own_ready(request: web.Request) -> web.StreamResponse:
    return web.Response(status=200, text="OK")


async def ask(pool: Pool) -> tuple[int, str]:
    ready = SupervisedHttp(pool)._wrap("/ready", own_ready)
    resp = await ready(make_mocked_request("GET", "/ready"))
    assert isinstance(resp, web.Response)
    return resp.status, resp.text or ""


@pytest.mark.parametrize(
    ("expected", "slots", "answering", "want"),
    [
        (1, 0, [], (200, "OK")),  # no multisocket: the supervisor's own answer
        (2, 0, [], (503, "multisocket")),  # workers not started yet (the start-up window)
        (3, 1, [None], (503, "multisocket")),  # one started, not answering; one missing
        (2, 1, [(200, "")], (200, "OK")),
        (2, 1, [(503, "kubernetes")], (503, "kubernetes")),
        (3, 1, [(200, "")], (503, "multisocket")),
    ],
)
async def test_ready_counts_the_expected_workers(
    monkeypatch: pytest.MonkeyPatch,
    expected: int,
    slots: int,
    answering: list[tuple[int, str] | None],
    want: tuple[int, str],
) -> None:
    pool = Pool([])
    pool.expected = expected
    pool.slots = {i + 1: Slot(i + 1) for i in range(slots)}
    replies = iter(answering)

    async def request(slot: Slot, method: str, path: str, timeout: float) -> object:
        return next(replies)

    monkeypatch.setattr(pool, "_request", request)
    assert await ask(pool) == want
