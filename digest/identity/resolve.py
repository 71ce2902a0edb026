"""Paper identity: which stored paper (if any) a new sighting belongs to.

Input: the store (read only) and one :class:`~digest.models.Entry` with its
:class:`~digest.models.EntryKeys`. Output: a :class:`Resolution` naming the paper and
the rule that decided; the ingest stage stores it (:mod:`digest.ingest`).

Order, first match wins:

1. ``forced``: the user's ``identity.merge`` pairs;
2. ``source-id``: the same arXiv id (without version) or DOI, the entry's own or one it
   carries besides;
3. ``title``: the same exact title key (:func:`digest.normalize.title_key`);
4. ``fuzzy``/``abstract``: a guarded near-duplicate match among the papers
   that share a blocking key (:mod:`digest.identity.matching`), at most
   :data:`MAX_JUDGED` stored texts per sighting whatever the block.

A paper the user's ``identity.split`` pairs keep apart is never chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from digest.identity import matching
from digest.identity.keys import entry_keys
from digest.identity.overrides import PAPER_ID, Overrides
from digest.models import Entry, EntryKeys
from digest.normalize import title_key
from digest.store import Link, Store

BLOCK_CAP = 50
"""A blocking key shared by more papers than this is too common to tell anything (a
boilerplate sentence): it is skipped, so lookups stay cheap however large the store."""
MAX_PAPERS = 12
"""Candidate papers a new sighting is compared with at most, whatever the block: those of
its rarer keys first (a key few papers share says most), the newest first within a key.
Versions of one paper share every key, and unrelated papers rarely share even one, so
the labelled set never has more than a few; without a bound, many look-alike records
would make ingestion quadratic."""
VERSIONS_JUDGED = 4
"""Stored versions of one candidate paper compared at most: the shown one, then the
newest (a paper revised thousands of times would otherwise be compared in full)."""
MAX_JUDGED = 12
"""Stored texts one new sighting is judged against at most (:func:`matching.decide`): the
candidate papers' texts in their order, until this many."""

__all__ = ["Resolution", "Resolver", "entry_keys", "find"]


@dataclass(slots=True)
class Resolution:
    """Which paper a sighting belongs to, and why."""

    paper_id: str | None
    """None: a new paper."""
    rule: str
    score: float = 1.0
    detail: str = ""
    keys: list[tuple[str, str]] = field(default_factory=list)
    """Extra (kind, key) pairs to index the paper under (near-duplicate blocking keys)."""
    title_key: str = ""
    """The sighting's title key."""
    text_hash: str = ""
    """The sighting's :func:`~digest.normalize.text_hash`."""

    def link(self) -> Link:
        """What the store records of the decision."""
        return Link(self.rule, self.score, self.detail, self.title_key, self.keys)


@dataclass(slots=True)
class Resolver:
    """Callable resolver bound to the user's overrides."""

    overrides: Overrides = field(default_factory=Overrides)
    fuzzy: bool = True
    """Near-duplicate matching on (exact rules only when off)."""

    def __call__(self, store: Store, entry: Entry, keys: EntryKeys | None = None) -> Resolution:
        """Resolve ``entry``; ``keys`` are its :func:`entry_keys` when computed already."""
        if keys is None:
            keys = entry_keys(entry, self.fuzzy)
        res = self._resolve(store, entry, keys)
        res.title_key, res.text_hash = keys.title, keys.text
        return res

    def _resolve(self, store: Store, entry: Entry, keys: EntryKeys) -> Resolution:
        key = keys.title
        refs = {key}

        def allowed(paper_id: str) -> bool:
            if not self.overrides.split:
                return True
            theirs = store.keys.paper_refs(paper_id)
            for a, b in self.overrides.split:
                if (a in refs and b in theirs) or (b in refs and a in theirs):
                    return False
            return True

        for a, b in self.overrides.merge:
            other = b if a == key else a if b == key else None
            if other is None:
                continue
            found = (
                find(store, other)
                if PAPER_ID.match(other)
                else store.keys.papers_by_key("title", [other])
            )
            found = [p for p in found if allowed(p)]
            if found:
                return Resolution(found[0], "forced", 1.0, f"identity.merge in feed.yaml: {other}")

        # Its own id first, then the further ids it carries (an arXiv paper's journal DOI),
        # so it finds a paper stored under any of them, whichever came first.
        for source_id in dict.fromkeys(i for i in (entry.source_id, *entry.ids) if i):
            found = [p for p in store.keys.papers_by_key("id", [source_id]) if allowed(p)]
            if found:
                text_keys = self._new_text_keys(store, entry, keys)
                return Resolution(found[0], "source-id", 1.0, source_id, text_keys)

        found = [p for p in store.keys.papers_by_key("title", [key]) if allowed(p)]
        if found:
            return Resolution(
                found[0],
                "title",
                1.0,
                "same title after normalisation",
                self._new_text_keys(store, entry, keys),
            )

        blocks = keys.blocks if self.fuzzy else ()
        indexed = [("block", k) for k in blocks]
        if blocks:
            ids = _bounded_candidates(store, blocks, allowed)
            rows = store.keys.paper_texts(ids, VERSIONS_JUDGED, MAX_JUDGED)
            candidates = [matching.Candidate(*row) for row in rows]
            decision = matching.decide(entry.title, entry.abstract, candidates)
            if decision is not None:
                return Resolution(
                    decision.paper_id, decision.rule, decision.score, decision.reason, indexed
                )
        return Resolution(None, "new", keys=indexed)

    def _new_text_keys(self, store: Store, entry: Entry, keys: EntryKeys) -> list[tuple[str, str]]:
        """Blocking keys of a new version of a known paper, so that a later version
        can find the paper through this one; none when this exact text is known."""
        if not self.fuzzy or store.keys.has_text(keys.text):
            return []
        return [("block", k) for k in keys.blocks]


def _bounded_candidates(
    store: Store, blocks: Sequence[str], allowed: Callable[[str], bool]
) -> list[str]:
    """At most :data:`MAX_PAPERS` papers sharing a key of ``blocks``: those sharing more
    of the keys first (versions of one paper share most), then by their rarest key
    (rarer keys first), newest papers first within a key (one query for all keys)."""
    per_key = sorted((p for p in store.keys.block_candidates(blocks, BLOCK_CAP) if p), key=len)
    shared: dict[str, int] = {}
    rank: dict[str, tuple[int, int]] = {}
    for k, papers in enumerate(per_key):  # stable: equal counts keep the key order
        for position, pid in enumerate(papers):  # block_candidates lists the newest first
            shared[pid] = shared.get(pid, 0) + 1
            rank.setdefault(pid, (k, position))
    chosen: list[str] = []
    for pid in sorted(shared, key=lambda p: (-shared[p], rank[p])):
        if allowed(pid):
            chosen.append(pid)
            if len(chosen) == MAX_PAPERS:
                break
    return chosen


def find(store: Store, reference: str) -> list[str]:
    """Paper ids for an id, a source id (``arxiv:...``) or a title (exact key, then
    substring of any version's title)."""
    if store.papers.exists(reference):
        return [reference]
    for kind, key in (("id", reference), ("title", title_key(reference))):
        found = store.keys.papers_by_key(kind, [key])
        if found:
            return found
    return store.papers.titled_like(reference)
