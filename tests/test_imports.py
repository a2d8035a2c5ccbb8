"""No import cycles inside gradwise, counting every import a module makes.

Each module's source is parsed (not imported) and every ``import`` statement in it counts:
at module level, inside functions, under ``if TYPE_CHECKING``. An import moved into a
function only hides a cycle from Python; the two modules still depend on each other, and
the next refactor that moves it back breaks the package. The edges follow what Python does:

* ``from .sources import Dataset`` in ``gradwise.data.formats`` is an edge to
  ``gradwise.data.sources``;
* ``from . import rules`` is an edge to the submodule ``gradwise.doctor.rules``, while
  ``from . import check_init`` (a name defined in ``doctor/__init__.py``) is an edge to the
  package ``gradwise.doctor`` itself;
* importing ``gradwise.data.sources`` from outside ``gradwise.data`` also runs
  ``gradwise/data/__init__.py``: an edge to ``gradwise.data`` too. A module's own parent
  packages are not counted for that (they are always imported before it, by Python).
"""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import pytest

import gradwise

SRC = Path(gradwise.__file__).parent


def package_modules() -> dict[str, Path]:
    """Every module of gradwise, by dotted name, with the file that holds it."""
    modules = {"gradwise": SRC / "__init__.py"}
    for info in pkgutil.walk_packages([str(SRC)], prefix="gradwise."):
        folder = Path(info.module_finder.path)
        leaf = info.name.rsplit(".", 1)[-1]
        modules[info.name] = folder / leaf / "__init__.py" if info.ispkg else folder / f"{leaf}.py"
    return modules


def _ancestors(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def _base(importer: str, is_package: bool, node: ast.ImportFrom) -> str | None:
    """The absolute module a ``from X import ...`` names (None: outside gradwise)."""
    if node.level == 0:
        return node.module
    package = importer if is_package else importer.rsplit(".", 1)[0]
    parts = package.split(".")
    if node.level - 1 >= len(parts):
        return None                                  # beyond the top: not ours
    base = ".".join(parts[:len(parts) - (node.level - 1)])
    return f"{base}.{node.module}" if node.module else base


def import_edges(importer: str, is_package: bool, source: str,
                 known: set[str]) -> list[tuple[str, int]]:
    """The gradwise modules that ``importer`` imports: ``(module, line)`` for each."""
    targets: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _base(importer, is_package, node)
            if base is None:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.append((sub if sub in known else base, node.lineno))   # submodule, or a name
    edges = []
    skip = _ancestors(importer)
    for target, line in targets:
        while target and target not in known:        # `import gradwise.data.sources as s` ...
            target = target.rpartition(".")[0]
        if not target or target == importer:
            continue
        explicit = target
        for package in sorted(_ancestors(target) | {explicit}):   # packages a first import runs
            if package in known and package != importer and (package == explicit or package not in skip):
                edges.append((package, line))
    return edges


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module: the line of the first import of it}."""
    modules = package_modules()
    known = set(modules)
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges = graph.setdefault(name, {})
        for target, line in import_edges(name, path.name == "__init__.py", path.read_text(), known):
            edges.setdefault(target, line)
    return graph


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One shortest cycle per strongly connected group of modules, e.g. [a, b, a]."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:                       # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_shortest_cycle(graph, group) for group in groups]


def _shortest_cycle(graph, group: list[str]) -> list[str]:
    members = set(group)
    start = group[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:                                  # breadth first, back to the start
        nxt = []
        for v in frontier:
            for w in sorted(graph[v]):
                if w == start:
                    return paths[v] + [start]
                if w in members and w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle through {start} in {group}")


def describe(graph, cycle: list[str]) -> str:
    modules = package_modules()
    hops = [f"{a} -> {b}  ({modules[a].relative_to(SRC.parent)}:{graph[a][b]})"
            for a, b in zip(cycle, cycle[1:])]
    return " -> ".join(cycle) + "\n    " + "\n    ".join(hops)


# ----------------------------------------------------------------------------- the check

def test_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 30, f"found only {len(graph)} modules under {SRC}"
    cycles = find_cycles(graph)
    assert not cycles, ("import cycles (function-level imports count):\n"
                        + "\n".join(describe(graph, c) for c in cycles))


# ----------------------------------------------------------------------------- the rules

KNOWN = {"gradwise", "gradwise.errors", "gradwise.data", "gradwise.data.sources",
         "gradwise.data.formats", "gradwise.doctor", "gradwise.doctor.rules",
         "gradwise.doctor.recorder", "gradwise.web", "gradwise.web.app"}


def edges(importer, source, is_package=False):
    return sorted({t for t, _ in import_edges(importer, is_package, source, KNOWN)})


@pytest.mark.parametrize("importer,is_package,source,expected", [
    # relative, from a module and from a package's __init__
    ("gradwise.data.formats", False, "from .sources import Dataset", ["gradwise.data.sources"]),
    ("gradwise.data", True, "from .sources import Dataset", ["gradwise.data.sources"]),
    ("gradwise.data.formats", False, "from ..errors import DataError", ["gradwise.errors"]),
    # `from . import x`: the submodule x, or the package when x is a name defined in it
    ("gradwise.doctor.recorder", False, "from . import rules", ["gradwise.doctor.rules"]),
    ("gradwise.doctor.recorder", False, "from . import check_init", ["gradwise.doctor"]),
    ("gradwise.data.sources", False, "from .. import __version__", ["gradwise"]),
    # a first import of a module in another package also runs that package's __init__
    ("gradwise.web.app", False, "from ..data import sources", ["gradwise.data", "gradwise.data.sources"]),
    ("gradwise.web.app", False, "import gradwise.data.sources", ["gradwise.data", "gradwise.data.sources"]),
    ("gradwise.web.app", False, "from gradwise.data.formats import load_npz",
     ["gradwise.data", "gradwise.data.formats"]),
    # imports inside functions and under TYPE_CHECKING count; other packages do not
    ("gradwise.data.formats", False, "def f():\n    from .sources import Dataset", ["gradwise.data.sources"]),
    ("gradwise.data.formats", False, "if TYPE_CHECKING:\n    from .sources import Dataset",
     ["gradwise.data.sources"]),
    ("gradwise.web.app", False, "import numpy as np\nfrom starlette.routing import Route", []),
])
def test_import_edges(importer, is_package, source, expected):
    assert edges(importer, source, is_package) == expected


def test_find_cycles_names_the_loop():
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3, "d": 4}, "d": {}, "e": {"e": 5}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b": 1}, "b": {}}) == []
