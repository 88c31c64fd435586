"""Handler of *kubernetes*: answers from the store, starts and stops what fills it.

The store is filled by one informer per resource (list+watch of the API) or,
with ``objects``, by the file source. Until the first sync, names that cannot
be found are SERVFAIL (with the SOA), as in CoreDNS, so a pod never caches an
NXDOMAIN for a Service that exists.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable

from prometheus_client import Histogram

from dnsd import authoritative
from dnsd.controller import Controller
from dnsd.log import plugin_logger
from dnsd.plugin import Next
from dnsd.plugins.kubernetes import records, searchpath
from dnsd.plugins.kubernetes.client import make_api
from dnsd.plugins.kubernetes.informer import Informer
from dnsd.plugins.kubernetes.objects import (
    ENDPOINTSLICES,
    NAMESPACES,
    PODS,
    SERVICES,
    EndpointSlice,
    Resource,
)
from dnsd.plugins.kubernetes.selector import parse_selector
from dnsd.plugins.kubernetes.setup import NAME, KubernetesOptions
from dnsd.plugins.kubernetes.source import FileSource
from dnsd.plugins.kubernetes.store import Listener, Store
from dnsd.reply import Reply
from dnsd.request import Request

log = plugin_logger(NAME)

REFUSED = 5
AXFR, IXFR = 252, 251
#: Namespaces whose memo checks are kept (queries can name namespaces that do not exist).
_NS_MEMOS_MAX = 4096

programming_duration = Histogram(
    "dns_programming_duration_seconds",
    "Histogram of the time (in seconds) it took to program a dns instance.",
    ["service_kind"],
    namespace="coredns",
    subsystem=NAME,
    buckets=(0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024,
             2.048, 4.096, 8.192, 16.384, 32.768, 65.536, 131.072, 262.144, 524.288),
)  # fmt: skip


class Kubernetes:
    """Answers the zones of the plugin from the store."""

    name = NAME

    def __init__(
        self,
        opts: KubernetesOptions,
        store: Store,
        ropts: records.Options,
        host_search: tuple[str, ...] = (),
    ) -> None:
        self.opts = opts
        self.store = store
        self.ropts = ropts
        self._memo: tuple[int, Callable[[], bool]] | None = None
        self._ns_memos: dict[str, tuple[int, int, Callable[[], bool]]] = {}
        #: This server's own resolv.conf search domains, the end of every search path.
        self.host_search = host_search
        kinds = ["Namespace", "Service"]
        if not opts.noendpoints:
            kinds.append("EndpointSlice")
        if opts.pods == "verified":
            kinds.append("Pod")
        self.kinds = tuple(kinds)

    def service_source(self) -> Store:
        """The store, for plugins that answer from the same Services (*k8s_external*).

        They find this handler by name in their block and use only its reading methods
        (``service``, ``slices``, ``services_by_ip``, ``tables``, ``serial``, ``on_change``).
        """
        return self.store

    @property
    def zones(self) -> tuple[str, ...]:
        """The zones this plugin is authoritative for."""
        return self.opts.zones

    def on_data_changed(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` whenever the cluster's data change (the cache drops its answers
        in :attr:`zones` then, so a new Service is never hidden behind a cached NXDOMAIN).
        Returns a function that stops the calls."""
        return self.store.on_change(lambda kind, old, new: callback())

    def record_options(self) -> records.Options:
        """The settings that decide what is exposed (namespaces, namespace_labels,
        endpoint_pod_names, dns_ips), for plugins that must agree with them (*k8s_external*)."""
        return self.ropts

    def search_path(self, qname: str, client_ip: str) -> tuple[str, ...] | None:
        """The search path of the pod at ``client_ip`` for ``qname`` (lowercase, absolute), for
        *autopath* (``autopath @kubernetes``): ``<ns>.svc.<zone>``, ``svc.<zone>``, ``<zone>``,
        then this server's own resolv.conf search domains, where ``<zone>`` is the longest zone
        of this plugin holding ``qname``.

        None (no autopath) without ``pods verified``, outside the zones, and when the address is
        not that of exactly one pod with an address of its own (see :mod:`.searchpath`).
        """
        if self.opts.pods != "verified":
            return None
        return searchpath.client_search(
            self.store, self.opts.zones, self.host_search, qname, client_ip
        )

    def search_path_error(self) -> str:
        """Why :meth:`search_path` can never give a path with this configuration ('' if it can):
        *autopath* refuses the configuration with this message."""
        if self.opts.pods != "verified":
            return "the kubernetes plugin needs 'pods verified' to find a client's namespace"
        return ""

    def ready(self) -> bool:
        """Every watched resource has been listed once."""
        return self.store.has_synced(self.kinds)

    async def serve(self, req: Request, next: Next) -> Reply | None:
        if req.qclass != 1:
            return await next(req)
        answer = records.resolve(self.store, self.ropts, req.labels, req.qtype)
        if answer is None:
            return await next(req)
        # Taken before any await: the store changes only on this thread, between awaits.
        memo = self._memo_check() if answer.namespace is None else self._ns_check(answer.namespace)
        if req.qtype in (AXFR, IXFR):
            return Reply(req.reply(rcode=REFUSED))  # zone transfers are the transfer plugin's
        # An ExternalName's target is resolved elsewhere; the rest is ours until the data change.
        lookups = [(answer.cname_target, req.qtype, False)] if answer.cname_target else []
        return await authoritative.reply(
            req,
            next,
            answer,
            fallthrough=self.opts.fallthrough,
            synced=self.ready,
            lookups=lookups,
            memo=memo,
        )

    def _ns_check(self, namespace: str) -> Callable[[], bool]:
        """The memo check of an answer decided by one namespace's objects: true until they or the
        Namespaces change, so endpoint churn elsewhere in a large cluster leaves it standing.
        One function per namespace and stamp, shared."""
        store = self.store
        ns_stamp, stamps = store.namespaces_stamp, store.ns_stamps
        stamp = stamps.get(namespace, 0)
        held = self._ns_memos.get(namespace)
        if held is not None and held[0] == ns_stamp and held[1] == stamp:
            return held[2]
        if len(self._ns_memos) >= _NS_MEMOS_MAX:  # names of namespaces that may not exist
            self._ns_memos.clear()

        def check() -> bool:
            return store.namespaces_stamp == ns_stamp and stamps.get(namespace, 0) == stamp

        self._ns_memos[namespace] = (ns_stamp, stamp, check)
        return check

    def _memo_check(self) -> Callable[[], bool]:
        """The memo check of answers from the store as it is now: true while its generation
        holds. One function per generation, shared by every memo (a closure per answer was
        290 B of each memo's 708)."""
        generation = self.store.generation
        if self._memo is None or self._memo[0] != generation:
            store = self.store
            self._memo = (generation, lambda: store.generation == generation)
        return self._memo[1]


def register(c: Controller, opts: KubernetesOptions) -> None:
    """Create the store, the handler and the hooks that fill the store."""
    try:
        ns_selector = parse_selector(opts.namespace_labels) if opts.namespace_labels else None
    except ValueError as exc:  # setup checked it already
        c.err(str(exc))
    ropts = records.Options(
        zones=opts.zones,
        ttl=opts.ttl,
        pods=opts.pods,
        endpoint_pod_names=opts.endpoint_pod_names,
        namespaces=opts.namespaces,
        namespace_labels=ns_selector,
        ignore_empty_service=opts.ignore_empty_service,
        noendpoints=opts.noendpoints,
        dns_ips=_own_ips(c.settings.get("bind", [])),
    )
    store = Store()
    # Read at setup, as CoreDNS does (every reload reads it again); only autopath needs it.
    host = searchpath.host_search(searchpath.RESOLV_CONF) if opts.pods == "verified" else ()
    handler = Kubernetes(opts, store, ropts, host)
    store.on_change(_programming_observer(store))
    feed = _Feed(c, opts, handler)
    c.add_handler(handler)
    c.on_startup(feed.start)
    c.on_shutdown(feed.stop)


class _Feed:
    """What fills the store: the file source, or one informer per resource."""

    def __init__(self, c: Controller, opts: KubernetesOptions, handler: Kubernetes) -> None:
        self.opts = opts
        self.handler = handler
        self.source: FileSource | None = None
        self.informers: list[Informer] = []
        resources = {"Namespace": NAMESPACES, "Service": SERVICES, "EndpointSlice": ENDPOINTSLICES}
        resources["Pod"] = PODS
        self.resources: list[Resource] = [resources[k] for k in handler.kinds]
        if opts.objects:
            selector = parse_selector(opts.labels) if opts.labels else None
            self.source = FileSource(
                opts.objects, handler.store, kinds=handler.kinds, label_selector=selector
            )
            self.api = None
            return
        try:
            self.api = make_api(
                kubeconfig=opts.kubeconfig or None,
                context=opts.context or None,
                endpoint=opts.endpoint or None,
                tls=opts.tls,
                qps=opts.apiserver_qps,
                burst=opts.apiserver_burst,
                max_inflight=opts.apiserver_max_inflight,
            )
        except ValueError as exc:
            c.err(str(exc))

    async def start(self) -> None:
        """Start filling the store; wait up to startup_timeout for the first sync."""
        loop = asyncio.get_running_loop()
        if self.source is not None:
            await self.source.start()
        elif self.api is not None:
            sink = self.handler.store.threadsafe(loop)
            for resource in self.resources:
                labels = self.opts.labels if resource.kind in ("Service", "EndpointSlice") else ""
                informer = Informer(self.api, resource, sink, label_selector=labels)
                informer.start()
                self.informers.append(informer)
        deadline = loop.time() + self.opts.startup_timeout
        if not self.handler.ready():
            log.info("waiting for Kubernetes API before starting server")
        while not self.handler.ready():
            if loop.time() >= deadline:
                log.warning("starting server with unsynced Kubernetes API")
                return
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """Stop the informers (their threads end at once) or the file source."""
        if self.source is not None:
            await self.source.stop()
        for informer in self.informers:
            informer.stop()
        informers, self.informers = self.informers, []
        if informers:
            await asyncio.to_thread(lambda: [i.join(2.0) for i in informers])
        if self.api is not None:
            self.api.close()


def _programming_observer(store: Store) -> Listener:
    """coredns_kubernetes_dns_programming_duration_seconds: trigger time to now, by kind."""

    def observe(kind: str, old: object | None, new: object | None) -> None:
        if kind != "EndpointSlice" or not isinstance(new, EndpointSlice) or not new.trigger_time:
            return
        if isinstance(old, EndpointSlice) and (old.trigger_time or 0) >= new.trigger_time:
            return  # as CoreDNS: only a newer trigger time is a new change to program
        service = store.service(new.namespace, new.service)
        delay = time.time() - new.trigger_time
        if service is None or delay < 0:
            return
        if not service.headless:
            service_kind = "cluster_ip"
        elif service.selector:
            service_kind = "headless_with_selector"
        else:
            service_kind = "headless_without_selector"
        programming_duration.labels(service_kind).observe(delay)

    return observe


def _own_ips(bind: list[str]) -> tuple[str, ...]:
    """This server's addresses, for ``ns.dns.<zone>``: the bound ones, else the host's own."""
    ips = [ip for ip in bind if ip not in ("0.0.0.0", "::")]
    if ips:
        return tuple(ips)
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, proto=socket.IPPROTO_UDP)
    except OSError:
        return ()
    found = [str(info[4][0]) for info in infos]
    return tuple(dict.fromkeys(ip for ip in found if not ip.startswith(("127.", "::1"))))
