"""Setup of *cache*: every option, CoreDNS's defaults, and every error message whole."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dnsd.errors import CorefileError
from dnsd.instance import load
from dnsd.plugins.cache.setup import NAME, CacheOptions, parse
from dnsd.plugins.cache.store import per_shard
from dnsd.testing import parsed_options


def cache(*lines: str, args: str = "", key: str = ".") -> str:
    body = "".join(f"        {line}\n" for line in lines)
    block = f" {{\n{body}    }}" if lines else ""
    return f"{key} {{\n    cache{' ' + args if args else ''}{block}\n}}\n"


@dataclass(frozen=True)
class SetupCase:
    id: str
    corefile: str
    want: CacheOptions | None = None
    error: str | None = None


D = CacheOptions()
CASES = [
    SetupCase("defaults", cache(), D),
    SetupCase("zones-from-keys", "example.org 10.0.0.0/24 {\n    cache\n}\n",
              CacheOptions(zones=("example.org.", "0.0.10.in-addr.arpa."))),
    SetupCase("ttl", cache(args="30"), CacheOptions(success_ttl=30, denial_ttl=30)),
    SetupCase("ttl-and-zones", cache(args="30 example.org Example.NET"),
              CacheOptions(zones=("example.org.", "example.net."), success_ttl=30, denial_ttl=30)),
    SetupCase("zones", cache(args="example.org"), CacheOptions(zones=("example.org.",))),
    SetupCase("not-a-number-is-a-zone", cache(args="30s"), CacheOptions(zones=("30s.",))),
    SetupCase("success", cache("success 5000"), CacheOptions(success_capacity=5000)),
    SetupCase("success-ttls", cache("success 5000 600 1"),
              CacheOptions(success_capacity=5000, success_ttl=600, success_minttl=1)),
    SetupCase("denial-ttls", cache("denial 2500 60 0"),
              CacheOptions(denial_capacity=2500, denial_ttl=60, denial_minttl=0)),
    SetupCase("ttl-then-success", cache("success 5000 600", args="30"),
              CacheOptions(success_capacity=5000, success_ttl=600, denial_ttl=30)),
    SetupCase("prefetch", cache("prefetch 10"), CacheOptions(prefetch=10)),
    SetupCase("prefetch-all", cache("prefetch 10 1m30s 20%"),
              CacheOptions(prefetch=10, prefetch_duration=90.0, prefetch_percentage=20)),
    SetupCase("serve-stale", cache("serve_stale"), CacheOptions(serve_stale=3600.0)),
    SetupCase("serve-stale-duration", cache("serve_stale 10m"), CacheOptions(serve_stale=600.0)),
    SetupCase("serve-stale-immediate", cache("serve_stale 1h immediate 30s 1m"),
              CacheOptions(serve_stale=3600.0, stale_ttl=30.0, stale_recheck=60.0)),
    SetupCase("serve-stale-verify", cache("serve_stale 1h verify"),
              CacheOptions(serve_stale=3600.0, verify_stale=True)),
    SetupCase("serve-stale-verify-all", cache("serve_stale 1h VERIFY 100ms 30s 5m"),
              CacheOptions(serve_stale=3600.0, verify_stale=True, verify_timeout=0.1,
                           stale_ttl=30.0, stale_recheck=300.0)),
    SetupCase("servfail", cache("servfail 10s"), CacheOptions(servfail=10.0)),
    SetupCase("servfail-off", cache("servfail 0"), CacheOptions(servfail=0.0)),
    SetupCase("disable-all", cache("disable success"), CacheOptions(disable_success=(".",))),
    SetupCase("disable-zones", cache("disable denial cluster.local Example.ORG"),
              CacheOptions(disable_denial=("cluster.local.", "example.org."))),
    SetupCase("disable-last-wins", cache("disable denial a.org", "disable denial b.org"),
              CacheOptions(disable_denial=("b.org.",))),
    SetupCase("keepttl", cache("keepttl"), CacheOptions(keepttl=True)),
    SetupCase("kubeadm", cache("disable success cluster.local", "disable denial cluster.local",
                               args="30"),
              CacheOptions(success_ttl=30, denial_ttl=30, disable_success=("cluster.local.",),
                           disable_denial=("cluster.local.",))),
    # errors
    SetupCase("twice", ". {\n    cache\n    cache 30\n}\n",
              error="Corefile:3: cache: can only be used once per server block"),
    SetupCase("ttl-zero", cache(args="0"),
              error="Corefile:2: cache: cache TTL can not be zero or negative: 0"),
    SetupCase("ttl-negative", cache(args="-5"),
              error="Corefile:2: cache: cache TTL can not be zero or negative: -5"),
    SetupCase("bad-zone", cache(args="30 example..org"),
              error="Corefile:2: cache: zone is not a valid domain name: 'example..org'"),
    SetupCase("success-no-args", cache("success"),
              error="Corefile:3: cache: wrong argument count or unexpected line ending after "
                    "'success'"),
    SetupCase("success-too-many", cache("success 1 2 3 4"),
              error="Corefile:3: cache: wrong argument count or unexpected line ending after '4'"),
    SetupCase("success-capacity", cache("success lots"),
              error="Corefile:3: cache: success capacity must be an integer: 'lots'"),
    SetupCase("success-capacity-negative", cache("success -1"),
              error="Corefile:3: cache: success capacity can not be negative: -1"),
    SetupCase("success-ttl", cache("success 100 1h"),
              error="Corefile:3: cache: success TTL must be an integer: '1h'"),
    SetupCase("success-ttl-zero", cache("success 100 0"),
              error="Corefile:3: cache: cache TTL can not be zero or negative: 0"),
    SetupCase("denial-minttl", cache("denial 100 60 5s"),
              error="Corefile:3: cache: denial min TTL must be an integer: '5s'"),
    SetupCase("denial-minttl-negative", cache("denial 100 60 -1"),
              error="Corefile:3: cache: cache min TTL can not be negative: -1"),
    SetupCase("prefetch-no-args", cache("prefetch"),
              error="Corefile:3: cache: wrong argument count or unexpected line ending after "
                    "'prefetch'"),
    SetupCase("prefetch-too-many", cache("prefetch 1 1m 10% x"),
              error="Corefile:3: cache: wrong argument count or unexpected line ending after 'x'"),
    SetupCase("prefetch-amount", cache("prefetch many"),
              error="Corefile:3: cache: prefetch amount must be an integer: 'many'"),
    SetupCase("prefetch-amount-negative", cache("prefetch -1"),
              error="Corefile:3: cache: prefetch amount should be positive: -1"),
    SetupCase("prefetch-duration", cache("prefetch 1 soon"),
              error="Corefile:3: cache: invalid duration 'soon'"),
    SetupCase("prefetch-duration-negative", cache("prefetch 1 -1m"),
              error="Corefile:3: cache: invalid negative duration for prefetch"),
    SetupCase("prefetch-percent-sign", cache("prefetch 1 1m 20"),
              error="Corefile:3: cache: last character of percentage should be `%`, but is: '0'"),
    SetupCase("prefetch-percent-number", cache("prefetch 1 1m x%"),
              error="Corefile:3: cache: prefetch percentage must be an integer: 'x'"),
    SetupCase("prefetch-percent-range", cache("prefetch 1 1m 95%"),
              error="Corefile:3: cache: percentage should fall in range [10, 90]: 95"),
    SetupCase("serve-stale-too-many", cache("serve_stale 1h verify 1s 1s 1s 1s"),
              error="Corefile:3: cache: wrong argument count or unexpected line ending after "
                    "'1s'"),
    SetupCase("serve-stale-immediate-too-many", cache("serve_stale 1h immediate 1s 1s 1s"),
              error="Corefile:3: cache: wrong argument count or unexpected line ending after "
                    "'1s'"),
    SetupCase("serve-stale-duration", cache("serve_stale forever"),
              error="Corefile:3: cache: invalid duration 'forever'"),
    SetupCase("serve-stale-negative", cache("serve_stale -1h"),
              error="Corefile:3: cache: invalid negative duration for serve_stale"),
    SetupCase("serve-stale-mode", cache("serve_stale 1h before"),
              error="Corefile:3: cache: invalid value for serve_stale refresh mode: before"),
    SetupCase("serve-stale-timeout", cache("serve_stale 1h verify -1s"),
              error="Corefile:3: cache: invalid negative duration for serve_stale verify timeout"),
    SetupCase("serve-stale-response-ttl", cache("serve_stale 1h immediate -30s"),
              error="Corefile:3: cache: invalid negative duration for serve_stale response TTL"),
    SetupCase("serve-stale-recheck", cache("serve_stale 1h immediate 30s -1s"),
              error="Corefile:3: cache: invalid negative duration for serve_stale failure recheck"),
    SetupCase("serve-stale-recheck-max", cache("serve_stale 1h verify 1s 30s 6m"),
              error="Corefile:3: cache: serve_stale failure recheck over 5 minutes is not "
                    "permitted"),
    SetupCase("servfail-no-args", cache("servfail"),
              error="Corefile:3: cache: wrong argument count or unexpected line ending after "
                    "'servfail'"),
    SetupCase("servfail-bad", cache("servfail often"),
              error="Corefile:3: cache: invalid duration 'often'"),
    SetupCase("servfail-negative", cache("servfail -5s"),
              error="Corefile:3: cache: invalid negative ttl for servfail"),
    SetupCase("servfail-max", cache("servfail 301s"),
              error="Corefile:3: cache: caching SERVFAIL responses over 5 minutes is not "
                    "permitted"),
    SetupCase("disable-no-args", cache("disable"),
              error="Corefile:3: cache: wrong argument count or unexpected line ending after "
                    "'disable'"),
    SetupCase("disable-type", cache("disable errors example.org"),
              error='Corefile:3: cache: cache type for disable must be "success" or "denial"'),
    SetupCase("disable-zone", cache("disable success example..org"),
              error="Corefile:3: cache: invalid disabled zone: example..org"),
    SetupCase("keepttl-args", cache("keepttl yes"),
              error="Corefile:3: cache: wrong argument count or unexpected line ending after "
                    "'yes'"),
    SetupCase("unknown", cache("capacity 10"),
              error="Corefile:3: cache: unknown property 'capacity'"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_parse(case: SetupCase) -> None:
    if case.error is not None:
        with pytest.raises(CorefileError) as exc:
            parsed_options(case.corefile, NAME, parse)
        assert str(exc.value) == case.error
        return
    (got,) = parsed_options(case.corefile, NAME, parse)
    assert got == case.want


def test_setup_adds_one_handler_and_hooks() -> None:
    instance = load(cache("prefetch 1"), "Corefile")
    (block,) = instance.blocks
    assert [h.name for h in block.handlers] == ["cache"]
    assert len(instance.startup) == 1 and len(instance.shutdown) == 1


CAPACITIES = [
    # (configured, effective): 256 shards of capacity // 256 items, at least 4 each
    (10000, 9984),
    (5000, 4864),
    (2000, 1792),
    (1025, 1024),
    (1024, 1024),
    (100, 1024),
    (0, 1024),
]


@pytest.mark.parametrize(
    ("configured", "effective"), CAPACITIES, ids=[str(c[0]) for c in CAPACITIES]
)
def test_capacity_rounding(configured: int, effective: int) -> None:
    assert per_shard(configured) * 256 == effective
