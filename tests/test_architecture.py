"""Import contracts of ``src/interlens`` (issue 29, item 3: "a house whose arrows run downhill").

The import graph is built with :mod:`ast` from the source files, so it sees every import the code can
run: module-level imports, imports inside functions and methods, relative imports (resolved against the
importing module's package) and ``importlib.import_module`` / ``__import__`` calls whose argument is a
string literal. Only imports under ``if TYPE_CHECKING:`` are left out (they never run; annotations only).
An edge goes to the most specific module that exists (``from .schema import Dataset`` -> ``data.schema``;
``from . import frames`` -> ``data.frames``; ``from ..data import Dataset`` -> the ``data`` package).

Contracts (docs/architecture.md explains them):

* **layers** (:data:`LAYERS`, top to bottom): a module may import its own top-level package and anything in
  a lower layer, never a higher one; in a layer marked independent, the packages do not import each other.
  Every top-level package / module must be placed in a layer (a new one fails until it is).
* **named contracts** the issue lists: ``interactions`` is pure maths, ``scoring`` and ``report`` import no
  method (they follow from the layers; stated separately so a failure names the rule).
* **no cycles** between modules (module-level and function-level imports alike).

:data:`PENDING` names the modules another change of issue 29 is moving right now; their imports are checked
by a strict xfail test each (it fails as soon as the module is fixed, so the entry is then removed), and
left out of the other contracts meanwhile.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "interlens"


@dataclass(frozen=True)
class Layer:
    """Top-level packages / modules of interlens at one height; ``independent``: they import no sibling."""

    members: tuple[str, ...]
    independent: bool = True


#: top to bottom (docs/architecture.md, "Layers"); a member is a top-level package / module, or a dotted
#: subpackage / module placed apart from its package (the longest member that contains a module is its unit)
LAYERS: tuple[Layer, ...] = (
    Layer(("__main__",)),
    Layer(("cli",)),
    Layer(("demo",)),
    # the methods: a study of a dataset with a scorer (may build on one another: mint -> measure, debias ->
    # experts); evidence (stored predictions, the test-look ledger every method records in, ``verify``, which
    # re-reads bench results) lives among them
    Layer(("bench", "debias", "evidence", "experts", "measure", "methods", "mint"), independent=False),
    # services the methods share, above the models: results envelope, reports, baselines, tracking
    Layer(("baselines", "provenance", "report", "tracking")),
    Layer(("scoring",)),
    Layer(("cache", "checkpoints", "execution")),
    Layer(("prompts",)),
    # the flow of DESIGN.md read bottom-up: a Dataset, Predictions on it, interactions computed from them
    Layer(("interactions",)),
    # prediction files on disk (our tables, the MMoE / MIntRec authors' formats): readers of the data package
    # that build Predictions, so one layer above them (the data package itself never imports them)
    Layer(("data.prediction_formats",)),
    Layer(("predictions",)),
    Layer(("data",)),
    # small shared helpers (no order among them beyond "no cycles")
    Layer(("integrity", "io", "logs", "metrics", "progress", "registry", "torch_utils", "views"), independent=False),
    Layer(("errors",)),
)
#: the method packages (``scoring`` and ``report`` import none of them)
METHODS = ("bench", "debias", "demo", "experts", "measure", "methods", "mint", "cli")
#: what ``interactions`` (pure maths on arrays and predictions) may import from interlens, and from outside
PURE_MATHS_INTERNAL = ("errors", "metrics", "predictions", "views")
PURE_MATHS_EXTERNAL = ("numpy", "scipy", "pandas", "sklearn", "clarabel")  # clarabel: PID's reference solver
#: modules whose uphill imports another change of issue 29 is removing (module -> why it is pending)
PENDING: dict[str, str] = {}  # empty: interactions.pid and report.html were fixed in this issue


# -- the import graph ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Import:
    target: str        # the most specific module of the package that the import reaches
    line: int
    in_function: bool  # inside a function or method body


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _literal_import(call: ast.Call) -> str | None:
    """The module named by ``importlib.import_module("x")`` / ``import_module("x")`` / ``__import__("x")``."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in ("import_module", "__import__") or not call.args:
        return None
    first = call.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def _resolve(name: str, level: int, module: str, is_package: bool) -> str:
    """The absolute module name of ``from <level dots><name> import ...`` written in ``module``."""
    if not level:
        return name
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([name] if name else [])])


def imports_of(path: Path, module: str, is_package: bool) -> list[tuple[str, int, bool]]:
    """(imported name, line, inside a function) for every import statement of one source file."""
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:  # the else branch runs
                    visit_one(other, in_function)
                continue
            visit_one(child, in_function)

    def visit_one(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno, in_function) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module or "", node.level, module, is_package)
            # ``base.name``: the submodule when there is one, else (an attribute) ``base`` -- see build_graph
            found.extend((f"{base}.{alias.name}" if alias.name != "*" else base, node.lineno, in_function)
                         for alias in node.names)
        elif isinstance(node, ast.Call) and (name := _literal_import(node)) is not None:
            level = len(name) - len(name.lstrip("."))
            found.append((_resolve(name.lstrip("."), level, module, True if level else is_package), node.lineno,
                          in_function))
        visit(node, in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), False)
    return found


def build_graph(src: Path, package: str) -> dict[str, list[Import]]:
    """``{module: [Import, ...]}`` for every module of ``package`` under ``src`` (imports of other packages and
    of the module itself left out)."""
    files = {module_name(p, src): p for p in sorted((src / package).rglob("*.py"))}
    graph: dict[str, list[Import]] = {}
    for module, path in files.items():
        edges: dict[tuple[str, int], Import] = {}
        for name, line, in_function in imports_of(path, module, path.name == "__init__.py"):
            if name != package and not name.startswith(package + "."):
                continue
            target = name
            while target not in files and "." in target:  # an attribute of a module: that module
                target = target.rsplit(".", 1)[0]
            if target in files and target != module:
                edges.setdefault((target, line), Import(target, line, in_function))
        graph[module] = list(edges.values())
    return graph


def external_imports(src: Path, package: str, under: str) -> dict[str, set[str]]:
    """``{module: top-level names of other distributions}`` for the modules of ``under`` (a subpackage)."""
    out: dict[str, set[str]] = {}
    for path in sorted((src / package / under).rglob("*.py")):
        module = module_name(path, src)
        names = {name.split(".")[0] for name, _, _ in imports_of(path, module, path.name == "__init__.py")}
        out[module] = {n for n in names if n and n != package and n not in sys.stdlib_module_names}
    return out


def unit(module: str, package: str = PACKAGE, members: Iterable[str] = ()) -> str:
    """The layer member ``module`` belongs to: the longest of ``members`` that is ``module`` or contains it,
    else its top-level package or module ("" for the package itself)."""
    parts = module.split(".")
    if parts[0] != package or len(parts) == 1:
        return ""
    inner = ".".join(parts[1:])
    inside = [m for m in members if inner == m or inner.startswith(m + ".")]
    return max(inside, key=len) if inside else parts[1]


def layer_violations(graph: Mapping[str, Iterable[Import]], layers: Iterable[Layer], *,
                     package: str = PACKAGE, skip: Iterable[str] = ()) -> list[str]:
    """One line per import that runs uphill (or across an independent layer): ``a:LINE -> b (why)``."""
    height = {member: (i, layer) for i, layer in enumerate(layers) for member in layer.members}
    skip = set(skip)
    out = []
    for module, edges in graph.items():
        source = unit(module, package, height)
        if module in skip or source not in height:
            continue
        low, layer = height[source]
        for edge in edges:
            target = unit(edge.target, package, height)
            if target == source or target not in height:
                continue
            high = height[target][0]
            where = f"{module}:{edge.line}{' (in a function)' if edge.in_function else ''} -> {edge.target}"
            if high < low:
                out.append(f"{where}: {target} is in a higher layer than {source}")
            elif high == low and layer.independent:
                out.append(f"{where}: {target} and {source} are independent siblings of one layer")
    return sorted(out)


def forbidden(graph: Mapping[str, Iterable[Import]], sources: Iterable[str], targets: Iterable[str], *,
              package: str = PACKAGE, skip: Iterable[str] = ()) -> list[str]:
    """Imports from a module of the ``sources`` units into one of the ``targets`` units."""
    sources, targets, skip = set(sources), set(targets), set(skip)
    return sorted(f"{m}:{e.line} -> {e.target}" for m, edges in graph.items()
                  if unit(m, package) in sources and m not in skip
                  for e in edges if unit(e.target, package) in targets)


def cycles(graph: Mapping[str, Iterable[Import]], *, skip: Iterable[str] = ()) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted; edges out of ``skip``
    modules are left out."""
    skip = set(skip)
    succ = {m: sorted({e.target for e in edges}) if m not in skip else [] for m, edges in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:  # iterative, so a long chain cannot hit the recursion limit
        work = [(v, iter(succ.get(v, [])))]
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(succ.get(child, []))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for v in sorted(succ):
        if v not in index:
            connect(v)
    return sorted(found)


@cache
def graph() -> dict[str, list[Import]]:
    return build_graph(SRC, PACKAGE)


def _fail(title: str, lines: list[str]) -> None:
    if lines:
        pytest.fail(f"{title} ({len(lines)}):\n  " + "\n  ".join(lines), pytrace=False)


# -- the contracts of src/interlens -------------------------------------------------------------------------------
def test_every_top_level_module_is_placed_in_a_layer() -> None:
    placed = {m for layer in LAYERS for m in layer.members}
    units = {unit(m) for m in graph()} - {""}
    _fail("top-level modules in no layer: add them to LAYERS in tests/test_architecture.py and to "
          "docs/architecture.md", sorted(units - placed))
    assert len(placed) == sum(len(layer.members) for layer in LAYERS), "a module is in two layers"
    assert {"cli", "scoring", "interactions", "errors"} <= units  # the graph really is interlens's


def test_imports_run_downhill() -> None:
    _fail("uphill imports (a lower layer importing a higher one; docs/architecture.md)",
          layer_violations(graph(), LAYERS, skip=PENDING))


def test_interactions_is_pure_maths() -> None:
    inside = [line for line in forbidden(graph(), ["interactions"], {unit(m) for m in graph()} - {""},
                                         skip=PENDING)
              if line.rsplit(" -> ", 1)[1].split(".")[1] not in (*PURE_MATHS_INTERNAL, "interactions")]
    _fail(f"interactions/ imports interlens modules beyond {PURE_MATHS_INTERNAL}", inside)
    outside = sorted(f"{m} imports {name}" for m, names in external_imports(SRC, PACKAGE, "interactions").items()
                     if m not in PENDING for name in names if name not in PURE_MATHS_EXTERNAL)
    _fail(f"interactions/ imports libraries beyond {PURE_MATHS_EXTERNAL}", outside)


def test_scoring_imports_no_method() -> None:
    _fail("scoring/ imports a method", forbidden(graph(), ["scoring"], METHODS, skip=PENDING))


def test_report_imports_no_method() -> None:
    _fail("report/ imports a method", forbidden(graph(), ["report"], METHODS, skip=PENDING))


def test_no_import_cycles() -> None:
    _fail("import cycles between modules of src/interlens (module- and function-level imports)",
          [" <-> ".join(c) for c in cycles(graph(), skip=PENDING)])


@pytest.mark.parametrize("module", sorted(PENDING))
def test_pending_module_imports_run_downhill(module: str, request: pytest.FixtureRequest) -> None:
    request.applymarker(pytest.mark.xfail(strict=True, reason=f"{PENDING[module]}; when this passes, remove "
                                                                f"{module} from PENDING"))
    only = {m: e for m, e in graph().items() if m == module}
    lines = layer_violations(only, LAYERS) + forbidden(only, ["report", "scoring"], METHODS)
    lines += [" <-> ".join(c) for c in cycles(graph()) if module in c]
    _fail(f"{module}: uphill imports or cycles", lines)


def test_dataset_table_builders_are_there_whenever_dataset_is() -> None:
    """``data.schema`` does not import ``data.frames`` (a cycle); the ``interlens.data`` package fills
    ``TABLE_BUILDERS``, and importing ``interlens.data.schema`` alone runs it first, in a fresh interpreter."""
    import subprocess

    code = ("from interlens.data.schema import Dataset\n"
            "d = Dataset.from_hf({'train': [{'i': 'a', 'y': 'p', 't': 'hi'}], 'test': [{'i': 'b', 'y': 'q', "
            "'t': 'yo'}]}, id='i', label='y', modalities={'t': 't'}, name='two')\n"
            "print(len(d), d.labels, sorted(d.splits))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "('p',", "'q')", "['test',", "'train']"]


# -- the checker itself ---------------------------------------------------------------------------------------------
def _package(root: Path, files: dict[str, str]) -> dict[str, list[Import]]:
    """The import graph of a package ``pkg`` made of ``files`` (path -> source) under ``root``."""
    for name, text in {"pkg/__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return build_graph(root, "pkg")


def test_checker_sees_function_level_relative_and_literal_imports(tmp_path: Path) -> None:
    found = _package(tmp_path, {
        "pkg/top/__init__.py": "from .run import go\n",
        "pkg/top/run.py": "from ..low.maths import add\n\ndef go():\n    return add(1, 2)\n",
        "pkg/low/__init__.py": "",
        "pkg/low/maths.py": (
            "from __future__ import annotations\nfrom typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from pkg.top import go\nelse:\n    import pkg.mid\n\n"
            "def add(a, b):\n    from ..top.run import go  # uphill, inside a function\n    return a + b\n\n"
            "def later():\n    import importlib\n    return importlib.import_module('pkg.top')\n"),
        "pkg/mid.py": "import numpy\nfrom . import low\n",
    })
    assert sorted((i.target, i.line, i.in_function) for i in found["pkg.low.maths"]) == [
        ("pkg.mid", 6, False), ("pkg.top", 14, True), ("pkg.top.run", 9, True)]
    assert [(i.target, i.in_function) for i in found["pkg.top.run"]] == [("pkg.low.maths", False)]
    assert [i.target for i in found["pkg.top"]] == ["pkg.top.run"]
    assert [i.target for i in found["pkg.mid"]] == ["pkg.low"]
    layers = (Layer(("top",)), Layer(("mid",)), Layer(("low",)))
    assert layer_violations(found, layers, package="pkg") == [
        "pkg.low.maths:14 (in a function) -> pkg.top: top is in a higher layer than low",
        "pkg.low.maths:6 -> pkg.mid: mid is in a higher layer than low",
        "pkg.low.maths:9 (in a function) -> pkg.top.run: top is in a higher layer than low"]
    assert layer_violations(found, layers, package="pkg", skip=["pkg.low.maths"]) == []
    assert forbidden(found, ["low"], ["top"], package="pkg") == ["pkg.low.maths:14 -> pkg.top",
                                                                  "pkg.low.maths:9 -> pkg.top.run"]
    assert cycles(found) == [["pkg.low.maths", "pkg.top", "pkg.top.run"]]  # maths -> run, top; both -> maths
    assert cycles(found, skip=["pkg.low.maths"]) == []
    assert external_imports(tmp_path, "pkg", "low") == {"pkg.low": set(), "pkg.low.maths": set()}
    assert external_imports(tmp_path, "pkg", ".")["pkg.mid"] == {"numpy"}


def test_checker_flags_siblings_of_an_independent_layer_and_cycles_through_a_package(tmp_path: Path) -> None:
    found = _package(tmp_path, {"pkg/a.py": "from .b import x\n", "pkg/b.py": "x = 1\n",
                                "pkg/c/__init__.py": "from .d import y\n",
                                "pkg/c/d.py": "def y():\n    from pkg.c import y as again\n    return again\n"})
    assert layer_violations(found, [Layer(("a", "b"))], package="pkg") == [
        "pkg.a:1 -> pkg.b: b and a are independent siblings of one layer"]
    assert layer_violations(found, [Layer(("a", "b"), independent=False)], package="pkg") == []
    assert cycles(found) == [["pkg.c", "pkg.c.d"]]
    # a subpackage / module placed apart from its package: pkg.c.d below pkg.c may not import it
    assert unit("pkg.c.d", "pkg", ["c", "c.d"]) == "c.d" and unit("pkg.c", "pkg", ["c", "c.d"]) == "c"
    assert layer_violations(found, [Layer(("c",)), Layer(("c.d",))], package="pkg") == [
        "pkg.c.d:2 (in a function) -> pkg.c: c is in a higher layer than c.d"]
    assert layer_violations(found, [Layer(("c.d",)), Layer(("c",))], package="pkg") == [
        "pkg.c:1 -> pkg.c.d: c.d is in a higher layer than c"]
