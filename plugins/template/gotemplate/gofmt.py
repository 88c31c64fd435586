"""Go's ``fmt`` for template values: ``%v`` printing, ``Sprint``, ``Sprintln``, ``Sprintf``.

``Sprintf`` knows the verbs ``v s d q x X o O b c U t e E f F g G T %``, the flags
``+ - # 0`` and space, widths and precisions (``*`` and ``[n]`` argument indexes included),
and writes Go's in-band errors: ``%!d(string=abc)`` for a wrong type, ``%!d(MISSING)``,
``%!(EXTRA int=1)``, ``%!(NOVERB)``, ``%!(BADWIDTH)``, ``%!(BADPREC)``, ``%!(BADINDEX)``.
Floats do not take ``%x``/``%b`` (hexadecimal and binary float forms): that prints as a
wrong type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dnsd.plugins.template.gotemplate.values import (
    MISSING,
    Struct,
    go_float,
    type_name,
)


def go_str(value: Any) -> str:
    """``value`` as Go's ``%v`` prints it (a missing value prints ``<nil>``)."""
    if value is None or value is MISSING:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, list):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_str(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, Struct):
        text = value.go_string()
        if text is not None:
            return text
        inner = " ".join(go_str(value.go_field(name)) for name in value.go_fields)
        return "&{" + inner + "}"
    return str(value)


def sprint(args: list[Any]) -> str:
    """``fmt.Sprint``: a space between operands when neither is a string."""
    out: list[str] = []
    prev_string = False
    for i, arg in enumerate(args):
        is_string = isinstance(arg, str)
        if i > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(go_str(arg))
        prev_string = is_string
    return "".join(out)


def sprintln(args: list[Any]) -> str:
    """``fmt.Sprintln``: spaces between all operands and a newline."""
    return " ".join(go_str(a) for a in args) + "\n"


def go_quote(text: str, ascii_only: bool = False) -> str:
    """``strconv.Quote``: a double-quoted Go string literal."""
    out = ['"']
    named = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
             "\v": "\\v", "\\": "\\\\", '"': '\\"'}  # fmt: skip
    for ch in text:
        code = ord(ch)
        if ch in named:
            out.append(named[ch])
        elif 0xDC80 <= code <= 0xDCFF:  # an invalid byte kept by surrogateescape
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch.isprintable() and (not ascii_only or code < 0x80):
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


@dataclass
class _Spec:
    plus: bool = False
    minus: bool = False
    sharp: bool = False
    space: bool = False
    zero: bool = False
    width: int | None = None
    prec: int | None = None


_FLAGS = "+-# 0"


def sprintf(fmt: str, args: list[Any]) -> str:
    """``fmt.Sprintf`` for template values (see the module docstring)."""
    return _Printf(fmt, args).run()


class _Printf:
    def __init__(self, fmt: str, args: list[Any]) -> None:
        self.fmt = fmt
        self.args = args
        self.argnum = 0
        self.reordered = False
        self.good_argnum = True
        self.out: list[str] = []

    def run(self) -> str:
        fmt, i, n = self.fmt, 0, len(self.fmt)
        while i < n:
            j = fmt.find("%", i)
            if j < 0:
                self.out.append(fmt[i:])
                break
            self.out.append(fmt[i:j])
            i = self._directive(j + 1)
        if not self.reordered and self.argnum < len(self.args):
            extra = ", ".join(
                "<nil>" if a is None else f"{type_name(a)}={go_str(a)}"
                for a in self.args[self.argnum :]
            )
            self.out.append(f"%!(EXTRA {extra})")
        return "".join(self.out)

    def _directive(self, i: int) -> int:
        fmt, n = self.fmt, len(self.fmt)
        spec = _Spec()
        while i < n and fmt[i] in _FLAGS:
            flag = fmt[i]
            spec.plus |= flag == "+"
            spec.minus |= flag == "-"
            spec.sharp |= flag == "#"
            spec.space |= flag == " "
            spec.zero |= flag == "0"
            i += 1
        i = self._index(i)
        spec.width, i, ok = self._number_or_star(i)
        if not ok:
            self.out.append("%!(BADWIDTH)")
        if spec.width is not None and spec.width < 0:
            spec.minus, spec.width = True, -spec.width
        if i < n and fmt[i] == ".":
            i = self._index(i + 1)
            spec.prec, i, ok = self._number_or_star(i)
            if not ok or (spec.prec is not None and spec.prec < 0):
                self.out.append("%!(BADPREC)")
                spec.prec = None
            elif spec.prec is None:
                spec.prec = 0
        i = self._index(i)
        if i >= n:
            self.out.append("%!(NOVERB)")
            return i
        verb = fmt[i]
        i += 1
        if verb == "%":
            self.out.append("%")
        elif not self.good_argnum:
            self.out.append(f"%!{verb}(BADINDEX)")
        elif self.argnum >= len(self.args):
            self.out.append(f"%!{verb}(MISSING)")
        else:
            arg = self.args[self.argnum]
            self.argnum += 1
            self.out.append(format_arg(arg, verb, spec))
        return i

    def _index(self, i: int) -> int:
        """An ``[n]`` argument index at ``i``; the index after it."""
        fmt = self.fmt
        if i >= len(fmt) or fmt[i] != "[":
            return i
        self.reordered = True
        end = fmt.find("]", i)
        text = fmt[i + 1 : end] if end > 0 else ""
        if end < 0 or not text.isdigit() or not 1 <= int(text) <= len(self.args):
            self.good_argnum = False
            return end + 1 if end > 0 else len(fmt)
        self.argnum = int(text) - 1
        self.good_argnum = True
        return end + 1

    def _number_or_star(self, i: int) -> tuple[int | None, int, bool]:
        fmt = self.fmt
        if i < len(fmt) and fmt[i] == "*":
            if self.argnum >= len(self.args):
                return None, i + 1, False
            arg = self.args[self.argnum]
            self.argnum += 1
            if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) <= 10**6:
                return int(arg), i + 1, True
            return None, i + 1, False
        match = re.match(r"\d+", fmt[i:])
        if match is None:
            return None, i, True
        return int(match.group()), i + len(match.group()), True


def format_arg(arg: Any, verb: str, spec: _Spec) -> str:
    """One argument under one verb."""
    if verb == "T":
        return _pad("<nil>" if arg is None else type_name(arg), spec)
    if arg is None or arg is MISSING:
        return _pad("<nil>", spec) if verb == "v" else f"%!{verb}(<nil>)"
    if isinstance(arg, Struct):
        text = arg.go_string()
        if text is not None and verb in "vsxXq":
            return _string(text, verb, spec)
        if verb == "v":
            return _pad(go_str(arg), spec)
    elif isinstance(arg, bool):
        if verb in "tv":
            return _pad("true" if arg else "false", spec)
    elif isinstance(arg, int):
        if verb in "vdboOxXcqU":
            return _integer(int(arg), verb, spec)
    elif isinstance(arg, float):
        if verb in "veEfFgG":
            return _float(arg, verb, spec)
    elif isinstance(arg, str):
        if verb in "vsxXq":
            return _string(arg, verb, spec)
    elif isinstance(arg, list):
        return "[" + " ".join(format_arg(a, verb, spec) for a in arg) + "]"
    elif isinstance(arg, dict):
        pairs = (
            f"{format_arg(k, verb, spec)}:{format_arg(arg[k], verb, spec)}" for k in sorted(arg)
        )
        return "map[" + " ".join(pairs) + "]"
    return f"%!{verb}({type_name(arg)}={go_str(arg)})"


def _pad(text: str, spec: _Spec, zeros: bool | None = None) -> str:
    width = spec.width or 0
    if len(text) >= width:
        return text
    fill = width - len(text)
    if spec.minus:
        return text + " " * fill
    if spec.zero if zeros is None else zeros:
        sign = text[0] if text[:1] in ("+", "-") else ""
        return sign + "0" * fill + text[len(sign) :]
    return " " * fill + text


def _string(text: str, verb: str, spec: _Spec) -> str:
    if spec.prec is not None and verb in "vs":
        text = text[: spec.prec]
    if verb == "q":
        if spec.sharp and "`" not in text and all(c.isprintable() or c == "\t" for c in text):
            return _pad("`" + text + "`", spec)
        return _pad(go_quote(text, ascii_only=spec.plus), spec)
    if verb in "xX":
        data = text.encode("utf-8", "surrogateescape")
        if spec.prec is not None:
            data = data[: spec.prec]
        sep = " " if spec.space else ""
        prefix = ("0X" if verb == "X" else "0x") if spec.sharp else ""
        parts = [f"{prefix}{b:02X}" if verb == "X" else f"{prefix}{b:02x}" for b in data]
        if not spec.space and prefix:
            return _pad(prefix + "".join(p[2:] for p in parts), spec)
        return _pad(sep.join(parts), spec)
    return _pad(text, spec)


_BASES = {"d": 10, "v": 10, "b": 2, "o": 8, "O": 8, "x": 16, "X": 16}


def _integer(value: int, verb: str, spec: _Spec) -> str:
    if verb == "c":
        return _pad(chr(value) if 0 <= value <= 0x10FFFF else "\ufffd", spec)
    if verb == "q":
        ch = chr(value) if 0 <= value <= 0x10FFFF else "\ufffd"
        inner = go_quote(ch, ascii_only=spec.plus)[1:-1].replace('\\"', '"')
        return _pad("'" + ("\\'" if ch == "'" else inner) + "'", spec)
    if verb == "U":
        text = f"U+{value:04X}"
        if spec.sharp and 0 <= value <= 0x10FFFF and chr(value).isprintable():
            text += f" '{chr(value)}'"
        return _pad(text, spec)
    base = _BASES[verb]
    digits = format(abs(value), {10: "d", 2: "b", 8: "o", 16: "x"}[base])
    if verb == "X":
        digits = digits.upper()
    if spec.prec is not None:
        digits = "" if spec.prec == 0 and value == 0 else digits.zfill(spec.prec)
    prefix = ""
    if verb == "O" or (spec.sharp and base == 8 and verb == "o" and not digits.startswith("0")):
        prefix = "0o" if verb == "O" else "0"
    elif spec.sharp and base == 16:
        prefix = "0X" if verb == "X" else "0x"
    elif spec.sharp and base == 2:
        prefix = "0b"
    sign = "-" if value < 0 else "+" if spec.plus else " " if spec.space else ""
    body = prefix + digits
    zeros = spec.zero and spec.prec is None and not spec.minus
    if zeros and spec.width is not None and len(sign + body) < spec.width:
        body = prefix + digits.zfill(spec.width - len(sign) - len(prefix))
    return _pad(sign + body, spec, zeros=False)


def _float(value: float, verb: str, spec: _Spec) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        text = "NaN" if value != value else ("-Inf" if value < 0 else "+Inf")
        if text == "+Inf" and not spec.plus:
            text = " Inf" if spec.space else "Inf"
        return _pad(text, spec, zeros=False)
    if verb in "vgG" and spec.prec is None:
        text = go_float(value) if verb != "G" else go_float(value).upper()
    else:
        py = {"v": "g"}.get(verb, verb)
        prec = 6 if spec.prec is None else spec.prec
        text = format(value, f"{'#' if spec.sharp else ''}.{prec}{py}")
        text = text.replace("inf", "Inf").replace("INF", "Inf")
    if spec.plus and not text.startswith("-"):
        text = "+" + text
    elif spec.space and not text.startswith("-"):
        text = " " + text
    zeros = spec.zero and not spec.minus
    return _pad(text, spec, zeros=zeros)
