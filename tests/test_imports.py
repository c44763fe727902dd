"""No import cycles inside seqarch, counting imports inside functions too (a cycle that only
works because one side imports lazily is still a cycle in the design)."""

from __future__ import annotations

import ast
from pathlib import Path

import seqarch

ROOT = Path(seqarch.__file__).parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    deps.add(full if full in modules else target)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while (w := stack.pop()) != v:
                comp.append(w)
            comp.append(v)
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_there_are_no_import_cycles() -> None:
    graph = import_graph()
    assert "seqarch.models.ssm" in graph and "seqarch.models.scan" in graph["seqarch.models.ssm"]
    assert cycles(graph) == []


def test_the_checker_finds_a_planted_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


LAYERS_ABOVE = ("seqarch.claims", "seqarch.report", "seqarch.reproduce")


def advise_reach_ins() -> list[str]:
    """Imports by the ledger, the report and the reproductions of anything in advise/ but the
    advisor's public entry (``seqarch.advise``, its ``__all__``): the evidence they share lives
    below (seqarch.readings), not in the advisor's modules."""
    import seqarch.advise as advisor

    graph = import_graph()
    public = set(advisor.__all__)
    out = []
    for name, deps in graph.items():
        if not name.startswith(LAYERS_ABOVE):
            continue
        out += [f"{name} → {d}" for d in deps if d.startswith("seqarch.advise.")]
        path = ROOT.parent / (name.replace(".", "/") + ".py")
        if not path.exists():
            path = ROOT.parent / name.replace(".", "/") / "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in ("advise", "seqarch.advise"):
                out += [f"{name} → advise.{a.name}" for a in node.names if a.name not in public]
    return sorted(out)


def test_the_ledger_report_and_reproductions_use_only_the_advisors_public_entry() -> None:
    assert advise_reach_ins() == []
