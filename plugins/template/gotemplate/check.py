"""Checks a parsed template against the type of its data, before it ever runs.

Go's text/template finds a misspelt field (``{{ .name }}``), a wrong argument count or a
literal of the wrong type (``parseInt .Group.b "16" 8``) only while executing. Where the
types are known statically (the data struct, its fields, function signatures, literals)
this pass reports the same mistake, with Go's wording, when the template is compiled.
What depends on values (``index`` out of range, a failing ``parseInt``, a field of a map
element) is left to execution.

It also records which fields of the data the template reads (``*`` when the data is used
whole), so a caller can tell whether output depends on more than the question.
"""

from __future__ import annotations

from collections.abc import Mapping

from dnsd.plugins.template.gotemplate.funcs import VALUE, Func
from dnsd.plugins.template.gotemplate.nodes import (
    ActionNode,
    BoolNode,
    BranchNode,
    ChainNode,
    CommandNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    ListNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    StringNode,
    VariableNode,
)
from dnsd.plugins.template.gotemplate.parse import ParseError
from dnsd.plugins.template.gotemplate.values import ANY, BOOL, INT, STRING, GoType

FLOAT = GoType("float64")
_LITERALS = (BoolNode, NumberNode, StringNode, NilNode)


def check(root: ListNode, data: GoType, funcs: Mapping[str, Func]) -> frozenset[str]:
    """Check ``root``; the data fields it reads. ParseError at the first mistake."""
    checker = _Checker(data, funcs)
    checker.block(root, data)
    return frozenset(checker.used)


class _Checker:
    def __init__(self, data: GoType, funcs: Mapping[str, Func]) -> None:
        self.data = data
        self.funcs = funcs
        self.vars: list[tuple[str, GoType]] = [("$", data)]
        self.used: set[str] = set()

    def use(self, typ: GoType) -> GoType:
        """``typ`` is consumed as a value: the whole data when it is the data."""
        if typ == self.data:
            self.used.add("*")
        return typ

    def block(self, node: ListNode, dot: GoType) -> None:
        for child in node.nodes:
            if isinstance(child, ActionNode):
                typ = self.pipe(child.pipe, dot)
                if not child.pipe.decl:
                    self.use(typ)
            elif isinstance(child, BranchNode):
                self.branch(child, dot)

    def branch(self, node: BranchNode, dot: GoType) -> None:
        mark = len(self.vars)
        typ = self.pipe(node.pipe, dot)
        inner = dot
        if node.keyword == "with":
            inner = typ
        elif node.keyword == "range":
            key, inner = self.iteration(typ)
            decl = node.pipe.decl
            if decl and not node.pipe.is_assign:
                self.vars[-1] = (self.vars[-1][0], inner)
                if len(decl) > 1:
                    self.vars[-2] = (self.vars[-2][0], key)
        self.block(node.list, inner)
        if node.else_list is not None:
            self.block(node.else_list, dot)
        del self.vars[mark:]

    def iteration(self, typ: GoType) -> tuple[GoType, GoType]:
        """(index type, element type) of ranging over ``typ``."""
        if typ.kind == "slice" and typ.elem is not None:
            return INT, typ.elem
        if typ.kind == "map" and typ.elem is not None:
            return STRING, typ.elem
        if typ is INT:
            return INT, INT
        return ANY, ANY

    def pipe(self, pipe: PipeNode, dot: GoType) -> GoType:
        typ = ANY
        for i, cmd in enumerate(pipe.cmds):
            typ = self.command(cmd, dot, typ if i else None)
        if not pipe.is_assign:
            for var in pipe.decl:
                self.vars.append((var.ident[0], typ))
        return typ

    def var(self, name: str) -> GoType:
        for var_name, typ in reversed(self.vars):
            if var_name == name:
                return typ
        return ANY

    def command(self, cmd: CommandNode, dot: GoType, final: GoType | None) -> GoType:
        first, args = cmd.args[0], cmd.args[1:]
        nargs = len(args) + (final is not None)
        if isinstance(first, FieldNode):
            return self.fields(dot, first.ident, first, args, final, dot)
        if isinstance(first, VariableNode) and len(first.ident) > 1:
            base = self.var(first.ident[0])
            return self.fields(base, first.ident[1:], first, args, final, dot)
        if isinstance(first, ChainNode):
            base = self.arg(first.node, dot)
            return self.fields(base, first.fields, first, args, final, dot)
        if isinstance(first, IdentifierNode):
            fn = self.funcs[first.name]
            return self.call(first.name, fn.params, fn.variadic, fn.result, first, args, final, dot)
        if nargs:
            raise ParseError(f"can't give argument to non-function {first}", first.pos)
        if isinstance(first, NilNode):
            raise ParseError("nil is not a command", first.pos)
        return self.arg(first, dot)

    def fields(
        self,
        typ: GoType,
        names: list[str],
        node: Node,
        args: list[Node],
        final: GoType | None,
        dot: GoType,
    ) -> GoType:
        for i, name in enumerate(names):
            last = i == len(names) - 1
            has_args = last and (bool(args) or final is not None)
            if typ.kind == "struct" and typ.struct is not None:
                cls = typ.struct
                if typ == self.data:
                    self.used.add(name)
                method = cls.go_methods.get(name)
                if method is not None:
                    here = args if last else []
                    fin = final if last else None
                    typ = self.call(name, method.params, None, method.result, node, here, fin, dot)
                    continue
                if name not in cls.go_fields:
                    raise ParseError(f"can't evaluate field {name} in type {cls.go_type}", node.pos)
                if has_args:
                    raise ParseError(
                        f"{name} has arguments but cannot be invoked as function", node.pos
                    )
                typ = cls.go_fields[name]
            elif typ.kind == "map" and typ.elem is not None:
                if has_args:
                    raise ParseError(f"{name} is not a method but has arguments", node.pos)
                typ = typ.elem
            elif typ.kind in ("any", "value"):
                return ANY
            else:
                raise ParseError(f"can't evaluate field {name} in type {typ}", node.pos)
        return typ

    def call(
        self,
        name: str,
        params: tuple[GoType, ...],
        variadic: GoType | None,
        result: GoType,
        node: Node,
        args: list[Node],
        final: GoType | None,
        dot: GoType,
    ) -> GoType:
        nargs = len(args) + (final is not None)
        if variadic is not None:
            if nargs < len(params):
                raise ParseError(
                    f"wrong number of args for {name}: want at least {len(params)} got {len(args)}",
                    node.pos,
                )
        elif nargs != len(params):
            raise ParseError(
                f"wrong number of args for {name}: want {len(params)} got {nargs}", node.pos
            )
        types = [params[i] if i < len(params) else variadic or ANY for i in range(nargs)]
        for arg, want in zip(args, types, strict=False):
            self.argument(arg, want, dot)
        if final is not None:
            self.assignable(self.use(final), types[-1], node)
        return ANY if result is VALUE else result

    def argument(self, node: Node, want: GoType, dot: GoType) -> None:
        if isinstance(node, _LITERALS) and want.kind == "basic":
            self.literal(node, want)
            return
        self.assignable(self.use(self.arg(node, dot)), want, node)

    def literal(self, node: Node, want: GoType) -> None:
        if isinstance(node, NilNode):
            raise ParseError(f"cannot assign nil to {want}", node.pos)
        if want is STRING and not isinstance(node, StringNode):
            raise ParseError(f"expected string; found {node}", node.pos)
        if want is INT and not (isinstance(node, NumberNode) and node.integer is not None):
            raise ParseError(f"expected integer; found {node}", node.pos)
        if want is BOOL and not isinstance(node, BoolNode):
            raise ParseError(f"expected bool; found {node}", node.pos)

    def assignable(self, have: GoType, want: GoType, node: Node) -> None:
        if want.kind != "basic" or have.kind in ("any", "value") or have == want:
            return
        raise ParseError(f"wrong type for value; expected {want}; got {have}", node.pos)

    def arg(self, node: Node, dot: GoType) -> GoType:
        if isinstance(node, DotNode):
            return dot
        if isinstance(node, FieldNode):
            return self.fields(dot, node.ident, node, [], None, dot)
        if isinstance(node, VariableNode):
            base = self.var(node.ident[0])
            return (
                self.fields(base, node.ident[1:], node, [], None, dot) if node.ident[1:] else base
            )
        if isinstance(node, PipeNode):
            return self.pipe(node, dot)
        if isinstance(node, IdentifierNode):
            fn = self.funcs[node.name]
            return self.call(node.name, fn.params, fn.variadic, fn.result, node, [], None, dot)
        if isinstance(node, ChainNode):
            if isinstance(node.node, NilNode):
                raise ParseError(f"indirection through explicit nil in {node}", node.pos)
            return self.fields(self.arg(node.node, dot), node.fields, node, [], None, dot)
        if isinstance(node, StringNode):
            return STRING
        if isinstance(node, BoolNode):
            return BOOL
        if isinstance(node, NumberNode):
            return INT if isinstance(node.value, int) else FLOAT
        return ANY
