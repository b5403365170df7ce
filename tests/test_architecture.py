"""The shape of the code: the import contract holds, the import graph has no cycle, SDKs stay in their channels.

The contract itself is ``[tool.importlinter]`` in pyproject.toml (docs/ARCHITECTURE.md "Dependency
rules"); imports under ``TYPE_CHECKING`` and inside functions count everywhere here.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
SDK_HOMES = {"linebot": "bot/channels/line", "telegram": "bot/channels/telegram"}


def _lint(cwd: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = str(extra_path)
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in graph.modules:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


@pytest.mark.db  # runs lint-imports as a process: not in the fast tier
def test_the_import_contract_holds() -> None:
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def test_the_import_graph_of_bot_and_handlers_has_no_cycle() -> None:
    graph = grimp.build_graph("bot", "handlers", exclude_type_checking_imports=False, cache_dir=None)
    assert len(graph.modules) > 80
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for a, b in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")):
        graph.add_import(importer=a, imported=b)
    assert _cycles(graph) == [["p.a", "p.b", "p.c"]]


def test_chat_sdks_are_imported_only_by_their_channel_modules() -> None:
    offenders = []
    for path in sorted([*REPO.glob("bot/**/*.py"), *REPO.glob("handlers/**/*.py")]):
        rel = path.relative_to(REPO).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                top = name.split(".")[0]
                if top in SDK_HOMES and not rel.startswith(SDK_HOMES[top]):
                    offenders.append(f"{rel}: {name}")
    assert offenders == []


@pytest.mark.db  # runs lint-imports as a process: not in the fast tier
@pytest.mark.parametrize(("module", "line"), [
    ("bot/conversation.py", "import handlers.menu  # a deliberate violation"),
    ("bot/services/hours/status.py", "from bot.app import App  # a deliberate violation"),
])
def test_the_contract_fails_on_a_deliberate_violation(tmp_path: Path, module: str, line: str) -> None:
    for folder in ("bot", "handlers"):
        shutil.copytree(REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    result = _lint(tmp_path, extra_path=tmp_path)
    assert result.returncode != 0
    assert re.search(r"Contracts: \d+ kept, [1-9]\d* broken", result.stdout), result.stdout[-2000:]
    assert module.removesuffix(".py").replace("/", ".") in result.stdout
