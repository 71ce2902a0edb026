"""The user's word on paper identity: forced merges and forbidden merges.

Input: the ``identity`` section of feed.yaml::

    identity:
      merge:   # these are one paper, whatever the matcher thinks
        - ["Title or id of one", "Title or id of the other"]
      split:   # these are never one paper
        - ["p3f2a...", "Another title"]

Output: :class:`Overrides`, whose items are compared by title key (or by
paper id when they look like one), and a fingerprint that changes whenever
the section does, so the store knows to re-resolve identities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from digest.errors import Problem
from digest.normalize import stable_hash, title_key
from digest.options import ListOf, Problems, Section, Shape
from digest.yamlsrc import Source

PAPER_ID = re.compile(r"^p[0-9a-f]{12}(?:-\d+)?$")


@dataclass(frozen=True, slots=True)
class Overrides:
    """Forced and forbidden merges, each a pair of references (paper id or title key)."""

    merge: tuple[tuple[str, str], ...] = ()
    split: tuple[tuple[str, str], ...] = ()

    @property
    def fingerprint(self) -> str:
        """Changes whenever the overrides do ('' when there are none)."""
        if not self.merge and not self.split:
            return ""
        return stable_hash(repr(self.merge), repr(self.split))


def reference(text: str) -> str:
    """A paper id stays as it is; anything else is a title and becomes its title key."""
    text = text.strip()
    return text if PAPER_ID.match(text) else title_key(text)


def parse(raw: Any, source: Source) -> tuple[Overrides, list[Problem]]:
    """Validate the ``identity`` section."""
    if raw is None:
        return Overrides(), []

    def pair(value: Any) -> tuple[str, str] | None:
        if not (isinstance(value, list) and len(value) == 2):
            return None
        if not all(isinstance(x, str) and reference(x) for x in value):
            return None
        a, b = sorted((reference(value[0]), reference(value[1])))
        return a, b

    pairs = ListOf(
        item=Shape(convert=pair, message="expected a pair of paper ids or titles: [a, b]"),
        expected="a list of pairs",
        single=(),
    )
    problems = Problems(source)
    section = Section(options={"merge": pairs, "split": pairs})
    values = section.check(raw, ("identity",), problems)
    if not isinstance(values, dict):
        return Overrides(), problems.found
    overrides = Overrides(**values)
    for a, b in sorted(set(overrides.merge) & set(overrides.split)):
        problems.bad(("identity",), f"{a!r} and {b!r} are both merged and split")
    return overrides, problems.found
