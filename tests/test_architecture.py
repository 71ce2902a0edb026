"""The shape of the house: which module may import which, and how big one may grow.

The store speaks SQL and knows nothing of the stages that use it; no module of digest
imports, at module level, one that imports it back (a package and its own modules
excepted: a package's ``__init__`` may gather what its modules define). No module is
over 500 lines and no class over 300, so each can be read in one sitting.
"""

from __future__ import annotations

import ast
from pathlib import Path

import digest

ROOT = Path(digest.__file__).parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = ("digest", *path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(path: Path, name: str, *, module_level: bool) -> set[str]:
    """Every module ``path`` (module ``name``) imports (absolute names)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text("utf-8"))
    nodes: list[ast.AST] = []
    for node in tree.body if module_level else [tree]:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue  # annotations only
        if module_level and isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            continue  # imported when called
        nodes.extend(ast.walk(node))
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([node.module] if node.module else [])])
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def test_the_store_imports_no_part_of_digest_but_models_and_errors() -> None:
    allowed = ("digest.store", "digest.models", "digest.errors")
    for name, path in _modules().items():
        if not name.startswith("digest.store"):
            continue
        for imported in _imports(path, name, module_level=False):
            if imported == "digest" or imported.startswith("digest."):
                assert imported.startswith(allowed), f"{name} imports {imported}"


def test_no_module_of_digest_imports_one_that_imports_it_back() -> None:
    modules = _modules()

    def own(a: str, b: str) -> bool:  # a package and one of its own modules
        return a.startswith(b + ".") or b.startswith(a + ".")

    graph = {
        name: {
            m
            for m in _imports(path, name, module_level=True)
            if m in modules and m != name and not own(name, m)
        }
        for name, path in modules.items()
    }
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycle = [*trail[trail.index(name) :], name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for imported in sorted(graph[name]):
            visit(imported, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 300


def test_no_module_is_over_500_lines_and_no_class_over_300() -> None:
    too_big = []
    for name, path in _modules().items():
        text = path.read_text("utf-8")
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            too_big.append(f"{name}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MAX_CLASS_LINES:
                    too_big.append(f"{name}.{node.name}: class of {size} lines")
    assert not too_big, "split these along a seam: " + "; ".join(too_big)


def test_no_stage_imports_click() -> None:
    """click is the CLI's: the stages and the use cases can be used without it."""
    allowed = ("digest.cli", "digest.terminal")
    for name, path in _modules().items():
        if name in allowed:
            continue
        imported = _imports(path, name, module_level=False)
        assert "click" not in imported and not any(i.startswith("click.") for i in imported), name
