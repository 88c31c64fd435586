"""Search paths for *autopath* (CoreDNS's ``kubernetes/autopath.go``).

A client pod's resolv.conf, as the kubelet writes it, searches ``<ns>.svc.<zone>``,
``svc.<zone>``, ``<zone>`` and then the node's own search domains. This server cannot read the
node's file; as CoreDNS, it ends the list with the search domains of its own resolv.conf
(:data:`RESOLV_CONF`, read when the plugin is set up).

The pod is found by the query's source address among the watched pods (``pods verified``).
Where CoreDNS takes the first pod it finds for the address, dnsd gives no search path (so
*autopath* leaves the query alone) unless exactly one pod has it and that pod does not use the
host's network: a hostNetwork pod has its node's address, shared by the node itself and by every
other such pod there, so its namespace cannot be told from the address. A pod is dropped from
the store as soon as it is terminating, before its address can be given to another pod.
"""

from __future__ import annotations

from collections.abc import Sequence

from dnsd.plugins.kubernetes.objects import canonical_ip
from dnsd.plugins.kubernetes.store import Store
from dnsd.resolvconf import search_domains

#: This server's resolv.conf, whose search domains end every search path (tests replace it).
RESOLV_CONF = "/etc/resolv.conf"


def host_search(path: str) -> tuple[str, ...]:
    """The search domains of the resolv.conf at ``path``, lowercase and absolute.

    As the resolver (and miekg/dns) reads the file: the last ``search`` or ``domain`` line wins.
    A file that cannot be read gives none, as in CoreDNS.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return ()
    return search_domains(text)


def matching_zone(qname: str, zones: Sequence[str]) -> str | None:
    """The longest of ``zones`` holding ``qname`` (both lowercase and absolute), or None."""
    best: str | None = None
    for zone in zones:
        if zone == "." or qname == zone or qname.endswith("." + zone):
            if best is None or len(zone) > len(best):
                best = zone
    return best


def client_search(
    store: Store, zones: Sequence[str], host: Sequence[str], qname: str, client_ip: str
) -> tuple[str, ...] | None:
    """The search path of the pod at ``client_ip`` asking ``qname``: ``<ns>.svc.<zone>``,
    ``svc.<zone>``, ``<zone>`` and then ``host``; None when ``qname`` is outside ``zones`` or no
    single pod that has its own address is found at ``client_ip``."""
    zone = matching_zone(qname, zones)
    if zone is None:
        return None
    ip = canonical_ip(client_ip)
    if ip is None:
        return None
    pods = store.pods_by_ip(ip)
    if len(pods) != 1 or pods[0].host_network:
        return None
    namespace = pods[0].namespace
    if zone == ".":
        own = (f"{namespace}.svc.", "svc.", ".")
    else:
        own = (f"{namespace}.svc.{zone}", f"svc.{zone}", zone)
    return own + tuple(host)
