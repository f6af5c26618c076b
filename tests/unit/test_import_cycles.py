"""No import cycles among our modules, not even ones hidden in a function's body.

Imports are read from the source (ast), wherever they sit: at module level, in functions
and methods, in try blocks. Those under ``if TYPE_CHECKING:`` are left out: they never
run. A package's ``__init__`` importing its own submodules is not a cycle (a submodule's
import of a sibling does not run the ``__init__`` again), so no edge is drawn from a
module to the packages above it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    **{name: ROOT / name for name in ("local_runtime", "ops", "bench")},
    "order_saga": ROOT / "layers" / "shared" / "order_saga",
}
"""The packages checked: the shared package, the local runtime and the tools."""


def modules(packages: dict[str, Path]) -> dict[str, Path]:
    """Dotted module name -> its file, for every module of the packages."""
    found = {}
    for package, folder in packages.items():
        for path in sorted(folder.rglob("*.py")):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _run_time_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            pending.extend(node.orelse)  # the body only runs under a type checker
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def _ours(dotted: str, known: dict[str, Path]) -> str | None:
    """The module of ours that importing ``dotted`` runs last (its longest known prefix)."""
    parts = dotted.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def imports_of(name: str, known: dict[str, Path]) -> set[str]:
    """The modules of ours that module ``name`` imports when it runs."""
    path = known[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str | None] = set()
    for node in _run_time_imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(_ours(alias.name, known) for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            base = ".".join([*anchor, *([base] if base else [])])
        for alias in node.names:
            # ``from package import module`` imports the module; ``from module import name``
            # the module alone.
            targets.add(_ours(f"{base}.{alias.name}", known) or _ours(base, known))
    return {target for target in targets if target is not None and target != name}


def import_graph(packages: dict[str, Path]) -> dict[str, set[str]]:
    known = modules(packages)
    return {name: imports_of(name, known) for name in known}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as the modules along it (first and last the same), or None."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path: list[str] = [start]
        on_path = {start}
        branches = [iter(sorted(graph[start]))]
        while branches:
            following = next(branches[-1], None)
            if following is None:
                branches.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                continue
            if following in on_path:
                return [*path[path.index(following) :], following]
            if following in done:
                continue
            path.append(following)
            on_path.add(following)
            branches.append(iter(sorted(graph.get(following, ()))))
    return None


def test_no_module_of_ours_imports_itself_back_through_others() -> None:
    cycle = find_cycle(import_graph(PACKAGES))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_every_package_checked_has_modules() -> None:
    known = modules(PACKAGES)
    for package in PACKAGES:
        assert sum(name.startswith(f"{package}.") for name in known) >= 3, package


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_cycle_hidden_inside_a_function_is_found_and_named(tmp_path: Path) -> None:
    _write(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "server.py": "def main():\n    from pkg.pages import mount\n    mount()\n",
            "pages.py": "from pkg.server import main\n",
            "plain.py": "import json\n",
        },
    )

    cycle = find_cycle(import_graph({"pkg": tmp_path / "pkg"}))

    assert cycle == ["pkg.pages", "pkg.server", "pkg.pages"]


def test_relative_imports_and_from_package_imports_are_followed(tmp_path: Path) -> None:
    _write(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "a.py": "from pkg.sub import b\n",
            "sub/__init__.py": "",
            "sub/b.py": "from . import c\n",
            "sub/c.py": "from ..a import thing\n",
        },
    )

    cycle = find_cycle(import_graph({"pkg": tmp_path / "pkg"}))

    assert cycle == ["pkg.a", "pkg.sub.b", "pkg.sub.c", "pkg.a"]


@pytest.mark.parametrize(
    "guard", ["if TYPE_CHECKING:", "if typing.TYPE_CHECKING:"], ids=["name", "attribute"]
)
def test_imports_only_a_type_checker_runs_make_no_cycle(tmp_path: Path, guard: str) -> None:
    _write(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "a.py": "import pkg.b\n",
            "b.py": f"import typing\nfrom typing import TYPE_CHECKING\n{guard}\n    import pkg.a\n",
        },
    )

    graph = import_graph({"pkg": tmp_path / "pkg"})

    assert graph["pkg.a"] == {"pkg.b"}
    assert graph["pkg.b"] == set()
    assert find_cycle(graph) is None
