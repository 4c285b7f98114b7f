"""The engine's layering: no import cycles, models never import training code, no streamlit.

The import graph is read from the source (every `import` / `from ... import`
statement, also those inside functions, but not those under `if TYPE_CHECKING:`,
which never run). An edge A -> B means module A names module B explicitly; the
implicit import of a package's `__init__` by its submodules is not an edge (a
package that imports its own submodules to fill a registry is the pattern, and
its submodules import the registry from a sibling module, not from the package).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "ganlab"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in ENGINE.rglob("*.py")}


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Line numbers of statements under `if TYPE_CHECKING:` (annotation-only imports)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            for child in node.body:
                for sub in ast.walk(child):
                    if hasattr(sub, "lineno"):
                        lines.add(sub.lineno)
    return lines


def import_graph() -> dict[str, set[str]]:
    """Engine module -> the engine modules it imports (explicitly, at run time)."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                # `from pkg import sub` names the submodule when there is one.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for t in targets:
                if t in mods and t != name:
                    graph[name].add(t)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), as sorted lists."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_engine_has_no_import_cycles() -> None:
    cycles = find_cycles(import_graph())
    assert cycles == [], "import cycles in ganlab: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_models_never_import_training_code() -> None:
    graph = import_graph()
    training = {m for m in graph if m.startswith(("ganlab.train", "ganlab.runs", "ganlab.cli", "ganlab.bench"))}
    for mod, deps in graph.items():
        if mod.startswith("ganlab.models"):
            assert not deps & training, f"{mod} imports training code: {sorted(deps & training)}"


def test_graph_reads_function_level_imports(tmp_path: Path) -> None:
    # The graph must see imports inside functions (they run) and skip TYPE_CHECKING ones.
    graph = import_graph()
    assert "ganlab.errors" in graph["ganlab.config"]
    assert all(dep.startswith("ganlab") for deps in graph.values() for dep in deps)
