"""Property tests of the Corefile: any text gives blocks or a positioned error; a Corefile
rendered from blocks parses back to the same blocks; every plugin's setup, fed garbage
arguments, raises only CorefileError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnsd.corefile import parse
from dnsd.errors import CorefileError
from dnsd.instance import load
from dnsd.plugin import REGISTRY
from tests.fuzz import seeds, targets

NAMES = sorted(REGISTRY.names())
WORD = st.text(
    st.characters(codec="utf-8", exclude_characters='{}"#\\\r\n\t ', exclude_categories=["Z", "C"]),
    min_size=1,
    max_size=12,
).filter(lambda w: w != "import" and not w.startswith("("))
ARG = WORD | st.sampled_from(
    [
        "10s",
        "0",
        "-1",
        "1.2.3.4",
        "::1",
        ".",
        "example.org",
        "5353",
        "in-addr.arpa",
        "tls://1.1.1.1",
        "99999999999",
        "*",
        "{$X}",
    ]
)


@given(st.text(max_size=400))
def test_any_text(text: str) -> None:
    targets.corefile(text.encode("utf-8", "surrogatepass"))


@given(st.binary(max_size=300))
def test_any_bytes(data: bytes) -> None:
    targets.corefile(data)


@given(
    seed=st.sampled_from(seeds.seeds("corefile")), cut=st.integers(0, 400), junk=st.text(max_size=5)
)
def test_seed_corefiles_cut_and_spliced(seed: bytes, cut: int, junk: str) -> None:
    text = seed.decode()
    targets.corefile((text[:cut] + junk + text[cut:][len(junk) :]).encode())


BLOCK = st.tuples(
    st.lists(WORD.filter(lambda w: "," not in w and "{" not in w), min_size=1, max_size=3),
    st.lists(
        st.tuples(
            st.sampled_from(NAMES),
            st.lists(ARG, max_size=3),
            st.none() | st.lists(st.tuples(WORD, st.lists(ARG, max_size=3)), max_size=3),
        ),
        max_size=4,
    ),
)
Directive = tuple[str, list[str], list[tuple[str, list[str]]] | None]


def _render(blocks: list[tuple[list[str], list[Directive]]]) -> str:
    out = []
    for keys, directives in blocks:
        out.append(" ".join(keys) + " {")
        for name, args, body in directives:
            line = "    " + " ".join([name, *(f'"{a}"' if a == "{$X}" else a for a in args)])
            if body is None:
                out.append(line)
                continue
            out.append(line + " {")
            out += ["        " + " ".join([prop, *args]) for prop, args in body]
            out.append("    }")
        out.append("}")
    return "\n".join(out) + "\n"


@given(st.lists(BLOCK, min_size=1, max_size=3))
def test_round_trip(blocks: list[tuple[list[str], list[Directive]]]) -> None:
    text = _render(blocks)
    parsed = parse(text, "Corefile", directives=NAMES, env={}, base_dir="/nonexistent")
    assert [[k.text for k in b.keys] for b in parsed] == [keys for keys, _ in blocks]
    for block, (_, directives) in zip(parsed, blocks, strict=True):
        want: dict[str, list[str]] = {}
        for name, args, body in directives:
            words = want.setdefault(name, [])
            words += [name, *("" if a == "{$X}" else a for a in args)]
            if body is not None:
                words.append("{")
                for prop, pargs in body:
                    words += [prop, *("" if a == "{$X}" else a for a in pargs)]
                words.append("}")
        assert {n: [t.text for t in toks] for n, toks in block.directives.items()} == want


@given(st.lists(BLOCK, min_size=1, max_size=2))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_setup_of_garbage_raises_only_corefile_error(
    blocks: list[tuple[list[str], list[Directive]]],
) -> None:
    text = _render(blocks)
    try:
        load(text, "Corefile", dns_port="1053", base_dir="/nonexistent")
    except CorefileError as exc:
        assert str(exc)
