"""Handler of *template*: answers from templates, as CoreDNS's ``template.go`` does.

For a name in none of the templates' zones the next plugin answers. Otherwise the templates
are tried in order; one is skipped when the name is outside its zones or the class or type
differ (a template or query of class or type ANY matches any). The first of its regexes that
matches the lowercase name (``example.org.``) decides:

* none matches: the next template when ``fallthrough`` covers the name, else SERVFAIL;
* ``rcode SERVFAIL``: a bare SERVFAIL;
* else an authoritative reply with that rcode and the rendered records: answer, additional,
  authority. A CNAME answer to an A or AAAA query is followed through the server
  (:mod:`dnsd.upstream`) and the target's answer records appended. ``ederror`` adds an RFC
  8914 option (sent when the query had EDNS).

A template that fails to render, or renders no valid record, counts in
``coredns_template_template_failures_total`` / ``..._rr_failures_total`` and the query gets
SERVFAIL, logged by *errors*. When no template goes on past the question (``.Remote``,
``.Meta``, ``.Message`` or the data as a whole), the reply is offered as an answer memo
(:mod:`dnsd.fastpath`): the next identical query is served before the chain and still counted
in ``coredns_template_matches_total``; and the handler is memo-safe (passing a query on
depends on its name, class and type only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dnslib import EDNS0, DNSRecord, EDNSOption

from dnsd.encode import class_name, set_rcode, type_name
from dnsd.errors import PluginError
from dnsd.plugin import Next
from dnsd.plugins.template import metrics
from dnsd.plugins.template.data import Data, Message, Question, QuestionValue
from dnsd.plugins.template.gotemplate import ExecError
from dnsd.plugins.template.gotemplate import Template as GoTemplate
from dnsd.plugins.template.rr import RRError, parse_rr
from dnsd.plugins.template.setup import CLASS_ANY, NAME, TYPE_ANY, Regex, Rule, TemplateOptions
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.upstream import lookup

SERVFAIL = 2
TYPE_A, TYPE_AAAA = 1, 28
EDE_OPTION = 15
#: Data fields whose value is not in the query's bytes after the ID.
CLIENT_FIELDS = frozenset({"Remote", "Meta", "Message", "*"})


def matching_zone(zones: Sequence[str], name: str) -> str | None:
    """The longest of ``zones`` that ``name`` is in (CoreDNS's ``Zones.Matches``)."""
    best: str | None = None
    for zone in zones:
        if zone == "." or name == zone or name.endswith("." + zone):
            if best is None or len(zone) > len(best):
                best = zone
    return best


def reads_client(rule: Rule) -> bool:
    """True when a template of ``rule`` reads more than the question."""
    return any(t.reads & CLIENT_FIELDS for t in rule.templates)


class Template:
    """Every template of one server block."""

    name = NAME

    def __init__(self, opts: TemplateOptions) -> None:
        self.opts = opts
        self.rules = opts.rules
        self.zones = opts.zones
        self._memo = {id(rule): not reads_client(rule) for rule in self.rules}
        #: Passing on depends on the question alone; answers that read the client are never
        #: remembered. Still, with such a template in the block, memos are left off (the
        #: issue's rule: a plugin that looks at the client is never memo-safe).
        self.memo_safe = all(self._memo.values())

    async def serve(self, req: Request, next: Next) -> Reply | None:
        name = req.name_lower
        if matching_zone(self.zones, name) is None:
            return await next(req)
        for rule in self.rules:
            zone = matching_zone(rule.zones, name)
            if zone is None or not _class_type(rule, req):
                continue
            found = _search(rule.regex, name)
            if found is None:
                if rule.fallthrough.through(name):
                    continue
                return Reply(req.reply(rcode=SERVFAIL))
            regex, match = found
            data = _data(req, rule, zone, regex, match)
            counter = metrics.matches.labels(req.server, zone, "", data.Class, data.Type)
            counter.inc()
            if rule.rcode == SERVFAIL:
                return Reply(req.reply(rcode=SERVFAIL))
            return await self._answer(req, rule, data, counter.inc)
        return await next(req)

    async def _answer(
        self, req: Request, rule: Rule, data: Data, count: Callable[[], None]
    ) -> Reply:
        msg = req.reply(aa=True)
        if rule.rcode > 15:
            set_rcode(msg, rule.rcode)
        else:
            msg.header.rcode = rule.rcode
        followed = False
        for tmpl in rule.answer:
            record = _render(req, "answer", tmpl, data)
            msg.add_answer(record.rr)
            if record.cname is not None and req.qtype in (TYPE_A, TYPE_AAAA):
                followed = True
                await _follow(req, msg, record.cname)
        for tmpl in rule.additional:
            msg.add_ar(_render(req, "additional", tmpl, data).rr)
        for tmpl in rule.authority:
            msg.add_auth(_render(req, "authority", tmpl, data).rr)
        if rule.ederror is not None:
            payload = rule.ederror.code.to_bytes(2, "big") + rule.ederror.reason.encode()
            msg.add_ar(EDNS0(udp_len=4096, flags="do", opts=[EDNSOption(EDE_OPTION, payload)]))
        reply = Reply(msg)
        if self._memo[id(rule)] and not followed:

            def memo() -> bool:
                count()  # a memo hit is a match too
                return True

            reply.memo = memo
        return reply


def _class_type(rule: Rule, req: Request) -> bool:
    if rule.qclass != CLASS_ANY and req.qclass != CLASS_ANY and req.qclass != rule.qclass:
        return False
    return not (rule.qtype != TYPE_ANY and req.qtype != TYPE_ANY and req.qtype != rule.qtype)


def _search(regexes: Sequence[Regex], name: str) -> tuple[Regex, Any] | None:
    for regex in regexes:
        match = regex.pattern.search(name)
        if match is not None:
            return regex, match
    return None


def _data(req: Request, rule: Rule, zone: str, regex: Regex, match: Any) -> Data:
    groups = [match.group(0), *("" if g is None else g for g in match.groups())]
    group = {str(i): g for i, g in enumerate(groups)}
    for key, index in regex.pattern.groupindex.items():
        group[key] = groups[index]
    qclass = class_name(req.qclass if req.qclass != CLASS_ANY else rule.qclass)
    qtype = type_name(req.qtype if req.qtype != TYPE_ANY else rule.qtype)

    def message() -> Message:
        return Message(req.id, req.flags, QuestionValue(req.qname, req.qtype, req.qclass))

    return Data(
        zone=zone,
        name=req.name_lower,
        regex=regex.source,
        match=groups,
        group=group,
        qclass=qclass,
        qtype=qtype,
        message=message,
        question=Question(req.qname, req.qtype, req.qclass),
        remote=req.client,
        meta=req.meta,
    )


def _render(req: Request, section: str, tmpl: GoTemplate, data: Data) -> Any:
    labels = (req.server, data.Zone, "", data.Class, data.Type, section, tmpl.label)
    try:
        text = tmpl.execute(data)
    except ExecError as exc:
        metrics.template_failures.labels(*labels).inc()
        raise PluginError(str(exc)) from None
    try:
        return parse_rr(text)
    except RRError as exc:
        metrics.rr_failures.labels(*labels).inc()
        raise PluginError(str(exc)) from None


async def _follow(req: Request, msg: DNSRecord, target: str) -> None:
    """Append the answer records of ``target`` (a CNAME's), resolved through the server."""
    found = await lookup(req, target, req.qtype)
    if found is None:
        return
    msg.header.tc = found.header.tc
    for rr in found.rr:
        msg.add_answer(rr)
