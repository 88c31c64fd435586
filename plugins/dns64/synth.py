"""DNS64 synthesis (RFC 6147, RFC 6052), on dnslib messages, with no server knowledge.

* :func:`embed` puts an IPv4 address into an IPv6 prefix as RFC 6052 §2.2 lays it out: the
  32 bits follow the prefix, skipping bits 64-71 (the "u" octet, always zero), and the rest
  (the suffix) is zero. For a /96 the address fills the last 32 bits.
* :func:`wants_synthesis` decides from the reply to the AAAA question. A name error
  (NXDOMAIN) is returned as it is (§5.1.2); an answer holding AAAA records too, unless
  ``translate_all``. Every other reply, errors included, counts as an empty answer (§5.1.2:
  servers answer AAAA questions in many broken ways). dnsd's one addition: a reply that
  carries a policy's extended DNS error (Blocked, Censored, Filtered, Prohibited: *acl*'s
  REFUSED or empty answer) is a decision, not a missing record, and is never translated.
* :func:`synthesize` builds the reply from the reply to the A question (§5.1.3: that reply,
  empty or an error, is the basis of the answer): its rcode, AA and RA flags, its authority
  and additional sections as they are (§5.3.2); answer records other than A unchanged
  (CNAMEs, §5.3.3); each A record becomes an AAAA with the same owner and class, and the TTL
  of §5.1.7: the lower of the A record's and the SOA's of the AAAA reply (the negative-caching
  TTL, the lower of the SOA record's TTL and its MINIMUM field, RFC 2308 §5), 600 seconds
  when that reply carried no SOA.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from dnslib import AAAA, RR, DNSRecord

from dnsd.request import Request

TYPE_A, TYPE_SOA, TYPE_AAAA, TYPE_OPT = 1, 6, 28, 41
NXDOMAIN = 3
OPTION_EDE = 15
#: EDE info codes that report a policy decision (RFC 8914 §4.16-4.19).
POLICY_EDE = frozenset({15, 16, 17, 18})
#: §5.1.7: the TTL cap when the AAAA reply carried no SOA.
NO_SOA_TTL = 600


def embed(prefix: ipaddress.IPv6Network, ipv4: bytes) -> bytes:
    """The 16 bytes of ``ipv4`` (4 bytes) embedded in ``prefix`` (a RFC 6052 length)."""
    cut = prefix.prefixlen // 8
    out = bytearray(prefix.network_address.packed[:cut] + bytes(16 - cut))
    pos = cut
    for octet in ipv4:
        if pos == 8:
            pos = 9  # bits 64-71: the u octet stays zero
        out[pos] = octet
        pos += 1
    return bytes(out)


def _policy_decision(msg: DNSRecord) -> bool:
    for rr in msg.ar:
        if rr.rtype != TYPE_OPT:
            continue
        for option in rr.rdata or ():
            data = bytes(option.data)
            if option.code == OPTION_EDE and len(data) >= 2:
                if int.from_bytes(data[:2], "big") in POLICY_EDE:
                    return True
    return False


def wants_synthesis(aaaa_reply: DNSRecord, translate_all: bool) -> bool:
    """Whether the reply to an AAAA question is to be replaced by a synthesized one."""
    if aaaa_reply.header.rcode == NXDOMAIN or _policy_decision(aaaa_reply):
        return False
    if translate_all:
        return True
    return not any(rr.rtype == TYPE_AAAA for rr in aaaa_reply.rr)


def negative_ttl(aaaa_reply: DNSRecord) -> int:
    """The TTL cap of §5.1.7 from the AAAA reply's authority section."""
    for rr in aaaa_reply.auth:
        if rr.rtype == TYPE_SOA:
            return min(int(rr.ttl), int(rr.rdata.times[4]))
    return NO_SOA_TTL


def synthesize(
    req: Request, aaaa_reply: DNSRecord, a_reply: DNSRecord, prefix: ipaddress.IPv6Network
) -> DNSRecord:
    """The reply to ``req`` (an AAAA question) built from the reply to its A question."""
    header = a_reply.header
    out = req.reply(int(header.rcode), aa=bool(header.aa))
    out.header.ra = header.ra
    cap = negative_ttl(aaaa_reply)
    answer: list[Any] = []
    for rr in a_reply.rr:
        if rr.rtype != TYPE_A:
            answer.append(rr)
            continue
        address = embed(prefix, bytes(rr.rdata.data))
        answer.append(
            RR(rr.rname, TYPE_AAAA, rr.rclass, min(int(rr.ttl), cap), AAAA(tuple(address)))
        )
    out.rr = answer
    out.auth = list(a_reply.auth)
    out.ar = list(a_reply.ar)
    return out
