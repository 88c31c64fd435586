"""Handler of *rewrite*: the query rewritten on the way in, the reply on the way out.

Request rules run in Corefile order on a :class:`~dnsd.plugins.rewrite.state.State`;
a rule that applies ends the list unless its mode is ``continue``. When the
question or the EDNS options changed, the rest of the chain gets a new query
(new wire bytes, so *cache* keys and *forward* sends the rewritten one). The
reply gets the client's question back, exactly as asked (case included), and
the response rules of the rules that applied, in reverse order.

A rewritten name that is not a valid domain name is a SERVFAIL with the
client's question and the error ``invalid name after rewrite: NAME``, as in
CoreDNS.

Not memo-safe (:mod:`dnsd.fastpath`): rules may depend on the client (EDNS0
``{client_ip}``, ``subnet``), and a reply that was rewritten is a new message
that no memo check vouches for.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from dnsd.errors import PluginError
from dnsd.log import plugin_logger
from dnsd.plugin import Next
from dnsd.plugins.rewrite.names import labels_of
from dnsd.plugins.rewrite.response import ResponseRule, revert
from dnsd.plugins.rewrite.state import STOP, Rule, State
from dnsd.reply import Reply
from dnsd.request import Request

NAME = "rewrite"
log = plugin_logger(NAME)


class Rewrite:
    """Every ``rewrite`` rule of a server block, in Corefile order."""

    name = NAME

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)

    async def serve(self, req: Request, next: Next) -> Reply | None:
        state = State.of(req)
        responses = self.rewrite(state)
        if state.changed():
            sub = state.request()
            if sub is None:
                log.error("Invalid name after rewrite: %s", state.name)
                raise PluginError(f"invalid name after rewrite: {state.name}")
        elif responses:
            sub = req
        else:
            return await next(req)
        reply = await next(sub)
        if reply is None or reply.drop:
            return reply
        if sub is not req:
            reply.memo = None  # the plugin vouched for the rewritten query, not the client's
            if sub.observers():
                req.on_reply(lambda _req, wire, plugin: sub.replied(wire, plugin))
        if not responses and not state.question_changed():
            return reply
        msg = reply.msg if reply.wire is not None else copy.deepcopy(reply.msg)
        msg.questions = [req.question_rr()]
        await revert(msg, responses, sub)
        return Reply(msg, plugin=reply.plugin)

    def rewrite(self, state: State) -> list[ResponseRule]:
        """Apply the request rules; the response rules of those that applied, in order."""
        responses: list[ResponseRule] = []
        for rule in self.rules:
            before = state.name
            result = rule.rewrite(state)
            if result is None:
                continue
            if state.name != before and labels_of(state.name) is None:
                log.error("Invalid name after rewrite: %s", state.name)
                raise PluginError(f"invalid name after rewrite: {state.name}")
            responses.extend(result)
            if rule.mode == STOP:
                break
        return responses
