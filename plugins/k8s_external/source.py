"""What *k8s_external* reads of the *kubernetes* plugin, and the view it answers from.

Plugins never import each other. The *kubernetes* handler of the same server block is found by
name at start-up and used through the small protocols below (duck typing, checked when binding):

- ``handler.service_source()`` returns its store: ``service(ns, name)``, ``slices(ns, svc)``,
  ``namespace(name)``, ``slices_by_ip(ip)``, ``tables["Service"]``, ``serial`` and
  ``on_change(listener)``; the records are the plugin's compact Service, EndpointSlice and
  Namespace records (only the attributes named in the protocols are read);
- ``handler.ready()``: the first sync is done (until then a name not found is SERVFAIL);
- ``handler.record_options()`` (optional): the plugin's record options, for the settings both
  plugins must share: ``namespaces`` and ``namespace_labels`` (which namespaces are exposed),
  ``endpoint_pod_names`` (endpoint names) and ``dns_ips`` (this server's own addresses).

:class:`Cluster` adds what CoreDNS's kubernetes plugin keeps for *k8s_external*: an index of the
Services by external address (``SvcExtIndexReverse``, for PTR answers) and the serial of the last
change to external data (``Modified(true)``, the SOA serial), both maintained from the store's
change notifications.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

__all__ = ["Cluster", "Settings", "ServiceSource", "ServiceLike", "SliceLike", "EndpointLike"]
__all__ += ["NO_PORTS", "PortLike", "Sentinel", "is_ip"]

Key = tuple[str, str]
Listener = Callable[[str, object | None, object | None], None]


class PortLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def protocol(self) -> str: ...
    @property
    def port(self) -> int: ...


class ServiceLike(Protocol):
    @property
    def namespace(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def headless(self) -> bool: ...
    @property
    def ports(self) -> Sequence[PortLike]: ...
    @property
    def external_ips(self) -> Sequence[str]: ...
    @property
    def ingress(self) -> Sequence[str]: ...


class EndpointLike(Protocol):
    @property
    def addresses(self) -> Sequence[str]: ...
    @property
    def hostname(self) -> str: ...
    @property
    def pod_name(self) -> str: ...


class SliceLike(Protocol):
    @property
    def namespace(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def endpoints(self) -> Sequence[EndpointLike]: ...
    @property
    def ports(self) -> Sequence[PortLike]: ...


class NamespaceLike(Protocol):
    def label_map(self) -> dict[str, str]: ...


class LabelMatcher(Protocol):
    def matches(self, labels: Mapping[str, str]) -> bool: ...


class ServiceSource(Protocol):
    """The reading side of the *kubernetes* plugin's store."""

    @property
    def serial(self) -> int: ...
    @property
    def tables(self) -> Mapping[str, Mapping[Key, object]]: ...
    def service(self, namespace: str, name: str) -> ServiceLike | None: ...
    def slices(self, namespace: str, service: str) -> Sequence[SliceLike]: ...
    def namespace(self, name: str) -> NamespaceLike | None: ...
    def slices_by_ip(self, ip: str) -> Sequence[SliceLike]: ...
    def on_change(self, listener: Listener) -> Callable[[], None]: ...


class KubernetesLike(Protocol):
    """The *kubernetes* handler, as far as *k8s_external* uses it."""

    def service_source(self) -> ServiceSource: ...
    def ready(self) -> bool: ...


@dataclass(frozen=True)
class Sentinel:
    """CoreDNS's port -1: an object without ports still has addresses (but no SRV)."""

    name: str = ""
    protocol: str = ""
    port: int = -1


NO_PORTS: tuple[PortLike, ...] = (Sentinel(),)


@dataclass(frozen=True)
class Settings:
    """The *kubernetes* plugin's settings that decide what *k8s_external* may answer."""

    #: Only these namespaces are exposed (empty: all).
    namespaces: frozenset[str] = frozenset()
    namespace_labels: LabelMatcher | None = None
    endpoint_pod_names: bool = False
    #: This server's own addresses (the name server records' addresses).
    dns_ips: tuple[str, ...] = ()

    @classmethod
    def of(cls, kubernetes: object) -> Settings:
        """Read the settings from the handler's ``record_options()``; defaults for what it lacks."""
        get_options = getattr(kubernetes, "record_options", None)
        ropts = get_options() if callable(get_options) else None
        namespaces: Iterable[object] = getattr(ropts, "namespaces", ())
        labels: object = getattr(ropts, "namespace_labels", None)
        dns_ips: Iterable[object] = getattr(ropts, "dns_ips", ())
        return cls(
            namespaces=frozenset(str(n).lower() for n in namespaces),
            namespace_labels=cast(LabelMatcher, labels) if hasattr(labels, "matches") else None,
            endpoint_pod_names=getattr(ropts, "endpoint_pod_names", False) is True,
            dns_ips=tuple(str(ip) for ip in dns_ips),
        )


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _external(svc: ServiceLike) -> tuple[str, ...]:
    """The external addresses of a Service (CoreDNS's ExternalIPs): spec.externalIPs then the
    load balancer's ingress (IP, or hostname when it has no IP)."""
    return (*svc.external_ips, *svc.ingress)


class Cluster:
    """The *kubernetes* plugin's data as *k8s_external* answers from it."""

    def __init__(
        self,
        source: ServiceSource,
        settings: Settings = Settings(),
        ready: Callable[[], bool] = lambda: True,
        *,
        headless: bool = False,
    ) -> None:
        self.source = source
        self.settings = settings
        self.ready = ready
        self.headless = headless
        self._by_ip: dict[str, list[Key]] = {}
        for item in list(source.tables.get("Service", {}).values()):
            self._index(cast(ServiceLike, item), add=True)
        #: Unix time of the last change to what this plugin answers (the SOA serial).
        self.serial = int(source.serial)
        self._stop: Callable[[], None] | None = source.on_change(self._changed)

    @classmethod
    def bind(cls, kubernetes: object, *, headless: bool) -> Cluster:
        """The view of a *kubernetes* handler's data; TypeError when it offers none."""
        get_source = getattr(kubernetes, "service_source", None)
        if not callable(get_source):
            raise TypeError("the kubernetes plugin does not offer its services (service_source)")
        source = cast(ServiceSource, get_source())
        ready = getattr(kubernetes, "ready", None)
        check = cast(Callable[[], bool], ready) if callable(ready) else (lambda: True)
        return cls(source, Settings.of(kubernetes), check, headless=headless)

    def close(self) -> None:
        """Stop following the store's changes."""
        if self._stop is not None:
            self._stop()
            self._stop = None

    # -- following the store -----------------------------------------------------------------

    def _index(self, svc: ServiceLike, *, add: bool) -> None:
        key = (svc.namespace, svc.name)
        for ip in dict.fromkeys(_external(svc)):
            if not is_ip(ip):
                continue
            keys = self._by_ip.setdefault(ip, [])
            if add and key not in keys:
                keys.append(key)
            elif not add and key in keys:
                keys.remove(key)
            if not keys:
                del self._by_ip[ip]

    def _changed(self, kind: str, old: object | None, new: object | None) -> None:
        if kind == "Service":
            before, after = cast(ServiceLike | None, old), cast(ServiceLike | None, new)
            if before is not None:
                self._index(before, add=False)
            if after is not None:
                self._index(after, add=True)
            if any(s is not None and self._answered(s) for s in (before, after)):
                self.serial = int(time.time())
        elif kind == "EndpointSlice" and self.headless:
            for item in (old, new):
                if item is None:
                    continue
                s = cast(SliceLike, item)
                svc = self.source.service(s.namespace, s.service)
                if svc is not None and svc.headless and not _external(svc):
                    self.serial = int(time.time())
                    return

    def _answered(self, svc: ServiceLike) -> bool:
        """Whether this plugin answers anything for ``svc``."""
        return bool(_external(svc)) or (self.headless and svc.headless)

    # -- reading -----------------------------------------------------------------------------

    def exposed(self, namespace: str) -> bool:
        """CoreDNS's namespaceExposed: configured, existing, and matching namespace_labels."""
        settings = self.settings
        if settings.namespaces and namespace not in settings.namespaces:
            return False
        ns = self.source.namespace(namespace)
        if ns is None:
            return False
        labels = settings.namespace_labels
        return labels is None or labels.matches(ns.label_map())

    def external(self, svc: ServiceLike) -> tuple[str, ...]:
        return _external(svc)

    def reverse(self, ip: str) -> list[ServiceLike]:
        """The Services having ``ip`` (canonical text) as an external address, exposed ones only
        when namespaces are filtered (CoreDNS ExternalReverse)."""
        filtered = bool(self.settings.namespaces) or self.settings.namespace_labels is not None
        found: list[ServiceLike] = []
        for namespace, name in self._by_ip.get(ip, ()):
            svc = self.source.service(namespace, name)
            if svc is not None and (not filtered or self.exposed(namespace)):
                found.append(svc)
        return found

    def ep_label(self, ep: EndpointLike, ip: str) -> str:
        """An endpoint's name, as the *kubernetes* plugin names it: its hostname, else
        (endpoint_pod_names) its Pod's name, else its address dashed."""
        if ep.hostname:
            return ep.hostname
        if self.settings.endpoint_pod_names and ep.pod_name:
            return ep.pod_name
        if ":" not in ip:
            return ip.replace(".", "-")
        dashed = ip.replace(":", "-")
        return dashed + "0" if dashed.endswith("-") else dashed

    def ns_addresses(self) -> list[str]:
        """The addresses of ``ns1.<apex>.<zone>`` (CoreDNS nsAddrs, external): the external
        addresses of the Services whose endpoints hold one of this server's addresses (with
        ``headless``, a headless Service's endpoint addresses); this server's addresses when no
        Service has it as an endpoint."""
        found = False
        ips: list[str] = []
        source = self.source
        for local in self.settings.dns_ips:
            for s in source.slices_by_ip(local):
                found = True
                svc = source.service(s.namespace, s.service)
                if svc is None:
                    continue
                if self.headless and svc.headless:
                    ips.extend(ip for ep in s.endpoints for ip in ep.addresses)
                else:
                    ips.extend(ip for ip in _external(svc) if is_ip(ip))
        if not found:
            ips = list(self.settings.dns_ips)
        return list(dict.fromkeys(ips))
