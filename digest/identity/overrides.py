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
from digest.yamlsrc import Source, describe

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
    problems: list[Problem] = []
    if raw is None:
        return Overrides(), problems
    if not isinstance(raw, dict):
        return Overrides(), [
            source.problem(("identity",), f"expected a mapping, got {describe(raw)}")
        ]
    out: dict[str, list[tuple[str, str]]] = {"merge": [], "split": []}
    for key, value in raw.items():
        if key not in out:
            problems.append(
                source.key_problem(("identity", key), "unknown key (known: merge, split)")
            )
            continue
        if not isinstance(value, list):
            problems.append(source.problem(("identity", key), "expected a list of pairs"))
            continue
        for i, pair in enumerate(value):
            ok = (
                isinstance(pair, list)
                and len(pair) == 2
                and all(isinstance(x, str) and reference(x) for x in pair)
            )
            if not ok:
                problems.append(
                    source.problem(
                        ("identity", key, i), "expected a pair of paper ids or titles: [a, b]"
                    )
                )
                continue
            a, b = sorted((reference(pair[0]), reference(pair[1])))
            out[key].append((a, b))
    clash = set(out["merge"]) & set(out["split"])
    for a, b in sorted(clash):
        problems.append(source.problem(("identity",), f"{a!r} and {b!r} are both merged and split"))
    return Overrides(tuple(out["merge"]), tuple(out["split"])), problems
