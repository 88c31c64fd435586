"""The fuzz targets: one function per input format, shared by atheris and hypothesis.

Each target takes the raw bytes a fuzzer made and either returns (the input was handled: accepted,
or refused the documented way) or raises, which is a crash: an exception other than the format's
own error, or an ``AssertionError`` from a property that must hold whatever the input.

The ``fuzz_*.py`` harnesses beside this module hand these targets to atheris; the bounded run in
``test_fuzz_bounded.py`` and ``bench/fuzz.py`` start those harnesses. The property tests
(``test_*_properties.py``) call the same targets with hypothesis's inputs, plus properties that
need structured inputs.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
import tempfile
from typing import Any

from dnslib import DNSBuffer, DNSRecord

# -- DNS messages --------------------------------------------------------------------------------


def _check_reply(reply: bytes, query: bytes, max_size: int) -> None:
    assert len(reply) <= max_size, f"reply of {len(reply)} bytes > {max_size}"
    assert reply[:2] == query[:2], "reply does not carry the query's ID"
    assert reply[2] & 0x80, "reply without QR"
    _frame(reply)


def _name_end(msg: bytes, pos: int) -> int:
    """Offset after the name at ``pos``; AssertionError when it is malformed."""
    hops = 0
    end = -1
    while True:
        assert pos < len(msg), "name runs past the end"
        c = msg[pos]
        if c == 0:
            return pos + 1 if end < 0 else end
        if c >= 0xC0:
            assert pos + 1 < len(msg), "pointer runs past the end"
            target = ((c & 0x3F) << 8) | msg[pos + 1]
            assert target < pos and hops < 64, "bad compression pointer"
            end = pos + 2 if end < 0 else end
            pos, hops = target, hops + 1
        else:
            assert c < 0x40, "bad label type"
            pos += 1 + c


def _frame(msg: bytes) -> None:
    """The message is well framed: every section's records exactly fill it (any class, any
    type: dnspython and dnslib each refuse some legal messages, CH-class A records say)."""
    assert len(msg) >= 12, "short reply"
    qd, an, ns, ar = struct.unpack_from("!HHHH", msg, 4)
    pos = 12
    for _ in range(qd):
        pos = _name_end(msg, pos) + 4
    for _ in range(an + ns + ar):
        pos = _name_end(msg, pos)
        assert pos + 10 <= len(msg), "record header runs past the end"
        pos += 10 + struct.unpack_from("!H", msg, pos + 8)[0]
    assert pos == len(msg), f"{len(msg) - pos} bytes after the last record"


def wire(data: bytes) -> None:
    """``parse_query`` raises only BadQuery; its reply (if any) parses; an accepted query's
    reply, made by ``encode_reply`` and by ``scrub_wire``, fits the client's size."""
    from dnslib import RR, A, DNSLabel

    from dnsd.scrub import scrub_wire
    from dnsd.wire import DROP, BadQuery, encode_reply, parse_query

    try:
        query = parse_query(data)
    except BadQuery as exc:
        if exc.rcode == DROP:
            assert exc.reply is None
        else:
            assert exc.reply is not None
            _check_reply(exc.reply, data, 512)
        return
    assert query.qname.endswith(".")
    max_size = max(512, query.udp_size) if query.edns else 512
    msg = DNSRecord.question("example.org.")
    msg.header.qr = 1
    msg.header.id = query.id  # as Dispatcher.encode does
    owner = DNSLabel("a." + "x" * 60 + ".example.org.")
    for i in range(len(data) % 97):
        msg.add_answer(RR(owner, 1, 1, 5, A(f"10.0.{i // 256}.{i % 256}")))
    _check_reply(encode_reply(msg, query, max_size), data, max_size)
    # The same bytes read as an upstream's reply (cache and forward hand such bytes over).
    scrubbed = scrub_wire(data, query, max_size)
    if scrubbed is not None:
        assert len(scrubbed) <= max_size
        assert scrubbed[:2] == data[:2]


# -- the server's receive path -------------------------------------------------------------------

RECEIVE_COREFILE = """\
example.org {
    whoami
}
. {
    any
    chaos dnsd admin@example.org
    minimal
    hosts {
        10.0.0.1 a.example.net
        fallthrough
    }
}
"""

_dispatcher: Any = None
_loop: asyncio.AbstractEventLoop | None = None


def _receiver() -> tuple[Any, asyncio.AbstractEventLoop]:
    global _dispatcher, _loop
    if _dispatcher is None or _loop is None:
        from dnsd.instance import load
        from dnsd.server import Dispatcher

        instance = load(RECEIVE_COREFILE, "Corefile", dns_port="1053", base_dir="/nonexistent")
        addr = next(iter(instance.routes))
        _dispatcher = Dispatcher(addr, instance.routes[addr], False)
        _loop = asyncio.new_event_loop()
    return _dispatcher, _loop


def receive(data: bytes) -> None:
    """A real Dispatcher (whoami, chaos, any, hosts) answers any datagram with at most one reply
    that fits the client's size and carries its ID, or with nothing."""
    from dnsd.wire import BadQuery, parse_query

    dispatcher, loop = _receiver()
    sent: list[bytes] = []
    for proto in ("udp", "tcp"):
        sent.clear()

        async def once(proto: str = proto) -> None:
            task = dispatcher.receive(data, "127.0.0.1", 5353, proto, sent.append)
            if task is not None:
                await task

        loop.run_until_complete(once())
        assert len(sent) <= 1, f"{len(sent)} replies to one query"
        if not sent:
            continue
        try:
            query = parse_query(data)
            limit = 65535 if proto == "tcp" else max(512, query.udp_size) if query.edns else 512
        except BadQuery:
            limit = 512
        _check_reply(sent[0], data, limit)


# -- Corefiles -----------------------------------------------------------------------------------

_corefile_dir: str | None = None


def _empty_dir() -> str:
    global _corefile_dir
    if _corefile_dir is None:
        _corefile_dir = tempfile.mkdtemp(prefix="dnsd-fuzz-")
    return _corefile_dir


def _safe_corefile(text: str) -> bool:
    """Imports may only name files in the (empty) base folder: ``import /dev/zero`` would read
    forever, which is a property of the file, not of the parser."""
    return not ("import" in text and ("/" in text or "\\" in text or ".." in text))


def corefile(data: bytes) -> None:
    """Any bytes: server blocks or a positioned CorefileError, never another exception; and
    setting the blocks up (every plugin's setup) also raises only CorefileError."""
    from dnsd.corefile import parse
    from dnsd.corefile_lexer import decode
    from dnsd.errors import CorefileError
    from dnsd.instance import load
    from dnsd.plugin import REGISTRY

    try:
        text = decode(data, "Corefile")
    except CorefileError as exc:
        assert exc.file == "Corefile" and exc.line is not None, str(exc)
        return
    if not _safe_corefile(text):
        return
    base = _empty_dir()
    try:
        blocks = parse(
            text,
            "Corefile",
            directives=REGISTRY.names(),
            coredns_directives=REGISTRY.coredns_only(),
            env={"X": "{$X}"},
            base_dir=base,
        )
    except CorefileError as exc:
        assert exc.file is not None and exc.line is not None, f"unpositioned: {exc}"
        assert 1 <= exc.line <= text.count("\n") + 1, f"line out of range: {exc}"
        return
    for block in blocks:
        assert block.keys
    try:
        load(text, "Corefile", dns_port="1053", base_dir=base)
    except CorefileError as exc:
        assert str(exc), "empty error message"


# -- zone files ----------------------------------------------------------------------------------


def zonefile(data: bytes) -> None:
    """Any bytes as the zone file of example.org.: a zone that answers lookups, or a
    ZoneFileError."""
    from dnsd.plugins.file.zone import Zone
    from dnsd.plugins.file.zonefile import ZoneFileError, read

    path = os.path.join(_empty_dir(), "db.example.org")
    try:
        parsed = read(path, "example.org.", data)
    except ZoneFileError as exc:
        assert str(exc), "empty error message"
        return
    zone = Zone(parsed)
    for record in parsed.records:
        record.rr.pack(DNSBuffer())  # every record can go on the wire
    names = {r.owner for r in parsed.records} | {(b"nope",) + parsed.origin}
    for name in list(names)[:8]:
        for qtype in (1, 5, 6, 15, 28, 33, 255):
            zone.lookup(name, qtype)


# -- hosts files ---------------------------------------------------------------------------------


def hosts(data: bytes) -> None:
    """Any text: entries and positioned problems, never an exception; every entry is a valid
    name and address, and the table built from them answers consistently."""
    import ipaddress

    from dnsd.plugins.hosts.hostsfile import build, parse

    text = data.decode("utf-8", "replace")
    zones = [".", "example.org."] if data[:1] != b"z" else ["example.org."]
    entries, problems = parse(text, zones, "hosts")
    lines = len(text.splitlines())
    for problem in problems:
        where, _, _ = problem.partition(": ")
        assert where.startswith("hosts:") and 1 <= int(where[6:]) <= lines, problem
    for e in entries:
        assert e.name.endswith(".") and e.name == e.name.lower()
        ipaddress.ip_address(e.address)  # canonical and valid
        labels = e.name[:-1].split(".")
        assert all(0 < len(label) <= 63 for label in labels) and len(e.name) <= 254, e.name
    table = build(entries[: len(entries) // 2], entries[len(entries) // 2 :], reverse=True)
    names = {e.name for e in entries}
    assert set(table.v4) | set(table.v6) == names
    assert table.size == sum(map(len, table.v4.values())) + sum(map(len, table.v6.values())) + sum(
        map(len, table.ptr.values())
    )


# -- Kubernetes API objects ----------------------------------------------------------------------


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def check_record(record: object) -> None:
    """Every address a converted record holds can be packed into an A or AAAA record."""
    from dnsd.plugins.kubernetes.answer import address_rr, label
    from dnsd.plugins.kubernetes.objects import EndpointSlice, Pod, Service

    ips: list[str] = []
    if isinstance(record, Service):
        ips = [*record.cluster_ips, *record.external_ips]
    elif isinstance(record, EndpointSlice):
        ips = [ip for ep in record.endpoints for ip in ep.addresses]
    elif isinstance(record, Pod):
        ips = list(record.ips)
    for ip in ips:
        address_rr(label("x.example.org."), ip, 5).pack(DNSBuffer())


def objects(data: bytes) -> None:
    """Any JSON as each kind of API object: a record or None, never an exception."""
    from dnsd.plugins.kubernetes.objects import RESOURCES

    obj = _json(data)
    if not isinstance(obj, dict):
        return
    for resource in RESOURCES.values():
        check_record(resource.convert(obj))


def informer_events(data: bytes) -> None:
    """Any JSON lines as watch events into a store: never an exception but the informer's own
    (relist/retry) signals; the store's indexes match its tables after every event; answers
    from the store never raise."""
    from dnsd.plugins.kubernetes.client import ApiError
    from dnsd.plugins.kubernetes.informer import BadResponse, Informer, _Expired
    from dnsd.plugins.kubernetes.objects import RESOURCES
    from dnsd.plugins.kubernetes.store import Store

    store = Store()
    kinds = list(RESOURCES.values())
    for n, line in enumerate(data.split(b"\n")[:64]):
        informer = Informer(None, kinds[n % len(kinds)], store)  # type: ignore[arg-type]
        event = _json(line)
        try:
            informer._event(event)
        except (_Expired, ApiError, BadResponse):
            pass
        check_store(store)
    answer_some(store)


def check_store(store: Any) -> None:
    """The store's indexes are exactly what its tables imply."""
    from dnsd.plugins.kubernetes.store import Store

    fresh = Store()
    for kind, table in store.tables.items():
        fresh.replace(kind, dict(table))
    assert store._services_by_ip._map.keys() == fresh._services_by_ip._map.keys()
    for ip in fresh._services_by_ip._map:
        assert set(store.services_by_ip(ip)) == set(fresh.services_by_ip(ip))
    assert store._slices_by_ip._map.keys() == fresh._slices_by_ip._map.keys()
    for ip in fresh._slices_by_ip._map:
        assert set(store.slices_by_ip(ip)) == set(fresh.slices_by_ip(ip))
    assert store._pods_by_ip._map.keys() == fresh._pods_by_ip._map.keys()
    assert {k: set(v) for k, v in store._service_slices.items()} == {
        k: set(v) for k, v in fresh._service_slices.items()
    }


def answer_some(store: Any) -> None:
    """Resolve every name the store implies (and a few it does not) and pack the answers."""
    from dnslib import DNSRecord

    from dnsd.plugins.kubernetes.answer import Options
    from dnsd.plugins.kubernetes.records import resolve

    opts = Options(zones=("cluster.local.", "in-addr.arpa.", "ip6.arpa."), pods="verified")
    names = ["cluster.local.", "dns-version.cluster.local."]
    for ns, name in list(store.tables["Service"])[:8]:
        base = f"{name}.{ns}.svc.cluster.local."
        names += [base, f"_http._tcp.{base}", f"*.{base}"]
    for ns, name in list(store.tables["Pod"])[:4]:
        names.append(f"{name}.{ns}.pod.cluster.local.")
    for (ip,) in [(ip,) for ip in list(store._services_by_ip._map)[:4]]:
        names.append(_reverse(ip))
    for (ip,) in [(ip,) for ip in list(store._slices_by_ip._map)[:4]]:
        names.append(_reverse(ip))
    for name in names:
        for qtype in (1, 28, 33, 12, 255):
            try:
                labels = [label.encode() for label in name.rstrip(".").split(".")]
            except UnicodeEncodeError:
                continue
            if any(not 0 < len(label) < 64 for label in labels) or len(name) > 250:
                continue
            answer = resolve(store, opts, labels, qtype)
            if answer is None:
                continue
            msg = DNSRecord.question("x.")
            for rr in (*answer.answer, *answer.authority, *answer.extra):
                msg.add_answer(rr)
            msg.pack()


def _reverse(ip: str) -> str:
    import ipaddress

    return ipaddress.ip_address(ip).reverse_pointer + "."


TARGETS = {
    "wire": wire,
    "receive": receive,
    "corefile": corefile,
    "zonefile": zonefile,
    "hosts": hosts,
    "objects": objects,
    "informer": informer_events,
}
