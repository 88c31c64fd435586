"""CoreDNS's template metrics: names, help strings and labels of ``plugin/template/metrics.go``.

``view`` is empty (dnsd has no *view* plugin). ``template`` is the failing template written
back in Go's canonical form (``{{.Name}} 60 IN A {{index .Match 1}}``), as CoreDNS labels it.
"""

from __future__ import annotations

from prometheus_client import Counter

NAMESPACE = "coredns"

matches = Counter(
    "matches_total",
    "Counter of template regex matches.",
    ["server", "zone", "view", "class", "type"],
    namespace=NAMESPACE,
    subsystem="template",
)
template_failures = Counter(
    "template_failures_total",
    "Counter of go template failures.",
    ["server", "zone", "view", "class", "type", "section", "template"],
    namespace=NAMESPACE,
    subsystem="template",
)
rr_failures = Counter(
    "rr_failures_total",
    "Counter of mis-templated RRs.",
    ["server", "zone", "view", "class", "type", "section", "template"],
    namespace=NAMESPACE,
    subsystem="template",
)
