"""Repository rules: plugin folders, ORDER, READMEs and their examples, metric names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client import REGISTRY as PROM

from dnsd.order import COREDNS_ORDER, ORDER
from dnsd.testing import serve_corefile

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists())
SECTIONS = ["Name", "Description", "Syntax", "Examples", "Metrics", "Ready", "Bugs", "See Also"]
REQUIRED = {"Name", "Description", "Syntax", "Examples", "See Also"}
FENCE = re.compile(r"```corefile\n(.*?)```", re.S)


def test_order_matches_plugin_folders() -> None:
    assert sorted(ORDER) == PLUGINS
    positions = [COREDNS_ORDER.index(name) for name in ORDER]
    assert positions == sorted(positions), "ORDER must follow CoreDNS 1.14.7's plugin.cfg"


@pytest.mark.parametrize("name", PLUGINS)
def test_plugin_folder_layout(name: str) -> None:
    folder = ROOT / "plugins" / name
    for part in ("__init__.py", "setup.py", "README.md"):
        assert (folder / part).exists(), f"plugins/{name}/{part} is missing"
    assert (ROOT / "tests" / "plugins" / name).is_dir(), f"tests/plugins/{name} is missing"
    module = __import__(f"dnsd.plugins.{name}", fromlist=["NAME", "setup"])
    assert module.NAME == name
    assert callable(module.setup)


@pytest.mark.parametrize("name", PLUGINS)
def test_plugin_readme_sections(name: str) -> None:
    text = (ROOT / "plugins" / name / "README.md").read_text()
    assert text.startswith(f"# {name}\n")
    found = re.findall(r"^## (.+)$", text, re.M)
    assert REQUIRED <= set(found), f"missing sections: {REQUIRED - set(found)}"
    assert all(s in SECTIONS for s in found), f"unknown sections: {set(found) - set(SECTIONS)}"
    assert found == sorted(found, key=SECTIONS.index), "sections out of CoreDNS's order"
    assert FENCE.search(text), "no ```corefile example"


EXAMPLES = [
    pytest.param(block, id=f"{name}-{i}")
    for name in PLUGINS
    for i, block in enumerate(FENCE.findall((ROOT / "plugins" / name / "README.md").read_text()))
]


@pytest.mark.parametrize("text", EXAMPLES)
async def test_readme_examples_start(text: str, tmp_path: Path) -> None:
    async with serve_corefile(text, base_dir=str(tmp_path)) as srv:
        assert srv.instance.routes


def test_corefile_example_starts() -> None:
    text = (ROOT / "Corefile.example").read_text()
    assert "1053" in text


async def test_corefile_example_serves_whoami() -> None:
    text = (ROOT / "Corefile.example").read_text()
    async with serve_corefile(text) as srv:
        reply = await srv.query("whoami.example.org")
        assert reply.rcode() == 0
        assert any(rr.rdtype == 1 for rr in reply.additional)


def test_metric_names_follow_the_rule() -> None:
    for metric in PROM.collect():
        name = metric.name
        if name.startswith(("process_", "python_")):
            continue
        assert name.startswith("coredns_"), name
        sub = name.removeprefix("coredns_").split("_")[0]
        if name.startswith("coredns_k8s_external_"):
            sub = "k8s_external"
        # CoreDNS's own exceptions to subsystem = plugin: the core's names, and "proxy" (the
        # upstream metrics forward shares with grpc), kept so existing dashboards work.
        assert sub in {"dns", "build", "panics", "plugin", "proxy", *ORDER}, name


def test_readme_lists_every_plugin() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in PLUGINS:
        assert f"(plugins/{name}/README.md)" in readme, name
