"""No import cycles among grafient_tui's modules, counting the imports made inside functions too.

A function-level import hides a cycle from Python at start-up but not from the design: the two
modules still depend on each other. `if TYPE_CHECKING:` imports are left out (they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import grafient_tui

PACKAGE = Path(grafient_tui.__file__).parent


def _module_name(path: Path) -> str:
    parts = ["grafient_tui", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1]) if parts[-1] == "__init__" else ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, modules: set[str], here: str, is_package: bool) -> set[str]:
    found: set[str] = set()

    def resolve(name: str) -> str | None:
        """The longest known module that `name` is or lies in (`a.b.func` -> `a.b`)."""
        while name:
            if name in modules:
                return name
            name = name.rpartition(".")[0]
        return None

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("grafient_tui"):
                    target = resolve(alias.name)
                    if target:
                        found.add(target)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here if is_package else here.rpartition(".")[0]
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            if base.startswith("grafient_tui"):
                for alias in node.names:  # `from pkg import module` names a module, not an attribute
                    target = resolve(f"{base}.{alias.name}") or resolve(base)
                    if target:
                        found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(here)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {
        name: _imports(ast.parse(path.read_text("utf-8")), modules, name, path.name == "__init__.py")
        for name, path in paths.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None. Importing a package's own parent (its __init__) counts."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                cycle = walk(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = walk(node)
            if cycle:
                return cycle
    return None


def test_the_walk_sees_function_level_imports() -> None:
    graph = import_graph()
    assert "grafient_tui.report" in graph["grafient_tui.cli"]  # imported inside cmd_report
    assert len(graph) >= 20


def test_no_module_imports_itself_back() -> None:
    graph = import_graph()
    # Edges inside the app package are checked by the test below; every other module is held here.
    outside_tui = {name: {t for t in targets if not (_in_tui(name) and _in_tui(t))} for name, targets in graph.items()}
    cycle = find_cycle(outside_tui)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def _in_tui(module: str) -> bool:
    return module == "grafient_tui.tui" or module.startswith("grafient_tui.tui.")


def test_the_app_package_has_no_cycle_either() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
