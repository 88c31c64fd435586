"""The parser of Go's text/template (``text/template/parse/parse.go``), error for error.

Supported: text, ``{{pipeline}}``, comments, trim markers, ``if``/``else if``/``else``,
``with``/``else with``/``else``, ``range`` (with ``$i, $e :=``, ``break``, ``continue``,
``else``), variables (``$x := ...``, ``$x = ...``, ``$``), fields, parenthesized pipelines
with fields, and the functions the caller names. ``define``, ``template`` and ``block`` name
other templates, which an RR template cannot have: they are refused here.
"""

from __future__ import annotations

from collections.abc import Collection

from dnsd.plugins.template.gotemplate import literals
from dnsd.plugins.template.gotemplate.lex import Item, LexError, lex
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

#: Items that may start a command.
_OPERANDS = frozenset(
    {"bool", "char", "dot", "field", "identifier", "number", "raw", "string", "variable",
     "lparen"}
)  # fmt: skip


class ParseError(Exception):
    """A syntax error at byte offset ``pos`` of the template text."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


class _End(Node):
    def __str__(self) -> str:
        return "{{end}}"


class _Else(Node):
    def __str__(self) -> str:
        return "{{else}}"


def parse(text: str, functions: Collection[str]) -> ListNode:
    """The tree of ``text``; ``functions`` are the names templates may call."""
    try:
        items = lex(text)
    except LexError as exc:
        raise ParseError(str(exc), exc.pos) from None
    return _Parser(items, functions).parse()


def describe(item: Item) -> str:
    """An item as Go's parser names it in ``unexpected X in Y``."""
    if item.kind == "eof":
        return "EOF"
    if item.kind == "keyword":
        return f"<{item.value}>"
    value = item.value
    return quote(value[:10]) + "..." if len(value) > 10 else quote(value)


def quote(text: str) -> str:
    """``text`` as Go's ``%q`` writes it (close enough for messages)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x80 else f"\\u{ord(ch):04x}")
    return '"' + "".join(out) + '"'


class _Parser:
    def __init__(self, items: list[Item], functions: Collection[str]) -> None:
        self.items = items
        self.i = 0
        self.functions = functions
        self.vars = ["$"]
        self.range_depth = 0

    # -- items ------------------------------------------------------------------------------
    def next(self) -> Item:
        item = self.items[min(self.i, len(self.items) - 1)]
        self.i += 1
        return item

    def peek(self) -> Item:
        return self.items[min(self.i, len(self.items) - 1)]

    def backup(self, n: int = 1) -> None:
        self.i -= n

    def next_non_space(self) -> Item:
        item = self.next()
        while item.kind == "space":
            item = self.next()
        return item

    def peek_non_space(self) -> Item:
        item = self.next_non_space()
        self.backup()
        return item

    def error(self, message: str) -> ParseError:
        """``message`` at the next item that is not a space."""
        return ParseError(message, self.peek_non_space().pos)

    def unexpected(self, item: Item, context: str) -> ParseError:
        return ParseError(f"unexpected {describe(item)} in {context}", item.pos)

    def expect(self, kind: str, context: str) -> Item:
        item = self.next_non_space()
        if item.kind != kind:
            raise self.unexpected(item, context)
        return item

    # -- structure --------------------------------------------------------------------------
    def parse(self) -> ListNode:
        root = ListNode(0)
        while self.peek().kind != "eof":
            node = self.text_or_action()
            if isinstance(node, (_End, _Else)):
                raise ParseError(f"unexpected {node}", node.pos)
            root.nodes.append(node)
        return root

    def item_list(self) -> tuple[ListNode, Node]:
        lst = ListNode(self.peek_non_space().pos)
        while self.peek_non_space().kind != "eof":
            node = self.text_or_action()
            if isinstance(node, (_End, _Else)):
                return lst, node
            lst.nodes.append(node)
        raise self.error("unexpected EOF")

    def text_or_action(self) -> Node:
        item = self.next_non_space()
        if item.kind == "text":
            return TextNode(item.pos, item.value)
        if item.kind == "left":
            return self.action()
        raise self.unexpected(item, "input")

    def action(self) -> Node:
        item = self.next_non_space()
        if item.kind == "keyword":
            word = item.value
            if word == "break" or word == "continue":
                return self.loop_control(item)
            if word == "else":
                return self.else_control()
            if word == "end":
                return _End(self.expect("right", "end").pos)
            if word in ("if", "range", "with"):
                return self.branch(word, item.pos)
            if word in ("template", "define", "block"):
                raise ParseError(
                    f"{{{{{word}}}}} is not supported: an RR template cannot name others",
                    item.pos,
                )
        self.backup()
        start = self.peek()
        return ActionNode(start.pos, self.pipeline("command", "right"))

    def loop_control(self, item: Item) -> Node:
        token = self.next_non_space()
        if token.kind != "right":
            raise self.unexpected(token, f"{{{{{item.value}}}}}")
        if self.range_depth == 0:
            raise ParseError(f"{{{{{item.value}}}}} outside {{{{range}}}}", item.pos)
        return BreakNode(item.pos) if item.value == "break" else ContinueNode(item.pos)

    def else_control(self) -> Node:
        peek = self.peek_non_space()
        if peek.kind == "keyword" and peek.value in ("if", "with"):
            return _Else(peek.pos)  # "{{else if" is "{{else}}{{if"
        return _Else(self.expect("right", "else").pos)

    def branch(self, keyword: str, pos: int) -> BranchNode:
        mark = len(self.vars)
        try:
            pipe = self.pipeline(keyword, "right")
            if keyword == "range":
                self.range_depth += 1
            lst, nxt = self.item_list()
            if keyword == "range":
                self.range_depth -= 1
            else_list: ListNode | None = None
            if isinstance(nxt, _Else):
                peek = self.peek_non_space()
                if keyword in ("if", "with") and peek.kind == "keyword" and peek.value == keyword:
                    self.next_non_space()
                    else_list = ListNode(nxt.pos, [self.branch(keyword, peek.pos)])
                else:
                    else_list, nxt = self.item_list()
                    if not isinstance(nxt, _End):
                        raise ParseError(f"expected end; found {nxt}", nxt.pos)
            return BranchNode(pos, keyword, pipe, lst, else_list)
        finally:
            del self.vars[mark:]

    # -- pipelines --------------------------------------------------------------------------
    def pipeline(self, context: str, end: str) -> PipeNode:
        pipe = PipeNode(self.peek_non_space().pos)
        self.declarations(pipe, context)
        while True:
            item = self.next_non_space()
            if item.kind == end:
                self.check_pipeline(pipe, context, item)
                return pipe
            if item.kind in _OPERANDS or (item.kind == "keyword" and item.value == "nil"):
                self.backup()
                pipe.cmds.append(self.command())
            else:
                raise self.unexpected(item, context)

    def declarations(self, pipe: PipeNode, context: str) -> None:
        while True:
            start = self.i
            var = self.next_non_space()
            if var.kind != "variable":
                self.i = start
                return
            nxt = self.next_non_space()
            if nxt.kind in ("declare", "assign"):
                pipe.is_assign = nxt.kind == "assign"
                if pipe.is_assign and var.value not in self.vars:
                    raise ParseError(f"undefined variable {quote(var.value)}", var.pos)
                pipe.decl.append(VariableNode(var.pos, [var.value]))
                self.vars.append(var.value)
                return
            if nxt.kind == "other" and nxt.value == ",":
                pipe.decl.append(VariableNode(var.pos, [var.value]))
                self.vars.append(var.value)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().kind in ("variable", "right", "rparen"):
                        continue
                    raise self.error("range can only initialize variables")
                raise self.error(f"too many declarations in {context}")
            self.i = start
            return

    def check_pipeline(self, pipe: PipeNode, context: str, end: Item) -> None:
        if not pipe.cmds:
            raise ParseError(f"missing value for {context}", end.pos)
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], (BoolNode, DotNode, NilNode, NumberNode, StringNode)):
                raise ParseError(f"non executable command in pipeline stage {i + 2}", cmd.pos)

    def command(self) -> CommandNode:
        cmd = CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            item = self.next()
            if item.kind == "space":
                continue
            if item.kind in ("right", "rparen"):
                self.backup()
            elif item.kind != "pipe":
                raise self.unexpected(item, "operand")
            break
        if not cmd.args:
            raise ParseError("empty command", cmd.pos)
        return cmd

    def operand(self) -> Node | None:
        node = self.term()
        if node is None or self.peek().kind != "field":
            return node
        fields: list[str] = []
        chain_pos = self.peek().pos  # Go's ChainNode is where its first field is
        while self.peek().kind == "field":
            fields.append(self.next().value[1:])
        if isinstance(node, FieldNode):
            return FieldNode(node.pos, [*node.ident, *fields])
        if isinstance(node, VariableNode):
            return VariableNode(node.pos, [*node.ident, *fields])
        if isinstance(node, (BoolNode, StringNode, NumberNode, NilNode, DotNode)):
            raise ParseError(f"unexpected . after term {quote(str(node))}", node.pos)
        return ChainNode(chain_pos, node, fields)

    def term(self) -> Node | None:
        item = self.next_non_space()
        kind, value, pos = item.kind, item.value, item.pos
        if kind == "identifier":
            if value not in self.functions:
                raise ParseError(f"function {quote(value)} not defined", pos)
            return IdentifierNode(pos, value)
        if kind == "dot":
            return DotNode(pos)
        if kind == "keyword" and value == "nil":
            return NilNode(pos)
        if kind == "variable":
            if value not in self.vars:
                raise ParseError(f"undefined variable {quote(value)}", pos)
            return VariableNode(pos, [value])
        if kind == "field":
            return FieldNode(pos, [value[1:]])
        if kind == "bool":
            return BoolNode(pos, value == "true")
        if kind in ("number", "char"):
            return self.number(item)
        if kind == "lparen":
            return self.pipeline("parenthesized pipeline", "rparen")
        if kind in ("string", "raw"):
            try:
                return StringNode(pos, value, literals.unquote(value))
            except ValueError as exc:
                raise ParseError(str(exc), pos) from None
        self.backup()
        return None

    def number(self, item: Item) -> NumberNode:
        try:
            if item.kind == "char":
                rune = literals.unquote_char(item.value)
                return NumberNode(item.pos, item.value, rune, rune)
            value, integer = literals.number(item.value)
        except ValueError as exc:
            raise ParseError(str(exc), item.pos) from None
        return NumberNode(item.pos, item.value, value, integer)
