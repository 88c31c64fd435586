"""Go literals: quoted strings and characters (``strconv.Unquote``) and numbers.

A Go string is bytes: ``"\\xc3\\xa9"`` is ``é``. Unquoted strings are decoded as UTF-8
(invalid bytes kept with ``surrogateescape``).
"""

from __future__ import annotations

import re

_SIMPLE = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92}
_HEX = {"x": 2, "u": 4, "U": 8}
_OCTAL_INT = re.compile(r"[+-]?0[0-7_]+")
_INT = re.compile(r"[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)")


def unquote(text: str) -> str:
    """The value of a Go string literal (``"..."`` or raw ``\\`...\\```). ValueError if bad."""
    if len(text) >= 2 and text[0] == text[-1] == "`":
        body = text[1:-1]
        if "`" in body:
            raise ValueError("invalid syntax")
        return body.replace("\r", "")
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError("invalid syntax")
    out = bytearray()
    body = text[1:-1]
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == '"' or ch == "\n":
            raise ValueError("invalid syntax")
        if ch != "\\":
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        value, i, is_byte = _escape(body, i + 1, '"')
        out += bytes([value]) if is_byte else chr(value).encode("utf-8", "surrogatepass")
    return out.decode("utf-8", "surrogateescape")


def unquote_char(text: str) -> int:
    """The rune of a Go character literal ``'x'``. ValueError if bad."""
    if len(text) < 3 or text[0] != "'" or text[-1] != "'":
        raise ValueError(f"malformed character constant: {text}")
    body = text[1:-1]
    if body[0] == "\\":
        value, end, _ = _escape(body, 1, "'")
    else:
        value, end = ord(body[0]), 1
    if end != len(body):
        raise ValueError(f"malformed character constant: {text}")
    return value


def _escape(body: str, i: int, quote: str) -> tuple[int, int, bool]:
    """The escape after the backslash at ``i - 1``: (value, next index, is a single byte)."""
    if i >= len(body):
        raise ValueError("invalid syntax")
    ch = body[i]
    if ch in _SIMPLE:
        return _SIMPLE[ch], i + 1, False
    if ch == quote:
        return ord(ch), i + 1, False
    if ch in _HEX:
        n = _HEX[ch]
        digits = body[i + 1 : i + 1 + n]
        if len(digits) != n or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise ValueError("invalid syntax")
        value = int(digits, 16)
        if ch != "x" and (value > 0x10FFFF or 0xD800 <= value < 0xE000):
            raise ValueError("invalid syntax")
        return value, i + 1 + n, ch == "x"
    if ch in "01234567":
        digits = body[i : i + 3]
        if len(digits) != 3 or not all(c in "01234567" for c in digits) or int(digits, 8) > 255:
            raise ValueError("invalid syntax")
        return int(digits, 8), i + 3, True
    raise ValueError("invalid syntax")


def number(text: str) -> tuple[int | float, int | None]:
    """A number constant: (Go's untyped value, its integer value or None). ValueError if bad.

    ``12``, ``0x1F``, ``0o17``, ``017`` (octal), ``0b101``, ``1_000`` are integers; ``1.5``,
    ``1e3``, ``0x1p-2`` are floats (``1.0`` and ``1e3`` also have an integer value).
    """
    if text.endswith("i"):
        raise ValueError(f"complex number {text} is not supported")
    integer: int | None = None
    if _OCTAL_INT.fullmatch(text):
        integer = _int(text, 8)
    elif _INT.fullmatch(text):
        integer = _int(text, 0)
    if integer is not None:
        if not -(2**63) <= integer < 2**63:
            raise ValueError(f"{text} overflows int")
        is_hex = text.lstrip("+-")[:2] in ("0x", "0X")
        if is_hex or not any(c in text for c in ".eEpP"):
            return integer, integer
    try:
        body = text.replace("_", "")
        sign = -1.0 if body.startswith("-") else 1.0
        bare = body.lstrip("+-")
        f = sign * (float.fromhex(bare) if bare[:2] in ("0x", "0X") else float(bare))
    except ValueError:
        raise ValueError(f"illegal number syntax: {text!r}") from None
    if f != f or f in (float("inf"), float("-inf")):
        raise ValueError(f"illegal number syntax: {text!r}")
    return f, int(f) if f == int(f) else None


def _int(text: str, base: int) -> int | None:
    if "__" in text or text.endswith("_"):
        return None
    try:
        return int(text, base)
    except ValueError:
        return None
