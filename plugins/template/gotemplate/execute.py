"""Running a parsed template on data (``text/template/exec.go``), error for error.

Errors read exactly as Go's, which CoreDNS logs: ``template: answer:1:26: executing
"answer" at <index .Match 2>: error calling index: index out of range: 2`` (the column is
Go's: bytes from the start of the line, counted from 0).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from dnsd.plugins.template.gotemplate.funcs import VALUE, Func, FuncError
from dnsd.plugins.template.gotemplate.gofmt import go_str
from dnsd.plugins.template.gotemplate.nodes import (
    ActionNode,
    BoolNode,
    BranchNode,
    BreakNode,
    ChainNode,
    CommandNode,
    ContinueNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    ListNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    StringNode,
    TextNode,
    VariableNode,
)
from dnsd.plugins.template.gotemplate.values import (
    ANY,
    BOOL,
    INT,
    MISSING,
    STRING,
    GoType,
    Struct,
    Uint,
    is_true,
    type_name,
)


class ExecError(Exception):
    """A template failed while rendering; the message is Go's, position included."""


class _NoFinal:
    """No value piped in from a previous command (Go's ``missingVal``)."""


NO_FINAL: Any = _NoFinal()


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def position(text: str, pos: int) -> tuple[int, int]:
    """(line, column) of byte offset ``pos``, both counted from 1."""
    line = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    return line, pos - start + 1


def execute(name: str, text: str, root: ListNode, data: Any, funcs: Mapping[str, Func]) -> str:
    """The output of ``root`` (parsed from ``text``) on ``data``. ExecError on failure."""
    state = _State(name, text, data, funcs)
    try:
        state.walk(data, root)
    except (_Break, _Continue):  # pragma: no cover - the parser keeps them inside range
        state.fail("break or continue outside range")
    return "".join(state.out)


class _State:
    def __init__(self, name: str, text: str, data: Any, funcs: Mapping[str, Func]) -> None:
        self.name = name
        self.text = text
        self.funcs = funcs
        self.vars: list[list[Any]] = [["$", data]]
        self.out: list[str] = []
        self.node: Node | None = None

    def at(self, node: Node) -> None:
        self.node = node

    def fail(self, message: str) -> NoReturn:
        node = self.node
        if node is None:
            raise ExecError(f"template: {self.name}: {message}")
        line, col = position(self.text, node.pos)
        col -= 1  # Go's ErrorContext counts from 0
        context = str(node)
        if len(context) > 20:
            context = context[:20] + "..."
        raise ExecError(
            f'template: {self.name}:{line}:{col}: executing "{self.name}" at <{context}>: {message}'
        )

    # -- statements -------------------------------------------------------------------------
    def walk(self, dot: Any, node: Node) -> None:
        if isinstance(node, TextNode):
            self.out.append(node.text)
        elif isinstance(node, ListNode):
            for child in node.nodes:
                self.walk(dot, child)
        elif isinstance(node, ActionNode):
            value = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.out.append("<no value>" if value is MISSING else go_str(value))
        elif isinstance(node, BranchNode):
            if node.keyword == "range":
                self.walk_range(dot, node)
            else:
                self.walk_if_or_with(dot, node)
        elif isinstance(node, BreakNode):
            raise _Break
        elif isinstance(node, ContinueNode):
            raise _Continue
        else:  # pragma: no cover - every node type is handled above
            self.at(node)
            self.fail(f"unknown node: {node}")

    def walk_if_or_with(self, dot: Any, node: BranchNode) -> None:
        mark = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            if is_true(value):
                self.walk(value if node.keyword == "with" else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            del self.vars[mark:]

    def walk_range(self, dot: Any, node: BranchNode) -> None:
        self.at(node)
        outer = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            mark = len(self.vars)
            decl = node.pipe.decl
            pairs = self._iteration(value, len(decl))
            if not pairs:
                if node.else_list is not None:
                    self.walk(dot, node.else_list)
                return
            for index, elem in pairs:
                if decl:
                    self._set_range_vars(decl, node.pipe.is_assign, index, elem)
                try:
                    self.walk(elem, node.list)
                except _Continue:
                    pass
                except _Break:
                    break
                finally:
                    del self.vars[mark:]
        finally:
            del self.vars[outer:]

    def _iteration(self, value: Any, nvars: int) -> list[tuple[Any, Any]]:
        if value is MISSING or value is None:
            return []
        if isinstance(value, list):
            return list(enumerate(value))
        if isinstance(value, dict):
            return [(k, value[k]) for k in sorted(value)]
        if isinstance(value, int) and not isinstance(value, bool):
            if nvars > 1:
                self.fail(f"can't use {value} to iterate over more than one variable")
            return [(i, i) for i in range(int(value))]
        self.fail(f"range can't iterate over {go_str(value)}")

    def _set_range_vars(
        self, decl: list[VariableNode], assign: bool, index: Any, elem: Any
    ) -> None:
        if assign:
            if len(decl) > 1:
                self.set_var(decl[0].ident[0], index)
                self.set_var(decl[1].ident[0], elem)
            else:
                self.set_var(decl[0].ident[0], elem)
            return
        self.vars[-1][1] = elem
        if len(decl) > 1:
            self.vars[-2][1] = index

    # -- variables --------------------------------------------------------------------------
    def var_value(self, name: str) -> Any:
        for var in reversed(self.vars):
            if var[0] == name:
                return var[1]
        self.fail(f"undefined variable: {name}")

    def set_var(self, name: str, value: Any) -> None:
        for var in reversed(self.vars):
            if var[0] == name:
                var[1] = value
                return
        self.fail(f"undefined variable: {name}")

    # -- expressions ------------------------------------------------------------------------
    def eval_pipeline(self, dot: Any, pipe: PipeNode) -> Any:
        self.at(pipe)
        value: Any = NO_FINAL
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.ident[0], value)
            else:
                self.vars.append([var.ident[0], value])
        return value

    def eval_command(self, dot: Any, cmd: CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, FieldNode):
            return self.eval_field_chain(dot, dot, first, first.ident, cmd.args, final)
        if isinstance(first, ChainNode):
            return self.eval_chain(dot, first, cmd.args, final)
        if isinstance(first, IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, VariableNode):
            return self.eval_variable(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, BoolNode):
            return first.value
        if isinstance(first, DotNode):
            return dot
        if isinstance(first, NumberNode):
            return first.value
        if isinstance(first, StringNode):
            return first.text
        self.fail("nil is not a command")

    def not_a_function(self, args: list[Node] | None, final: Any) -> None:
        if (args is not None and len(args) > 1) or final is not NO_FINAL:
            what = str(args[0]) if args else "value"
            self.fail(f"can't give argument to non-function {what}")

    def eval_function(
        self, dot: Any, node: IdentifierNode, cmd: Node, args: list[Node] | None, final: Any
    ) -> Any:
        self.at(node)
        fn = self.funcs[node.name]
        return self.eval_call(dot, fn, node.name, cmd, args, final)

    def eval_variable(
        self, dot: Any, node: VariableNode, args: list[Node] | None, final: Any
    ) -> Any:
        self.at(node)
        value = self.var_value(node.ident[0])
        if len(node.ident) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, node, node.ident[1:], args, final)

    def eval_chain(self, dot: Any, chain: ChainNode, args: list[Node] | None, final: Any) -> Any:
        self.at(chain)
        if isinstance(chain.node, NilNode):
            self.fail(f"indirection through explicit nil in {chain}")
        receiver = self.eval_arg(dot, ANY, chain.node)
        return self.eval_field_chain(dot, receiver, chain, chain.fields, args, final)

    def eval_field_chain(
        self,
        dot: Any,
        receiver: Any,
        node: Node,
        ident: list[str],
        args: list[Node] | None,
        final: Any,
    ) -> Any:
        for name in ident[:-1]:
            receiver = self.eval_field(dot, name, node, None, NO_FINAL, receiver)
        return self.eval_field(dot, ident[-1], node, args, final, receiver)

    def eval_field(
        self,
        dot: Any,
        name: str,
        node: Node,
        args: list[Node] | None,
        final: Any,
        receiver: Any,
    ) -> Any:
        self.at(node)
        if receiver is MISSING or receiver is None:
            return MISSING
        has_args = (args is not None and len(args) > 1) or final is not NO_FINAL
        if isinstance(receiver, Struct):
            method = receiver.go_methods.get(name)
            if method is not None:
                fn = Func(_bound(receiver, name), method.params, None, method.result)
                return self.eval_call(dot, fn, name, node, args, final)
            if name in receiver.go_fields:
                if has_args:
                    self.fail(f"{name} has arguments but cannot be invoked as function")
                return receiver.go_field(name)
        elif isinstance(receiver, dict):
            if has_args:
                self.fail(f"{name} is not a method but has arguments")
            return receiver.get(name, MISSING)
        self.fail(f"can't evaluate field {name} in type {type_name(receiver)}")

    def eval_call(
        self,
        dot: Any,
        fn: Func,
        name: str,
        node: Node,
        args: list[Node] | None,
        final: Any,
    ) -> Any:
        argnodes = args[1:] if args else []
        num_in = len(argnodes) + (final is not NO_FINAL)
        fixed = fn.params
        if fn.variadic is not None:
            if num_in < len(fixed):
                self.fail(
                    f"wrong number of args for {name}: want at least {len(fixed)} "
                    f"got {len(argnodes)}"
                )
        elif num_in != len(fixed):
            self.fail(f"wrong number of args for {name}: want {len(fixed)} got {num_in}")
        if name in ("and", "or") and fn.variadic is VALUE:
            return self._and_or(dot, name == "or", argnodes, final)
        argv = [
            self.eval_arg(dot, fixed[i] if i < len(fixed) else fn.variadic or ANY, a)
            for i, a in enumerate(argnodes)
        ]
        if final is not NO_FINAL:
            typ = fixed[len(argv)] if len(argv) < len(fixed) else fn.variadic or ANY
            argv.append(self.validate(final, typ))
        try:
            return fn.call(*argv)
        except FuncError as exc:
            self.at(node)
            self.fail(f"error calling {name}: {exc}")

    def _and_or(self, dot: Any, is_or: bool, argnodes: list[Node], final: Any) -> Any:
        value: Any = MISSING
        for a in argnodes:
            value = self.eval_arg(dot, VALUE, a)
            if is_true(value) == is_or:
                return value
        if final is not NO_FINAL:
            value = self.validate(final, VALUE)
        return value

    def eval_arg(self, dot: Any, typ: GoType, node: Node) -> Any:
        self.at(node)
        if isinstance(node, DotNode):
            return self.validate(dot, typ)
        if isinstance(node, NilNode):
            if typ.kind in ("any", "value"):
                return None if typ.kind == "any" else MISSING
            self.fail(f"cannot assign nil to {typ}")
        if isinstance(node, FieldNode):
            value = self.eval_field_chain(dot, dot, node, node.ident, [node], NO_FINAL)
            return self.validate(value, typ)
        if isinstance(node, VariableNode):
            return self.validate(self.eval_variable(dot, node, None, NO_FINAL), typ)
        if isinstance(node, PipeNode):
            return self.validate(self.eval_pipeline(dot, node), typ)
        if isinstance(node, IdentifierNode):
            return self.validate(self.eval_function(dot, node, node, None, NO_FINAL), typ)
        if isinstance(node, ChainNode):
            return self.validate(self.eval_chain(dot, node, None, NO_FINAL), typ)
        return self.literal(typ, node)

    def literal(self, typ: GoType, node: Node) -> Any:
        if typ.kind in ("any", "value"):
            if isinstance(node, (BoolNode, NumberNode)):
                return node.value
            if isinstance(node, StringNode):
                return node.text
        elif typ is STRING:
            if isinstance(node, StringNode):
                return node.text
            self.fail(f"expected string; found {node}")
        elif typ is INT:
            if isinstance(node, NumberNode) and node.integer is not None:
                return node.integer
            self.fail(f"expected integer; found {node}")
        elif typ is BOOL:
            if isinstance(node, BoolNode):
                return node.value
            self.fail(f"expected bool; found {node}")
        self.fail(f"can't handle {node} for arg of type {typ}")

    def validate(self, value: Any, typ: GoType) -> Any:
        if value is MISSING or value is None:
            if typ.kind == "any":
                return None
            if typ.kind == "value":
                return MISSING
            self.fail(f"invalid value; expected {typ}")
        if typ.kind in ("any", "value"):
            return value
        ok = {
            "string": isinstance(value, str),
            "int": isinstance(value, int) and not isinstance(value, (bool, Uint)),
            "bool": isinstance(value, bool),
        }.get(typ.name, True)
        if not ok:
            self.fail(f"wrong type for value; expected {typ}; got {type_name(value)}")
        return value


def _bound(receiver: Struct, name: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        return receiver.go_call(name, list(args))

    return call
