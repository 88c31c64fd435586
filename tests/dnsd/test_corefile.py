"""Tests for dnsd.corefile: lexer, parser, snippets, imports, digest and Dispenser."""

from __future__ import annotations

import io
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dnsd import corefile_parser
from dnsd.corefile import Dispenser, ServerBlock, Token, digest, load, parse
from dnsd.corefile_lexer import lex, same_line
from dnsd.errors import CorefileError

DIRECTIVES = ("whoami", "log", "errors", "forward", "cache", "hosts", "template", "health")
COREDNS_ONLY = ("etcd", "route53")

Lines = list[str]


def p(text: str, **kwargs: Any) -> list[ServerBlock]:
    """Parse ``text`` as a file called Corefile with the test directives."""
    kwargs.setdefault("env", {})
    return parse(text, "Corefile", directives=DIRECTIVES, coredns_directives=COREDNS_ONLY, **kwargs)


def lines(tokens: list[Token]) -> Lines:
    """Tokens as one string per logical line; quoted tokens keep their quotes."""
    out: list[list[str]] = []
    prev: Token | None = None
    for tok in tokens:
        if prev is None or not same_line(prev, tok):
            out.append([])
        out[-1].append(f'"{tok.text}"' if tok.quoted else tok.text)
        prev = tok
    return [" ".join(words) for words in out]


def shape(blocks: list[ServerBlock]) -> list[tuple[list[str], dict[str, Lines]]]:
    """Blocks as (key texts, {directive: lines}), keeping directive order."""
    return [
        ([k.text for k in b.keys], {n: lines(t) for n, t in b.directives.items()}) for b in blocks
    ]


def error_of(text: str, **kwargs: Any) -> str:
    with pytest.raises(CorefileError) as info:
        p(text, **kwargs)
    return str(info.value)


# -- lexer ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        pytest.param("a b\n  c", [("a", 1, False), ("b", 1, False), ("c", 2, False)], id="words"),
        pytest.param("a\tb", [("a", 1, False), ("b", 1, False)], id="tab"),
        pytest.param('"a b" c', [("a b", 1, True), ("c", 1, False)], id="quoted-space"),
        pytest.param(
            '"a\nb" c\nd',
            [("a\nb", 1, True), ("c", 2, False), ("d", 3, False)],
            id="quoted-newline",
        ),
        pytest.param(r'"a\"b"', [('a"b', 1, True)], id="escaped-quote"),
        pytest.param(r'"a\nb\\c"', [(r"a\nb\\c", 1, True)], id="other-escapes-keep-backslash"),
        pytest.param(r"a\"b", [(r"a\"b", 1, False)], id="backslash-unquoted"),
        pytest.param('""', [("", 1, True)], id="empty-quoted"),
        pytest.param('a"b c"', [('a"b', 1, False), ('c"', 1, False)], id="quote-inside-word"),
        pytest.param('"a"b', [("a", 1, True), ("b", 1, False)], id="word-after-quote"),
        pytest.param("# all comment\na", [("a", 2, False)], id="comment-line"),
        pytest.param("a # b c\nd", [("a", 1, False), ("d", 2, False)], id="trailing-comment"),
        pytest.param("foo#bar baz", [("foo", 1, False), ("baz", 1, False)], id="hash-in-word"),
        pytest.param('"a#b"', [("a#b", 1, True)], id="hash-in-quotes"),
        pytest.param("a\r\nb\r\n", [("a", 1, False), ("b", 2, False)], id="crlf"),
        pytest.param("a\rb", [("ab", 1, False)], id="cr-ignored"),
        pytest.param('"a\r\nb"', [("a\nb", 1, True)], id="crlf-in-quotes"),
        pytest.param("\ufeffa", [("a", 1, False)], id="bom"),
        pytest.param("\n\n  \n", [], id="blank"),
        pytest.param("{ } {}", [("{", 1, False), ("}", 1, False), ("{}", 1, False)], id="braces"),
    ],
)
def test_lex(text: str, want: list[tuple[str, int, bool]]) -> None:
    got = [(t.text, t.line, t.quoted) for t in lex(text, "Corefile", {})]
    assert got == want


@pytest.mark.parametrize(
    ("text", "env", "want"),
    [
        pytest.param("{$A}", {"A": "x"}, "x", id="unix"),
        pytest.param("{%A%}", {"A": "x"}, "x", id="windows"),
        pytest.param("p{$A}q{%B%}r", {"A": "1", "B": "2"}, "p1q2r", id="several"),
        pytest.param("a{$UNSET}b", {}, "ab", id="unset-empty"),
        pytest.param('"{$A} b"', {"A": "x"}, "x b", id="inside-quotes"),
        pytest.param("{$A}", {"A": "{$B}", "B": "no"}, "{$B}", id="not-rescanned"),
        pytest.param("{$A", {"A": "x"}, "{$A", id="unclosed"),
        pytest.param("{$}", {}, "{$}", id="empty-name"),
        pytest.param("{{$x}}", {"x": "v"}, "{v}", id="go-template-breaks-like-coredns"),
    ],
)
def test_env(text: str, env: dict[str, str], want: str) -> None:
    assert [t.text for t in lex(text, "Corefile", env)] == [want]


def test_env_everywhere() -> None:
    text = "{$ZONE}:{%PORT%} {\n  {$DIR} {$ARG}\n}\n"
    env = {"ZONE": "example.org", "PORT": "1053", "DIR": "log", "ARG": "x y"}
    [block] = p(text, env=env)
    assert block.keys == [Token("example.org:1053", "Corefile", 1)]
    assert block.directives == {"log": [Token("log", "Corefile", 2), Token("x y", "Corefile", 2)]}


def test_env_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DNSD_TEST_ZONE", "example.net")
    blocks = parse("{$DNSD_TEST_ZONE} {\n}", "Corefile", directives=DIRECTIVES)
    assert [k.text for k in blocks[0].keys] == ["example.net"]


# -- parser: structure ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        pytest.param("", [], id="empty"),
        pytest.param("# nothing\n", [], id="comments-only"),
        pytest.param(".:53 {\n  whoami\n}", [([".:53"], {"whoami": ["whoami"]})], id="braced"),
        pytest.param("a b {\n}", [(["a", "b"], {})], id="keys-space"),
        pytest.param("a, b {\n}", [(["a", "b"], {})], id="keys-comma-space"),
        pytest.param("a,b,c {\n}", [(["a", "b", "c"], {})], id="keys-comma"),
        pytest.param("a,\n  b,\n  c {\n}", [(["a", "b", "c"], {})], id="keys-continued"),
        pytest.param(".:53\n{\n whoami\n}", [([".:53"], {"whoami": ["whoami"]})], id="brace-next"),
        pytest.param(
            ".:53\nwhoami\nlog",
            [([".:53"], {"whoami": ["whoami"], "log": ["log"]})],
            id="braceless",
        ),
        pytest.param(".:53", [([".:53"], {})], id="keys-only"),
        pytest.param(". {\n}\n", [(["."], {})], id="empty-block"),
        pytest.param(". { }\n", [(["."], {})], id="empty-block-one-line"),
        pytest.param(". { whoami\n}", [(["."], {"whoami": ["whoami"]})], id="first-on-brace-line"),
        pytest.param(
            "a {\n whoami\n}\nb {\n log\n}",
            [(["a"], {"whoami": ["whoami"]}), (["b"], {"log": ["log"]})],
            id="two-blocks",
        ),
        pytest.param(
            ". {\n log a\n errors\n log b c\n}",
            [(["."], {"log": ["log a", "log b c"], "errors": ["errors"]})],
            id="grouping-in-first-occurrence-order",
        ),
        pytest.param(
            ". {\n forward . 1.1.1.1 {\n  max_fails 3\n  tls {\n   x\n  }\n }\n}",
            [(["."], {"forward": ["forward . 1.1.1.1 {", "max_fails 3", "tls {", "x", "}", "}"]})],
            id="nested-blocks",
        ),
        pytest.param(
            ". {\n forward . x { max_fails 3\n }\n}",
            [(["."], {"forward": ["forward . x { max_fails 3", "}"]})],
            id="content-on-brace-line",
        ),
        pytest.param(
            ". {\n forward . x { }\n log\n}",
            [(["."], {"forward": ["forward . x { }"], "log": ["log"]})],
            id="empty-directive-block",
        ),
        pytest.param(
            '. {\n log "{" "}" "import"\n}',
            [(["."], {"log": ['log "{" "}" "import"']})],
            id="quoted-braces-are-words",
        ),
        pytest.param(
            '. {\n template IN A {\n  answer "{{ .Name }} 60 IN A 1.2.3.4"\n }\n}',
            [
                (
                    ["."],
                    {"template": ["template IN A {", 'answer "{{ .Name }} 60 IN A 1.2.3.4"', "}"]},
                )
            ],
            id="template-quoted",
        ),
    ],
)
def test_parse_structure(text: str, want: list[tuple[list[str], dict[str, Lines]]]) -> None:
    assert shape(p(text)) == want


def test_positions_and_quoting() -> None:
    [block] = p('\n\nexample.org,\n  b {\n  log "a b"\n}')
    assert block.keys == [Token("example.org", "Corefile", 3), Token("b", "Corefile", 4)]
    assert block.directives["log"] == [
        Token("log", "Corefile", 5),
        Token("a b", "Corefile", 5, True),
    ]


# -- parser: errors -------------------------------------------------------------------

OWN_LINE = "a closing brace must be on its own line"
OPEN_LINE = "unexpected '{': a block must open on its directive's line"
NEVER_CLOSED = "unexpected end of file: '{' opened here is never closed"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        pytest.param(
            ".:53 { whoami }",
            f"Corefile:1: whoami: unexpected '}}': {OWN_LINE}",
            id="one-line-block",
        ),
        pytest.param(
            ".:53 {\n whoami }\n",
            f"Corefile:2: whoami: unexpected '}}': {OWN_LINE}",
            id="brace-after-directive",
        ),
        pytest.param(
            ". {\n forward . x {\n  max_fails 3 }\n}",
            f"Corefile:3: forward: unexpected '}}': {OWN_LINE}",
            id="brace-after-property",
        ),
        pytest.param(
            ". {\n forward . x {\n } log\n}",
            f"Corefile:3: forward: unexpected 'log': {OWN_LINE}",
            id="word-after-brace",
        ),
        pytest.param(
            ". {\n forward . x {\n } {\n}",
            f"Corefile:3: forward: unexpected '{{': {OWN_LINE}",
            id="brace-after-brace",
        ),
        pytest.param("}", "Corefile:1: unexpected '}'", id="stray-close"),
        pytest.param(". {\n whoami\n}\n}\n", "Corefile:4: unexpected '}'", id="extra-close"),
        pytest.param(".\nwhoami\n}", "Corefile:3: unexpected '}'", id="close-in-braceless"),
        pytest.param(".:53 {\n whoami\n", f"Corefile:1: {NEVER_CLOSED}", id="unclosed-block"),
        pytest.param(
            ". {\n forward . x {\n  tls {\n",
            f"Corefile:3: forward: {NEVER_CLOSED}",
            id="unclosed-nested",
        ),
        pytest.param(
            ". {\n forward . x\n {\n }\n}",
            f"Corefile:3: forward: {OPEN_LINE}",
            id="brace-on-next-line",
        ),
        pytest.param(". {\n {\n}", f"Corefile:2: {OPEN_LINE}", id="brace-first-in-block"),
        pytest.param(
            ". {\n forward . x { {\n }\n }\n}",
            f"Corefile:2: forward: {OPEN_LINE}",
            id="double-brace",
        ),
        pytest.param(
            ". {\n forward . x {\n  {\n  }\n }\n}",
            f"Corefile:3: forward: {OPEN_LINE}",
            id="nested-brace-alone",
        ),
        pytest.param(
            "{\n}",
            "Corefile:1: unexpected '{': a server block needs at least one key",
            id="no-keys",
        ),
        pytest.param('"" {\n}', "Corefile:1: empty server key in ''", id="empty-key"),
        pytest.param("a,,b {\n}", "Corefile:1: empty server key in 'a,,b'", id="double-comma"),
        pytest.param(", {\n}", "Corefile:1: empty server key in ','", id="lone-comma"),
        pytest.param(
            "a, {\n}",
            "Corefile:1: expected another key after ',' but found '{'",
            id="comma-then-brace",
        ),
        pytest.param(
            "a,",
            "Corefile:1: unexpected end of file: expected another key after ','",
            id="comma-at-eof",
        ),
        pytest.param(
            ".:53{\n}",
            "Corefile:1: unexpected brace in server key '.:53{': braces need spaces",
            id="glued-brace",
        ),
        pytest.param(
            ". {}",
            "Corefile:1: unexpected brace in server key '{}': braces need spaces",
            id="glued-empty-block",
        ),
        pytest.param(
            ". {\n whoam\n}",
            "Corefile:2: unknown directive 'whoam', did you mean 'whoami'?",
            id="unknown-with-hint",
        ),
        pytest.param(". {\n zzzz\n}", "Corefile:2: unknown directive 'zzzz'", id="unknown"),
        pytest.param(
            ". {\n etcd\n}",
            "Corefile:2: directive 'etcd' is a CoreDNS plugin that dnsd does not have",
            id="coredns-only",
        ),
        pytest.param(
            ".:53\nwhoami\nexample.org:53 {\n}",
            "Corefile:3: unknown directive 'example.org:53'",
            id="braceless-then-block",
        ),
        pytest.param(
            '. {\n log "a\n}\n',
            "Corefile:2: unexpected end of file: quoted string opened here is never closed",
            id="unterminated-quote",
        ),
        pytest.param(
            "import",
            "Corefile:1: import: wrong argument count or unexpected line ending after 'import'",
            id="import-no-arg",
        ),
        pytest.param(
            ". {\n import a b\n}",
            "Corefile:2: import: wrong argument count: import takes one argument, got 2",
            id="import-two-args",
        ),
        pytest.param(
            'import ""',
            "Corefile:1: import: import needs a snippet name or a file path",
            id="import-empty",
        ),
        pytest.param(
            "(s)\n",
            "Corefile:1: snippet 's' needs a block: '(s) {' ... '}'",
            id="snippet-without-block",
        ),
        pytest.param("(s) {\n log\n", f"Corefile:1: {NEVER_CLOSED}", id="snippet-unclosed"),
        pytest.param(
            "(s) {\n log\n}\n(s) {\n errors\n}",
            "Corefile:4: snippet 's' is already defined at Corefile:1",
            id="snippet-twice",
        ),
        pytest.param(
            "(a) {\n import a\n}\n. {\n import a\n}",
            "Corefile:2: import: import cycle: (a) -> (a)",
            id="snippet-self-import",
        ),
        pytest.param(
            "(a) {\n import b\n}\n(b) {\n import a\n}\n. {\n import a\n}",
            "Corefile:5: import: import cycle: (a) -> (b) -> (a)",
            id="snippet-cycle",
        ),
    ],
)
def test_parse_errors(text: str, want: str) -> None:
    assert error_of(text) == want


def test_error_fields() -> None:
    with pytest.raises(CorefileError) as info:
        p(".:53 { whoami }")
    err = info.value
    assert (err.file, err.line, err.directive) == ("Corefile", 1, "whoami")


# -- snippets -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        pytest.param(
            "(s) {\n log\n errors\n}\n. {\n import s\n}",
            [(["."], {"log": ["log"], "errors": ["errors"]})],
            id="paste",
        ),
        pytest.param(
            "(s) { log }\n. {\n import s\n}", [(["."], {"log": ["log"]})], id="one-line-snippet"
        ),
        pytest.param(
            "(s) {\n  max_fails 3\n}\n. {\n forward . x {\n  import s\n  expire 1s\n }\n}",
            [(["."], {"forward": ["forward . x {", "max_fails 3", "expire 1s", "}"]})],
            id="inside-directive-block",
        ),
        pytest.param(
            "(a) {\n log\n}\n(b) {\n import a\n errors\n}\n. {\n import b\n}",
            [(["."], {"log": ["log"], "errors": ["errors"]})],
            id="snippet-imports-snippet",
        ),
        pytest.param("(s) {\n log\n}\nimport s", [(["log"], {})], id="top-level-paste-is-a-key"),
        pytest.param(
            "(k) {\n a.example {\n  log\n }\n}\nimport k",
            [(["a.example"], {"log": ["log"]})],
            id="top-level-paste-of-block",
        ),
        pytest.param(
            "(s) {\n log x\n}\na {\n import s\n}\nb {\n import s\n}",
            [(["a"], {"log": ["log x"]}), (["b"], {"log": ["log x"]})],
            id="two-blocks",
        ),
        pytest.param(
            "(s) {\n log\n}\n. {\n import s\n import s\n}",
            [(["."], {"log": ["log", "log"]})],
            id="pasted-twice-stays-two-lines",
        ),
    ],
)
def test_snippets(text: str, want: list[tuple[list[str], dict[str, Lines]]]) -> None:
    assert shape(p(text)) == want


def test_snippet_tokens_keep_definition_position() -> None:
    [block] = p("(s) {\n  log x\n}\n\n. {\n  import s\n}")
    assert block.directives["log"] == [Token("log", "Corefile", 2), Token("x", "Corefile", 2)]


def test_snippet_expansion_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corefile_parser, "MAX_SNIPPET_EXPANSIONS", 3)
    text = "(s) {\n log\n}\n. {\n import s\n import s\n import s\n import s\n}"
    assert error_of(text) == "Corefile:8: import: too many snippet imports (max 3)"


def test_snippet_exponential_expansion_stops() -> None:
    defs = ["(s0) {\n log\n}"]
    defs += [f"(s{i}) {{\n import s{i - 1}\n import s{i - 1}\n}}" for i in range(1, 15)]
    text = "\n".join(defs) + "\n. {\n import s14\n}\n"
    assert error_of(text).endswith(": import: too many snippet imports (max 10000)")


# -- file imports ---------------------------------------------------------------------


@dataclass
class Tree:
    """Files written under tmp_path; ``path(name)`` is the name tokens carry."""

    root: Path
    files: dict[str, str | bytes] = field(default_factory=dict)

    def write(self, files: dict[str, str | bytes]) -> None:
        for name, content in files.items():
            target = self.root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)

    def path(self, name: str) -> str:
        return str(self.root / name)

    def load(self, name: str = "Corefile") -> list[ServerBlock]:
        return load(self.path(name), directives=DIRECTIVES, env={"SUB": "sub"})


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path)


@pytest.mark.parametrize(
    ("files", "want"),
    [
        pytest.param(
            {"Corefile": "import a.conf", "a.conf": ". {\n log\n}"},
            [(["."], {"log": ["log"]})],
            id="top-level",
        ),
        pytest.param(
            {"Corefile": ". {\n import a.conf\n errors\n}", "a.conf": "log\nwhoami"},
            [(["."], {"log": ["log"], "whoami": ["whoami"], "errors": ["errors"]})],
            id="in-server-block",
        ),
        pytest.param(
            {
                "Corefile": ". {\n hosts {\n  import h.conf\n  fallthrough\n }\n}",
                "h.conf": "1.2.3.4 a.example\nttl 5",
            },
            [(["."], {"hosts": ["hosts {", "1.2.3.4 a.example", "ttl 5", "fallthrough", "}"]})],
            id="in-directive-block",
        ),
        pytest.param(
            {
                "Corefile": "import sub/b.conf",
                "sub/b.conf": "import c.conf",
                "sub/c.conf": ". {\n log\n}",
            },
            [(["."], {"log": ["log"]})],
            id="relative-to-importing-file",
        ),
        pytest.param(
            {"Corefile": "import {$SUB}/c.conf", "sub/c.conf": ". {\n log\n}"},
            [(["."], {"log": ["log"]})],
            id="env-in-path",
        ),
        pytest.param(
            {
                "Corefile": "import conf.d/*.conf",
                "conf.d/b.conf": "b {\n}",
                "conf.d/a.conf": "a {\n}",
                "conf.d/.c.conf": "c {\n}",
                "conf.d/x.txt": "x {\n}",
            },
            [(["c"], {}), (["a"], {}), (["b"], {})],
            id="glob-sorted-with-hidden",
        ),
        pytest.param(
            {
                "Corefile": "import conf.d/?.conf",
                "conf.d/a.conf": "a {\n}",
                "conf.d/ab.conf": "ab {\n}",
            },
            [(["a"], {})],
            id="glob-question-mark",
        ),
        pytest.param(
            {"Corefile": "a {\n import x.conf\n}\nb {\n import x.conf\n}", "x.conf": "log"},
            [(["a"], {"log": ["log"]}), (["b"], {"log": ["log"]})],
            id="same-file-twice-no-cycle",
        ),
        pytest.param(
            {"Corefile": "(s) {\n import a.conf\n}\n. {\n import s\n}", "a.conf": "log"},
            [(["."], {"log": ["log"]})],
            id="snippet-imports-file",
        ),
        pytest.param(
            {"Corefile": "import a.conf\n. {\n import s\n}", "a.conf": "(s) {\n log\n}"},
            [(["."], {"log": ["log"]})],
            id="snippet-from-imported-file",
        ),
    ],
)
def test_imports(tree: Tree, files: dict[str, str | bytes], want: Any) -> None:
    tree.write(files)
    assert shape(tree.load()) == want


def test_imported_tokens_keep_their_file(tree: Tree) -> None:
    tree.write({"Corefile": ". {\n import sub/a.conf\n}", "sub/a.conf": "\nlog x"})
    [block] = tree.load()
    where = tree.path("sub/a.conf")
    assert block.directives["log"] == [Token("log", where, 2), Token("x", where, 2)]


def test_glob_without_match_warns(tree: Tree, caplog: pytest.LogCaptureFixture) -> None:
    tree.write({"Corefile": "import none/*.conf\n. {\n log\n}"})
    with caplog.at_level(logging.WARNING, logger="dnsd"):
        assert shape(tree.load()) == [(["."], {"log": ["log"]})]
    assert [r.getMessage() for r in caplog.records] == [
        "No files matching import glob pattern: none/*.conf"
    ]


@pytest.mark.parametrize(
    ("files", "want"),
    [
        pytest.param(
            {"Corefile": ". {\n import missing.conf\n}"},
            "<Corefile>:2: import: file to import not found: <missing.conf>",
            id="missing",
        ),
        pytest.param(
            {"Corefile": "import sub", "sub/x": ""},
            "<Corefile>:1: import: could not import <sub>: is a directory",
            id="directory",
        ),
        pytest.param(
            {"Corefile": "import s*", "sub/x": ""},
            "<Corefile>:1: import: could not import <sub>: is a directory",
            id="glob-matches-directory",
        ),
        pytest.param(
            {"Corefile": "import */*.conf"},
            "<Corefile>:1: import: import pattern may have at most one wildcard "
            "(* or ?) and no '[': */*.conf",
            id="two-wildcards",
        ),
        pytest.param(
            {"Corefile": "import a[bc].conf"},
            "<Corefile>:1: import: import pattern may have at most one wildcard "
            "(* or ?) and no '[': a[bc].conf",
            id="bracket",
        ),
        pytest.param(
            {"Corefile": "import a.conf", "a.conf": "import b.conf", "b.conf": "import a.conf"},
            "<b.conf>:1: import: import cycle: <a.conf> -> <b.conf> -> <a.conf>",
            id="cycle",
        ),
        pytest.param(
            {"Corefile": "\nimport Corefile"},
            "<Corefile>:2: import: import cycle: <Corefile> -> <Corefile>",
            id="self",
        ),
        pytest.param(
            {"Corefile": "import a.conf", "a.conf": ". {\n bogus\n}"},
            "<a.conf>:2: unknown directive 'bogus'",
            id="error-in-imported-file",
        ),
        pytest.param(
            {"Corefile": "import a.conf", "a.conf": b". {\n log \xff\n}"},
            "<a.conf>:2: invalid UTF-8: byte 0xff cannot be decoded",
            id="bad-utf8-import",
        ),
        pytest.param(
            {"Corefile": b"\n\n\xc3("},
            "<Corefile>:3: invalid UTF-8: byte 0xc3 cannot be decoded",
            id="bad-utf8",
        ),
    ],
)
def test_import_errors(tree: Tree, files: dict[str, str | bytes], want: str) -> None:
    tree.write(files)
    with pytest.raises(CorefileError) as info:
        tree.load()
    for name in ("Corefile", "missing.conf", "sub", "a.conf", "b.conf"):
        want = want.replace(f"<{name}>", tree.path(name))
    assert str(info.value) == want


def test_file_import_limit(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corefile_parser, "MAX_FILE_IMPORTS", 2)
    tree.write({"Corefile": ". {\n import a\n import a\n import a\n}", "a": "log"})
    with pytest.raises(CorefileError) as info:
        tree.load()
    assert str(info.value) == f"{tree.path('Corefile')}:4: import: too many file imports (max 2)"


def test_base_dir(tree: Tree) -> None:
    tree.write({"a.conf": "log"})
    blocks = p(". {\n import a.conf\n}", base_dir=str(tree.root))
    assert blocks[0].directives["log"] == [Token("log", tree.path("a.conf"), 1)]


def test_default_base_dir_is_the_files_directory(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree.write({"conf/a.conf": "log"})
    monkeypatch.chdir(tree.root)
    blocks = parse(". {\n import a.conf\n}", "conf/Corefile", directives=DIRECTIVES)
    assert blocks[0].directives["log"] == [Token("log", os.path.join("conf", "a.conf"), 1)]


# -- load -----------------------------------------------------------------------------


def test_load_skips_bom(tree: Tree) -> None:
    tree.write({"Corefile": b"\xef\xbb\xbf. {\r\n  whoami\r\n}\r\n"})
    [block] = tree.load()
    assert block.directives == {"whoami": [Token("whoami", tree.path("Corefile"), 2)]}


def test_load_stdin(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    tree.write({"a.conf": "log"})
    monkeypatch.chdir(tree.root)
    data = b"\xef\xbb\xbf. {\n import a.conf\n whoami\n}\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    [block] = load("stdin", directives=DIRECTIVES)
    assert block.keys == [Token(".", "stdin", 1)]
    assert block.directives == {
        "log": [Token("log", "a.conf", 1)],
        "whoami": [Token("whoami", "stdin", 3)],
    }


@pytest.mark.parametrize(
    ("name", "want"),
    [
        pytest.param("nope", "{path}: cannot read file: No such file or directory", id="missing"),
        pytest.param("", "{path}: cannot read file: Is a directory", id="directory"),
    ],
)
def test_load_errors(tree: Tree, name: str, want: str) -> None:
    path = tree.path(name) if name else str(tree.root)
    with pytest.raises(CorefileError) as info:
        load(path, directives=DIRECTIVES)
    assert str(info.value) == want.format(path=path)


# -- digest ---------------------------------------------------------------------------

BASE = ". {\n  forward . 1.1.1.1 {\n    max_fails 3\n  }\n  log\n}\n"


@pytest.mark.parametrize(
    "other",
    [
        pytest.param("# header\n" + BASE, id="comment-line"),
        pytest.param(BASE.replace("log", "log # trailing"), id="trailing-comment"),
        pytest.param("\n\n" + BASE.replace("  ", "\t"), id="blank-lines-and-indent"),
        pytest.param(
            ". {\n  log\n  forward . 1.1.1.1 {\n    max_fails 3\n  }\n}\n", id="reordered"
        ),
        pytest.param(
            BASE.replace("1.1.1.1", '"1.1.1.1"').replace('"1.1.1.1"', "1.1.1.1"), id="identical"
        ),
        pytest.param(BASE.replace("max_fails 3", "max_fails   3\r"), id="spaces-and-cr"),
    ],
)
def test_digest_stable(other: str) -> None:
    assert digest(p(other)) == digest(p(BASE))


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(BASE.replace("max_fails 3", "max_fails 4"), id="arg"),
        pytest.param(BASE.replace(". {", "example.org {"), id="key"),
        pytest.param(BASE.replace("log\n", "log\n  errors\n"), id="directive-added"),
        pytest.param(BASE.replace("max_fails 3", "max_fails\n3"), id="arg-moved-to-next-line"),
        pytest.param(BASE.replace("log", 'log "{"'), id="quoted-brace"),
        pytest.param(BASE.replace("log", 'log "x"'), id="quoting"),
    ],
)
def test_digest_changes(other: str) -> None:
    assert digest(p(other)) != digest(p(BASE))


def test_digest_follows_imported_files(tree: Tree) -> None:
    tree.write({"Corefile": ". {\n import a.conf\n}", "a.conf": "log a"})
    before = digest(tree.load())
    assert len(before) == 128
    tree.write({"a.conf": "# comment\nlog a"})
    assert digest(tree.load()) == before
    tree.write({"a.conf": "log b"})
    assert digest(tree.load()) != before


# -- Dispenser ------------------------------------------------------------------------


def dispenser(text: str, name: str) -> Dispenser:
    [block] = p(text)
    return Dispenser(name, block.directives[name])


NESTED = {"tls", "sub"}


def read(c: Dispenser) -> list[Any]:
    """What a typical setup reads: per occurrence, its args and block lines."""
    out: list[Any] = []
    while c.next():
        out.append((c.remaining_args(), read_block(c)))
    return out


def read_block(c: Dispenser) -> list[Any]:
    lines: list[Any] = []
    while c.next_block():
        prop, args = c.val(), c.remaining_args()
        lines.append((prop, args, read_block(c)) if prop in NESTED else (prop, args))
    return lines


@pytest.mark.parametrize(
    ("text", "want"),
    [
        pytest.param(". {\n log\n}", [([], [])], id="bare"),
        pytest.param(". {\n log a b\n}", [(["a", "b"], [])], id="args"),
        pytest.param(
            ". {\n log a\n errors\n log b {\n  class x\n }\n log\n}",
            [(["a"], []), (["b"], [("class", ["x"])]), ([], [])],
            id="occurrences",
        ),
        pytest.param(". {\n log {\n }\n}", [([], [])], id="empty-block"),
        pytest.param(". {\n log { }\n}", [([], [])], id="empty-block-one-line"),
        pytest.param(
            ". {\n log { a 1\n  b\n }\n}",
            [([], [("a", ["1"]), ("b", [])])],
            id="content-on-brace-line",
        ),
        pytest.param(
            ". {\n log {\n  a 1\n  tls x {\n   b 2\n   sub {\n    c\n   }\n  }\n  d\n }\n}",
            [
                (
                    [],
                    [
                        ("a", ["1"]),
                        ("tls", ["x"], [("b", ["2"]), ("sub", [], [("c", [])])]),
                        ("d", []),
                    ],
                )
            ],
            id="nested",
        ),
        pytest.param('. {\n log "{" x\n}', [(["{", "x"], [])], id="quoted-brace-is-arg"),
        pytest.param(
            "(s) {\n log a\n}\n. {\n import s\n import s\n}",
            [(["a"], []), (["a"], [])],
            id="pasted-twice",
        ),
        pytest.param(
            "(s) {\n a 1\n b 2\n}\n. {\n log {\n  import s\n  c 3\n }\n}",
            [([], [("a", ["1"]), ("b", ["2"]), ("c", ["3"])])],
            id="import-in-block",
        ),
    ],
)
def test_dispenser_reads(text: str, want: list[Any]) -> None:
    assert read(dispenser(text, "log")) == want


def test_dispenser_cursor() -> None:
    c = dispenser(". {\n forward . 1.1.1.1 {\n  max_fails 3\n }\n}", "forward")
    assert c.directive == "forward"
    assert c.next() and c.val() == "forward"
    assert c.token() == Token("forward", "Corefile", 2)
    assert c.next_arg() and c.val() == "."
    assert c.next_arg() and c.val() == "1.1.1.1"
    assert not c.next_arg() and c.val() == "1.1.1.1"
    assert c.next_block() and c.token() == Token("max_fails", "Corefile", 3)
    assert c.next_arg() and c.val() == "3"
    assert not c.next_arg()
    assert not c.next_block() and c.val() == "}"
    assert not c.next_block()
    assert not c.next()


def test_next_block_skips_unconsumed_args() -> None:
    c = dispenser(". {\n log a b {\n  x 1 2\n  y\n }\n}", "log")
    assert c.next()
    assert list(c.lines()) == ["x", "y"]


def test_next_block_without_block_keeps_args() -> None:
    c = dispenser(". {\n log a b\n log c\n}", "log")
    assert c.next() and not c.next_block()
    assert c.remaining_args() == ["a", "b"]
    assert c.next() and c.remaining_args() == ["c"]


def test_skipping_a_nested_block_is_an_error() -> None:
    c = dispenser(". {\n log {\n  tls x {\n   b\n  }\n }\n}", "log")
    assert c.next() and c.next_block() and c.val() == "tls"
    with pytest.raises(CorefileError) as info:
        c.next_block()
    assert str(info.value) == "Corefile:3: log: unexpected '{'"


@pytest.mark.parametrize(
    ("moves", "method", "want"),
    [
        pytest.param(
            ["remaining_args"],
            "arg_err",
            "Corefile:2: log: wrong argument count or unexpected line ending after 'b'",
            id="arg_err",
        ),
        pytest.param(
            ["remaining_args", "next_block"],
            "unknown_property",
            "Corefile:3: log: unknown property 'x'",
            id="unknown_property",
        ),
        pytest.param(
            [], "once_err", "Corefile:2: log: can only be used once per server block", id="once_err"
        ),
    ],
)
def test_dispenser_errors(moves: list[str], method: str, want: str) -> None:
    c = dispenser(". {\n log a b {\n  x\n }\n}", "log")
    assert c.next()
    for move in moves:
        getattr(c, move)()
    with pytest.raises(CorefileError) as info:
        getattr(c, method)()
    assert str(info.value) == want


def test_err_positions() -> None:
    c = dispenser(". {\n log a\n}", "log")
    with pytest.raises(CorefileError) as info:
        c.err("boom")  # before next(): the first token
    assert str(info.value) == "Corefile:2: log: boom"
    with pytest.raises(CorefileError) as info:
        Dispenser("log", []).err("boom")
    assert str(info.value) == "log: boom"


def test_no_current_token() -> None:
    c = Dispenser("log", [])
    assert not c.next() and not c.next_arg() and not c.next_block()
    assert c.remaining_args() == []
    with pytest.raises(RuntimeError):
        c.val()


def test_hand_made_tokens() -> None:
    toks = [Token("log", "f", 1), Token("a", "f", 1), Token("log", "f", 2)]
    c = Dispenser("log", toks)
    assert [c.next() and c.remaining_args() for _ in range(2)] == [["a"], []]
    assert not c.next()
