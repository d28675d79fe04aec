"""The project's import graph has no cycles, and its layers import only downwards.

Every import counts, at module level or inside a function (a deferred import hides a cycle
from Python, not from a reader): the graph is built from the source with `ast`, nothing is
imported. A module's edges are the project modules it names: `import a.b` and
`from a.b import name` depend on a.b, `from a import b` on a.b when b is a submodule and on
the package a otherwise. Importing a.b also runs a/__init__.py first, so a module outside
a that imports a.b depends on the package a too; a module inside a does not (a is being
imported already when it runs), so a package may re-export its leaves as long as none of
them imports the package back (`from a import NAME`, NAME defined in a/__init__.py).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("agent", "sandboxes", "finetune", "iotbench")


def module_files(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """{dotted module name: file} for every .py file under the packages (or a module file)."""
    files: dict[str, Path] = {}
    for package in packages:
        top = root / package
        for path in sorted(top.rglob("*.py")) if top.is_dir() else [top]:
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join(parts)] = path
    return files


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute name `from <node.module> import ...` refers to inside `module`."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    if node.level > 1:
        base = base[:len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `module` (at `path`) imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                while name and name not in known:  # import a.b.func_module -> longest known
                    name = name.rpartition(".")[0]
                if name:
                    found.add(name)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node)
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in known:
                    found.add(submodule)
                elif target in known:
                    found.add(target)
    # importing a.b.c runs a/__init__ and a/b/__init__ first: a dependency of a module
    # outside them (inside a, a is already being imported when the module runs)
    own = {module.rsplit(".", n)[0] for n in range(module.count(".") + 1)}
    for name in list(found):
        while "." in name:
            name = name.rpartition(".")[0]
            if name in known and name not in own:
                found.add(name)
    return found


def import_graph(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    """{module: the project modules it imports}."""
    files = module_files(root, packages)
    known = set(files)
    return {module: imports_of(module, path, known) for module, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle: the strongly connected components of more than one module, and a
    module that imports itself (a package whose __init__ names one of its own attributes)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:  # Tarjan's algorithm, iterative (no recursion limit)
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for succ in edges:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.get(succ, ())))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
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
                    if len(component) > 1 or node in graph.get(node, ()):
                        found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def _cycle_path(graph: dict[str, set[str]], component: list[str]) -> str:
    """One concrete loop through a component, e.g. 'a -> a.b -> a', to say where to cut."""
    members = set(component)
    start = component[0]
    # breadth-first from start back to start, inside the component
    paths = {succ: [start, succ] for succ in sorted(graph[start] & members)}
    queue = list(paths)
    while queue and start not in paths:
        node = queue.pop(0)
        for succ in sorted(graph[node] & members):
            if succ not in paths:
                paths[succ] = [*paths[node], succ]
                queue.append(succ)
    return " -> ".join(paths.get(start, component))


GRAPH = import_graph()


def _imports(module: str, *, prefix: str) -> list[str]:
    return sorted(m for m in GRAPH[module] if m == prefix or m.startswith(prefix + "."))


def test_no_import_cycles() -> None:
    found = cycles(GRAPH)
    assert not found, "import cycles:\n" + "\n".join(
        f"  {', '.join(c)}\n    e.g. {_cycle_path(GRAPH, c)}" for c in found)


def test_graph_sees_the_project() -> None:
    # a resolver that lost its imports would find no cycles: check it sees known edges,
    # relative and function-level ones included
    assert {"agent.cli", "sandboxes.base", "finetune.generators.base"} <= set(GRAPH)
    assert "agent.errors" in GRAPH["agent.spec"]
    assert any(m.startswith("agent.models.") for m in GRAPH["agent.models.base"])
    assert "sandboxes.base" in GRAPH["sandboxes.docker_sandbox"]


def test_sandboxes_do_not_import_agent() -> None:
    offenders = {m: _imports(m, prefix="agent") for m in GRAPH if m.split(".")[0] == "sandboxes"}
    assert not {m: i for m, i in offenders.items() if i}


def test_model_interface_does_not_import_its_backends() -> None:
    backends = {"agent.models.llamacpp", "agent.models.llamacpp_engine", "agent.models.hf",
                "agent.models.openai_compat"}
    assert not GRAPH["agent.models.base"] & backends


def _mutual(a: str, b: str) -> bool:
    return b in GRAPH[a] and a in GRAPH[b]


def test_bench_and_report_do_not_import_each_other() -> None:
    # the bench writes its reports when it ends; the reports read the results store
    # (agent.results), never the bench
    assert not _mutual("agent.bench", "agent.report")
    assert "agent.bench" not in GRAPH["agent.report"]


def test_pect_and_train_do_not_import_each_other() -> None:
    # the trainer runs PECT when asked; both read their LoRA sections from finetune.lora
    assert not _mutual("finetune.pect", "finetune.train")
    assert "finetune.train" not in GRAPH["finetune.pect"]


# ---- the checker itself can fail -------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_finds_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg.b import g\n",
        "pkg/b.py": "def g():\n    from . import a\n    return a\n",
        "pkg/c.py": "import pkg.a\n",
    })
    graph = import_graph(tmp_path, ["pkg"])
    assert graph["pkg.b"] == {"pkg.a"} and graph["pkg.c"] == {"pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.b"]]
    assert _cycle_path(graph, ["pkg.a", "pkg.b"]) == "pkg.a -> pkg.b -> pkg.a"


def test_finds_a_package_init_imported_back(tmp_path: Path) -> None:
    _write(tmp_path, {
        "pkg/__init__.py": "from .impl import thing\nSHARED = 1\n",
        "pkg/impl.py": "from pkg import SHARED\nthing = SHARED\n",
        "pkg/sub/__init__.py": "from ..sub import leaf\nfrom . import leaf as again\n",
        "pkg/sub/leaf.py": "from .. import sub\n",  # `from pkg import sub` is the package
        "pkg/ok/__init__.py": "from pkg.ok.leaf import x\n",
        "pkg/ok/leaf.py": "import os\nx = 1\n",
    })
    graph = import_graph(tmp_path, ["pkg"])
    assert cycles(graph) == [["pkg", "pkg.impl"], ["pkg.sub", "pkg.sub.leaf"]]


def test_finds_a_cycle_through_a_package_init_run_first(tmp_path: Path) -> None:
    # importing a.leaf from outside runs a/__init__.py, which imports the importer back
    _write(tmp_path, {
        "a/__init__.py": "from b import helper\n",
        "a/leaf.py": "x = 1\n",
        "b.py": "def helper():\n    from a.leaf import x\n    return x\n",
    })
    graph = import_graph(tmp_path, ["a", "b.py"])
    assert graph["b"] == {"a", "a.leaf"}
    assert cycles(graph) == [["a", "b"]]


def test_self_import_is_a_cycle() -> None:
    assert cycles({"pkg": {"pkg"}, "pkg.a": set()}) == [["pkg"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


# --- comments state the rule, not the incident (issue 18 part 5) ----------------------------

def _incident_names() -> list[str]:
    """Names that belong in a commit message or BENCHMARKS.md, not in the code: the task ids of
    IoTBench and of the examples, and the models by size."""
    ids = {p.parent.name for p in (ROOT / "iotbench" / "tasks").glob("*/*/spec.yaml")}
    ids |= {p.parent.name for p in (ROOT / "examples").glob("*/spec.yaml")}
    return sorted(ids) + ["0.5B", "1.5B"]


def test_agent_code_names_no_benchmark_task_and_no_model_run() -> None:
    # registry.py describes the pinned model files themselves, by their published names
    exempt = {ROOT / "agent" / "models" / "registry.py"}
    names = _incident_names()
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, names)) + r")(?![\w-])")
    found = [f"{p.relative_to(ROOT)}:{i}: {m.group(1)}"
             for p in sorted((ROOT / "agent").rglob("*.py")) if p not in exempt
             for i, line in enumerate(p.read_text().splitlines(), 1)
             if (m := pattern.search(line))]
    assert not found, found


def test_the_incident_check_can_fail(tmp_path: Path) -> None:
    names = _incident_names()
    assert "hrv-rmssd" in names and "ecg-rpeaks-1khz" in names and "1.5B" in names
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, names)) + r")(?![\w-])")
    assert pattern.search("# the 1.5B did this on ecg-rpeaks-1khz")
    assert not pattern.search("# R peaks of a 1 kHz ECG")


def private_uses(path: Path, package: str) -> list[str]:
    """Names starting with `_` that `path` takes from another package of the project: a
    copy's way in (finetune building its prompts through a node's private helper), which
    breaks silently when the owner renames it."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    modules: set[str] = set()  # local names bound to project modules
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            top = node.module.split(".")[0]
            if top in PACKAGES and top != package:
                found += [f"{node.module}.{a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
                modules |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            modules |= {(a.asname or a.name).split(".")[0] for a in node.names
                        if a.name.split(".")[0] in PACKAGES and a.name.split(".")[0] != package}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in modules and node.attr.startswith("_") \
                and not node.attr.startswith("__"):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_no_package_uses_anothers_private_names() -> None:
    found = {f"{p.relative_to(ROOT)}: {name}"
             for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))
             for name in private_uses(p, package)}
    assert not found, sorted(found)


def test_the_private_use_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "copy.py"
    bad.write_text("from agent.nodes import evaluate as ev\nfrom agent.feedback import _fmt\n"
                   "x = ev._judge\n")
    assert sorted(private_uses(bad, "finetune")) == ["agent.feedback._fmt", "ev._judge"]
    assert private_uses(bad, "agent") == []
