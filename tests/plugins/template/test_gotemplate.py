"""The Go template interpreter: output, compile errors and run errors, as Go's text/template.

Expected outputs and messages are Go's (text/template, fmt): the CoreDNS templates users have
in ConfigMaps must render the same bytes here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.plugins.template.gotemplate import ExecError, Template, TemplateError
from dnsd.plugins.template.gotemplate.values import (
    STRING,
    Method,
    Struct,
    map_of,
    slice_of,
    struct_type,
)


class Inner(Struct):
    go_type = "*test.inner"
    go_fields = {"Label": STRING}

    def __init__(self) -> None:
        self.Label = "inner"

    def go_string(self) -> str:
        return "<inner>"


class Data(Struct):
    go_type = "*test.data"
    go_fields = {
        "Name": STRING,
        "Match": slice_of(STRING),
        "Empty": slice_of(STRING),
        "Group": map_of(STRING),
        "Inner": struct_type(Inner),
    }
    go_methods = {"Meta": Method((STRING,), STRING)}

    def __init__(self) -> None:
        self.Name = "ip-10-1-2-3.example."
        self.Match = ["ip-10-1-2-3.example.", "1", "2", ""]
        self.Empty: list[str] = []
        self.Group = {"0": "ip-10-1-2-3.example.", "b": "1", "c": "2", "hex": "7b"}
        self.Inner = Inner()

    def Meta(self, name: str) -> str:  # Go's method name
        return {"kubernetes/client-namespace": "demo"}.get(name, "")


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    want: str


CASES = [
    # text, fields, CoreDNS's documented forms
    Case("text", "plain text", "plain text"),
    Case("field", "{{ .Name }} 60 IN A 10.{{ .Group.b }}", "ip-10-1-2-3.example. 60 IN A 10.1"),
    Case("index-match", "{{ index .Match 1 }}.{{ index .Match 2 }}", "1.2"),
    Case("index-group", '{{ index .Group "c" }}', "2"),
    Case("index-missing-key", '[{{ index .Group "nope" }}]', "[]"),
    Case("missing-key", "{{ .Group.nope }}", "<no value>"),
    Case("missing-key-print", "{{ print .Group.nope }}", "<nil>"),
    Case("empty-group", "[{{ index .Match 3 }}]", "[]"),
    Case("parseInt", "{{ parseInt .Group.hex 16 8 }}", "123"),
    Case("parseInt-base0", '{{ parseInt "0x1f" 0 64 }}', "31"),
    Case("method", '{{ .Meta "kubernetes/client-namespace" }}', "demo"),
    Case("method-unknown", '[{{ .Meta "nope" }}]', "[]"),
    Case("struct-field", "{{ .Inner.Label }}", "inner"),
    Case("stringer", "{{ .Inner }}", "<inner>"),
    Case("slice-print", "{{ .Match }}", "[ip-10-1-2-3.example. 1 2 ]"),
    Case("map-print", "{{ .Group }}", "map[0:ip-10-1-2-3.example. b:1 c:2 hex:7b]"),
    # literals
    Case("string-escapes", '{{ "a\\tb\\x41\\u00e9" }}', "a\tbAé"),
    Case("raw-string", "{{ `a\\n` }}", "a\\n"),
    Case("char", "{{ 'a' }} {{ '\\n' }}", "97 10"),
    Case(
        "numbers",
        "{{ 0x10 }} {{ 017 }} {{ 0o17 }} {{ 0b11 }} {{ 1_000 }} {{ -2 }}",
        "16 15 15 3 1000 -2",
    ),
    Case(
        "floats",
        "{{ 1.50 }} {{ 1e6 }} {{ 1e3 }} {{ 0.000015 }} {{ 2.0 }}",
        "1.5 1e+06 1000 1.5e-05 2",
    ),
    Case("bools-nil-compare", "{{ true }} {{ false }}", "true false"),
    # trimming and comments
    Case("trim", "a  {{- 1 -}}  b", "a1b"),
    Case("trim-newlines", "a\n\t{{- 1 }}\n", "a1\n"),
    Case("no-trim-without-space", "{{ -1 }}", "-1"),
    Case("comment", "a{{/* note */}}b", "ab"),
    Case("comment-trim", "a {{- /* note */ -}} b", "ab"),
    Case("action-over-lines", "{{ index\n .Match\n 1 }}", "1"),
    # variables
    Case("declare", "{{ $x := .Group.b }}{{ $x }}{{ $x }}", "11"),
    Case("assign", "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", "2"),
    Case("dollar", "{{ with .Inner }}{{ $.Name }}{{ end }}", "ip-10-1-2-3.example."),
    Case("var-field", "{{ $i := .Inner }}{{ $i.Label }}", "inner"),
    # control
    Case("if", '{{ if eq .Group.b "1" }}one{{ else }}other{{ end }}', "one"),
    Case("if-missing", "{{ if .Group.nope }}yes{{ else }}no{{ end }}", "no"),
    Case("else-if", "{{ if eq 1 2 }}a{{ else if eq 1 1 }}b{{ else }}c{{ end }}", "b"),
    Case("with", "{{ with .Group.b }}[{{ . }}]{{ end }}", "[1]"),
    Case("with-else", "{{ with .Empty }}x{{ else }}empty{{ end }}", "empty"),
    Case("else-with", "{{ with .Group.x }}a{{ else with .Group.c }}{{ . }}{{ end }}", "2"),
    Case("with-declare", "{{ with $n := .Name }}{{ $n }}{{ end }}", "ip-10-1-2-3.example."),
    Case("range", "{{ range .Match }}<{{ . }}>{{ end }}", "<ip-10-1-2-3.example.><1><2><>"),
    Case(
        "range-vars",
        "{{ range $i, $e := slice .Match 1 3 }}{{ $i }}={{ $e }};{{ end }}",
        "0=1;1=2;",
    ),
    Case("range-one-var", "{{ range $e := slice .Match 1 3 }}{{ $e }}{{ end }}", "12"),
    Case("range-map", "{{ range $k, $v := .Group }}{{ $k }},{{ end }}", "0,b,c,hex,"),
    Case("range-else", "{{ range .Empty }}x{{ else }}none{{ end }}", "none"),
    Case("range-int", "{{ range 3 }}{{ . }}{{ end }}", "012"),
    Case(
        "range-break",
        '{{ range .Match }}{{ if eq . "2" }}{{ break }}{{ end }}{{ . }};{{ end }}',
        "ip-10-1-2-3.example.;1;",
    ),
    Case(
        "range-continue",
        '{{ range slice .Match 1 }}{{ if eq . "1" }}{{ continue }}{{ end }}[{{ . }}]{{ end }}',
        "[2][]",
    ),
    # pipelines and parentheses
    Case("pipeline", '{{ .Group.b | printf "%s!" }}', "1!"),
    Case("pipeline-chain", '{{ "x" | print "a" | printf "%s." }}', "ax."),
    Case("parens", '{{ printf "%d" (len .Match) }}', "4"),
    Case("parens-field", "{{ (.Inner).Label }}", "inner"),
    Case("parseInt-pipeline", '{{ parseInt .Group.hex 16 8 | printf "%03d" }}', "123"),
    # builtins
    Case("len", '{{ len .Match }} {{ len .Group }} {{ len "é" }}', "4 4 2"),
    Case("slice", '{{ slice "hello" 1 3 }} {{ slice .Match 2 }}', "el [2 ]"),
    Case("index-string", '{{ index "abc" 1 }}', "98"),
    Case("and-or", '{{ and 1 2 }} {{ and 0 2 }} {{ or 0 3 }} {{ or 0 "" }}', "2 0 3 "),
    Case("and-short-circuit", "{{ and 0 (index .Match 99) }}", "0"),
    Case("or-missing", "{{ and .Group.nope 1 }}", "<no value>"),
    Case("not", "{{ not 0 }} {{ not .Name }}", "true false"),
    Case("eq-many", '{{ eq 1 2 3 1 }} {{ eq .Group.b "2" "1" }}', "true true"),
    Case("eq-missing", '{{ eq .Group.nope "x" }}', "false"),
    Case("eq-int-uint", '{{ eq (parseInt "10" 10 64) 10 }}', "true"),
    Case(
        "ne-lt-le-gt-ge",
        '{{ ne 1 2 }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1 2 }}',
        "true true true true false",
    ),
    Case("print", '{{ print "a" 1 2 "b" }}|{{ print 1 2 }}|{{ print "a" "b" }}', "a1 2b|1 2|ab"),
    Case("println", '{{ println "a" 1 }}', "a 1\n"),
    Case("html", '{{ html "<a href=\\"x\\">&\'" }}', "&lt;a href=&#34;x&#34;&gt;&amp;&#39;"),
    Case("js", '{{ js "a\'b\\"<>=&\\\\" }}', "a\\'b\\\"\\u003C\\u003E\\u003D\\u0026\\\\"),
    Case("urlquery", '{{ urlquery "a b&c/d~e" }}', "a+b%26c%2Fd~e"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_render(case: Case) -> None:
    assert Template("answer", case.text, Data).execute(Data()) == case.want


@dataclass(frozen=True)
class ErrorCase:
    id: str
    text: str
    error: str


COMPILE_ERRORS = [
    ErrorCase(
        "unknown-field", "{{ .name }}", "answer:1:4: can't evaluate field name in type *test.data"
    ),
    ErrorCase(
        "unknown-nested-field",
        "{{ .Inner.Nope }}",
        "answer:1:4: can't evaluate field Nope in type *test.inner",
    ),
    ErrorCase(
        "field-of-slice", "{{ .Match.X }}", "answer:1:4: can't evaluate field X in type []string"
    ),
    ErrorCase(
        "field-of-string", "{{ $.Name.X }}", "answer:1:4: can't evaluate field X in type string"
    ),
    # Go prints <no value> while the key is missing, and fails once it is there
    ErrorCase(
        "field-of-map-value",
        "{{ .Group.b.X }}",
        "answer:1:4: can't evaluate field X in type string",
    ),
    ErrorCase("unknown-function", "{{ foo 1 }}", 'answer:1:4: function "foo" not defined'),
    ErrorCase("call-unsupported", "{{ call .Meta }}", 'answer:1:4: function "call" not defined'),
    ErrorCase(
        "field-with-args",
        '{{ .Name "x" }}',
        "answer:1:4: Name has arguments but cannot be invoked as function",
    ),
    ErrorCase(
        "map-with-args", '{{ .Group.b "x" }}', "answer:1:4: b is not a method but has arguments"
    ),
    ErrorCase(
        "method-arg-count", "{{ .Meta }}", "answer:1:4: wrong number of args for Meta: want 1 got 0"
    ),
    ErrorCase("method-arg-type", "{{ .Meta 1 }}", "answer:1:10: expected string; found 1"),
    ErrorCase("arg-count", "{{ len }}", "answer:1:4: wrong number of args for len: want 1 got 0"),
    ErrorCase(
        "arg-count-pipeline",
        "{{ .Match | len 1 }}",
        "answer:1:13: wrong number of args for len: want 1 got 2",
    ),
    ErrorCase(
        "variadic-count",
        "{{ index }}",
        "answer:1:4: wrong number of args for index: want at least 1 got 0",
    ),
    ErrorCase(
        "parseInt-string-base",
        '{{ parseInt .Group.b "16" 8 }}',
        'answer:1:22: expected integer; found "16"',
    ),
    ErrorCase(
        "parseInt-slice",
        "{{ parseInt .Match 16 8 }}",
        "answer:1:13: wrong type for value; expected string; got []string",
    ),
    ErrorCase(
        "parseInt-nil", "{{ parseInt nil 16 8 }}", "answer:1:13: cannot assign nil to string"
    ),
    ErrorCase("non-function", "{{ 1 2 }}", "answer:1:4: can't give argument to non-function 1"),
    ErrorCase("nil-command", "{{ nil }}", "answer:1:4: nil is not a command"),
    ErrorCase(
        "non-executable",
        "{{ .Name | 3 }}",
        "answer:1:12: non executable command in pipeline stage 2",
    ),
    ErrorCase("empty-action", "{{ }}", "answer:1:4: missing value for command"),
    ErrorCase("empty-parens", "{{ ( ) }}", "answer:1:6: missing value for parenthesized pipeline"),
    ErrorCase("if-no-value", "{{ if }}x{{ end }}", "answer:1:7: missing value for if"),
    ErrorCase("if-unclosed", "{{ if .Name }}x", "answer:1:16: unexpected EOF"),
    ErrorCase("stray-end", "x{{ end }}", "answer:1:9: unexpected {{end}}"),
    ErrorCase("stray-else", "x{{ else }}", "answer:1:10: unexpected {{else}}"),
    ErrorCase(
        "else-garbage", "{{ if 1 }}{{ else 2 }}{{ end }}", 'answer:1:19: unexpected "2" in else'
    ),
    ErrorCase("undefined-variable", "{{ $x }}", 'answer:1:4: undefined variable "$x"'),
    ErrorCase(
        "variable-out-of-scope",
        "{{ if 1 }}{{ $x := 1 }}{{ end }}{{ $x }}",
        'answer:1:36: undefined variable "$x"',
    ),
    ErrorCase("assign-undefined", "{{ $x = 1 }}", 'answer:1:4: undefined variable "$x"'),
    ErrorCase(
        "too-many-decls", "{{ $a, $b := 1 }}", "answer:1:8: too many declarations in command"
    ),
    ErrorCase(
        "range-three-vars",
        "{{ range $a, $b, $c := .Match }}{{ end }}",
        "answer:1:18: too many declarations in range",
    ),
    ErrorCase("break-outside", "{{ break }}", "answer:1:4: {{break}} outside {{range}}"),
    ErrorCase("continue-outside", "{{ continue }}", "answer:1:4: {{continue}} outside {{range}}"),
    ErrorCase(
        "template",
        '{{ template "x" }}',
        "answer:1:4: {{template}} is not supported: an RR template cannot name others",
    ),
    ErrorCase(
        "define",
        '{{ define "x" }}{{ end }}',
        "answer:1:4: {{define}} is not supported: an RR template cannot name others",
    ),
    ErrorCase("unclosed-action", "{{ .Name", "answer:1:9: unclosed action"),
    ErrorCase("unclosed-comment", "{{/* x }}", "answer:1:1: unclosed comment"),
    ErrorCase(
        "comment-junk", "{{/* x */ 1 }}", "answer:1:10: comment ends before closing delimiter"
    ),
    ErrorCase("unterminated-string", '{{ "abc }}', "answer:1:4: unterminated quoted string"),
    ErrorCase("unterminated-raw", "{{ `abc }}", "answer:1:4: unterminated raw quoted string"),
    ErrorCase("bad-escape", '{{ "\\q" }}', "answer:1:4: invalid syntax"),
    ErrorCase("bad-char", "{{ 'ab' }}", "answer:1:4: malformed character constant: 'ab'"),
    ErrorCase("bad-number", "{{ 3k }}", "answer:1:4: bad number syntax: '3k'"),
    ErrorCase("complex", "{{ 1i }}", "answer:1:4: complex number 1i is not supported"),
    ErrorCase(
        "overflow", "{{ 99999999999999999999 }}", "answer:1:4: 99999999999999999999 overflows int"
    ),
    ErrorCase("bad-character", "{{ .Name# }}", "answer:1:9: bad character U+0023 '#'"),
    ErrorCase("unexpected-char", "{{ # }}", 'answer:1:4: unexpected "#" in command'),
    ErrorCase("unexpected-rparen", "{{ ) }}", "answer:1:4: unexpected right paren"),
    ErrorCase("unclosed-paren", "{{ (1 }}", "answer:1:7: unclosed left paren"),
    ErrorCase("dot-after-literal", '{{ "a".x }}', 'answer:1:4: unexpected . after term "\\"a\\""'),
    ErrorCase("nil-in-parens", "{{ (nil).X }}", "answer:1:5: nil is not a command"),
    ErrorCase(
        "second-line", "a\n{{ .nope }}", "answer:2:4: can't evaluate field nope in type *test.data"
    ),
]


@pytest.mark.parametrize("case", COMPILE_ERRORS, ids=lambda c: c.id)
def test_compile_error(case: ErrorCase) -> None:
    with pytest.raises(TemplateError) as info:
        Template("answer", case.text, Data)
    assert str(info.value) == case.error


EXEC_ERRORS = [
    # CoreDNS's own test (plugin/template/template_test.go, BrokenTemplate), byte for byte
    ErrorCase(
        "index-out-of-range",
        '{{ .Name }} 60 IN TXT "{{ index .Match 4 }}"',
        'template: answer:1:26: executing "answer" at <index .Match 4>: error calling index: '
        "index out of range: 4",
    ),
    ErrorCase(
        "parseInt-syntax",
        "{{ parseInt .Group.b 16 8 }}{{ parseInt .Name 16 8 }}",
        'template: answer:1:31: executing "answer" at <parseInt .Name 16 8>: error calling '
        'parseInt: strconv.ParseUint: parsing "ip-10-1-2-3.example.": invalid syntax',
    ),
    ErrorCase(
        "parseInt-range",
        '{{ parseInt "300" 10 8 }}',
        'template: answer:1:3: executing "answer" at <parseInt "300" 10 8>: error calling '
        'parseInt: strconv.ParseUint: parsing "300": value out of range',
    ),
    ErrorCase(
        "parseInt-missing-group",
        "{{ parseInt .Group.nope 16 8 }}",
        'template: answer:1:12: executing "answer" at <.Group.nope>: invalid value; '
        "expected string",
    ),
    ErrorCase(
        "eq-incompatible",
        "{{ eq .Name 1 }}",
        'template: answer:1:3: executing "answer" at <eq .Name 1>: error calling eq: '
        "incompatible types for comparison",
    ),
    ErrorCase(
        "field-of-dynamic-value",
        "{{ (index .Match 1).Foo }}",
        'template: answer:1:19: executing "answer" at <(index .Match 1).Foo>: can\'t evaluate '
        "field Foo in type string",
    ),
    ErrorCase(
        "range-over-string",
        "{{ range .Name }}{{ end }}",
        'template: answer:1:9: executing "answer" at <.Name>: range can\'t iterate over '
        "ip-10-1-2-3.example.",
    ),
    ErrorCase(
        "len-of-int",
        "{{ 3 | len }}",
        'template: answer:1:7: executing "answer" at <len>: error calling len: len of type int',
    ),
    ErrorCase(
        "long-context",
        '{{ printf "%s" (index .Match 1 2 3 4 5 6 7) }}',
        'template: answer:1:16: executing "answer" at <index .Match 1 2 3 4...>: error calling '
        "index: index out of range: 2",
    ),
]


@pytest.mark.parametrize("case", EXEC_ERRORS, ids=lambda c: c.id)
def test_exec_error(case: ErrorCase) -> None:
    tmpl = Template("answer", case.text, Data)
    with pytest.raises(ExecError) as info:
        tmpl.execute(Data())
    assert str(info.value) == case.error


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # Go's Tree.Root.String(): CoreDNS's "template" metric label
        ("{{ .Name }} 60 IN A {{ index .Match 1 }}", "{{.Name}} 60 IN A {{index .Match 1}}"),
        ('{{- if eq .Name "x" -}} a {{- else }}b{{ end }}', '{{if eq .Name "x"}}a{{else}}b{{end}}'),
        ("{{ $x := .Name | printf `%s` }}", "{{$x := .Name | printf `%s`}}"),
        (
            "{{ range $i, $e := .Match }}{{ $e }}{{ break }}{{ end }}",
            "{{range $i, $e := .Match}}{{$e}}{{break}}{{end}}",
        ),
        ("{{ (index .Match 1) }}{{ (.Inner).Label }}", "{{(index .Match 1)}}{{(.Inner).Label}}"),
        ("{{ if 1 }}a{{ else if 2 }}b{{ end }}", "{{if 1}}a{{else}}{{if 2}}b{{end}}{{end}}"),
        ("a{{/* c */}}b", "ab"),
    ],
)
def test_label_is_go_canonical_form(text: str, label: str) -> None:
    assert Template("answer", text, Data).label == label


@pytest.mark.parametrize(
    ("text", "reads"),
    [
        ("{{ .Name }} {{ index .Match 1 }}", {"Name", "Match"}),
        ('{{ .Meta "x" }}', {"Meta"}),
        ("{{ $.Inner.Label }}", {"Inner"}),
        ("{{ with $d := . }}{{ $d.Name }}{{ end }}", {"Name"}),
        ("{{ . }}", {"*"}),
        ('{{ printf "%v" $ }}', {"*"}),
        ("static", set()),
    ],
)
def test_reads(text: str, reads: set[str]) -> None:
    assert Template("answer", text, Data).reads == reads


def test_templates_compare_by_name_and_text() -> None:
    a, b = Template("answer", "{{ .Name }}", Data), Template("answer", "{{ .Name }}", Data)
    assert a == b and hash(a) == hash(b)
    assert a != Template("authority", "{{ .Name }}", Data)
    assert repr(a) == "Template('answer', '{{ .Name }}')"
