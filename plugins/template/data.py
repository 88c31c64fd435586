"""What a template renders: CoreDNS's ``templateData``, with Go's field names and types.

``.Zone``, ``.Name`` (lowercase, absolute), ``.Regex``, ``.Match`` (``index .Match 1``),
``.Group`` (named and numbered groups), ``.Class``, ``.Type``, ``.Remote`` (the client's
address), ``.Question`` (a ``*dns.Question``: ``.Name`` as asked, ``.Qtype``, ``.Qclass``),
``.Message`` (a ``*dns.Msg``: the header fields, ``.Question``; ``.Answer``, ``.Ns`` and
``.Extra`` are empty) and the method ``.Meta "NAME"`` (metadata another plugin left for the
query, or ``""``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dnsd.encode import class_name, rcode_name, type_name
from dnsd.plugins.template.gotemplate.values import (
    ANY,
    BOOL,
    INT,
    STRING,
    UINT16,
    GoType,
    Method,
    Struct,
    Uint16,
    map_of,
    slice_of,
    struct_type,
)

_OPCODES = {0: "QUERY", 1: "IQUERY", 2: "STATUS", 4: "NOTIFY", 5: "UPDATE"}


class Question(Struct):
    """miekg/dns ``*dns.Question``."""

    go_type = "*dns.Question"
    go_fields = {"Name": STRING, "Qtype": UINT16, "Qclass": UINT16}

    def __init__(self, name: str, qtype: int, qclass: int) -> None:
        self.Name = name
        self.Qtype = Uint16(qtype)
        self.Qclass = Uint16(qclass)

    def go_string(self) -> str:
        return f";{self.Name}\t{class_name(self.Qclass)}\t {type_name(self.Qtype)}"


class QuestionValue(Question):
    """A ``dns.Question`` held by value (the elements of ``.Message.Question``)."""

    go_type = "dns.Question"


_RRS = GoType("[]dns.RR", "slice", ANY)
_HEADER = {
    "Id": UINT16, "Response": BOOL, "Opcode": INT, "Authoritative": BOOL, "Truncated": BOOL,
    "RecursionDesired": BOOL, "RecursionAvailable": BOOL, "Zero": BOOL,
    "AuthenticatedData": BOOL, "CheckingDisabled": BOOL, "Rcode": INT,
}  # fmt: skip


class Message(Struct):
    """miekg/dns ``*dns.Msg`` of a query: its header and question."""

    go_type = "*dns.Msg"
    go_fields = {
        **_HEADER,
        "Compress": BOOL,
        "Question": slice_of(struct_type(QuestionValue)),
        "Answer": _RRS,
        "Ns": _RRS,
        "Extra": _RRS,
    }

    def __init__(self, msg_id: int, flags: int, question: QuestionValue) -> None:
        self.Id = Uint16(msg_id)
        self.Response = bool(flags & 0x8000)
        self.Opcode = (flags >> 11) & 0xF
        self.Authoritative = bool(flags & 0x0400)
        self.Truncated = bool(flags & 0x0200)
        self.RecursionDesired = bool(flags & 0x0100)
        self.RecursionAvailable = bool(flags & 0x0080)
        self.Zero = bool(flags & 0x0040)
        self.AuthenticatedData = bool(flags & 0x0020)
        self.CheckingDisabled = bool(flags & 0x0010)
        self.Rcode = flags & 0xF
        self.Compress = False
        self.Question = [question]
        self.Answer: list[Any] = []
        self.Ns: list[Any] = []
        self.Extra: list[Any] = []

    def go_string(self) -> str:
        names = [("qr", self.Response), ("aa", self.Authoritative), ("tc", self.Truncated),
                 ("rd", self.RecursionDesired), ("ra", self.RecursionAvailable),
                 ("z", self.Zero), ("ad", self.AuthenticatedData),
                 ("cd", self.CheckingDisabled)]  # fmt: skip
        flags = " ".join(name for name, on in names if on)
        opcode = _OPCODES.get(self.Opcode, str(self.Opcode))
        return (
            f";; opcode: {opcode}, status: {rcode_name(self.Rcode)}, id: {self.Id}\n"
            f";; flags: {flags}; QUERY: {len(self.Question)}, ANSWER: 0, AUTHORITY: 0, "
            "ADDITIONAL: 0\n\n;; QUESTION SECTION:\n"
            + "".join(q.go_string() + "\n" for q in self.Question)
        )


class Data(Struct):
    """CoreDNS's ``*template.templateData``."""

    go_type = "*template.templateData"
    go_fields = {
        "Zone": STRING,
        "Name": STRING,
        "Regex": STRING,
        "Match": slice_of(STRING),
        "Group": map_of(STRING),
        "Class": STRING,
        "Type": STRING,
        "Message": struct_type(Message),
        "Question": struct_type(Question),
        "Remote": STRING,
    }
    go_methods = {"Meta": Method((STRING,), STRING)}

    def __init__(
        self,
        *,
        zone: str,
        name: str,
        regex: str,
        match: list[str],
        group: dict[str, str],
        qclass: str,
        qtype: str,
        message: Callable[[], Message],
        question: Question,
        remote: str,
        meta: Mapping[str, Any],
    ) -> None:
        self.Zone = zone
        self.Name = name
        self.Regex = regex
        self.Match = match
        self.Group = group
        self.Class = qclass
        self.Type = qtype
        self._message = message
        self.Question = question
        self.Remote = remote
        self._meta = meta

    def go_field(self, name: str) -> Any:
        if name == "Message":
            return self._message()
        return getattr(self, name)

    def Meta(self, name: str) -> str:
        """The metadata value ``name`` (a value or a function of none), ``""`` when absent."""
        value = self._meta.get(name)
        if callable(value):
            value = value()
        return "" if value is None else str(value)
