"""The Corefile parser: tokens to server blocks, with snippets and imports.

Use :func:`dnsd.corefile.parse`. The grammar is coredns/caddy's ``parse.go``; where
caddy accepts something it then misreads, dnsd reports it with its position instead:

* a ``}`` that is not first on its line (``.:53 { whoami }``, which CoreDNS also
  rejects) and anything after a directive block's ``}`` on the same line;
* a ``{`` that does not end a token on its directive's line (``{`` alone on the next
  line, ``{ {``); a server block's ``{`` may still be on the line after its keys, as
  CoreDNS allows;
* a stray ``}`` at top level (CoreDNS takes it as a server key), empty keys, an
  unterminated block or quote;
* import and snippet cycles are named (``import cycle: a.conf -> b.conf -> a.conf``).

Quoted tokens are always plain words: ``"{"``, ``"}"`` and ``"import"`` have no
meaning to the parser (caddy compares texts only).

The parser reads a stack of token lists: ``import`` pushes the imported tokens, so
nothing is copied or re-spliced and imported tokens keep their own file and line.
"""

from __future__ import annotations

import difflib
import glob
import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace

from dnsd.corefile_lexer import Token, decode, is_close, is_open, lex, same_line
from dnsd.errors import CorefileError

__all__ = ["MAX_FILE_IMPORTS", "MAX_SNIPPET_EXPANSIONS", "Parser", "ServerBlock"]

MAX_SNIPPET_EXPANSIONS = 10000
MAX_FILE_IMPORTS = 100000

log = logging.getLogger("dnsd")

_OPEN_LINE = "unexpected '{': a block must open on its directive's line"
_OWN_LINE = "a closing brace must be on its own line"


@dataclass
class ServerBlock:
    """One server block: its keys and, per directive, the tokens of all its occurrences."""

    keys: list[Token]
    directives: dict[str, list[Token]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Origin:
    """Where a token came from: the directory its imports resolve against and the chain
    of imports (identity, display name) that pasted it."""

    dir: str
    chain: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class _Lex:
    tok: Token
    origin: _Origin


class _Stream:
    """A stack of token lists read front to back; ``push`` inserts tokens at the cursor."""

    def __init__(self, tokens: list[_Lex]) -> None:
        self._frames: list[tuple[list[_Lex], list[int]]] = [(tokens, [0])]
        self.prev: _Lex | None = None

    def peek(self) -> _Lex | None:
        while self._frames:
            tokens, pos = self._frames[-1]
            if pos[0] < len(tokens):
                return tokens[pos[0]]
            self._frames.pop()
        return None

    def take(self) -> _Lex:
        lx = self.peek()
        if lx is None:  # callers peek first
            raise IndexError("end of tokens")
        self._frames[-1][1][0] += 1
        self.prev = lx
        return lx

    def push(self, tokens: list[_Lex]) -> None:
        if tokens:
            self._frames.append((tokens, [0]))

    def at_line_start(self, lx: _Lex) -> bool:
        return self.prev is None or not same_line(self.prev.tok, lx.tok)


def _err(lx: _Lex | Token, message: str, directive: str | None = None) -> CorefileError:
    tok = lx.tok if isinstance(lx, _Lex) else lx
    return CorefileError(message, tok.file, tok.line, directive)


def _unclosed(brace: _Lex, directive: str | None) -> CorefileError:
    return _err(brace, "unexpected end of file: '{' opened here is never closed", directive)


class Parser:
    """Parses one Corefile; holds the snippets and import counters of that parse."""

    def __init__(
        self,
        *,
        directives: Collection[str],
        coredns_directives: Collection[str],
        env: Mapping[str, str],
    ) -> None:
        self._directives = frozenset(directives)
        self._coredns = frozenset(coredns_directives)
        self._env = env
        self._snippets: dict[str, tuple[list[_Lex], Token]] = {}
        self._snippet_count = 0
        self._file_count = 0
        self._expansions = 0

    def parse(self, text: str, filename: str, base_dir: str, root: str | None) -> list[ServerBlock]:
        """Server blocks of ``text``; ``root`` is the real path of ``filename`` if known."""
        chain = () if root is None else ((f"file:{root}", filename),)
        origin = _Origin(base_dir, chain)
        stream = _Stream([_Lex(t, origin) for t in lex(text, filename, self._env)])
        blocks: list[ServerBlock] = []
        while (lx := stream.peek()) is not None:
            if self._is_import(stream, lx):
                self._import(stream)
            elif is_close(lx.tok):
                raise _err(lx, "unexpected '}'")
            elif (block := self._server_block(stream)) is not None:
                blocks.append(block)
        return blocks

    # -- server blocks ----------------------------------------------------------------

    def _server_block(self, s: _Stream) -> ServerBlock | None:
        keys, brace = self._keys(s)
        if len(keys) == 1 and keys[0].text.startswith("(") and keys[0].text.endswith(")"):
            self._define_snippet(s, keys[0], brace)
            return None
        block = ServerBlock(keys=keys)
        last: str | None = None
        while (lx := s.peek()) is not None:
            if is_close(lx.tok):
                s.take()
                if brace is None:
                    raise _err(lx, "unexpected '}'")
                return block
            if self._is_import(s, lx):
                self._import(s)
            elif is_open(lx.tok):
                raise _err(lx, _OPEN_LINE, last)
            else:
                last = self._directive(s, block)
        if brace is not None:
            raise _unclosed(brace, None)
        return block

    def _keys(self, s: _Stream) -> tuple[list[Token], _Lex | None]:
        """The key tokens (commas split off) and the opening brace, if any."""
        keys: list[Token] = []
        more = False
        while True:
            lx = s.take()
            tok = lx.tok
            if is_open(tok):
                if more:
                    raise _err(lx, "expected another key after ',' but found '{'")
                if not keys:
                    raise _err(lx, "unexpected '{': a server block needs at least one key")
                return keys, lx
            if is_close(tok):
                raise _err(lx, "unexpected '}'")
            parts = tok.text.split(",")
            more = len(parts) > 1 and parts[-1] == ""
            for part in parts[:-1] if more else parts:
                if not part:
                    raise _err(lx, f"empty server key in '{tok.text}'")
                if not tok.quoted and ("{" in part or "}" in part):
                    raise _err(lx, f"unexpected brace in server key '{part}': braces need spaces")
                keys.append(replace(tok, text=part))
            nxt = s.peek()
            if nxt is None:
                if more:
                    raise _err(lx, "unexpected end of file: expected another key after ','")
                return keys, None
            if not more and not same_line(tok, nxt.tok):
                if is_open(nxt.tok):  # CoreDNS accepts the block's brace on the next line
                    return keys, s.take()
                return keys, None

    def _define_snippet(self, s: _Stream, key: Token, brace: _Lex | None) -> None:
        name = key.text[1:-1]
        if brace is None:
            raise _err(key, f"snippet '{name}' needs a block: '{key.text} {{' ... '}}'")
        if name in self._snippets:
            first = self._snippets[name][1]
            raise _err(key, f"snippet '{name}' is already defined at {first.file}:{first.line}")
        body: list[_Lex] = []
        depth = 1
        while (lx := s.peek()) is not None:
            s.take()
            if is_open(lx.tok):
                depth += 1
            elif is_close(lx.tok):
                depth -= 1
                if depth == 0:
                    self._snippets[name] = (body, key)
                    return
            body.append(lx)
        raise _unclosed(brace, None)

    # -- directives -------------------------------------------------------------------

    def _check_name(self, lx: _Lex) -> str:
        name = lx.tok.text
        if name in self._directives:
            return name
        if name in self._coredns:
            raise _err(lx, f"directive '{name}' is a CoreDNS plugin that dnsd does not have")
        close = difflib.get_close_matches(name, sorted(self._directives), n=1)
        hint = f", did you mean '{close[0]}'?" if close else ""
        raise _err(lx, f"unknown directive '{name}'{hint}")

    def _directive(self, s: _Stream, block: ServerBlock) -> str:
        """Collect one directive occurrence: its line, plus its block if it opens one."""
        first = s.take()
        name = self._check_name(first)
        out = block.directives.setdefault(name, [])
        out.append(first.tok)
        opens: list[_Lex] = []
        prev = first.tok
        while (lx := s.peek()) is not None:
            tok = lx.tok
            new_line = not same_line(prev, tok)
            if new_line and not opens:
                return name
            if not new_line and is_close(prev):
                raise _err(lx, f"unexpected '{tok.text}': {_OWN_LINE}", name)
            if new_line and self._is_import(s, lx):
                self._import(s)
                continue
            if is_open(tok):
                if new_line or is_open(prev):
                    raise _err(lx, _OPEN_LINE, name)
                opens.append(lx)
            elif is_close(tok):
                if not opens or not (new_line or is_open(prev)):
                    raise _err(lx, f"unexpected '}}': {_OWN_LINE}", name)
                opens.pop()
            s.take()
            out.append(tok)
            prev = tok
        if opens:
            raise _unclosed(opens[-1], name)
        return name

    # -- imports ----------------------------------------------------------------------

    @staticmethod
    def _is_import(s: _Stream, lx: _Lex) -> bool:
        return lx.tok.text == "import" and not lx.tok.quoted and s.at_line_start(lx)

    def _import(self, s: _Stream) -> None:
        """Consume ``import ARG`` and push the snippet's or the files' tokens."""
        imp = s.take()
        args: list[_Lex] = []
        while (lx := s.peek()) is not None and same_line(imp.tok, lx.tok):
            args.append(s.take())
        if not args:
            raise _err(
                imp, "wrong argument count or unexpected line ending after 'import'", "import"
            )
        if len(args) > 1:
            raise _err(
                imp, f"wrong argument count: import takes one argument, got {len(args)}", "import"
            )
        pattern = args[0].tok.text
        if not pattern:
            raise _err(imp, "import needs a snippet name or a file path", "import")
        if pattern in self._snippets:
            s.push(self._paste_snippet(imp, pattern))
        else:
            s.push(self._import_files(imp, pattern))

    def _expansion(self) -> int:
        self._expansions += 1
        return self._expansions

    def _enter(self, imp: _Lex, ident: str, display: str) -> tuple[tuple[str, str], ...]:
        """The import chain below ``imp`` extended by (ident, display); error on a cycle."""
        chain = imp.origin.chain
        for i, (seen, _) in enumerate(chain):
            if seen == ident:
                names = " -> ".join([d for _, d in chain[i:]] + [display])
                raise _err(imp, f"import cycle: {names}", "import")
        return (*chain, (ident, display))

    def _paste_snippet(self, imp: _Lex, name: str) -> list[_Lex]:
        chain = self._enter(imp, f"snippet:{name}", f"({name})")
        self._snippet_count += 1
        if self._snippet_count > MAX_SNIPPET_EXPANSIONS:
            raise _err(imp, f"too many snippet imports (max {MAX_SNIPPET_EXPANSIONS})", "import")
        expansion = self._expansion()
        origins: dict[str, _Origin] = {}
        out: list[_Lex] = []
        for lx in self._snippets[name][0]:
            origin = origins.setdefault(lx.origin.dir, _Origin(lx.origin.dir, chain))
            out.append(_Lex(replace(lx.tok, expansion=expansion), origin))
        return out

    def _import_files(self, imp: _Lex, pattern: str) -> list[_Lex]:
        wildcards = pattern.count("*") + pattern.count("?")
        if wildcards > 1 or "[" in pattern:
            raise _err(
                imp,
                f"import pattern may have at most one wildcard (* or ?) and no '[': {pattern}",
                "import",
            )
        base = imp.origin.dir
        if os.path.isabs(pattern) or not base:
            path, glob_pattern = pattern, pattern
        else:
            path = os.path.join(base, pattern)
            glob_pattern = os.path.join(glob.escape(base), pattern)
        if wildcards:
            matches = sorted(glob.glob(glob_pattern, include_hidden=True))
            if not matches:
                log.warning("No files matching import glob pattern: %s", pattern)
        elif not os.path.exists(path):
            raise _err(imp, f"file to import not found: {os.path.normpath(path)}", "import")
        else:
            matches = [path]
        out: list[_Lex] = []
        for match in matches:
            out.extend(self._import_file(imp, match))
        return out

    def _import_file(self, imp: _Lex, path: str) -> list[_Lex]:
        display = os.path.normpath(path)
        if os.path.isdir(path):
            raise _err(imp, f"could not import {display}: is a directory", "import")
        self._file_count += 1
        if self._file_count > MAX_FILE_IMPORTS:
            raise _err(imp, f"too many file imports (max {MAX_FILE_IMPORTS})", "import")
        try:
            chain = self._enter(imp, f"file:{os.path.realpath(path)}", display)
            with open(path, "rb") as f:
                data = f.read()
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise _err(imp, f"could not import {display}: {reason}", "import") from None
        origin = _Origin(os.path.dirname(path), chain)
        tokens = lex(decode(data, display), display, self._env, self._expansion())
        return [_Lex(t, origin) for t in tokens]
