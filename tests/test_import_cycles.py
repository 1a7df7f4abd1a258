"""Imports between the modules of ``foundation/`` point one way. This test reads every ``.py`` under
``foundation/`` with ``ast`` (nothing is imported), draws an arrow for each ``import`` of another
``foundation`` module — at module level and inside functions alike, since an import hidden in a function
to dodge a cycle is still a cycle — and finds the strongly connected components (Tarjan). It fails on any
cycle in ``foundation/``, and on any among a first-party plugin's modules.

How an import becomes an arrow:
  ``import foundation.x.y``           → ``foundation.x.y``
  ``from foundation.x import y``      → ``foundation.x.y`` when that is a module, else ``foundation.x``
  ``from . import y`` (relative)      → resolved against the importing module's package, the same way
Python imports a package before its submodule, but that implicit step is no arrow: ``foundation/x/__init__.py``
importing ``foundation.x.sub`` is a cycle only when ``sub`` imports ``foundation.x`` back (a name from
the package itself). Imports under ``if TYPE_CHECKING:`` never run and are left out.
"""
from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGE = "foundation"
GUARDED = ("foundation",)  # no cycle anywhere in the core


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_only(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return isinstance(test, ast.Name | ast.Attribute) and ast.unparse(test).endswith("TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Every import statement, at any depth, except those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif _type_checking_only(node):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def _targets(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, modules: set[str]):
    """The foundation modules one import statement reaches."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            name = alias.name
            while name and name not in modules:  # `import foundation.x.y` names a module (or a prefix of one)
                name = name.rpartition(".")[0]
            if name:
                yield name
        return
    base = node.module or ""
    if node.level:  # relative: `from .x import y` inside foundation/a/b.py is foundation.a.x
        anchor = importer.split(".") if is_package else importer.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join(anchor + ([base] if base else []))
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        if sub in modules:
            yield sub
        elif base in modules:
            yield base


def import_graph(package: str = PACKAGE) -> tuple[dict[str, set[str]], dict[tuple[str, str], str]]:
    """module → the modules of ``package`` it imports; (a, b) → where (file:line) a imports b first."""
    files = {module_name(p): p for p in sorted((ROOT / package).rglob("*.py")) if "migrations" not in p.parts}
    modules = set(files)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    where: dict[tuple[str, str], str] = {}
    for mod, path in files.items():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in sorted(_imports(tree), key=lambda n: n.lineno):  # the first line that imports it
            for target in _targets(node, mod, path.name == "__init__.py", modules):
                if target != mod:
                    graph[mod].add(target)
                    where.setdefault((mod, target), f"{path.relative_to(ROOT)}:{node.lineno}")
    return graph, where


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
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
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def loop_through(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """One shortest concrete loop from the component's first module back to itself (BFS inside it)."""
    start, members = component[0], set(component)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    return component


def describe(component: list[str], graph: dict[str, set[str]], where: dict[tuple[str, str], str]) -> str:
    loop = loop_through(component, graph)
    steps = "\n".join(f"      {a} → {b}  ({where[a, b]})" for a, b in zip(loop, loop[1:], strict=False))
    return f"  {len(component)} modules: {', '.join(component)}\n    e.g.\n{steps}"


def _guarded(component: list[str]) -> bool:
    return any(m == g or m.startswith(g + ".") for m in component for g in GUARDED)


def test_no_import_cycles_in_the_core(capsys):
    graph, where = import_graph()
    found = cycles(graph)
    ours = [c for c in found if _guarded(c)]
    rest = [c for c in found if not _guarded(c)]
    with capsys.disabled():
        print(f"\nimport cycles in the rest of foundation/: {len(rest)}"
              + "".join(f"\n  [{', '.join(c)}]" for c in rest))
    assert not ours, ("import cycles in foundation/ (move what both sides "
                      "need into a module both import; a function-level import is still an arrow):\n"
                      + "\n".join(describe(c, graph, where) for c in ours))


def test_no_import_cycles_in_the_plugins():
    """Each first-party plugin's modules import one another one way too (views → presentation → standing …)."""
    graph, where = import_graph("plugins")
    found = cycles(graph)
    assert not found, "import cycles in plugins/:\n" + "\n".join(describe(c, graph, where) for c in found)


def test_the_graph_sees_function_level_and_relative_imports():
    """The reader itself: a function-level import is an arrow, a TYPE_CHECKING one is not, a package's
    ``__init__`` importing its submodule is not a cycle by itself, and ``from pkg import sub`` reaches
    the submodule."""
    modules = {"foundation.x", "foundation.x.sub", "foundation.x.other"}
    src = ("from typing import TYPE_CHECKING\n"
           "from foundation.x import other\n"
           "if TYPE_CHECKING:\n    from foundation.x import thing\n"
           "def f():\n    from . import sub\n")
    targets = {t for node in _imports(ast.parse(src))
               for t in _targets(node, "foundation.x.other", False, modules)}
    assert targets == {"foundation.x.other", "foundation.x.sub"}
    assert cycles({"foundation.x": {"foundation.x.sub"}, "foundation.x.sub": set()}) == []
    back = {"foundation.x": {"foundation.x.sub"}, "foundation.x.sub": {"foundation.x"}}
    assert cycles(back) == [["foundation.x", "foundation.x.sub"]]
    assert loop_through(["foundation.x", "foundation.x.sub"], back) == ["foundation.x", "foundation.x.sub",
                                                                       "foundation.x"]
