"""Property tests of the objects read from the Kubernetes API and of the informer's events:
missing fields, wrong types and huge lists give a record, None or a skip, never an exception;
the store's indexes always match its tables; answers built from it always pack."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz import seeds, targets

OBJECTS = [json.loads(s) for s in seeds.seeds("objects")[:4]]

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "None",
            "",
            "10.0.0.1",
            "fe80::1%eth0",
            "::ffff:1.2.3.4",
            "1.2.3.4%x",
            "2001:db8::1",
            "IPv4",
            "IPv6",
            "FQDN",
            "Pod",
            "ExternalName",
            "Succeeded",
            "TCP",
            "x" * 300,
            "2024-01-01T00:00:00.123456789Z",
            "0001-01-01T00:00:00+23:59",
            "9999-12-31T23:59:59-23:59",
        ]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(obj: Any, path: tuple[Any, ...], value: Any, how: str) -> Any:
    if not path:
        return value
    parent = obj
    for step in path[:-1]:
        parent = parent[step]
    if how == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return obj


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    obj = copy.deepcopy(draw(st.sampled_from(OBJECTS)))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(obj)
        path = draw(st.sampled_from(paths))
        how = draw(st.sampled_from(["set", "set", "delete"])) if path else "set"
        obj = _mutate(obj, path, draw(JSON), how)
    return obj if isinstance(obj, dict) else {"metadata": obj}


@given(mutated())
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_converters_take_any_shape(obj: dict[str, Any]) -> None:
    targets.objects(json.dumps(obj).encode())


@given(obj=st.sampled_from(OBJECTS), pick=st.integers(0, 100), count=st.integers(2, 5000))
@settings(max_examples=20)
def test_converters_take_huge_lists(obj: dict[str, Any], pick: int, count: int) -> None:
    obj = copy.deepcopy(obj)
    paths = [p for p in _paths(obj) if p]
    path = paths[pick % len(paths)]
    parent = obj
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = [parent[path[-1]]] * count
    targets.objects(json.dumps(obj).encode())


@given(JSON)
def test_converters_take_any_json(obj: Any) -> None:
    targets.objects(json.dumps(obj).encode())


EVENT = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR", "X"]) | JSON,
        "object": mutated() | st.sampled_from(OBJECTS) | JSON,
    }
)


@given(st.lists(EVENT | JSON, max_size=12))
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
def test_informer_events_keep_the_store_consistent(events: list[Any]) -> None:
    targets.informer_events("\n".join(json.dumps(e) for e in events).encode())
