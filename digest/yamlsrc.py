"""YAML with positions: the only module that imports PyYAML.

Input: YAML text and its file name. Output: plain Python data (dicts, lists,
str, int, float, bool, None) plus a :class:`Source` that maps every key path
to the line and column where it was written, so config problems can say
``feed.yaml:12:7: themes[2].any[0]: ...``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from digest.errors import Problem

Path = tuple[str | int, ...]
"""A path into the data: mapping keys and sequence indexes."""


def path_str(path: Path) -> str:
    """``("themes", 2, "any")`` -> ``themes[2].any``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(top level)"


@dataclass(slots=True)
class Source:
    """Positions of every node of one YAML document."""

    file: str
    """File name used in problems."""
    marks: dict[Path, tuple[int, int]] = field(default_factory=dict)
    """Path -> (1-based line, 1-based column) of the value."""
    key_marks: dict[Path, tuple[int, int]] = field(default_factory=dict)
    """Path -> (1-based line, 1-based column) of the mapping key naming it."""

    def problem(self, path: Path, message: str, *, at_key: bool = False) -> Problem:
        """A problem located at ``path``'s value (its key with ``at_key``), or at its nearest
        known parent."""
        marks = self.key_marks if at_key else self.marks
        probe = path
        while probe and probe not in marks:
            probe = probe[:-1]
        line, col = marks.get(probe, (None, None)) if probe else (None, None)
        return Problem(self.file, line, f"{path_str(path)}: {message}", col)

    def key_problem(self, path: Path, message: str) -> Problem:
        """A problem with a key itself (unknown, duplicate, colliding)."""
        return self.problem(path, message, at_key=True)


# libyaml's parser when PyYAML was built with it (several times faster on a large
# feed.yaml); the pure-Python one otherwise. Both give nodes with the same marks.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]  # chosen at import time
    """SafeLoader that refuses duplicate keys instead of silently keeping the last."""


def load(text: str, file: str) -> tuple[Any, Source, list[Problem]]:
    """Parse YAML text. Syntax errors and duplicate keys become problems, never exceptions."""
    source = Source(file)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        return None, source, [Problem(file, line, f"invalid YAML: {err.problem}", col)]
    except yaml.YAMLError as err:
        return None, source, [Problem(file, None, f"invalid YAML: {err}")]
    if node is None:
        return None, source, []
    problems: list[Problem] = []
    return _build(node, (), source, problems, _Loader("")), source, problems


def _build(
    node: yaml.Node, path: Path, source: Source, problems: list[Problem], loader: _Loader
) -> Any:
    source.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key = str(key) if not isinstance(key, str) else key
            child = (*path, key)
            if key in out:
                line = key_node.start_mark.line + 1
                problems.append(
                    Problem(
                        source.file,
                        line,
                        f"{path_str(child)}: duplicate key",
                        key_node.start_mark.column + 1,
                    )
                )
            source.key_marks[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _build(value_node, child, source, problems, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, i), source, problems, loader) for i, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def walk(data: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every (path, value) pair in ``data``, parents before children."""
    yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from walk(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from walk(value, (*path, i))


def describe(value: Any) -> str:
    """How a wrong value is named in a problem: ``the text 'abc'``, ``a list``, ``nothing``."""
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"the text {value!r}"
    names = {"dict": "a mapping", "list": "a list", "bool": "true/false", "int": "a number",
             "float": "a number", "date": "a date"}  # fmt: skip
    return names.get(type(value).__name__, type(value).__name__)
