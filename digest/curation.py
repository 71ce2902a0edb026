"""Curation: ``curation.yaml`` in the feed folder -> per-paper :class:`Decision` values.

Input: the feed folder and the configured section names (to check ``theme:``); later
the store, to find the papers each decision names. Output: the valid decisions, and a
:class:`~digest.errors.Problem` for every mistake in the file, all of them at once,
each located ``curation.yaml:LINE:COL: papers[2].pin: ...`` (a wrong entry is skipped,
the others still count; a file that cannot be read at all counts as empty).

The file::

    papers:
      - id: p3f2a...          # or  title: "Exact title"  or  arxiv: 2403.01234
        comment: Read section 4 first.
        pin: true             # into the week's top picks
        hide: true            # out of the pages, email and feeds (still stored, exported)
        theme: Inference      # filed under another configured theme
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digest.errors import Problem
from digest.normalize import title_key
from digest.notes import read_utf8
from digest.options import Flag, Option, Problems, Text, unknown_keys
from digest.sources.fields import arxiv_id
from digest.store import Store
from digest.yamlsrc import load

CURATION_FILE = "curation.yaml"
"""The curator's decisions, in the feed folder."""

MAX_CURATION_BYTES = 5_000_000
"""Largest curation.yaml read."""

REFERENCES = ("id", "title", "arxiv")
"""The keys that name an entry's paper (exactly one per entry)."""

DECISIONS: dict[str, Option[Any]] = {
    "comment": Text(nonempty=True),
    "pin": Flag(),
    "hide": Flag(),
}
"""Decision keys other than ``theme`` (checked against the configured themes)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What the curator decided about one paper."""

    kind: str
    """How the paper is named: ``id``, ``title`` or ``arxiv``."""
    ref: str
    """The paper's id, exact title or arXiv id, as written."""
    line: int | None
    """Line of the entry in curation.yaml."""
    comment: str = ""
    """Shown on the paper's card."""
    pin: bool = False
    """Into the week's top picks."""
    hide: bool = False
    """Out of the pages, email and feeds."""
    theme: str = ""
    """The section to file it under instead of its rules' theme ('' keeps that)."""

    @property
    def where(self) -> str:
        """``curation.yaml:LINE`` for messages."""
        return f"{CURATION_FILE}:{self.line}" if self.line else CURATION_FILE

    def key(self) -> str:
        """The decision itself (not where it was written), for fingerprints."""
        return repr((self.comment, self.pin, self.hide, self.theme))


def read_curation(root: Path, sections: Sequence[str]) -> tuple[list[Decision], list[Problem]]:
    """The decisions of ``root/curation.yaml`` (none when there is no such file) and every
    problem found in it."""
    path = root / CURATION_FILE
    text = read_utf8(path, MAX_CURATION_BYTES, "no curation applied")
    if text is None:
        return [], []
    if isinstance(text, Problem):
        return [], [text]
    return parse_curation(text, sections, str(path))


def parse_curation(
    text: str, sections: Sequence[str], display: str = CURATION_FILE
) -> tuple[list[Decision], list[Problem]]:
    """The decisions of curation.yaml ``text`` and every problem in it."""
    data, source, found = load(text, display)
    if found or data is None:
        return [], found
    problems = Problems(source)
    if not isinstance(data, dict):
        problems.bad((), "expected a mapping with a 'papers' list")
        return [], problems.found
    unknown_keys(data, ("papers",), (), problems)
    entries = data.get("papers") or []
    if not isinstance(entries, list):
        problems.bad(("papers",), "expected a list of entries (- id: ...)")
        return [], problems.found
    decisions = []
    for i, entry in enumerate(entries):
        decision = _entry(entry, ("papers", i), sections, problems)
        if decision is not None:
            decisions.append(decision)
    return decisions, problems.found


def _entry(
    entry: Any, path: tuple[str | int, ...], sections: Sequence[str], problems: Problems
) -> Decision | None:
    line = problems.source.marks.get(path, (None, 0))[0]
    if not isinstance(entry, dict):
        problems.bad(path, "expected a mapping like {id: ..., pin: true}")
        return None
    before = len(problems.found)
    unknown_keys(entry, (*REFERENCES, *DECISIONS, "theme"), path, problems)
    refs = [k for k in REFERENCES if k in entry]
    if len(refs) != 1:
        named = " and ".join(refs) if refs else "none"
        problems.bad(path, f"name the paper with exactly one of id, title, arxiv (got {named})")
    ref = ""
    if refs:
        value = entry[refs[0]]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and refs[0] == "arxiv":
            value = str(value)  # an arXiv id written unquoted reads as a number
        checked = Text(nonempty=True).check(value, (*path, refs[0]), problems)
        ref = checked if isinstance(checked, str) else ""
    values = {key: option.get(entry, key, path, problems) for key, option in DECISIONS.items()}
    theme = Text(nonempty=True).get(entry, "theme", path, problems) or ""
    if theme and theme not in sections:
        listed = ", ".join(repr(s) for s in sections)
        problems.bad((*path, "theme"), f"no theme {theme!r} in feed.yaml (themes: {listed})")
    if values["hide"] and values["pin"]:
        problems.bad((*path, "pin"), "a paper cannot be both hidden and pinned")
    if not any(k in entry for k in (*DECISIONS, "theme")):
        problems.bad(path, "decides nothing: give comment, pin, hide or theme")
    if len(problems.found) > before:
        return None
    return Decision(
        kind=refs[0],
        ref=ref.strip(),
        line=line,
        comment=values["comment"] or "",
        pin=bool(values["pin"]),
        hide=bool(values["hide"]),
        theme=theme,
    )


def find_papers(store: Store, decision: Decision) -> list[str]:
    """The ids of the papers a decision names: an id (or source id like ``arxiv:...``), an
    exact title (compared as :func:`~digest.normalize.title_key`s), or an arXiv id
    (version ignored)."""
    if decision.kind == "id":
        if store.papers.exists(decision.ref):
            return [decision.ref]
        return store.keys.papers_by_key("id", [decision.ref])
    if decision.kind == "arxiv":
        found = arxiv_id(decision.ref)  # as the readers normalise it (no version)
        return store.keys.papers_by_key("id", [f"arxiv:{found[0]}"]) if found else []
    return store.keys.papers_by_key("title", [title_key(decision.ref)])
