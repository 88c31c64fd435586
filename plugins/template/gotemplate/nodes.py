"""The parse tree of a Go template (``text/template/parse/node.go``).

``str(node)`` is Go's ``Node.String()``: the template written back in a canonical form
(``{{.Name}} 60 IN A 10.{{.Group.b}}``), which CoreDNS uses as the ``template`` label of its
failure metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Node:
    """A node and its byte offset in the template text."""

    pos: int


@dataclass(eq=False)
class ListNode(Node):
    nodes: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


@dataclass(eq=False)
class TextNode(Node):
    text: str = ""

    def __str__(self) -> str:
        return self.text


@dataclass(eq=False)
class DotNode(Node):
    def __str__(self) -> str:
        return "."


@dataclass(eq=False)
class NilNode(Node):
    def __str__(self) -> str:
        return "nil"


@dataclass(eq=False)
class BoolNode(Node):
    value: bool = False

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(eq=False)
class NumberNode(Node):
    """A number or character constant, ``text`` as written.

    ``value`` is what Go makes of the untyped constant (an int, or a float when written with
    a point or an exponent); ``integer`` is its value as an integer argument (``1.0`` is
    one), None when it has none.
    """

    text: str = ""
    value: int | float = 0
    integer: int | None = None

    def __str__(self) -> str:
        return self.text


@dataclass(eq=False)
class StringNode(Node):
    quoted: str = ""
    text: str = ""

    def __str__(self) -> str:
        return self.quoted


@dataclass(eq=False)
class IdentifierNode(Node):
    """A function name."""

    name: str = ""

    def __str__(self) -> str:
        return self.name


@dataclass(eq=False)
class FieldNode(Node):
    """``.A.B``: ``ident`` is ``["A", "B"]``."""

    ident: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join("." + i for i in self.ident)


@dataclass(eq=False)
class VariableNode(Node):
    """``$x.A``: ``ident`` is ``["$x", "A"]``."""

    ident: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return ".".join(self.ident)


@dataclass(eq=False)
class ChainNode(Node):
    """A term followed by fields: ``(index .Match 1).Foo``."""

    node: Node = field(default_factory=lambda: DotNode(0))
    fields: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        inner = f"({self.node})" if isinstance(self.node, PipeNode) else str(self.node)
        return inner + "".join("." + f for f in self.fields)


@dataclass(eq=False)
class CommandNode(Node):
    args: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, PipeNode) else str(a) for a in self.args)


@dataclass(eq=False)
class PipeNode(Node):
    """``$x := cmd | cmd``: ``decl`` are the variables declared (or assigned)."""

    decl: list[VariableNode] = field(default_factory=list)
    is_assign: bool = False
    cmds: list[CommandNode] = field(default_factory=list)

    def __str__(self) -> str:
        head = ""
        if self.decl:
            head = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return head + " | ".join(str(c) for c in self.cmds)


@dataclass(eq=False)
class ActionNode(Node):
    pipe: PipeNode = field(default_factory=lambda: PipeNode(0))

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


@dataclass(eq=False)
class BranchNode(Node):
    """``if``, ``range`` and ``with``."""

    keyword: str = ""
    pipe: PipeNode = field(default_factory=lambda: PipeNode(0))
    list: ListNode = field(default_factory=lambda: ListNode(0))
    else_list: ListNode | None = None

    def __str__(self) -> str:
        out = "{{" + self.keyword + " " + str(self.pipe) + "}}" + str(self.list)
        if self.else_list is not None:
            out += "{{else}}" + str(self.else_list)
        return out + "{{end}}"


@dataclass(eq=False)
class BreakNode(Node):
    def __str__(self) -> str:
        return "{{break}}"


@dataclass(eq=False)
class ContinueNode(Node):
    def __str__(self) -> str:
        return "{{continue}}"


def walk(node: Node) -> Any:
    """Every node under ``node`` (itself included), depth first."""
    yield node
    children: list[Node] = []
    if isinstance(node, ListNode):
        children = list(node.nodes)
    elif isinstance(node, ActionNode):
        children = [node.pipe]
    elif isinstance(node, PipeNode):
        children = [*node.decl, *node.cmds]
    elif isinstance(node, CommandNode):
        children = list(node.args)
    elif isinstance(node, ChainNode):
        children = [node.node]
    elif isinstance(node, BranchNode):
        children = [node.pipe, node.list, *([node.else_list] if node.else_list else [])]
    for child in children:
        yield from walk(child)
