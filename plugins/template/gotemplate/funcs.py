"""The functions templates call: Go's builtins and CoreDNS's ``parseInt``.

Each :class:`Func` declares Go's parameter types, which decide how arguments are read:
``interface {}`` turns a missing value into nil, ``reflect.Value`` passes it through (so
``eq .Group.x "a"`` is false), ``string`` and ``int`` must be exactly that. A function
raises :class:`FuncError` with Go's message; the interpreter reports it as
``error calling NAME: MESSAGE``.

``call`` is not provided (no template data holds a function value).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dnsd.plugins.template.gotemplate.gofmt import sprint, sprintf, sprintln
from dnsd.plugins.template.gotemplate.values import (
    ANY,
    BOOL,
    INT,
    MISSING,
    STRING,
    GoType,
    Struct,
    Uint,
    Uint8,
    Uint64,
    is_true,
    type_name,
)

#: A ``reflect.Value`` parameter: receives missing values as they are.
VALUE = GoType("reflect.Value", "value")
UINT64 = GoType("uint64")


class FuncError(Exception):
    """A function failed; the message is Go's."""


@dataclass(frozen=True)
class Func:
    call: Callable[..., Any]
    params: tuple[GoType, ...]
    variadic: GoType | None = None
    result: GoType = ANY


# -- comparisons (text/template funcs.go) ---------------------------------------------------------


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, Uint):
        return "uint"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return "invalid" if v is MISSING or v is None else "other"


def eq(arg1: Any, *rest: Any) -> bool:
    if not rest:
        raise FuncError("missing argument for comparison")
    k1 = _kind(arg1)
    for arg in rest:
        k2 = _kind(arg)
        if k1 != k2:
            if {k1, k2} == {"int", "uint"}:
                if arg1 == arg:
                    return True
                continue
            if k1 != "invalid" and k2 != "invalid":
                raise FuncError("incompatible types for comparison")
            continue
        if k1 == "other":
            if isinstance(arg1, (list, dict)) or isinstance(arg, (list, dict)):
                raise FuncError(
                    f"non-comparable types {type_name(arg1)}: {type_name(arg1)}, "
                    f"{type_name(arg)}: {type_name(arg)}"
                )
            if arg1 is arg:
                return True
        elif arg1 == arg:
            return True
    return False


def ne(arg1: Any, arg2: Any) -> bool:
    return not eq(arg1, arg2)


def lt(arg1: Any, arg2: Any) -> bool:
    k1, k2 = _kind(arg1), _kind(arg2)
    for k in (k1, k2):
        if k in ("invalid", "other"):
            raise FuncError("invalid type for comparison")
    if k1 != k2 and {k1, k2} != {"int", "uint"}:
        raise FuncError("incompatible types for comparison")
    if k1 == "bool":
        raise FuncError("invalid type for comparison")
    return bool(arg1 < arg2)


def le(arg1: Any, arg2: Any) -> bool:
    return lt(arg1, arg2) or eq(arg1, arg2)


def gt(arg1: Any, arg2: Any) -> bool:
    return not le(arg1, arg2)


def ge(arg1: Any, arg2: Any) -> bool:
    return not lt(arg1, arg2)


# -- collections ----------------------------------------------------------------------------------


def _index_arg(index: Any, cap: int) -> int:
    if isinstance(index, bool) or not isinstance(index, int):
        if index is MISSING or index is None:
            raise FuncError("cannot index slice/array with nil")
        raise FuncError(f"cannot index slice/array with type {type_name(index)}")
    if index < 0 or index > cap:
        raise FuncError(f"index out of range: {index}")
    return int(index)


def index(item: Any, *indexes: Any) -> Any:
    if item is MISSING or item is None:
        raise FuncError("index of untyped nil")
    for idx in indexes:
        if isinstance(item, (list, str)):
            x = _index_arg(idx, len(item))
            if x == len(item):
                raise FuncError(f"index out of range: {x}")
            item = (
                Uint8(item.encode("utf-8", "surrogateescape")[x])
                if isinstance(item, str)
                else item[x]
            )
        elif isinstance(item, dict):
            if not isinstance(idx, str):
                if idx is MISSING or idx is None:
                    raise FuncError("value is nil; should be of type string")
                raise FuncError(f"value has type {type_name(idx)}; should be string")
            item = item.get(idx, "")
        else:
            raise FuncError(f"can't index item of type {type_name(item)}")
    return item


def slice_(item: Any, *indexes: Any) -> Any:
    if item is MISSING or item is None:
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise FuncError("cannot 3-index slice a string")
    elif not isinstance(item, list):
        raise FuncError(f"can't slice item of type {type_name(item)}")
    size = len(item)
    bounds = [0, size]
    for i, idx in enumerate(indexes[:2]):
        bounds[i] = _index_arg(idx, size)
    if bounds[0] > bounds[1]:
        raise FuncError(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    if isinstance(item, str):
        data = item.encode("utf-8", "surrogateescape")[bounds[0] : bounds[1]]
        return data.decode("utf-8", "surrogateescape")
    return item[bounds[0] : bounds[1]]


def length(item: Any) -> int:
    if isinstance(item, str):
        return len(item.encode("utf-8", "surrogateescape"))
    if isinstance(item, (list, dict)):
        return len(item)
    if item is MISSING or item is None:
        raise FuncError("len of nil pointer")
    raise FuncError(f"len of type {type_name(item)}")


# -- boolean --------------------------------------------------------------------------------------


def not_(arg: Any) -> bool:
    return not is_true(arg)


# -- escaping -------------------------------------------------------------------------------------


def _eval_args(args: tuple[Any, ...]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(list(args))


_HTML = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}


def html(*args: Any) -> str:
    return "".join(_HTML.get(ch, ch) for ch in _eval_args(args))


_JS = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026",
       "=": "\\u003D", "\n": "\\n", "\r": "\\r", "\t": "\\t"}  # fmt: skip


def js(*args: Any) -> str:
    out = []
    for ch in _eval_args(args):
        if ch in _JS:
            out.append(_JS[ch])
        elif ord(ch) < 0x20 or not ch.isprintable():
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def urlquery(*args: Any) -> str:
    return urllib.parse.quote_plus(_eval_args(args), safe="-_.~")


# -- printing -------------------------------------------------------------------------------------


def print_(*args: Any) -> str:
    return sprint(list(args))


def printf(fmt: str, *args: Any) -> str:
    return sprintf(fmt, list(args))


def println(*args: Any) -> str:
    return sprintln(list(args))


# -- CoreDNS --------------------------------------------------------------------------------------


def parse_int(s: str, base: int, bit_size: int) -> Uint64:
    """``strconv.ParseUint``, CoreDNS's ``parseInt``."""
    fn = "strconv.ParseUint"
    if s == "":
        raise FuncError(f'{fn}: parsing "": invalid syntax')
    text, b = s, base
    if base == 0:
        b = 10
        low = s.lower()
        if low.startswith(("0x", "0o", "0b")):
            b, text = {"x": 16, "o": 8, "b": 2}[low[1]], s[2:]
        elif s.startswith("0") and len(s) > 1:
            b, text = 8, s[1:]
        if "_" in text and not _underscores_ok(s):
            raise FuncError(f"{fn}: parsing {_q(s)}: invalid syntax")
        text = text.replace("_", "")
    elif not 2 <= base <= 36:
        raise FuncError(f"{fn}: parsing {_q(s)}: invalid base {base}")
    if bit_size == 0:
        bit_size = 64
    elif not 0 < bit_size <= 64:
        raise FuncError(f"{fn}: parsing {_q(s)}: invalid bit size {bit_size}")
    if not text or not all(c.isascii() and c.isalnum() and int(c, 36) < b for c in text):
        raise FuncError(f"{fn}: parsing {_q(s)}: invalid syntax")
    value = int(text, b)
    if value >= 1 << bit_size:
        raise FuncError(f"{fn}: parsing {_q(s)}: value out of range")
    return Uint64(value)


def _underscores_ok(s: str) -> bool:
    """Go's rule: underscores only between digits or after a base prefix."""
    saw = "^"
    low = s.lower()
    i = 0
    if low.startswith(("0x", "0o", "0b")):
        saw, i = "0", 2
    for ch in low[i:]:
        if ch == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_" and not ch.isalnum():
                return False
            saw = "0"
    return saw != "_"


def _q(s: str) -> str:
    from dnsd.plugins.template.gotemplate.gofmt import go_quote

    return go_quote(s)


BUILTINS: Mapping[str, Func] = {
    "and": Func(lambda *a: a[-1], (VALUE,), VALUE, VALUE),  # short-circuit: see exec
    "or": Func(lambda *a: a[-1], (VALUE,), VALUE, VALUE),
    "not": Func(not_, (VALUE,), result=BOOL),
    "len": Func(length, (VALUE,), result=INT),
    "index": Func(index, (VALUE,), VALUE, VALUE),
    "slice": Func(slice_, (VALUE,), VALUE, VALUE),
    "eq": Func(eq, (VALUE,), VALUE, BOOL),
    "ne": Func(ne, (VALUE, VALUE), result=BOOL),
    "lt": Func(lt, (VALUE, VALUE), result=BOOL),
    "le": Func(le, (VALUE, VALUE), result=BOOL),
    "gt": Func(gt, (VALUE, VALUE), result=BOOL),
    "ge": Func(ge, (VALUE, VALUE), result=BOOL),
    "print": Func(print_, (), ANY, STRING),
    "printf": Func(printf, (STRING,), ANY, STRING),
    "println": Func(println, (), ANY, STRING),
    "html": Func(html, (), ANY, STRING),
    "js": Func(js, (), ANY, STRING),
    "urlquery": Func(urlquery, (), ANY, STRING),
    "parseInt": Func(parse_int, (STRING, INT, INT), result=UINT64),
}

__all__ = ["BUILTINS", "VALUE", "Func", "FuncError", "Struct"]
