"""Log formats: CoreDNS's ``plugin/pkg/replacer``, compiled once at setup.

:func:`compile_format` splits a format into literals and placeholders the way
CoreDNS's ``parseFormat`` does: find the next ``}``, walk back to the nearest
``{``; a known placeholder or a ``{/metadata}`` label becomes a value, anything
else (``{foo}``, ``{>ID}``, a lone ``}``) stays in the line as written.
:func:`render` then only joins strings.

=============== ==========================================================
placeholder     value
=============== ==========================================================
``{type}``      query type (``A``, ``TYPE65280``)
``{name}``      query name, lowercased (``example.org.``)
``{class}``     query class (``IN``, ``CH``)
``{proto}``     ``udp`` or ``tcp``
``{remote}``    client address, IPv6 in brackets (``[::1]``)
``{local}``     server address, IPv6 in brackets
``{size}``      query size in bytes
``{port}``      client port
``{>id}``       query ID
``{>opcode}``   query opcode (number)
``{>do}``       ``true`` when the query set DO
``{>bufsize}``  the size the client takes: 65535 on TCP, else max(512, EDNS size)
``{rcode}``     reply rcode name (number when unnamed); ``-`` when no reply was written
``{rsize}``     reply size in bytes; ``0`` when no reply was written
``{>rflags}``   reply flags (``qr,aa,rd``); ``-`` when no reply was written
``{duration}``  seconds since the query arrived, as Go prints a float (``0.000123456s``)
``{/LABEL}``    ``req.meta[LABEL]`` (a value or a function returning one), ``-`` if absent;
                ``{/log/type}`` and ``{/log/class}`` are the reply's type and class
=============== ==========================================================
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from dnsd.plugins.log.response import OTHERERROR, Facts, classify
from dnsd.request import Request
from dnsd.wire import class_name, rcode_name, reply_flags

#: CoreDNS's empty value.
EMPTY = "-"

COMMON_FORMAT = (
    '{remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" '
    "{rcode} {>rflags} {rsize} {duration}"
)
COMBINED_FORMAT = COMMON_FORMAT + ' "{>opcode}"'
#: The format shortcuts a ``log`` line accepts as its last argument.
SHORTCUTS = {"{common}": COMMON_FORMAT, "{combined}": COMBINED_FORMAT}

#: What a placeholder reads: the request and the reply's facts (None: no reply written).
Getter = Callable[[Request, "Facts | None"], str]
#: A compiled format: literals and getters in order.
Parts = tuple["str | Getter", ...]


def bracket(addr: str) -> str:
    """An address as RFC 3986 writes hosts: IPv6 in brackets."""
    return f"[{addr}]" if ":" in addr else addr


def go_seconds(seconds: float) -> str:
    """Seconds as Go's ``FormatFloat(d.Seconds(), 'f', -1, 64)``: ``0.03799``, never ``1e-05``.

    The value is first rounded to whole nanoseconds (a Go ``time.Duration``).
    """
    ns = round(seconds * 1e9)
    value = float(ns // 1_000_000_000) + float(ns % 1_000_000_000) / 1e9
    text = repr(value)
    if "e" in text:
        text = format(Decimal(text), "f")
    return text[:-2] if text.endswith(".0") else text


def _rcode(req: Request, facts: Facts | None) -> str:
    if facts is None:
        return EMPTY
    rcode = facts.rcode
    name = rcode_name(rcode)
    return str(rcode) if name.startswith("RCODE") else name


def _meta(label: str) -> Getter:
    if label == "log/type":
        return lambda req, facts: facts.type if facts is not None else OTHERERROR
    if label == "log/class":
        return lambda req, facts: classify(facts.type if facts is not None else OTHERERROR)

    def get(req: Request, facts: Facts | None) -> str:
        value = req.meta.get(label)
        if callable(value):
            value = value()
        return EMPTY if value is None else str(value)

    return get


_LABELS: dict[str, Getter] = {
    "{type}": lambda req, facts: req.type_name,
    "{name}": lambda req, facts: req.name_lower,
    "{class}": lambda req, facts: class_name(req.qclass),
    "{proto}": lambda req, facts: req.proto,
    "{size}": lambda req, facts: str(len(req.wire)),
    "{remote}": lambda req, facts: bracket(req.client),
    "{port}": lambda req, facts: str(req.port),
    "{local}": lambda req, facts: bracket(req.local),
    "{>id}": lambda req, facts: str(req.id),
    "{>opcode}": lambda req, facts: str(req.opcode),
    "{>do}": lambda req, facts: "true" if req.do else "false",
    "{>bufsize}": lambda req, facts: str(req.max_size),
    "{rcode}": _rcode,
    "{rsize}": lambda req, facts: str(len(facts.wire)) if facts is not None else "0",
    "{duration}": lambda req, facts: go_seconds(time.perf_counter() - req.start) + "s",
    "{>rflags}": lambda req, facts: reply_flags(facts.wire) if facts is not None else EMPTY,
}

#: Every placeholder CoreDNS's replacer knows (besides ``{/LABEL}``).
PLACEHOLDERS = tuple(_LABELS)


def compile_format(fmt: str) -> Parts:
    """Split ``fmt`` into literals and getters (CoreDNS's ``parseFormat``)."""
    parts: list[str | Getter] = []
    s = fmt
    while True:
        j = s.find("}")
        if j < 0:
            break
        i = s.rfind("{", 0, j)
        if i < 0:  # "A } {foo}": "A }" is a literal
            parts.append(s[: j + 1])
            s = s[j + 1 :]
            continue
        label = s[i : j + 1]
        getter = _LABELS.get(label)
        if getter is None and label.startswith("{/"):
            getter = _meta(label[2:-1])
        if getter is None:  # unknown: "A {X}" stays as written
            parts.append(s[: j + 1])
        else:
            if i:
                parts.append(s[:i])
            parts.append(getter)
        s = s[j + 1 :]
    if s:
        parts.append(s)
    return tuple(_merge(parts))


def _merge(parts: list[str | Getter]) -> list[str | Getter]:
    """Join neighbouring literals (fewer pieces to join per query)."""
    out: list[str | Getter] = []
    for part in parts:
        if isinstance(part, str) and out and isinstance(out[-1], str):
            out[-1] += part
        else:
            out.append(part)
    return out


def render(parts: Parts, req: Request, facts: Facts | None) -> str:
    """The log line for ``req``; ``facts`` is None when no reply was written."""
    return "".join([p if isinstance(p, str) else p(req, facts) for p in parts])
