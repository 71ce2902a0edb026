"""The configuration modules form no import cycle with the rest of digest.

Input: the source of every module under ``digest/``. Output: pass, or the cycle found
(the modules in order). Only imports run at import time count (not those under
``if TYPE_CHECKING:``); importing ``digest.a.b`` runs ``digest.a`` first, so it counts
as importing that package too (unless the importer is inside it).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent / "digest"
CONFIG = ("digest.config", "digest.options", "digest.addresses", "digest.mail", "digest.rules")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in tree.body:  # top level only: imports inside functions run late
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        edges: set[str] = set()
        for target in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            parts = target.split(".")
            for n in range(2, len(parts) + 1):  # the packages on the way run first...
                prefix = ".".join(parts[:n])
                # ...except those the importing module sits in: they are already running.
                if prefix in paths and prefix != name and not name.startswith(prefix + "."):
                    edges.add(prefix)
        graph[name] = edges
    return graph


def _cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, trail = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == start:
                return [*trail, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*trail, nxt]))
    return None


def test_configuration_modules_import_no_cycle() -> None:
    graph = _graph()
    for name in sorted(graph):
        if name.startswith(CONFIG):
            assert _cycle_through(graph, name) is None, _cycle_through(graph, name)


def test_config_does_not_import_mail() -> None:
    """Not even inside a function or for type checking: the email section's types live
    in digest.config.email, and digest.mail (message building) imports them."""
    for path in [*(ROOT / "config").glob("*.py"), ROOT / "options.py", ROOT / "addresses.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
            elif isinstance(node, ast.Import):
                names = {a.name for a in node.names}
            else:
                continue
            assert "digest.mail" not in names, path
