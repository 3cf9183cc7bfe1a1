"""The house's import directions hold: no import cycle, and each layer imports only what is below it.

Every import counts, wherever it stands (module level, inside a function, under TYPE_CHECKING):
a lazy import is still a dependency. Read with `ast` from the source, so the test needs nothing
to be importable.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "webhooks", "localhub")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "project" in path.relative_to(ROOT / package).parts:  # the demo's bundled example project
                continue
            found[_module_name(path)] = path
    return found


def _resolve(name: str) -> str | None:
    """The module of ours that `import name` (or `from name import x`) loads, if any."""
    known = modules()
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> Iterator[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            # `from bot.ledger import labels` imports the module bot.ledger.labels
            names = [
                f"{base}.{alias.name}" if _resolve(f"{base}.{alias.name}") == f"{base}.{alias.name}" else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                yield target


@cache
def graph() -> dict[str, frozenset[str]]:
    return {module: frozenset(_imports(module, path)) for module, path in modules().items()}


def _cycles(edges: dict[str, frozenset[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _under(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _violations(sources: tuple[str, ...], forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    bad = []
    for module, targets in graph().items():
        if not _under(module, *sources) or _under(module, *allowed):
            continue
        bad += [f"{module} -> {t}" for t in sorted(targets) if _under(t, *forbidden)]
    return bad


def test_the_graph_sees_the_house() -> None:
    """A guard against a test that cannot fail: the reader finds the modules and the arrows we know."""
    assert "bot.jobs" in graph() and "bot.planner.goal_jobs" in graph()["bot.jobs"]
    assert "bot.ledger.labels" in graph()["webhooks.handlers.goals"]
    assert _cycles({"a": frozenset({"b"}), "b": frozenset({"a"}), "c": frozenset()}) == [["a", "b"]]


def test_there_is_no_import_cycle() -> None:
    assert _cycles(graph()) == []


@pytest.mark.parametrize(
    ("sources", "forbidden", "allowed"),
    [
        # bot/forge speaks GitHub and nothing of the orchestra
        (("bot.forge",), ("bot",), ("bot.forge", "bot.errors", "bot.settings")),
        # the ledger is written by planner and workers, never the other way round
        (("bot.ledger",), ("bot.planner", "bot.worker", "bot.jobs", "bot.modes", "bot.cli", "bot.steering"), ()),
        # the web process: verify, route, enqueue — no planner, worker, agent, model or git
        (
            ("webhooks",),
            (
                "bot.planner",
                "bot.worker",
                "bot.jobs",
                "bot.modes",
                "bot.cli",
                "bot.agent",
                "bot.llm",
                "bot.git",
                "bot.steering",
                "bot.runtime",
                "localhub",
            ),
            (),
        ),
        # local mode reads the ledger, not planner or worker internals
        (("bot.modes.local",), ("bot.planner", "bot.worker"), ()),
        # the core never reaches up into the ways to run it, the web front door or the test forge
        (("bot",), ("bot.modes", "bot.cli", "webhooks", "localhub"), ("bot.modes", "bot.cli", "bot.__main__")),
        # the ways to run it compose the core; the core's job table is one of the things they compose
        (
            ("bot.planner", "bot.worker", "bot.ledger", "bot.agent", "bot.llm", "bot.queue", "bot.git"),
            ("bot.jobs",),
            (),
        ),
        # localhub is a forge: it knows nothing of the bot
        (("localhub",), ("bot", "webhooks"), ()),
    ],
)
def test_imports_run_in_the_allowed_directions(
    sources: tuple[str, ...], forbidden: tuple[str, ...], allowed: tuple[str, ...]
) -> None:
    assert _violations(sources, forbidden, allowed) == []
