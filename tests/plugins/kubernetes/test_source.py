"""The ``objects`` file source: formats, folders, conveniences, polling and broken files."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from dnsd.plugins.kubernetes.objects import Namespace
from dnsd.plugins.kubernetes.selector import parse_selector
from dnsd.plugins.kubernetes.source import FileSource, SourceError, load_objects
from dnsd.plugins.kubernetes.store import Store
from dnsd.testing import wait_for
from tests.plugins.kubernetes.test_objects import Obj, ep, eps, ns, pod, svc

WEB = svc("default", "web", "10.96.0.10")
WEB_EPS = eps("default", "web", ep("10.244.0.5"))
KUBECTL_LIST = {
    "apiVersion": "v1",
    "kind": "List",
    "metadata": {"resourceVersion": ""},
    "items": [
        ns("default"),
        ns("prod", env="prod"),
        WEB,
        WEB_EPS,
        pod("default", "p", "10.244.0.5"),
    ],
}


def yaml_docs(*docs: object) -> bytes:
    return yaml.safe_dump_all(docs).encode()


@dataclass(frozen=True)
class LoadCase:
    id: str
    files: dict[str, bytes]
    #: kind -> sorted "namespace/name"
    want: dict[str, list[str]]


def names(objects: dict[str, dict[tuple[str, str], object]]) -> dict[str, list[str]]:
    return {
        kind: sorted(f"{k[0]}/{k[1]}" for k in items) for kind, items in objects.items() if items
    }


LOAD_CASES = [
    LoadCase(
        "single-object",
        {"a.yaml": yaml_docs(WEB)},
        {"Service": ["default/web"], "Namespace": ["/default"]},
    ),
    LoadCase(
        "kubectl-list",
        {"all.yaml": yaml_docs(KUBECTL_LIST)},
        {
            "Namespace": ["/default", "/prod"],
            "Service": ["default/web"],
            "EndpointSlice": ["default/web-ipv4"],
            "Pod": ["default/p"],
        },
    ),
    LoadCase(
        "multi-document-and-empty-documents",
        {"a.yml": yaml_docs(ns("default"), None, WEB, WEB_EPS)},
        {
            "Namespace": ["/default"],
            "Service": ["default/web"],
            "EndpointSlice": ["default/web-ipv4"],
        },
    ),
    LoadCase(
        "json-and-typed-list",
        {
            "a.json": json.dumps(
                {
                    "kind": "ServiceList",
                    "items": [{k: v for k, v in WEB.items() if k != "kind"}],
                }
            ).encode()
        },
        {"Service": ["default/web"], "Namespace": ["/default"]},
    ),
    LoadCase(
        # kubectl get -o json writes items before kind; the items name their own kinds
        "json-kubectl-list-items-first",
        {
            "all.json": json.dumps(
                {"apiVersion": "v1", "items": KUBECTL_LIST["items"], "kind": "List", "metadata": {}}
            ).encode()
        },
        {
            "Namespace": ["/default", "/prod"],
            "Service": ["default/web"],
            "EndpointSlice": ["default/web-ipv4"],
            "Pod": ["default/p"],
        },
    ),
    LoadCase(
        "json-items-without-kind-wait-for-the-list-kind",
        {
            "a.json": json.dumps(
                {"items": [{k: v for k, v in WEB.items() if k != "kind"}], "kind": "ServiceList"}
            ).encode()
        },
        {"Service": ["default/web"], "Namespace": ["/default"]},
    ),
    LoadCase(
        "json-single-object-and-empty-list",
        {"a.json": json.dumps(WEB).encode(), "b.json": b' {"kind": "List", "items": [ ]} '},
        {"Service": ["default/web"], "Namespace": ["/default"]},
    ),
    LoadCase(
        "json-object-with-an-items-field-is-one-object",
        {"a.json": json.dumps({**WEB, "items": [1, 2]}).encode()},
        {"Service": ["default/web"], "Namespace": ["/default"]},
    ),
    LoadCase(
        "other-kinds-ignored",
        {
            "a.yaml": yaml_docs(
                {"kind": "Deployment", "metadata": {"name": "d"}},
                {"kind": "Endpoints", "metadata": {"name": "web", "namespace": "default"}},
                {"kind": "ConfigMapList", "items": None},
                WEB,
            )
        },
        {"Service": ["default/web"], "Namespace": ["/default"]},
    ),
    LoadCase(
        "namespace-defaults-to-default",
        {"a.yaml": b"kind: Service\nmetadata: {name: x}\nspec: {clusterIP: 10.0.0.1}\n"},
        {"Service": ["default/x"], "Namespace": ["/default"]},
    ),
    LoadCase(
        "namespaces-given-are-not-synthesised",
        {"a.yaml": yaml_docs(ns("other"), WEB)},
        {"Service": ["default/web"], "Namespace": ["/other"]},
    ),
    LoadCase(
        "absent-objects-skipped",
        {"a.yaml": yaml_docs(pod("default", "gone", "10.0.0.1", phase="Succeeded"), WEB)},
        {"Service": ["default/web"], "Namespace": ["/default"]},
    ),
]


@pytest.mark.parametrize("case", LOAD_CASES, ids=[c.id for c in LOAD_CASES])
def test_load_objects(case: LoadCase) -> None:
    assert names(load_objects(case.files)) == case.want


def test_kinds_and_label_selector() -> None:
    labelled = {**WEB, "metadata": {**WEB["metadata"], "labels": {"app": "web"}}}
    other = svc("default", "db", "10.96.0.11")
    files = {"a.yaml": yaml_docs(KUBECTL_LIST, labelled, other, ns("x", app="no"))}
    got = load_objects(files, kinds=["Service"], label_selector=parse_selector("app=web"))
    assert names(got) == {"Service": ["default/web"], "Namespace": ["/default", "/prod", "/x"]}


def test_synthesised_namespaces_have_no_labels() -> None:
    got = load_objects({"a.yaml": yaml_docs(svc("team-a", "web"))})
    assert got["Namespace"] == {("", "team-a"): Namespace("team-a")}


ERROR_CASES = [
    (
        "yaml-syntax",
        {"bad.yaml": b"kind: Namespace\nmetadata: {name: a}\n---\nkind: [\n"},
        "bad.yaml:5:1: document 2: ",
    ),
    ("json-syntax", {"bad.json": b"{"}, "bad.json: Expecting property name"),
    (
        "not-an-object",
        {"bad.yaml": b"- 1\n"},
        "bad.yaml: document 1: not a Kubernetes object (a list)",
    ),
    ("no-kind", {"bad.yaml": b"metadata: {name: x}\n"}, "bad.yaml: document 1: no kind"),
    (
        "no-name",
        {"bad.yaml": yaml_docs(WEB, {"kind": "Service", "metadata": {}})},
        "bad.yaml: document 2: Service without metadata.name",
    ),
    ("json-extra-data", {"bad.json": b"{} {}"}, "bad.json: Extra data: line 1 column 4"),
    (
        "json-syntax-inside-an-item",
        {
            "bad.json": b'{"kind": "List", "items": ['
            + json.dumps(WEB).encode()
            + b',\n {"kind" 1}]}'
        },
        "bad.json: Expecting ':' delimiter: line 2 column 10",
    ),
    ("json-not-an-object", {"bad.json": b"[1]"}, "bad.json: document 1: not a Kubernetes object"),
    ("json-list-without-kind", {"bad.json": b'{"items": [3]}'}, "bad.json: document 1: no kind"),
    (
        "json-bad-list-item",
        {"bad.json": json.dumps({"kind": "List", "items": [WEB, 3]}).encode()},
        "bad.json: document 1, item 2: not a Kubernetes object",
    ),
    (
        "json-items-before-a-kind-that-is-no-list",
        {"bad.json": json.dumps({"items": [WEB], "kind": "Service"}).encode()},
        "bad.json: document 1: items in a Service, which is not a list",
    ),
    (
        "bad-list-item",
        {"bad.yaml": yaml_docs({"kind": "List", "items": [WEB, 3]})},
        "bad.yaml: document 1, item 2: not a Kubernetes object",
    ),
]


@pytest.mark.parametrize(
    ("files", "message"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_load_errors_say_where(files: dict[str, bytes], message: str) -> None:
    with pytest.raises(SourceError) as info:
        load_objects(files)
    assert str(info.value).startswith(message), str(info.value)


def write(path: Path, *docs: Obj) -> None:
    path.write_bytes(yaml_docs(*docs))


def test_folders_are_read_recursively_skipping_hidden_names(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", ns("default"), WEB)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.json").write_text(json.dumps(svc("default", "db", "10.96.0.11")))
    (tmp_path / "sub" / "notes.txt").write_text("not yaml: [")
    (tmp_path / ".hidden").mkdir()
    write(tmp_path / ".hidden" / "c.yaml", svc("default", "hidden"))
    write(tmp_path / ".d.yaml", svc("default", "dot"))
    store = Store()
    source = FileSource([str(tmp_path)], store)
    assert source.poll() is True
    assert sorted(k[1] for k in store.tables["Service"]) == ["db", "web"]
    assert store.synced_kinds == {"Namespace", "Service", "EndpointSlice", "Pod"}
    assert source.has_synced and source.last_error is None


def test_poll_delivers_changes_and_keeps_data_on_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="plugin/kubernetes")
    path = tmp_path / "cluster.yaml"
    write(path, ns("default"), WEB, WEB_EPS)
    store = Store()
    source = FileSource([str(path)], store, kinds=["Service", "EndpointSlice"])
    assert source.poll() is True
    generation = store.generation
    assert source.poll() is False  # unchanged content
    assert store.generation == generation

    write(path, ns("default"), svc("default", "web", "10.96.0.99"), WEB_EPS)
    assert source.poll() is True
    web = store.service("default", "web")
    assert web is not None and web.cluster_ips == ("10.96.0.99",)
    assert store.generation == generation + 1  # only the changed Service

    caplog.clear()
    path.write_text("kind: Service\nmetadata: {name: [\n")
    assert source.poll() is False
    assert source.poll() is False
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1, errors  # once, not at every poll
    assert errors[0].startswith(f"objects: {path}:3:1: document 1: ")
    assert errors[0].endswith(" (keeping the last good data)")
    assert source.last_error is not None
    assert store.service("default", "web") is not None

    write(path, ns("default"))
    assert source.poll() is True
    assert store.service("default", "web") is None
    assert store.slices("default", "web") == ()
    assert source.last_error is None


def test_a_fifo_in_the_files_place_keeps_the_data_and_does_not_block(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="plugin/kubernetes")
    path = tmp_path / "cluster.yaml"
    write(path, ns("default"), WEB, WEB_EPS)
    store = Store()
    source = FileSource([str(path)], store, kinds=["Service", "EndpointSlice"])
    assert source.poll() is True
    path.unlink()
    os.mkfifo(path)  # open() of it would wait for a writer forever
    assert source.poll() is False
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and f"{path}: not a regular file" in errors[-1], errors
    assert store.service("default", "web") is not None


def test_missing_file_is_an_error_until_it_appears(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "later.yaml"
    store = Store()
    source = FileSource([str(path)], store)
    assert source.poll() is False
    assert source.poll() is False
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        f"objects: {path}: no such file or directory (keeping the last good data)"
    ]
    assert not source.has_synced and store.synced_kinds == set()
    write(path, WEB)
    assert source.poll() is True
    assert source.has_synced and store.service("default", "web") is not None


def test_a_configmap_style_symlink_swap(tmp_path: Path) -> None:
    """kubelet's atomic writer: data in a timestamped folder behind ``..data``."""
    first = tmp_path / "..2024_01_01"
    first.mkdir()
    write(first / "cluster.yaml", WEB)
    os.symlink(first.name, tmp_path / "..data")
    os.symlink("..data/cluster.yaml", tmp_path / "cluster.yaml")
    store = Store()
    source = FileSource([str(tmp_path)], store)
    assert source.poll() is True
    second = tmp_path / "..2024_01_02"
    second.mkdir()
    write(second / "cluster.yaml", svc("default", "web", "10.96.0.42"))
    os.symlink(second.name, tmp_path / "..data_tmp")
    os.replace(tmp_path / "..data_tmp", tmp_path / "..data")
    assert source.poll() is True
    web = store.service("default", "web")
    assert web is not None and web.cluster_ips == ("10.96.0.42",)


async def test_start_polls_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yaml"
    write(path, WEB)
    store = Store()
    source = FileSource([str(path)], store, interval=0.02)
    await source.start()
    try:
        assert store.service("default", "web") is not None  # loaded before start returns
        write(path, WEB, svc("default", "db", "10.96.0.11"))
        await wait_for(lambda: store.service("default", "db") is not None)
    finally:
        await source.stop()
    await source.stop()  # idempotent
