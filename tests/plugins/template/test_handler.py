"""Handler of *template*: CoreDNS's README examples and handler tests, as written, in tables.

The next plugin is a stub that answers REFUSED with a TXT "next" record, so passing a query on
is visible. Records are compared as dnspython writes them after a round trip through the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import pytest
from dnslib import RR, TXT, DNSLabel
from prometheus_client import REGISTRY

from dnsd.errors import PluginError
from dnsd.plugins.template import setup
from dnsd.plugins.template.handler import Template, matching_zone
from dnsd.reply import Reply
from dnsd.request import Request
from dnsd.testing import setup_controller
from dnsd.wire import parse_query

# CoreDNS's README examples, as written ({$HOSTNAME} filled in, forward left out).
CONFIGS = {
    "nxdomain": """. {
    template ANY ANY {
      rcode NXDOMAIN
    }
}""",
    "soa-ns": """engineering.coredns.io. {
    template IN SOA {
      match ^engineering\\.coredns\\.io\\.$
      answer "{{ .Zone }} 3600 IN SOA ns1.{{ .Zone }} admin.{{ .Zone }} (1 60 120 86400 3600)"
      fallthrough
    }
    template IN SOA {
      authority "{{ .Zone }} 3600 IN SOA ns.engineering.coredns.io. engineering.coredns.io. (1 60 120 86400 3600)"
    }
    template IN NS {
      match ^engineering\\.coredns\\.io\\.$
      answer "{{ .Zone }} 900 IN NS ns1.engineering.coredns.io."
      answer "{{ .Zone }} 900 IN NS ns2.engineering.coredns.io."
      fallthrough
    }
    template IN NS {
      authority "{{ .Zone }} 3600 IN SOA ns.engineering.coredns.io. engineering.coredns.io. (1 60 120 86400 3600)"
    }
}""",  # noqa: E501 - Corefile lines as written
    "invalid": """. {
    template ANY ANY invalid {
      rcode NXDOMAIN
      authority "invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)"
      ederror 21 "Blocked according to RFC2606"
    }
}""",
    "search-zone": """. {
    template IN ANY example.com.dc1.example.com {
      rcode NXDOMAIN
      authority "{{ .Zone }} 60 IN SOA ns.example.com hostmaster.example.com (1 60 60 60 60)"
    }
}""",
    "search-regex": """. {
    template IN ANY example.com {
      match "example\\.com\\.(dc1\\.example\\.com\\.)$"
      rcode NXDOMAIN
      authority "{{ index .Match 1 }} 60 IN SOA ns.{{ index .Match 1 }} hostmaster.{{ index .Match 1 }} (1 60 60 60 60)"
      fallthrough
    }
}""",  # noqa: E501 - Corefile lines as written
    "a-ptr": """. {
    template IN A example {
      match (^|[.])ip-(?P<a>[0-9]*)-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$
      answer "{{ .Name }} 60 IN A {{ .Group.a }}.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
      fallthrough
    }
    template IN PTR in-addr.arpa {
      match ^(?P<d>[0-9]*)[.](?P<c>[0-9]*)[.](?P<b>[0-9]*)[.](?P<a>[0-9]*)[.]in-addr[.]arpa[.]$
      answer "{{ .Name }} 60 IN PTR ip-{{ .Group.a }}-{{ .Group.b }}-{{ .Group.c }}-{{ .Group.d }}.example."
    }
}""",  # noqa: E501 - Corefile lines as written
    "parseint": """. {
    template IN A example {
      match "^ip0a(?P<b>[a-f0-9]{2})(?P<c>[a-f0-9]{2})(?P<d>[a-f0-9]{2})[.]example[.]$"
      answer "{{ .Name }} 60 IN A 10.{{ parseInt .Group.b 16 8 }}.{{ parseInt .Group.c 16 8 }}.{{ parseInt .Group.d 16 8 }}"
      fallthrough
    }
}""",  # noqa: E501 - Corefile lines as written
    "multi-pattern": """. {
    template IN A example {
      match "^ip-(?P<a>10)-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]dc[.]example[.]$"
      match "^(?P<a>[0-9]*)[.](?P<b>[0-9]*)[.](?P<c>[0-9]*)[.](?P<d>[0-9]*)[.]ext[.]example[.]$"
      answer "{{ .Name }} 60 IN A {{ .Group.a}}.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
      fallthrough
    }
}""",
    "a-mx-ns": """. {
    template IN A example {
      match ^ip-10-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$
      answer "{{ .Name }} 60 IN A 10.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
      authority  "example. 60 IN NS ns0.example."
      authority  "example. 60 IN NS ns1.example."
      additional "ns0.example. 60 IN A 203.0.113.8"
      additional "ns1.example. 60 IN A 198.51.100.8"
      fallthrough
    }
    template IN MX example {
      match ^ip-10-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$
      answer "{{ .Name }} 60 IN MX 10 {{ .Name }}"
      additional "{{ .Name }} 60 IN A 10.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
      authority  "example. 60 IN NS ns0.example."
      authority  "example. 60 IN NS ns1.example."
      additional "ns0.example. 60 IN A 203.0.113.8"
      additional "ns1.example. 60 IN A 198.51.100.8"
      fallthrough
    }
}""",
    "cname": """. {
  template IN ANY foogle.com {
    match "^foogle\\.com\\.$"
    answer "foogle.com 60 IN CNAME google.com"
  }
}""",
    # CoreDNS's TestMultiSection, server block test.
    "multi-section": """test. {
    template IN A {
        rcode REFUSED
    }
    template IN TXT {
        match "$^"
        rcode SERVFAIL
        fallthrough
    }
    template CH TXT coredns.invalid {
        answer "{{ .Name }} 60 CH TXT \\"test\\""
    }
    template IN A example {
        match ^ip-10-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$
        answer "{{ .Name }} 60 IN A 10.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
        fallthrough
    }
    template IN MX example {
        match ^ip-10-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$
        answer "{{ .Name }} 60 IN MX 10 {{ .Name }}"
        additional "{{ .Name }} 60 IN A 10.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
    }
}""",
    "aaaa": """. {
    template ANY AAAA {
        rcode NOERROR
    }
}""",
    "broken": """. {
    template ANY ANY {
        match [.]example[.]$
        answer "{{ .Name }} 60 IN TXT \\"{{ index .Match 2 }}\\""
    }
}""",
    "non-rr": """. {
    template ANY ANY {
        match [.]example[.]$
        additional "{{ .Name }}"
    }
}""",
    "servfail": """. {
    template ANY ANY {
        rcode SERVFAIL
    }
}""",
    "no-fallthrough": """. {
    template IN A example {
        match ^www[.]
        answer "{{ .Name }} 60 IN A 10.0.0.1"
    }
}""",
    "fallthrough-zones": """. {
    template IN A . {
        match ^www[.]
        answer "{{ .Name }} 60 IN A 10.0.0.1"
        fallthrough example.org
    }
}""",
    "data": """. {
    template ANY ANY data.test {
        answer "{{ .Name }} 60 IN TXT {{ .Zone }} {{ .Class }} {{ .Type }} \\"{{ .Regex }}\\" {{ .Question.Name }} {{ .Question.Qtype }} {{ .Message.Id }} {{ .Message.RecursionDesired }} {{ .Remote }} \\"{{ .Meta \\"x/y\\" }}\\""
    }
}""",  # noqa: E501 - Corefile lines as written
    "badcookie": """. {
    template IN A {
        rcode BADCOOKIE
    }
}""",
    "several-zones": """. {
    template IN TXT example.org sub.example.org {
        answer "{{ .Name }} 60 IN TXT {{ .Zone }}"
    }
}""",
}


def handler(config: str) -> Template:
    text = CONFIGS[config]
    key = text.split(" ", 1)[0]
    c = setup_controller(text + "\n", "template", zones=[key if key.endswith(".") else key + "."])
    setup(c)
    (found,) = c.block.handlers
    assert isinstance(found, Template)
    return found


def request(qname: str, qtype: str, qclass: str = "IN", edns: bool = False) -> Request:
    q = dns.message.make_query(qname, qtype, qclass, use_edns=0 if edns else False)
    q.id = 4242
    req = parse_query(q.to_wire(), Request).init("192.0.2.7", 5353, "udp", "::", "dns://:53")
    req.meta["x/y"] = lambda: "meta-value"
    return req


async def next_plugin(req: Request) -> Reply | None:
    msg = req.reply(rcode=dns.rcode.REFUSED)
    msg.add_answer(RR(DNSLabel(list(req.labels)), 16, 1, 1, TXT("next")))
    return Reply(msg)


@dataclass(frozen=True)
class Case:
    id: str
    config: str
    qname: str
    qtype: str
    rcode: str = "NOERROR"
    answer: list[str] = field(default_factory=list)
    ns: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    qclass: str = "IN"
    aa: bool = True
    edns: bool = False


NEXT = "next"  # the stub's answer: the query was passed on


def nxt(qname: str) -> list[str]:
    return [f'{qname} 1 IN TXT "{NEXT}"']


SOA_ENG = (
    "engineering.coredns.io. 3600 IN SOA ns.engineering.coredns.io. engineering.coredns.io. "
    "1 60 120 86400 3600"
)

CASES = [
    Case("nxdomain", "nxdomain", "anything.org.", "A", "NXDOMAIN"),
    Case("nxdomain-ch", "nxdomain", "version.bind.", "TXT", "NXDOMAIN", qclass="CH"),
    Case(
        "soa-apex",
        "soa-ns",
        "engineering.coredns.io.",
        "SOA",
        answer=[
            "engineering.coredns.io. 3600 IN SOA ns1.engineering.coredns.io. "
            "admin.engineering.coredns.io. 1 60 120 86400 3600"
        ],
    ),
    Case("soa-sub", "soa-ns", "x.engineering.coredns.io.", "SOA", ns=[SOA_ENG]),
    Case(
        "ns-apex",
        "soa-ns",
        "engineering.coredns.io.",
        "NS",
        answer=[
            "engineering.coredns.io. 900 IN NS ns1.engineering.coredns.io.",
            "engineering.coredns.io. 900 IN NS ns2.engineering.coredns.io.",
        ],
    ),
    Case("ns-sub", "soa-ns", "x.engineering.coredns.io.", "NS", ns=[SOA_ENG]),
    Case(
        "soa-ns-other-type",
        "soa-ns",
        "engineering.coredns.io.",
        "A",
        "REFUSED",
        nxt("engineering.coredns.io."),
        aa=False,
    ),
    Case(
        "invalid",
        "invalid",
        "test.invalid.",
        "MX",
        "NXDOMAIN",
        ns=["invalid. 60 IN SOA ns.invalid. hostmaster.invalid. 1 60 60 60 60"],
    ),
    Case(
        "invalid-ch",
        "invalid",
        "test.invalid.",
        "TXT",
        "NXDOMAIN",
        ns=["invalid. 60 CH SOA ns.invalid. hostmaster.invalid. 1 60 60 60 60"],
        qclass="CH",
    ),
    Case("invalid-other", "invalid", "example.org.", "A", "REFUSED", nxt("example.org."), aa=False),
    Case(
        "search-zone",
        "search-zone",
        "something.example.com.dc1.example.com.",
        "A",
        "NXDOMAIN",
        ns=[
            "example.com.dc1.example.com. 60 IN SOA ns.example.com. hostmaster.example.com. "
            "1 60 60 60 60"
        ],
    ),
    Case(
        "search-zone-other",
        "search-zone",
        "www.example.com.",
        "A",
        "REFUSED",
        nxt("www.example.com."),
        aa=False,
    ),
    Case(
        "search-regex",
        "search-regex",
        "something.example.com.dc1.example.com.",
        "AAAA",
        "NXDOMAIN",
        ns=[
            "dc1.example.com. 60 IN SOA ns.dc1.example.com. hostmaster.dc1.example.com. "
            "1 60 60 60 60"
        ],
    ),
    Case(
        "search-regex-through",
        "search-regex",
        "www.example.com.",
        "A",
        "REFUSED",
        nxt("www.example.com."),
        aa=False,
    ),
    Case(
        "a",
        "a-ptr",
        "ip-10-95-12-8.example.",
        "A",
        answer=["ip-10-95-12-8.example. 60 IN A 10.95.12.8"],
    ),
    Case(
        "a-wildcard",
        "a-ptr",
        "www.ip-10-1-2-3.example.",
        "A",
        answer=["www.ip-10-1-2-3.example. 60 IN A 10.1.2.3"],
    ),
    Case(
        "a-case",
        "a-ptr",
        "IP-10-1-2-3.Example.",
        "A",
        answer=["ip-10-1-2-3.example. 60 IN A 10.1.2.3"],
    ),
    Case("a-through", "a-ptr", "www.example.", "A", "REFUSED", nxt("www.example."), aa=False),
    Case(
        "ptr",
        "a-ptr",
        "8.12.95.10.in-addr.arpa.",
        "PTR",
        answer=["8.12.95.10.in-addr.arpa. 60 IN PTR ip-10-95-12-8.example."],
    ),
    Case("ptr-no-match", "a-ptr", "12.95.10.in-addr.arpa.", "PTR", "SERVFAIL", aa=False),
    Case(
        "parseint",
        "parseint",
        "ip0a7b7b7b.example.",
        "A",
        answer=["ip0a7b7b7b.example. 60 IN A 10.123.123.123"],
    ),
    Case(
        "multi-dc",
        "multi-pattern",
        "ip-10-1-2-3.dc.example.",
        "A",
        answer=["ip-10-1-2-3.dc.example. 60 IN A 10.1.2.3"],
    ),
    Case(
        "multi-ext",
        "multi-pattern",
        "1.2.3.4.ext.example.",
        "A",
        answer=["1.2.3.4.ext.example. 60 IN A 1.2.3.4"],
    ),
    Case(
        "a-with-ns",
        "a-mx-ns",
        "ip-10-1-2-3.example.",
        "A",
        answer=["ip-10-1-2-3.example. 60 IN A 10.1.2.3"],
        ns=["example. 60 IN NS ns0.example.", "example. 60 IN NS ns1.example."],
        extra=["ns0.example. 60 IN A 203.0.113.8", "ns1.example. 60 IN A 198.51.100.8"],
    ),
    Case(
        "mx-with-ns",
        "a-mx-ns",
        "ip-10-1-2-3.example.",
        "MX",
        answer=["ip-10-1-2-3.example. 60 IN MX 10 ip-10-1-2-3.example."],
        ns=["example. 60 IN NS ns0.example.", "example. 60 IN NS ns1.example."],
        extra=[
            "ip-10-1-2-3.example. 60 IN A 10.1.2.3",
            "ns0.example. 60 IN A 203.0.113.8",
            "ns1.example. 60 IN A 198.51.100.8",
        ],
    ),
    Case("cname", "cname", "foogle.com.", "A", answer=["foogle.com. 60 IN CNAME google.com."]),
    Case("cname-sub", "cname", "www.foogle.com.", "A", "SERVFAIL", aa=False),
    # CoreDNS's TestMultiSection
    Case("multi-refused", "multi-section", "some.test.", "A", "REFUSED"),
    Case(
        "multi-txt-through",
        "multi-section",
        "some.test.",
        "TXT",
        "REFUSED",
        nxt("some.test."),
        aa=False,
    ),
    Case(
        "multi-ch-txt",
        "multi-section",
        "coredns.invalid.",
        "TXT",
        answer=['coredns.invalid. 60 CH TXT "test"'],
        qclass="CH",
    ),
    # CoreDNS's TestHandler
    Case("aaaa-nodata", "aaaa", "web.demo.svc.cluster.local.", "AAAA"),
    Case("aaaa-any", "aaaa", "web.demo.svc.cluster.local.", "ANY"),
    Case(
        "aaaa-a-through",
        "aaaa",
        "web.demo.svc.cluster.local.",
        "A",
        "REFUSED",
        nxt("web.demo.svc.cluster.local."),
        aa=False,
    ),
    Case("servfail", "servfail", "test.invalid.", "A", "SERVFAIL", aa=False),
    Case("no-fallthrough", "no-fallthrough", "mail.example.", "A", "SERVFAIL", aa=False),
    Case(
        "no-fallthrough-out-of-zone",
        "no-fallthrough",
        "mail.example.org.",
        "A",
        "REFUSED",
        nxt("mail.example.org."),
        aa=False,
    ),
    Case(
        "fallthrough-zone-covered",
        "fallthrough-zones",
        "mail.example.org.",
        "A",
        "REFUSED",
        nxt("mail.example.org."),
        aa=False,
    ),
    Case(
        "fallthrough-zone-not-covered",
        "fallthrough-zones",
        "mail.example.net.",
        "A",
        "SERVFAIL",
        aa=False,
    ),
    Case(
        "data",
        "data",
        "Some.Data.Test.",
        "ANY",
        answer=[
            'some.data.test. 60 IN TXT "data.test." "IN" "ANY" ".*" "Some.Data.Test." "255" '
            '"4242" "true" "192.0.2.7" "meta-value"'
        ],
    ),
    Case("badcookie", "badcookie", "x.org.", "A", "BADCOOKIE", edns=True),
    Case(
        "most-specific-zone",
        "several-zones",
        "a.sub.example.org.",
        "TXT",
        answer=['a.sub.example.org. 60 IN TXT "sub.example.org."'],
    ),
    Case(
        "zone",
        "several-zones",
        "a.example.org.",
        "TXT",
        answer=['a.example.org. 60 IN TXT "example.org."'],
    ),
]


def lines(section: list[dns.rrset.RRset]) -> list[str]:
    return [line for rrset in section for line in rrset.to_text().splitlines()]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_handler(case: Case) -> None:
    req = request(case.qname, case.qtype, case.qclass, case.edns)
    reply = await handler(case.config).serve(req, next_plugin)
    assert reply is not None
    msg = dns.message.from_wire(bytes(reply.msg.pack()))
    assert dns.rcode.to_text(msg.rcode()) == case.rcode
    assert lines(msg.answer) == case.answer
    assert lines(msg.authority) == case.ns
    assert lines(msg.additional) == case.extra
    assert bool(msg.flags & dns.flags.AA) == case.aa
    assert str(msg.question[0].name) == case.qname  # the question as asked


@pytest.mark.parametrize(
    ("config", "qname", "error"),
    [
        (
            "broken",
            "test.example.",
            'template: answer:1:26: executing "answer" at <index .Match 2>: error calling index: '
            "index out of range: 2",
        ),
        ("non-rr", "test.example.", "bad resource record 'test.example.': the record has no type"),
    ],
)
async def test_failures_are_servfail_errors_and_counted(
    config: str, qname: str, error: str
) -> None:
    section = "answer" if config == "broken" else "additional"
    metric = (
        "coredns_template_template_failures_total"
        if config == "broken"
        else "coredns_template_rr_failures_total"
    )
    tmpl = handler(config)
    rule = tmpl.rules[0]
    labels = {
        "server": "dns://:53",
        "zone": ".",
        "view": "",
        "class": "IN",
        "type": "TXT",
        "section": section,
        "template": rule.templates[0].label,
    }
    before = REGISTRY.get_sample_value(metric, labels) or 0.0
    with pytest.raises(PluginError) as info:
        await tmpl.serve(request(qname, "TXT"), next_plugin)
    assert str(info.value) == error
    assert REGISTRY.get_sample_value(metric, labels) == before + 1


async def test_ederror_goes_in_the_opt() -> None:
    reply = await handler("invalid").serve(request("x.invalid.", "A", edns=True), next_plugin)
    assert reply is not None
    msg = dns.message.from_wire(bytes(reply.msg.pack()))
    (ede,) = msg.options
    assert isinstance(ede, dns.edns.EDEOption)
    assert (ede.code, ede.text) == (21, "Blocked according to RFC2606")


async def test_matches_are_counted_with_zone_class_and_type() -> None:
    labels = {"server": "dns://:53", "zone": "invalid.", "view": "", "class": "CH", "type": "TXT"}
    before = REGISTRY.get_sample_value("coredns_template_matches_total", labels) or 0.0
    await handler("invalid").serve(request("a.invalid.", "TXT", "CH"), next_plugin)
    assert REGISTRY.get_sample_value("coredns_template_matches_total", labels) == before + 1


async def test_memo_offered_only_for_answers_of_the_question_alone() -> None:
    aaaa = await handler("aaaa").serve(request("x.org.", "AAAA"), next_plugin)
    assert aaaa is not None and aaaa.memo is not None and aaaa.memo()
    data = await handler("data").serve(request("a.data.test.", "TXT"), next_plugin)
    assert data is not None and data.memo is None  # .Remote, .Meta, .Message: never memoized
    assert handler("aaaa").memo_safe and not handler("data").memo_safe


@pytest.mark.parametrize(
    ("zones", "name", "want"),
    [
        ((".",), "a.b.", "."),
        (("b.", "a.b."), "x.a.b.", "a.b."),
        (("a.b.",), "a.b.", "a.b."),
        (("a.b.",), "xa.b.", None),
        ((), "a.", None),
    ],
)
def test_matching_zone(zones: tuple[str, ...], name: str, want: str | None) -> None:
    assert matching_zone(zones, name) == want
