"""A Go ``text/template`` interpreter: the templates CoreDNS users write, as Go runs them.

::

    tmpl = Template("answer", "{{ .Name }} 60 IN A {{ index .Match 1 }}", Data)
    text = tmpl.execute(Data(...))     # ExecError (Go's message) when it fails

The language is Go's (``text/template``): text and ``{{ }}`` actions with ``{{-``/``-}}``
trimming and ``{{/* comments */}}``; fields (``.A.B``), methods with arguments
(``.Meta "name"``), ``$`` and variables (``$x := ...``, ``$x = ...``); pipelines (``|``)
and parenthesized pipelines; ``if``/``else if``/``else``, ``with``/``else with``/``else``,
``range`` (over slices, maps and integers, with ``$i, $e :=``, ``break``, ``continue``,
``else``); the builtins ``and or not len index slice eq ne lt le gt ge print printf println
html js urlquery`` and the functions the caller adds (CoreDNS's ``parseInt``).
``define``, ``template`` and ``block`` (other named templates) and ``call`` are not
supported.

Compiling parses the text and checks it against the data's type (see :mod:`.check`): a
syntax error, an unknown function or field, a wrong argument count or a literal of the
wrong type is a :class:`TemplateError` ``NAME:LINE:COL: message`` (Go's wording, columns
counted from 1) then, not an error on some later query.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dnsd.plugins.template.gotemplate.check import check
from dnsd.plugins.template.gotemplate.execute import ExecError, execute, position
from dnsd.plugins.template.gotemplate.funcs import BUILTINS, Func, FuncError
from dnsd.plugins.template.gotemplate.parse import ParseError, parse
from dnsd.plugins.template.gotemplate.values import Struct, struct_type

__all__ = ["BUILTINS", "ExecError", "Func", "FuncError", "Template", "TemplateError"]


class TemplateError(ValueError):
    """A template that cannot be compiled: ``NAME:LINE:COL: message``."""


class Template:
    """One compiled template for data of type ``data`` (a :class:`Struct` subclass)."""

    def __init__(
        self,
        name: str,
        text: str,
        data: type[Struct],
        funcs: Mapping[str, Func] = BUILTINS,
    ) -> None:
        self.name = name
        self.text = text
        self.funcs = funcs
        try:
            self.tree = parse(text, funcs)
            #: The data's fields the output depends on (``*``: the data as a whole).
            self.reads = check(self.tree, struct_type(data), funcs)
        except ParseError as exc:
            line, col = position(text, exc.pos)
            raise TemplateError(f"{name}:{line}:{col}: {exc}") from None
        #: The template written back in Go's canonical form (``Tree.Root.String()``).
        self.label = str(self.tree)

    def execute(self, data: Any) -> str:
        """The text the template makes of ``data``. ExecError when it fails."""
        return execute(self.name, self.text, self.tree, data, self.funcs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Template):
            return NotImplemented
        return (self.name, self.text) == (other.name, other.text)

    def __hash__(self) -> int:
        return hash((self.name, self.text))

    def __repr__(self) -> str:
        return f"Template({self.name!r}, {self.text!r})"
