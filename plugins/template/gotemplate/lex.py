"""The lexer of Go's text/template (``text/template/parse/lex.go``), delimiters ``{{ }}``.

Text outside actions is one item; inside an action the lexer yields spaces (they separate
arguments), identifiers, keywords, ``.Field``, ``$var``, ``.``, strings (``"..."`` and raw
`````...`````), characters, numbers, ``:=``, ``=``, ``|``, parentheses and other printable
characters (``,`` of ``range $i, $e :=``). ``{{- `` trims the white space before an action and
`` -}}`` the white space after it; ``{{/* comment */}}`` is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

SPACE_CHARS = " \t\r\n"
KEYWORDS = frozenset(
    {"block", "break", "continue", "define", "else", "end", "if", "range", "nil", "template",
     "with"}
)  # fmt: skip


class LexError(Exception):
    """A lexing error at byte offset ``pos`` of the template text."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


@dataclass(frozen=True, slots=True)
class Item:
    """One token: ``kind`` is ``text``, ``left``, ``right``, ``space``, ``identifier``,
    ``keyword``, ``field``, ``variable``, ``dot``, ``string``, ``raw``, ``char``,
    ``number``, ``bool``, ``declare``, ``assign``, ``pipe``, ``lparen``, ``rparen``,
    ``other`` or ``eof``."""

    kind: str
    value: str
    pos: int


def lex(text: str) -> list[Item]:
    """All the items of ``text``, ending with an ``eof`` item. LexError when malformed."""
    return _Lexer(text).run()


def _is_alnum(ch: str) -> bool:
    return ch == "_" or ch.isalnum()


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.items: list[Item] = []
        self.depth = 0

    def run(self) -> list[Item]:
        text = self.text
        while True:
            at = text.find("{{", self.pos)
            if at < 0:
                if self.pos < len(text):
                    self.items.append(Item("text", text[self.pos :], self.pos))
                self.items.append(Item("eof", "", len(text)))
                return self.items
            chunk = text[self.pos : at]
            trim = _left_trim_marker(text, at + 2)
            if trim:
                chunk = chunk.rstrip(SPACE_CHARS)
            if chunk:
                self.items.append(Item("text", chunk, self.pos))
            self.pos = at + 2 + (2 if trim else 0)
            if text.startswith("/*", self.pos):
                self._comment(at)
            else:
                self.items.append(Item("left", "{{", at))
                self.depth = 0
                self._action()

    def _comment(self, start: int) -> None:
        end = self.text.find("*/", self.pos + 2)
        if end < 0:
            raise LexError("unclosed comment", start)
        self.pos = end + 2
        delim, trim = self._at_right_delim()
        if not delim:
            raise LexError("comment ends before closing delimiter", self.pos)
        self._skip_right_delim(trim)

    def _at_right_delim(self) -> tuple[bool, bool]:
        """(a closing delimiter is here, it has the trim marker)."""
        text, pos = self.text, self.pos
        if pos < len(text) and text[pos] in SPACE_CHARS and text.startswith("-}}", pos + 1):
            return True, True
        return text.startswith("}}", pos), False

    def _skip_right_delim(self, trim: bool) -> None:
        self.pos += 4 if trim else 2
        if trim:
            while self.pos < len(self.text) and self.text[self.pos] in SPACE_CHARS:
                self.pos += 1

    def _action(self) -> None:
        text = self.text
        while True:
            delim, trim = self._at_right_delim()
            if delim:
                if self.depth:
                    raise LexError("unclosed left paren", self.pos)
                start = self.pos + (2 if trim else 0)
                self.items.append(Item("right", "}}", start))
                self._skip_right_delim(trim)
                return
            if self.pos >= len(text):
                raise LexError("unclosed action", self.pos)
            self._one(text[self.pos])

    def _emit(self, kind: str, start: int) -> None:
        self.items.append(Item(kind, self.text[start : self.pos], start))

    def _one(self, ch: str) -> None:
        start = self.pos
        text = self.text
        nxt = text[start + 1] if start + 1 < len(text) else ""
        if ch in SPACE_CHARS:
            self._space()
        elif ch == "=":
            self.pos += 1
            self._emit("assign", start)
        elif ch == ":":
            if nxt != "=":
                raise LexError("expected :=", start)
            self.pos += 2
            self._emit("declare", start)
        elif ch == "|":
            self.pos += 1
            self._emit("pipe", start)
        elif ch == '"':
            self._quoted('"', "unterminated quoted string", "string")
        elif ch == "`":
            end = text.find("`", start + 1)
            if end < 0:
                raise LexError("unterminated raw quoted string", start)
            self.pos = end + 1
            self._emit("raw", start)
        elif ch == "'":
            self._quoted("'", "unterminated character constant", "char")
        elif ch == "$":
            self.pos += 1
            self._word("variable", start)
        elif ch == ".":
            if nxt.isdigit():
                self._number()
            else:
                self.pos += 1
                if self._at_terminator():
                    self._emit("dot", start)
                else:
                    self._word("field", start)
        elif ch in "+-" or ch.isdigit():
            self._number()
        elif _is_alnum(ch):
            self._word("identifier", start)
        elif ch == "(":
            self.pos += 1
            self.depth += 1
            self._emit("lparen", start)
        elif ch == ")":
            self.pos += 1
            self.depth -= 1
            if self.depth < 0:
                raise LexError("unexpected right paren", start)
            self._emit("rparen", start)
        elif ch.isascii() and ch.isprintable():
            self.pos += 1
            self._emit("other", start)
        else:
            raise LexError(f"unrecognized character in action: {_rune(ch)}", start)

    def _space(self) -> None:
        start = self.pos
        text = self.text
        while self.pos < len(text) and text[self.pos] in SPACE_CHARS:
            self.pos += 1
        # Leave the space of a " -}}" trim marker to the closing delimiter.
        if text.startswith("-}}", self.pos) and self.pos - start >= 1:
            self.pos -= 1
            if self.pos == start:
                return
        self._emit("space", start)

    def _quoted(self, quote: str, unterminated: str, kind: str) -> None:
        text = self.text
        start = self.pos
        i = start + 1
        while True:
            if i >= len(text) or text[i] == "\n":
                raise LexError(unterminated, start)
            if text[i] == "\\":
                i += 2
                continue
            if text[i] == quote:
                break
            i += 1
        self.pos = i + 1
        self._emit(kind, start)

    def _word(self, kind: str, start: int) -> None:
        text = self.text
        while self.pos < len(text) and _is_alnum(text[self.pos]):
            self.pos += 1
        if not self._at_terminator():
            ch = text[self.pos]
            raise LexError(f"bad character {_rune(ch)}", self.pos)
        word = text[start : self.pos]
        if kind == "identifier":
            if word in KEYWORDS:
                kind = "keyword"
            elif word in ("true", "false"):
                kind = "bool"
        self.items.append(Item(kind, word, start))

    def _at_terminator(self) -> bool:
        text, pos = self.text, self.pos
        if pos >= len(text):
            return True
        ch = text[pos]
        return ch in SPACE_CHARS or ch in ".,|:()" or text.startswith("}}", pos)

    def _number(self) -> None:
        text = self.text
        start = self.pos
        i = start
        if i < len(text) and text[i] in "+-":
            i += 1
        digits = "0123456789_"
        if text.startswith(("0x", "0X"), i):
            i += 2
            digits = "0123456789abcdefABCDEF_"
        elif text.startswith(("0o", "0O"), i):
            i += 2
            digits = "01234567_"
        elif text.startswith(("0b", "0B"), i):
            i += 2
            digits = "01_"
        while i < len(text) and text[i] in digits:
            i += 1
        if i < len(text) and text[i] == ".":
            i += 1
            while i < len(text) and text[i] in digits:
                i += 1
        exps = {11: "eE", 23: "pP"}.get(len(digits), "")
        if exps and i < len(text) and text[i] in exps:
            i += 1
            if i < len(text) and text[i] in "+-":
                i += 1
            while i < len(text) and text[i] in "0123456789_":
                i += 1
        if i < len(text) and text[i] == "i":
            i += 1
        if i < len(text) and _is_alnum(text[i]):
            raise LexError(f"bad number syntax: {text[start : i + 1]!r}", start)
        self.pos = i
        self._emit("number", start)


def _left_trim_marker(text: str, pos: int) -> bool:
    """``{{- `` : a minus and a space right after the opening delimiter."""
    return text.startswith("-", pos) and pos + 1 < len(text) and text[pos + 1] in SPACE_CHARS


def _rune(ch: str) -> str:
    """A character as Go's ``%#U`` shows it: ``U+0023 '#'``."""
    code = f"U+{ord(ch):04X}"
    return f"{code} '{ch}'" if ch.isprintable() else code
