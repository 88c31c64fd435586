"""The zone the *file* tests serve (the handler table and the comparison with knot)."""

from __future__ import annotations

SERIAL = 2024010101
#: Names of 63 octets, for the DNAME that makes too long a name.
L63 = "l" * 63

EXAMPLE_ORG = f"""\
$ORIGIN example.org.
$TTL 3600
@         IN SOA   ns1 hostmaster {SERIAL} 7200 3600 1209600 300
          IN NS    ns1
          IN NS    ns2.example.net.
          IN MX    10 mail
          IN TXT   "v=spf1 -all"
ns1       IN A     192.0.2.53
          IN AAAA  2001:db8::53
mail      IN A     192.0.2.25
www       IN A     192.0.2.80
          IN AAAA  2001:db8::80
www2  60  IN A     192.0.2.82
alias     IN CNAME www
chain     IN CNAME alias
ext       IN CNAME www.example.net.
dangling  IN CNAME missing
loop1     IN CNAME loop2
loop2     IN CNAME loop1
_sip._tcp IN SRV   0 5 5060 sip
sip       IN A     192.0.2.60
*.wild    IN A     192.0.2.99
*.wild    IN TXT   "wild"
*.cn      IN CNAME www
a.b.c     IN TXT   "deep"
*.c       IN A     192.0.2.77
sub       IN NS    ns.sub
sub       IN NS    ns.example.net.
sub       IN DS    12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
ns.sub    IN A     192.0.2.200
dn        IN DNAME example.net.
dnin      IN DNAME target
www.target IN A    192.0.2.81
long      IN DNAME {L63}.{L63}.example.net.
opaque    IN TYPE65280 \\# 3 010203
caa       IN CAA   0 issue "ca.example.net"
"""

#: A name under ``long`` that fits, but not once rewritten by its DNAME.
TOO_LONG = f"{L63}.{L63}.{L63[:50]}.long.example.org."
