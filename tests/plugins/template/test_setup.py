"""Setup of *template*: every option and every error message, whole and positioned."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.fall import Fallthrough
from dnsd.plugins.template.data import Data
from dnsd.plugins.template.gotemplate import Template
from dnsd.plugins.template.handler import Template as TemplateHandler
from dnsd.plugins.template.regex import compile_go
from dnsd.plugins.template.setup import (
    ExtendedError,
    Regex,
    Rule,
    TemplateOptions,
    parse,
    setup,
)
from dnsd.testing import check_parse, setup_controller

ANY, IN, CH = 255, 1, 3
A, AAAA, MX, SOA, PTR = 1, 28, 15, 6, 12


def rx(source: str) -> Regex:
    return Regex(source, compile_go(source))


def tmpl(section: str, text: str) -> Template:
    return Template(section, text, Data)


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    want: TemplateOptions | None = None
    error: str | None = None


NAME_A = "{{ .Name }} 60 IN A 10.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
IP_REGEX = "^ip-10-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$"

CASES = [
    SetupCase(
        "aaaa-suppression",
        ". {\n    template ANY AAAA {\n        rcode NOERROR\n    }\n}\n",
        want=TemplateOptions((Rule(ANY, AAAA, (".",)),)),
    ),
    SetupCase(
        "no-block",
        ". {\n    template IN A\n}\n",
        want=TemplateOptions((Rule(IN, A, (".",)),)),
    ),
    SetupCase(
        "server-block-zones",
        "example.org:53 example.net {\n    template IN A\n}\n",
        want=TemplateOptions((Rule(IN, A, ("example.org.", "example.net.")),)),
    ),
    SetupCase(
        "zones-and-cidr",
        ". {\n    template IN PTR Example.ORG 10.0.0.0/24\n}\n",
        want=TemplateOptions((Rule(IN, PTR, ("example.org.", "0.0.10.in-addr.arpa.")),)),
    ),
    SetupCase(
        "every-option",
        ". {\n"
        "    template IN MX example {\n"
        f"        match {IP_REGEX} ^mx[.]\n"
        '        match "^other[.]"\n'
        '        answer "{{ .Name }} 60 IN MX 10 {{ .Name }}" "{{ .Name }} 60 IN MX 20 b."\n'
        f'        additional "{NAME_A}"\n'
        '        authority "example. 60 IN NS ns0.example."\n'
        '        authority "example. 60 IN NS ns1.example."\n'
        "        rcode NXDOMAIN\n"
        '        ederror 15 "Blocked by policy"\n'
        "        fallthrough in-addr.arpa\n"
        "        upstream\n"
        "    }\n"
        "}\n",
        want=TemplateOptions(
            (
                Rule(
                    IN,
                    MX,
                    ("example.",),
                    regex=(rx(IP_REGEX), rx("^mx[.]"), rx("^other[.]")),
                    answer=(
                        tmpl("answer", "{{ .Name }} 60 IN MX 10 {{ .Name }}"),
                        tmpl("answer", "{{ .Name }} 60 IN MX 20 b."),
                    ),
                    additional=(tmpl("additional", NAME_A),),
                    authority=(
                        tmpl("authority", "example. 60 IN NS ns0.example."),
                        tmpl("authority", "example. 60 IN NS ns1.example."),
                    ),
                    rcode=3,
                    ederror=ExtendedError(15, "Blocked by policy"),
                    fallthrough=Fallthrough(("in-addr.arpa.",)),
                ),
            )
        ),
    ),
    SetupCase(
        "several-in-order",
        ". {\n    template IN A example {\n        fallthrough\n    }\n"
        "    template CH ANY {\n        rcode REFUSED\n        ederror 21\n    }\n}\n",
        want=TemplateOptions(
            (
                Rule(IN, A, ("example.",), fallthrough=Fallthrough((".",))),
                Rule(CH, ANY, (".",), rcode=5, ederror=ExtendedError(21)),
            )
        ),
    ),
    SetupCase(
        "rcode-names",
        ". {\n    template IN A a { \n        rcode NOTIMPL\n    }\n"
        "    template IN A b {\n        rcode BADCOOKIE\n    }\n"
        "    template IN A c {\n        rcode BADSIG\n    }\n}\n",
        want=TemplateOptions(
            (
                Rule(IN, A, ("a.",), rcode=4),
                Rule(IN, A, ("b.",), rcode=23),
                Rule(IN, A, ("c.",), rcode=16),
            )
        ),
    ),
    SetupCase(
        "unknown-type-number",
        ". {\n    template IN TYPE65280\n}\n",
        want=TemplateOptions((Rule(IN, 65280, (".",)),)),
    ),
    # errors
    SetupCase(
        "no-args",
        ". {\n    template\n}\n",
        error="Corefile:2: template: wrong argument count or unexpected line ending after "
        "'template'",
    ),
    SetupCase(
        "no-type",
        ". {\n    template IN\n}\n",
        error="Corefile:2: template: wrong argument count or unexpected line ending after 'IN'",
    ),
    SetupCase(
        "bad-class",
        ". {\n    template in A\n}\n",
        error="Corefile:2: template: invalid query class in",
    ),
    SetupCase(
        "bad-type",
        ". {\n    template IN a\n}\n",
        error="Corefile:2: template: invalid query type a",
    ),
    SetupCase(
        "unknown-type",
        ". {\n    template IN BOGUS\n}\n",
        error="Corefile:2: template: invalid query type BOGUS",
    ),
    SetupCase(
        "bad-zone",
        ". {\n    template IN A a..b\n}\n",
        error="Corefile:2: template: zone is not a valid domain name: 'a..b'",
    ),
    SetupCase(
        "match-no-args",
        ". {\n    template IN A {\n        match\n    }\n}\n",
        error="Corefile:3: template: wrong argument count or unexpected line ending after 'match'",
    ),
    SetupCase(
        "match-bad",
        ". {\n    template IN A {\n        match ^ok$ (abc\n    }\n}\n",
        error="Corefile:3: template: could not parse regex: (abc, error parsing regexp: "
        "missing ), unterminated subpattern at position 0",
    ),
    SetupCase(
        "match-lookahead",
        ". {\n    template IN A {\n        match (?=x)\n    }\n}\n",
        error="Corefile:3: template: could not parse regex: (?=x), error parsing regexp: "
        "invalid or unsupported Perl syntax: `(?=`",
    ),
    SetupCase(
        "answer-no-args",
        ". {\n    template IN A {\n        answer\n    }\n}\n",
        error="Corefile:3: template: wrong argument count or unexpected line ending after 'answer'",
    ),
    SetupCase(
        "answer-unknown-field",
        '. {\n    template IN A {\n        answer "{{ .name }} 60 IN A 10.0.0.1"\n    }\n}\n',
        error="Corefile:3: template: could not compile template: answer:1:4: can't evaluate "
        "field name in type *template.templateData",
    ),
    SetupCase(
        "additional-unknown-function",
        '. {\n    template IN A {\n        additional "{{ foo }}"\n    }\n}\n',
        error="Corefile:3: template: could not compile template: additional:1:4: function "
        '"foo" not defined',
    ),
    SetupCase(
        "authority-syntax",
        '. {\n    template IN A {\n\n        authority "{{ if .Name }}"\n    }\n}\n',
        error="Corefile:4: template: could not compile template: authority:1:15: unexpected EOF",
    ),
    SetupCase(
        "parseInt-string-base",
        '. {\n    template IN A {\n        answer "{{ parseInt .Group.b \\"16\\" 8 }}"\n    }\n}\n',
        error="Corefile:3: template: could not compile template: answer:1:22: expected "
        'integer; found "16"',
    ),
    SetupCase(
        "meta-without-name",
        '. {\n    template IN TXT {\n        answer "{{ .Meta }}"\n    }\n}\n',
        error="Corefile:3: template: could not compile template: answer:1:4: wrong number of "
        "args for Meta: want 1 got 0",
    ),
    SetupCase(
        "rcode-no-args",
        ". {\n    template IN A {\n        rcode\n    }\n}\n",
        error="Corefile:3: template: wrong argument count or unexpected line ending after 'rcode'",
    ),
    SetupCase(
        "rcode-two-args",
        ". {\n    template IN A {\n        rcode NXDOMAIN SERVFAIL\n    }\n}\n",
        error="Corefile:3: template: wrong argument count or unexpected line ending after "
        "'SERVFAIL'",
    ),
    SetupCase(
        "rcode-unknown",
        ". {\n    template IN A {\n        rcode nxdomain\n    }\n}\n",
        error="Corefile:3: template: unknown rcode nxdomain",
    ),
    SetupCase(
        "ederror-no-args",
        ". {\n    template IN A {\n        ederror\n    }\n}\n",
        error="Corefile:3: template: wrong argument count or unexpected line ending after "
        "'ederror'",
    ),
    SetupCase(
        "ederror-three-args",
        '. {\n    template IN A {\n        ederror 15 "a" b\n    }\n}\n',
        error="Corefile:3: template: wrong argument count or unexpected line ending after 'b'",
    ),
    SetupCase(
        "ederror-not-a-number",
        ". {\n    template IN A {\n        ederror blocked\n    }\n}\n",
        error="Corefile:3: template: invalid extended DNS error code 'blocked': a number from 0 "
        "to 65535",
    ),
    SetupCase(
        "ederror-too-big",
        ". {\n    template IN A {\n        ederror 65536\n    }\n}\n",
        error="Corefile:3: template: invalid extended DNS error code '65536': a number from 0 "
        "to 65535",
    ),
    SetupCase(
        "fallthrough-bad-zone",
        ". {\n    template IN A {\n        fallthrough a..b\n    }\n}\n",
        error="Corefile:3: template: zone is not a valid domain name: 'a..b'",
    ),
    SetupCase(
        "var",
        '. {\n    template IN A {\n        var ip "10.0.0.1"\n    }\n}\n',
        error="Corefile:3: template: 'var' (expr-lang expressions) is not supported by dnsd; see "
        "its README's Bugs",
    ),
    SetupCase(
        "expr",
        ". {\n    template IN A {\n        expr \"incidr(client_ip(), '10.0.0.0/8')\"\n    }\n}\n",
        error="Corefile:3: template: 'expr' (expr-lang expressions) is not supported by dnsd; "
        "see its README's Bugs",
    ),
    SetupCase(
        "edns-local",
        ". {\n    template IN A {\n        edns local 65001=x\n    }\n}\n",
        error="Corefile:3: template: unknown property 'edns'",
    ),
    SetupCase(
        "second-template-error",
        ". {\n    template IN A {\n        rcode NXDOMAIN\n    }\n    template IN AAA\n}\n",
        error="Corefile:5: template: invalid query type AAA",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_parse(case: SetupCase) -> None:
    check_parse(case.corefile, "template", parse, want=case.want, error=case.error)


def test_options_zones_are_every_templates_zones_once() -> None:
    opts = TemplateOptions(
        (Rule(IN, A, ("b.", "a.")), Rule(IN, AAAA, ("a.", "c.")), Rule(IN, MX, ("b.",)))
    )
    assert opts.zones == ("b.", "a.", "c.")


def test_setup_adds_one_handler_for_every_template() -> None:
    c = setup_controller(
        ". {\n    template IN A a\n    template IN AAAA b\n}\n", "template", zones=["."]
    )
    setup(c)
    (handler,) = c.block.handlers
    assert isinstance(handler, TemplateHandler)
    assert [rule.qtype for rule in handler.rules] == [A, AAAA]
    assert handler.zones == ("a.", "b.")
