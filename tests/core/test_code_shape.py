"""The package's shape holds: no import circle between its modules, and imports inside a
function only where the application factory, its web set-up or the command line need them
(they register what the whole application uses, once)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "incubator"
# Where a function may import: the factory and its set-up of the web and security layers
# (which the domains import for their helpers and decorators), and the commands (the demo
# data is loaded by `flask seed-demo`).
FUNCTION_IMPORTS_ALLOWED = {"__init__.py", "cli.py", "web.py::init_web", "security.py::init_security"}
FUNCTION_IMPORTS_ALLOWED_UNDER = ("demo/",)


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        found[name] = path
    return found


def absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(known: dict[str, Path], sources: dict[str, str] | None = None) -> dict[str, set[str]]:
    """Module-level imports between the package's modules (TYPE_CHECKING blocks left out)."""
    graph = {}
    for module, path in known.items():
        tree = ast.parse(sources[module] if sources and module in sources else path.read_text())
        targets = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom):
                base = absolute(module, path, node)
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    targets.add(candidate if candidate in known else base)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[module] = {t for t in targets if t in known and t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def function_imports(path: Path, source: str | None = None) -> list[str]:
    relative = path.relative_to(PACKAGE).as_posix()
    if relative in FUNCTION_IMPORTS_ALLOWED or relative.startswith(FUNCTION_IMPORTS_ALLOWED_UNDER):
        return []
    tree = ast.parse(source if source is not None else path.read_text())
    found = []
    for node in tree.body:
        functions = [node] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else (
            [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
            if isinstance(node, ast.ClassDef) else [])
        for function in functions:
            if f"{relative}::{function.name}" in FUNCTION_IMPORTS_ALLOWED:
                continue
            found += [f"{relative}:{inner.lineno}" for inner in ast.walk(function)
                      if isinstance(inner, (ast.Import, ast.ImportFrom))]
    return found


def test_no_import_circle_between_modules():
    assert cycles(import_graph(modules())) == []


def test_imports_inside_functions_only_in_the_factory_and_commands():
    assert [place for path in sorted(PACKAGE.rglob("*.py")) for place in function_imports(path)] == []


def test_the_checks_catch_what_they_look_for():
    known = modules()
    circle = {"incubator.people.models": "from ..proposals.models import Proposal\n"}
    assert ["incubator.people.models", "incubator.proposals.models"] in [
        [m for m in c if m in ("incubator.people.models", "incubator.proposals.models")]
        for c in cycles(import_graph(known, {**{m: p.read_text() for m, p in known.items()}, **circle}))]
    planted = "def page():\n    from .models import Proposal\n    return Proposal\n"
    assert function_imports(PACKAGE / "proposals" / "views.py", planted) == ["proposals/views.py:2"]
    assert function_imports(PACKAGE / "cli.py", planted) == []
