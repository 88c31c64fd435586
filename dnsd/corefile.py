"""The Corefile: lexing, parsing and the cursor plugins read their directive with.

:func:`parse` / :func:`load` turn a Corefile into :class:`ServerBlock` s: keys plus,
per directive, the tokens of all its occurrences (CoreDNS hands every occurrence of a
directive in a block to that plugin's setup, in file order). :class:`Dispenser`
walks one directive's tokens. :func:`digest` fingerprints parsed blocks for *reload*.

The syntax is CoreDNS's (coredns/caddy); see :mod:`dnsd.corefile_lexer` and
:mod:`dnsd.corefile_parser` for the rules and where dnsd is stricter. Every problem
is a :class:`~dnsd.errors.CorefileError` printed ``FILE:LINE: directive: message``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from bisect import bisect_right
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import NoReturn

from dnsd.corefile_lexer import Token, decode, is_close, is_open, same_line
from dnsd.corefile_parser import Parser, ServerBlock
from dnsd.errors import CorefileError

__all__ = ["Dispenser", "ServerBlock", "Token", "digest", "files_read", "load", "parse"]


def parse(
    text: str,
    filename: str,
    *,
    directives: Collection[str],
    coredns_directives: Collection[str] = (),
    env: Mapping[str, str] | None = None,
    base_dir: str | None = None,
) -> list[ServerBlock]:
    """Parse Corefile ``text`` read from ``filename`` into server blocks.

    ``directives`` are the names dnsd knows; a name only in ``coredns_directives`` gets
    a "CoreDNS plugin that dnsd does not have" error instead of "unknown directive".
    ``env`` (default ``os.environ``) feeds ``{$VAR}``. Relative imports resolve against
    ``base_dir`` (default: the directory of ``filename``; the working directory for
    ``stdin``).
    """
    root: str | None = None
    if base_dir is None:
        base_dir = "" if filename == "stdin" else os.path.dirname(filename)
        if filename != "stdin":
            try:
                root = os.path.realpath(filename)
            except (OSError, ValueError):
                root = None
    parser = Parser(
        directives=directives,
        coredns_directives=coredns_directives,
        env=os.environ if env is None else env,
    )
    return parser.parse(text, filename, base_dir, root)


def load(
    path: str,
    *,
    directives: Collection[str],
    coredns_directives: Collection[str] = (),
    env: Mapping[str, str] | None = None,
    base_dir: str | None = None,
) -> list[ServerBlock]:
    """Read and :func:`parse` the Corefile at ``path`` (``stdin``: standard input)."""
    try:
        if path == "stdin":
            buffer = getattr(sys.stdin, "buffer", None)
            data = buffer.read() if buffer is not None else sys.stdin.read().encode()
        else:
            with open(path, "rb") as f:
                data = f.read()
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CorefileError(f"cannot read file: {reason}", path) from None
    return parse(
        decode(data, path),
        path,
        directives=directives,
        coredns_directives=coredns_directives,
        env=env,
        base_dir=base_dir,
    )


def digest(blocks: list[ServerBlock]) -> str:
    """SHA-512 (hex) of what the blocks mean, for *reload* to tell a real change.

    It covers keys, directives and their tokens grouped by line (a token moved to
    another line changes the meaning), so comments, blank lines, indentation, line
    numbers and the order of *different* directives (the chain order is fixed) do not
    count; tokens pasted from imported files do. Quoted tokens are marked, because
    ``"{"`` and ``{`` differ.
    """
    doc = [
        {
            "keys": [k.text for k in block.keys],
            "directives": {name: _lines(toks) for name, toks in sorted(block.directives.items())},
        }
        for block in blocks
    ]
    text = json.dumps(doc, separators=(",", ":"))
    return hashlib.sha512(text.encode()).hexdigest()


def files_read(blocks: list[ServerBlock], filename: str) -> frozenset[str]:
    """The absolute paths of the Corefile and of every imported file that gave tokens."""
    names = {filename}
    for block in blocks:
        names.update(tok.file for tok in block.keys)
        names.update(tok.file for toks in block.directives.values() for tok in toks)
    return frozenset(os.path.abspath(n) for n in names if n != "stdin")


def _lines(tokens: Sequence[Token]) -> list[list[str | list[str]]]:
    lines: list[list[str | list[str]]] = []
    prev: Token | None = None
    for tok in tokens:
        if prev is None or not same_line(prev, tok):
            lines.append([])
        lines[-1].append([tok.text] if tok.quoted else tok.text)
        prev = tok
    return lines


def _occurrences(tokens: Sequence[Token]) -> list[int]:
    """Indexes of the tokens that start an occurrence: first on a line, outside blocks."""
    starts: list[int] = []
    depth = 0
    prev: Token | None = None
    for i, tok in enumerate(tokens):
        if depth == 0 and (prev is None or not same_line(prev, tok)):
            starts.append(i)
        if is_open(tok):
            depth += 1
        elif is_close(tok) and depth:
            depth -= 1
        prev = tok
    return starts


class Dispenser:
    """Cursor over one directive's tokens in one server block (caddy's Dispenser).

    Typical setup::

        while c.next():                 # each occurrence of the directive
            args = c.remaining_args()   # the rest of its line
            while c.next_block():       # each line of its { } block
                match c.val():
                    case "ttl": ...
                    case _: c.unknown_property()

    Lines matter: arguments are the tokens on the current line, and
    :meth:`next_block` moves line by line. A property line ending in ``{`` is entered
    by a nested ``while c.next_block()`` once its arguments are consumed; an outer
    ``next_block`` that would skip such a ``{`` raises ``unexpected '{'``.
    """

    def __init__(self, directive: str, tokens: Sequence[Token]) -> None:
        self.directive = directive
        self._tokens = list(tokens)
        self._starts = _occurrences(self._tokens)
        self._cursor = -1
        self._nesting = 0

    def next(self) -> bool:
        """Move to the next occurrence's directive-name token; False when none is left."""
        idx = bisect_right(self._starts, self._cursor)
        if idx >= len(self._starts):
            return False
        self._cursor = self._starts[idx]
        self._nesting = 0
        return True

    def token(self) -> Token:
        """The current token."""
        if not 0 <= self._cursor < len(self._tokens):
            raise RuntimeError("Dispenser has no current token: call next() first")
        return self._tokens[self._cursor]

    def val(self) -> str:
        """The current token's text."""
        return self.token().text

    def next_arg(self) -> bool:
        """Advance to the next token if it is on the current line and is not a brace."""
        i = self._cursor + 1
        if self._cursor < 0 or i >= len(self._tokens):
            return False
        nxt = self._tokens[i]
        if not same_line(self._tokens[self._cursor], nxt) or is_open(nxt) or is_close(nxt):
            return False
        self._cursor = i
        return True

    def remaining_args(self) -> list[str]:
        """Consume and return the arguments left on the current line (up to a ``{``)."""
        args: list[str] = []
        while self.next_arg():
            args.append(self.val())
        return args

    def next_block(self) -> bool:
        """Move to the first token of the next line of the current block.

        On the directive's line the first call enters the block opened at the end of
        that line (unconsumed arguments are skipped); without a block it returns False.
        Inside a block it skips what is left of the current line; it returns False on
        the block's closing ``}``. See the class docstring for nested blocks.
        """
        toks, cur = self._tokens, self._cursor
        if cur < 0:
            return False
        k = cur + 1
        if self._nesting == 0:
            while k < len(toks) and same_line(toks[cur], toks[k]) and not is_open(toks[k]):
                k += 1
            if k < len(toks) and same_line(toks[cur], toks[k]):
                return self._enter(k)
            return False
        if k < len(toks) and same_line(toks[cur], toks[k]) and is_open(toks[k]):
            return self._enter(k)
        while k < len(toks) and same_line(toks[cur], toks[k]):
            if is_open(toks[k]):
                self._cursor = k
                self.err("unexpected '{'")
            k += 1
        return self._land(k)

    def _enter(self, brace: int) -> bool:
        self._nesting += 1
        self._cursor = brace
        return self._land(brace + 1)

    def _land(self, k: int) -> bool:
        """Put the cursor on token ``k`` of the current block; False if it ends it."""
        if k >= len(self._tokens):  # unbalanced hand-made tokens: end quietly
            self._nesting = 0
            return False
        self._cursor = k
        if is_close(self._tokens[k]):
            self._nesting -= 1
            return False
        return True

    def lines(self) -> Iterator[str]:
        """Iterate :meth:`next_block`, yielding each block line's first word."""
        while self.next_block():
            yield self.val()

    def _here(self) -> Token | None:
        """The current token, or the nearest one before next() / after the end."""
        if not self._tokens:
            return None
        return self._tokens[min(max(self._cursor, 0), len(self._tokens) - 1)]

    def err(self, message: str) -> NoReturn:
        """Raise ``message`` as a :class:`CorefileError` at the current token."""
        tok = self._here()
        if tok is None:
            raise CorefileError(message, None, None, self.directive)
        raise CorefileError(message, tok.file, tok.line, self.directive)

    def arg_err(self) -> NoReturn:
        """Raise the wrong-argument-count error after the current token."""
        tok = self._here()
        text = self.directive if tok is None else tok.text
        self.err(f"wrong argument count or unexpected line ending after '{text}'")

    def unknown_property(self) -> NoReturn:
        """Raise ``unknown property`` for the current token."""
        tok = self._here()
        self.err(f"unknown property '{self.directive if tok is None else tok.text}'")

    def once_err(self) -> NoReturn:
        """Raise the error for a directive given twice in one server block."""
        self.err("can only be used once per server block")
