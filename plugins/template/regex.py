"""Go (RE2) regular expressions, compiled with Python's ``re`` to mean what they mean in Go.

CoreDNS compiles ``match`` with Go's ``regexp``. Python's ``re`` reads most of that syntax the
same way; :func:`compile_go` rewrites what it reads differently and refuses what it cannot
express, so a pattern never silently matches other names than in CoreDNS:

- rewritten: ``\\z`` (Python's ``\\Z``); ``(?<name>...)`` (Python's ``(?P<name>...)``);
  ``\\Q...\\E`` (a quoted literal); POSIX classes ``[[:alpha:]]`` (ASCII ranges);
  ``\\x{HHHH}`` and octal ``\\123`` escapes; flags set in mid-pattern (``a(?i)b``), which
  Python only takes at the start, become a scoped group to the end of the enclosing group;
  inside ``[...]`` the characters Python would read as set operations (``[``, ``&&``,
  ``||``, ``~~``, ``--``) are escaped;
- refused, with Go's wording where Go refuses too: look-around ``(?=``, ``(?!``, ``(?<=``,
  ``(?<!``, ``(?>``, ``(?#``, back-references ``\\1``, possessive repeats ``a*+``,
  ``\\Z``, repeat counts over 1000; and, which Go has but Python does not, the Unicode
  classes ``\\pL``/``\\p{Greek}``, negated POSIX classes ``[[:^alpha:]]``, ``\\C`` and
  the ungreedy flag ``U``;
- ``\\d``, ``\\w``, ``\\s``, ``\\b`` are ASCII, as in Go (``re.ASCII``).

Python's engine backtracks where RE2 does not: a pattern with nested repeats (``(a+)+$``) can
take long on a crafted name (at most 255 bytes), see the README's Bugs.
"""

from __future__ import annotations

import re

#: CoreDNS's limit on a pattern's length (plugin/template/setup.go).
MAX_LENGTH = 10000
MAX_REPEAT = 1000

_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z",
    "print": " -~", "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z",
    "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}  # fmt: skip
_SIMPLE_ESCAPES = set("dDsSwWbBAafnrtv")
_FLAGS = set("imsU-")


class RegexError(ValueError):
    """A pattern Go would refuse, or one Python cannot run the same way."""


def compile_go(pattern: str) -> re.Pattern[str]:
    """``pattern`` (Go syntax) compiled for :meth:`re.Pattern.search`. RegexError if bad."""
    if len(pattern) > MAX_LENGTH:
        raise RegexError(f"regex pattern too long: {len(pattern)} > {MAX_LENGTH}")
    text = _Translator(pattern).run()
    try:
        return re.compile(text, re.ASCII)
    except re.error as exc:
        raise RegexError(f"error parsing regexp: {exc}") from None


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.src = pattern
        self.i = 0
        self.out: list[str] = []
        #: Per open group: how many scoped-flag groups to close with it.
        self.scoped: list[int] = [0]

    def fail(self, what: str) -> RegexError:
        return RegexError(f"error parsing regexp: {what}")

    def run(self) -> str:
        src = self.src
        while self.i < len(src):
            ch = src[self.i]
            if ch == "\\":
                self.escape(in_class=False)
            elif ch == "[":
                self.char_class()
            elif ch == "(":
                self.group()
            elif ch == ")":
                self.out.append(")" * (self.scoped.pop() + 1) if len(self.scoped) > 1 else ")")
                self.i += 1
            elif ch in "*+?":
                self.out.append(ch)
                self.i += 1
                self.after_repeat()
            elif ch == "{":
                self.brace()
            else:
                self.out.append(ch)
                self.i += 1
        self.out.append(")" * self.scoped[0])
        return "".join(self.out)

    def after_repeat(self) -> None:
        """A lazy ``?`` may follow a repeat; a possessive ``+`` may not (Go has none)."""
        src = self.src
        if self.i < len(src) and src[self.i] == "?":
            self.out.append("?")
            self.i += 1
        elif self.i < len(src) and src[self.i] == "+":
            raise self.fail(f"invalid nested repetition operator: `{src[self.i - 1 : self.i + 1]}`")

    def brace(self) -> None:
        match = re.match(r"\{(\d+)(,(\d*))?\}", self.src[self.i :])
        if match is None:  # a literal brace, in Go and in Python
            self.out.append("\\{")
            self.i += 1
            return
        low, high = int(match.group(1)), match.group(3)
        if low > MAX_REPEAT or (high and int(high) > MAX_REPEAT) or (high and int(high) < low):
            raise self.fail(f"invalid repeat count: `{match.group()}`")
        self.out.append(match.group())
        self.i += len(match.group())
        self.after_repeat()

    def group(self) -> None:
        src = self.src
        rest = src[self.i :]
        if not rest.startswith("(?"):
            self.out.append("(")
            self.scoped.append(0)
            self.i += 1
            return
        for prefix in ("(?P<", "(?<"):
            if rest.startswith(prefix) and not rest.startswith(("(?<=", "(?<!")):
                end = rest.find(">")
                name = rest[len(prefix) : end] if end > 0 else ""
                if not name or not re.fullmatch(r"[A-Za-z0-9_]+", name):
                    raise self.fail(
                        f"invalid named capture: `{rest[: end + 1 if end > 0 else None]}`"
                    )
                self.out.append(f"(?P<{name}>")
                self.scoped.append(0)
                self.i += end + 1
                return
        match = re.match(r"\(\?([a-zA-Z-]*)(:|\))", rest)
        if match is None or not set(match.group(1)) <= _FLAGS or match.group(1).endswith("-"):
            bad = rest[:3] if match is None else match.group()
            raise self.fail(f"invalid or unsupported Perl syntax: `{bad}`")
        flags = match.group(1)
        if "U" in flags:
            raise self.fail("the ungreedy flag U is not supported by dnsd")
        self.i += len(match.group())
        if match.group(2) == ":":
            self.out.append(f"(?{flags}:")
            self.scoped.append(0)
        elif not self.out and "-" not in flags:
            self.out.append(f"(?{flags})")  # at the very start: Python's global flags
        else:
            self._scoped(flags)

    def _scoped(self, flags: str) -> None:
        """Flags from here to the end of the enclosing group: a group that closes with it."""
        self.out.append(f"(?{flags}:")
        self.scoped[-1] += 1

    def escape(self, in_class: bool) -> None:
        src = self.src
        if self.i + 1 >= len(src):
            raise self.fail("trailing backslash at end of expression: ``")
        ch = src[self.i + 1]
        self.i += 2
        if ch == "z" and not in_class:
            self.out.append("\\Z")
        elif ch == "Q" and not in_class:
            end = src.find("\\E", self.i)
            literal = src[self.i : end if end >= 0 else len(src)]
            self.out.append(re.escape(literal))
            self.i = end + 2 if end >= 0 else len(src)
        elif ch == "x":
            self.out.append(self.hex_escape())
        elif ch in "01234567":
            self.out.append(self.octal_escape(ch))
        elif ch in "pP":
            raise self.fail(f"Unicode class `\\{ch}` is not supported by dnsd")
        elif ch in _SIMPLE_ESCAPES and not (in_class and ch in "bBA"):
            self.out.append("\\" + ch)
        elif ch.isascii() and not ch.isalnum() and ch != "_":
            self.out.append("\\" + ch)
        elif not ch.isascii():
            self.out.append(re.escape(ch))
        else:
            raise self.fail(f"invalid escape sequence: `\\{ch}`")

    def hex_escape(self) -> str:
        src = self.src
        if src.startswith("{", self.i):
            end = src.find("}", self.i)
            digits = src[self.i + 1 : end] if end > 0 else ""
            self.i = end + 1 if end > 0 else len(src)
        else:
            digits = src[self.i : self.i + 2]
            self.i += 2
        if not digits or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise self.fail(f"invalid escape sequence: `\\x{digits}`")
        code = int(digits, 16)
        if code > 0x10FFFF:
            raise self.fail(f"invalid escape sequence: `\\x{{{digits}}}`")
        return re.escape(chr(code))

    def octal_escape(self, first: str) -> str:
        src = self.src
        if first != "0" and not (self.i < len(src) and src[self.i] in "01234567"):
            raise self.fail(f"invalid escape sequence: `\\{first}`")  # a back-reference
        digits = first
        while len(digits) < 3 and self.i < len(src) and src[self.i] in "01234567":
            digits += src[self.i]
            self.i += 1
        return re.escape(chr(int(digits, 8)))

    def char_class(self) -> None:
        src = self.src
        start = self.i
        self.out.append("[")
        self.i += 1
        if src.startswith("^", self.i):
            self.out.append("^")
            self.i += 1
        first = True
        while True:
            if self.i >= len(src):
                raise self.fail(f"missing closing ]: `{src[start:]}`")
            ch = src[self.i]
            if ch == "]" and not first:
                self.out.append("]")
                self.i += 1
                return
            first = False
            if ch == "[" and src.startswith("[:", self.i):
                self.posix_class()
            elif ch == "\\":
                self.escape(in_class=True)
            elif ch in "[&~|" or (ch == "-" and src.startswith("--", self.i)):
                self.out.append("\\" + ch)
                self.i += 1
            else:
                self.out.append(ch)
                self.i += 1

    def posix_class(self) -> None:
        src = self.src
        end = src.find(":]", self.i + 2)
        name = src[self.i + 2 : end] if end > 0 else ""
        negated = name.startswith("^")
        if name.lstrip("^") not in _POSIX:
            self.out.append("\\[")  # not a POSIX class: a literal "[", as in Go
            self.i += 1
            return
        if negated:
            raise self.fail(f"negated class `[:{name}:]` is not supported by dnsd")
        self.out.append(_POSIX[name])
        self.i = end + 2
