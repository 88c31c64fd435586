"""``Controller.after_block_setup``: checks that run once every plugin of a block is set up."""

from __future__ import annotations

import types
from collections.abc import Callable

import pytest

from dnsd.controller import Controller
from dnsd.errors import CorefileError
from dnsd.instance import load
from dnsd.plugin import Next, Registry
from dnsd.reply import Reply
from dnsd.request import Request


class Plain:
    def __init__(self, name: str) -> None:
        self.name = name

    async def serve(self, req: Request, next: Next) -> Reply | None:
        return await next(req)


def module(name: str, setup: Callable[[Controller], None]) -> types.ModuleType:
    m = types.ModuleType(name)
    m.NAME = name  # type: ignore[attr-defined]
    m.setup = setup  # type: ignore[attr-defined]
    return m


def registry(check: Callable[[Controller, list[str]], Callable[[], None]]) -> Registry:
    """``first`` (set up first) registers ``check``; ``second`` is set up after it."""
    seen: list[str] = []

    def first(c: Controller) -> None:
        while c.next():
            pass
        c.add_handler(Plain("first"))
        c.after_block_setup(check(c, seen))
        seen.append("first set up")

    def second(c: Controller) -> None:
        while c.next():
            pass
        c.add_handler(Plain("second"))
        seen.append("second set up")

    reg = Registry()
    reg.add(module("first", first))
    reg.add(module("second", second))
    return reg


TEXT = ". {\n    second\n    first\n}\n"


def test_check_sees_every_handler_of_the_block() -> None:
    found: list[list[str]] = []

    def check(c: Controller, seen: list[str]) -> Callable[[], None]:
        def run() -> None:
            found.append([h.name for h in c.block.handlers])
            seen.append("checked")
            found.append(list(seen))

        return run

    instance = load(TEXT, "Corefile", registry=registry(check))
    assert found == [["first", "second"], ["first set up", "second set up", "checked"]]
    assert instance.blocks[0].chain is not None


def test_check_error_refuses_the_config() -> None:
    def check(c: Controller, seen: list[str]) -> Callable[[], None]:
        token = c.token()

        def run() -> None:
            raise CorefileError("needs second", token.file, token.line, "first")

        return run

    with pytest.raises(CorefileError) as exc:
        load(TEXT, "Corefile", registry=registry(check))
    assert str(exc.value) == "Corefile:3: first: needs second"


def test_check_bug_is_positioned_at_the_block() -> None:
    def check(c: Controller, seen: list[str]) -> Callable[[], None]:
        def run() -> None:
            raise KeyError("x")

        return run

    with pytest.raises(CorefileError) as exc:
        load(". {\n    first\n}\n", "Corefile", registry=registry(check))
    assert str(exc.value) == "Corefile:1: 'x'"
