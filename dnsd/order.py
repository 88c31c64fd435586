"""The plugin chain order: one list, never the Corefile's text order.

``COREDNS_ORDER`` is CoreDNS 1.14.7's ``plugin.cfg``. ``ORDER`` holds the
plugins dnsd has, in that order; a repository test checks that it matches the
``plugins/`` folders and is a subsequence of ``COREDNS_ORDER``. Earlier in the
list sees the query first and the reply last.
"""

from __future__ import annotations

COREDNS_ORDER: tuple[str, ...] = (
    "root", "metadata", "geoip", "cancel", "proxyproto", "quic", "grpc_server", "https",
    "https3", "timeouts", "multisocket", "reload", "nsid", "bufsize", "bind", "debug", "trace",
    "ready", "health", "pprof", "shed", "prometheus", "errors", "log", "dnstap", "local",
    "dns64", "any", "chaos", "loadbalance", "tsig", "rewrite", "autopath", "acl", "cache",
    "header", "dnssec", "tls", "minimal", "template", "transfer", "hosts", "route53", "azure",
    "clouddns", "k8s_external", "kubernetes", "file", "auto", "secondary", "etcd", "loop",
    "forward", "grpc", "erratic", "whoami", "on", "sign", "view", "nomad",
)  # fmt: skip

ORDER: tuple[str, ...] = (
    "root", "timeouts", "multisocket", "reload", "nsid", "bufsize", "bind", "debug", "ready",
    "health", "prometheus", "errors", "log", "dns64", "any", "chaos", "loadbalance", "rewrite",
    "autopath", "acl", "cache", "header", "minimal", "template", "hosts", "k8s_external",
    "kubernetes", "file", "loop", "forward", "whoami",
)  # fmt: skip
