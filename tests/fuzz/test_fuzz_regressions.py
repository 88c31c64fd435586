"""Every input a fuzzer found that crashed a target, replayed through that target.

Add a found crash here as ``(target, base64 of the input, why)`` (libFuzzer prints the base64),
with the fix in dnsd and a focused test beside the code it fixes.
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.fuzz import targets

_SCOPED = {
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"clusterIP": "fe80::1%eth0"},
}

FOUND = [
    (
        # A CH-class A query for a whoami zone: whoami answers in the query's class (as CoreDNS);
        # the harness's dnspython check misread CH A records. Kept: the reply must stay framed.
        "receive",
        "m4YBAAABAAAAAAABB2V4YW1wbGUDb3JnAAABAAMAACkQAAAAAAAAAA==",
        "ch-class-whoami",
    ),
    (
        # A scoped IPv6 cluster IP reached the store; building its AAAA record raised.
        "objects",
        base64.b64encode(json.dumps(_SCOPED).encode()).decode(),
        "scoped-ipv6-cluster-ip",
    ),
]


@pytest.mark.parametrize(("target", "data", "why"), FOUND, ids=[f[2] for f in FOUND])
def test_found_crash(target: str, data: str, why: str) -> None:
    targets.TARGETS[target](base64.b64decode(data))
