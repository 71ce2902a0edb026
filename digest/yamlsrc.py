"""YAML with positions: the only module that imports PyYAML.

Input: YAML text and its file name. Output: plain Python data (dicts, lists,
str, int, float, bool, None) plus a :class:`Source` that maps every key path
to the line and column where it was written, so config problems can say
``feed.yaml:12:7: themes[2].any[0]: ...``.
"""

from __future__ import annotations

import re
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


TAG = "tag:yaml.org,2002:"
PLAIN_TAGS = {TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp")}
"""Scalar tags feed.yaml may use (written or implied): everything else, ``!!python/...``,
``!!binary``, ``!!set`` or a local ``!tag``, is refused with its line."""
MERGE_TAG = TAG + "merge"
_UNUSABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
"""Characters a YAML escape can write that XML, HTML and mail headers cannot carry."""
ALIAS_LIMIT = 100_000
"""Values an alias may produce, all aliases together. A real feed.yaml reusing a term
list across tags stays in the thousands; a "billion laughs" file asks for 10**9."""
DEPTH_LIMIT = 64
"""Nesting of lists and mappings (feed.yaml needs about six)."""


class _Refused(Exception):
    """A document too large or too deep to build: one problem, nothing else read."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def load(text: str, file: str) -> tuple[Any, Source, list[Problem]]:
    """Parse YAML text. Syntax errors, duplicate keys, unsupported tags, recursive aliases
    and alias bombs become problems, never exceptions; ``<<: *base`` merges mappings."""
    source = Source(file)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        return None, source, [Problem(file, line, f"invalid YAML: {err.problem}", col)]
    except yaml.reader.ReaderError as err:
        line = text[: err.position].count("\n") + 1
        message = f"invalid YAML: character U+{err.character:04X} is not allowed"
        return None, source, [Problem(file, line, message)]
    except yaml.YAMLError as err:
        return None, source, [Problem(file, None, f"invalid YAML: {err}")]
    except RecursionError:
        return None, source, [Problem(file, None, "invalid YAML: nested too deeply")]
    if node is None:
        return None, source, []
    builder = _Builder(source)
    try:
        data = builder.build(node, ())
    except _Refused as refused:
        return None, source, [refused.problem]
    return data, source, builder.problems


def tag_name(tag: str) -> str:
    """``tag:yaml.org,2002:python/name:os.system`` -> ``!!python/name:os.system``."""
    return "!!" + tag[len(TAG) :] if tag.startswith(TAG) else tag


class _Builder:
    """Nodes -> plain data with marks; aliases expanded within :data:`ALIAS_LIMIT`."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.loader = _Loader("")
        self.seen: set[int] = set()
        """Nodes built once: meeting one again means an alias."""
        self.open: set[int] = set()
        """Nodes being built: meeting one of these again means a recursive alias."""
        self.aliased = 0
        """How deep inside an alias's expansion the builder is (0: outside)."""
        self.produced = 0
        """Values produced through aliases so far."""

    def at(self, node: yaml.Node, path: Path, message: str) -> Problem:
        """A problem located where ``node`` was written (an alias: where its anchor was)."""
        mark = node.start_mark
        return Problem(
            self.source.file, mark.line + 1, f"{path_str(path)}: {message}", mark.column + 1
        )

    def problem(self, node: yaml.Node, path: Path, message: str) -> None:
        self.problems.append(self.at(node, path, message))

    def build(self, node: yaml.Node, path: Path) -> Any:
        key = id(node)
        if key in self.open:
            self.problem(node, path, "recursive alias: this value contains itself")
            return None
        again = key in self.seen
        self.seen.add(key)
        self.aliased += again
        if self.aliased:
            self.produced += 1
            if self.produced > ALIAS_LIMIT:
                raise _Refused(
                    self.at(
                        node,
                        path,
                        f"aliases expand to more than {ALIAS_LIMIT:,} values "
                        "(an alias bomb?); write the values out instead",
                    )
                )
        if len(path) > DEPTH_LIMIT:
            message = f"nested more than {DEPTH_LIMIT} levels deep"
            raise _Refused(self.at(node, path[:DEPTH_LIMIT], message))
        self.source.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        self.open.add(key)
        try:
            return self._value(node, path)
        finally:
            self.open.discard(key)
            self.aliased -= again

    def _value(self, node: yaml.Node, path: Path) -> Any:
        if isinstance(node, yaml.MappingNode) and node.tag == TAG + "map":
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode) and node.tag == TAG + "seq":
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.ScalarNode) and node.tag in PLAIN_TAGS:
            return self.scalar(node, path)
        self.problem(
            node,
            path,
            f"unsupported tag {tag_name(node.tag)!r} "
            "(feed.yaml holds only text, numbers, true/false, dates, lists and mappings)",
        )
        return None

    def scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        try:
            value = self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as err:
            # A timestamp like 2025-02-30 or an integer of 5,000 digits.
            self.problem(node, path, f"cannot read {node.value[:40]!r}: {err}")
            return None
        if isinstance(value, str) and (bad := _UNUSABLE.search(value)):
            # Written as an escape ("\x1b", "\ud800"): no page, feed or header can hold it.
            code = f"U+{ord(bad.group()):04X}"
            self.problem(
                node, path, f"the text holds the character {code}, which no output can hold"
            )
            return None
        return value

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        explicit: set[str] = set()
        for key_node, value_node, merged in self._pairs(node, path):
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in PLAIN_TAGS:
                self.problem(key_node, path, "a key must be plain text")
                continue
            key = self.scalar(key_node, path)
            key = key if isinstance(key, str) else str(key)
            child = (*path, key)
            if merged and key in out:
                continue  # written keys win over merged ones, earlier merges over later
            if key in explicit:
                self.problem(key_node, child, "duplicate key")
            explicit.update(() if merged else (key,))
            mark = key_node.start_mark
            self.source.key_marks[child] = (mark.line + 1, mark.column + 1)
            out[key] = self.build(value_node, child)
        return out

    def _pairs(
        self, node: yaml.MappingNode, path: Path, within: frozenset[int] = frozenset()
    ) -> list[tuple[yaml.Node, yaml.Node, bool]]:
        """The mapping's own pairs first, then those of its ``<<`` merges (flagged True)."""
        own: list[tuple[yaml.Node, yaml.Node, bool]] = []
        merged: list[tuple[yaml.Node, yaml.Node, bool]] = []
        within = within | {id(node)}
        for key_node, value_node in node.value:
            if key_node.tag != MERGE_TAG:
                own.append((key_node, value_node, False))
                continue
            sources = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            for merge in sources:
                if not isinstance(merge, yaml.MappingNode) or merge.tag != TAG + "map":
                    self.problem(merge, path, "'<<' merges a mapping (or a list of mappings)")
                elif id(merge) in within:
                    self.problem(merge, path, "recursive alias: this mapping merges itself")
                else:
                    # Pairs gathered through merges count against the alias budget.
                    merged.extend((k, v, True) for k, v, _ in self._pairs(merge, path, within))
                    self.produced += len(merge.value)
                    if self.produced > ALIAS_LIMIT:
                        message = f"merges expand to more than {ALIAS_LIMIT:,} values; "
                        raise _Refused(self.at(merge, path, message + "write them out instead"))
        return own + merged


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


def shown(value: Any) -> str:
    """A wrong number as a problem shows it (``nan``, ``1e+50``, ``100000...`` cut short),
    anything else as :func:`describe` names it."""
    if isinstance(value, float) and not isinstance(value, bool):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)  # at most 4,300 digits: YAML refuses longer integers
        return text if len(text) <= 20 else f"{text[:8]}... ({len(text)} digits)"
    return describe(value)
