"""The Corefile lexer: text to :class:`Token` s, CoreDNS's (coredns/caddy) rules.

Use :mod:`dnsd.corefile`; this module holds the parts the parser and the
:class:`~dnsd.corefile.Dispenser` share.

Rules (coredns/caddy ``lexer.go``, with two fixes):

* tokens are separated by whitespace; ``\\r`` is dropped everywhere (it neither
  separates nor belongs to a token, as in caddy); a UTF-8 BOM at the start is skipped;
* ``"..."`` is one token that may span lines (its line is the line it starts on);
  inside quotes only ``\\"`` is an escape, any other ``\\x`` keeps its backslash;
  ``""`` is an empty token;
* an unquoted ``#`` at the start of a token starts a comment to the end of the line;
  inside a token (``foo#bar baz``) it ends the token and skips only to the next
  whitespace, so ``baz`` is still a token (caddy's comment flag dies with the token);
* fix: an unterminated quote is an error (caddy silently ends the token at EOF);
* ``{$VAR}`` and ``{%VAR%}`` are replaced in every token after lexing, quoted or not
  (unset: empty string), in one left-to-right pass, so a value that itself contains
  ``{$X}`` is not expanded again (caddy rescans and can loop forever).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dnsd.errors import CorefileError

__all__ = ["Token", "decode", "expand_env", "is_close", "is_open", "lex", "same_line"]


@dataclass(frozen=True, slots=True)
class Token:
    """One lexed word of a Corefile with its position.

    ``expansion`` tells apart two pastes of the same snippet (or file) that land next
    to each other: their tokens share ``file`` and ``line`` but are on different
    logical lines. Tokens read straight from a file have ``expansion`` 0; it takes no
    part in equality.
    """

    text: str
    file: str
    line: int
    quoted: bool = False
    expansion: int = field(default=0, compare=False, repr=False)


def is_open(tok: Token) -> bool:
    """True for an unquoted ``{``."""
    return not tok.quoted and tok.text == "{"


def is_close(tok: Token) -> bool:
    """True for an unquoted ``}``."""
    return not tok.quoted and tok.text == "}"


def same_line(a: Token, b: Token) -> bool:
    """True when ``a`` and ``b`` are on the same logical line."""
    return a.line == b.line and a.file == b.file and a.expansion == b.expansion


def decode(data: bytes, file: str) -> str:
    """UTF-8 text of a Corefile (BOM dropped) or a positioned :class:`CorefileError`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CorefileError(
            f"invalid UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded", file, line
        ) from None
    return text.removeprefix("\ufeff")


def expand_env(text: str, env: Mapping[str, str]) -> str:
    """Replace ``{$VAR}`` and ``{%VAR%}`` in ``text`` (unset: empty string)."""
    if "{" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        for start, end in (("{$", "}"), ("{%", "%}")):
            if text.startswith(start, i):
                stop = text.find(end, i + 2)
                if stop > i + 2:
                    out.append(env.get(text[i + 2 : stop], ""))
                    i = stop + len(end)
                    break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def lex(text: str, file: str, env: Mapping[str, str], expansion: int = 0) -> list[Token]:
    """All tokens of ``text`` (the contents of ``file``), with env variables replaced."""
    tokens: list[Token] = []
    text = text.removeprefix("\ufeff")
    i, n, line = 0, len(text), 1
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            i += 1
        elif ch.isspace():
            i += 1
        elif ch == "#":
            i = _skip(text, i, stop_at_space=False)
        elif ch == '"':
            value, i, end_line = _quoted(text, i + 1, file, line)
            tokens.append(Token(expand_env(value, env), file, line, True, expansion))
            line = end_line
        else:
            chars: list[str] = []
            while i < n:
                c = text[i]
                if c == "#":
                    i = _skip(text, i, stop_at_space=True)
                    break
                if c != "\r":
                    if c.isspace():
                        break
                    chars.append(c)
                i += 1
            tokens.append(Token(expand_env("".join(chars), env), file, line, False, expansion))
    return tokens


def _skip(text: str, i: int, *, stop_at_space: bool) -> int:
    """Index of the newline (or, with ``stop_at_space``, the whitespace) ending a comment."""
    n = len(text)
    while i < n and text[i] != "\n":
        if stop_at_space and text[i].isspace() and text[i] != "\r":
            break
        i += 1
    return i


def _quoted(text: str, i: int, file: str, line: int) -> tuple[str, int, int]:
    """Read a quoted token whose body starts at ``i``: (value, index after it, end line)."""
    start_line = line
    chars: list[str] = []
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            return "".join(chars), i + 1, line
        if ch == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt == '"':
                chars.append('"')
            elif nxt != "\r":
                chars.append("\\" + nxt)
            else:
                chars.append("\\")
            line += nxt == "\n"
            i += 2
            continue
        if ch == "\n":
            line += 1
        if ch != "\r":
            chars.append(ch)
        i += 1
    raise CorefileError(
        "unexpected end of file: quoted string opened here is never closed", file, start_line
    )
