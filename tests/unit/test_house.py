"""The house itself: the docs match the code, the packages keep their rules, the generated page is current.

Pure: reads files and parses Python with `ast`; no process, no socket.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path

from support.paths import REPO

from hub.config import load_config

HUB = REPO / "hub"
CORE = ("config", "health", "index", "ingest", "patrol", "workers", "load", "diagnostics", "monitor", "safe")


def _modules() -> dict[str, Path]:
    found = {}
    for path in HUB.rglob("*.py"):
        if "vendor" in path.parts:
            continue
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The hub modules `path` imports, at the top or inside functions (what `from hub.x import y` names
    counts as hub.x.y when that is a module, else hub.x)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names if alias.name.startswith("hub")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hub") and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                out.add(candidate if candidate in modules else node.module)
    return {m for m in out if m in modules}


def test_no_import_circle_even_through_imports_inside_functions():
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    # A package's __init__ that re-exports its own modules is not a circle with them.
    for name in graph:
        graph[name] = {m for m in graph[name] if not (name.startswith(m + ".") and modules[m].name == "__init__.py")}
    index, low, stack, on_stack, circles, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in graph:
        if node not in index:
            visit(node)
    assert circles == []


def test_core_imports_neither_the_simulator_nor_the_web():
    modules = _modules()
    for name, path in modules.items():
        if name.count(".") and name.split(".")[1] in CORE:
            outward = {m for m in _imports(path, modules) if m.startswith(("hub.sim", "hub.web", "hub.cli"))}
            assert not outward, f"{name} imports {sorted(outward)}"


def test_no_module_is_over_400_lines_and_the_top_level_stays_small():
    long = {str(p.relative_to(REPO)): n for p in _modules().values() if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}
    top = sorted(p.name for p in HUB.glob("*.py"))
    assert len(top) <= 8, top


def test_every_package_and_module_the_architecture_names_exists():
    text = (REPO / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`(hub/[\w/]+(?:\.py|\.js|/))`", text))
    assert len(named) > 20, "the table names the packages"
    missing = sorted(n for n in named if not (REPO / n).exists())
    assert missing == []
    packages = {p.parent.relative_to(REPO).as_posix() + "/" for p in HUB.glob("*/__init__.py")}
    assert packages - named == set(), "every package is in the architecture doc"


def test_the_performance_page_is_what_the_results_give():
    spec = importlib.util.spec_from_file_location("performance_doc", REPO / "scripts" / "performance_doc.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert (REPO / "docs" / "performance.md").read_text() == generator.page(), "run scripts/performance_doc.py"


def test_the_top_level_config_is_valid_and_the_readme_short_and_linked():
    config = load_config(REPO / "streams.toml")
    assert {s.category for s in config.streams} == {"public-security", "property", "childcare", "vehicle"}
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 300
    for link in re.findall(r"\]\(((?:docs/|\.\./)?[\w./-]+\.(?:md|png))(?:#[\w-]+)?\)", readme):
        assert (REPO / link).exists(), link
    for page in (REPO / "docs").glob("*.md"):
        for link in re.findall(r"\]\(([\w./-]+\.(?:md|png|py))(?:#[\w-]+)?\)", page.read_text()):
            assert (page.parent / link).resolve().exists(), f"{page.name}: {link}"


def test_no_test_count_or_timing_is_typed_into_the_docs():
    for page in [REPO / "README.md", *(REPO / "docs").glob("*.md")]:
        text = page.read_text()
        assert not re.search(r"\b\d+ tests\b", text), f"{page.name} states a test count"
