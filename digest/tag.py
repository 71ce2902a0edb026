"""The tag stage: each paper gets its tags and primary theme from the feed's rules.

Input: the store's papers not yet tagged under the current rules, and the rules.
Output: their tags and theme stored. Most papers are tagged as they are ingested (the
text is tagged where it is parsed, :func:`listing_tags`); :func:`tag` does the rest.

Freeze policy: a published week's papers keep the tags they were published with, so its
page and feed item stay as they were sent, even when the rules change or a paper of it
is shown in a newer version (its rules are then marked stale). ``--rebuild`` unpublishes
every week first: everything is tagged afresh.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import chain, islice

from digest import workers
from digest.config import FeedConfig
from digest.models import Entry
from digest.progress import TAG, Progress, report
from digest.rules import RuleSet, Tagging
from digest.store import Store


def frozen_weeks(store: Store, *, rebuild: bool = False) -> frozenset[str]:
    """The weeks whose papers keep their tags: the published ones (none on ``rebuild``)."""
    return frozenset() if rebuild else frozenset(store.weeks.published())


def listing_tags(rules: RuleSet, entries: Sequence[Entry]) -> list[tuple[str, str, float]]:
    """(tags as a JSON list, theme, rule score) of each entry's text (pure: runs in a
    worker, where the text is at hand; each text keeps them, see
    :meth:`~digest.store.papers.Papers.tags_from_texts`)."""
    tags = []
    encoded: dict[tuple[str, ...], str] = {}  # few tag sets, many entries
    for entry in entries:
        tagging = rules.tag(entry.title, entry.abstract)
        text = encoded.get(tagging.tags)
        if text is None:
            text = encoded[tagging.tags] = json.dumps(list(tagging.tags))
        tags.append((text, tagging.theme, rule_score(tagging)))
    return tags


def rule_score(tagging: Tagging) -> float:
    """A tagging's rule score: the sum of its tags' scores (matched term weights times
    the tag's weight), what :func:`digest.grouping.relevance_key` ranks by first."""
    return round(sum(tagging.scores.get(tag, 0.0) for tag in tagging.tags), 6)


PARALLEL_TAGGING = 4000
"""Papers to tag in worker processes when there are at least this many."""


def tag(
    cfg: FeedConfig,
    store: Store,
    *,
    rebuild: bool = False,
    jobs: int = 1,
    progress: Progress | None = None,
) -> int:
    """Tag papers never tagged (new papers, new versions) and, when the rules changed,
    re-tag the papers outside published weeks (all papers with ``rebuild``) without
    re-reading any listing. Returns how many papers were (re)tagged. With ``jobs`` > 1
    and enough papers, worker processes tag while this one stores the results. ``progress``
    is told of the papers tagged (stage ``tag``)."""
    rules = cfg.rules
    changed = rebuild or store.meta.get("rules_fingerprint") != rules.fingerprint
    frozen = sorted(frozen_weeks(store, rebuild=rebuild))
    count = store.papers.tags_from_texts(rules.fingerprint)
    batches = store.papers.untagged(rules.fingerprint, frozen, only_new=not changed, limit=1000)
    total = 0
    if progress is not None:
        total = store.papers.count_untagged(rules.fingerprint, frozen, only_new=not changed)
    done = 0
    first = list(islice(batches, PARALLEL_TAGGING // 1000))
    parallel = len(first) * 1000 >= PARALLEL_TAGGING
    if parallel and jobs > 1:
        store.db.wait_for_checkpoint()  # no thread of SQLite's running when workers fork
    with workers.Pool(rules, jobs if jobs > 1 else 0) as pool:
        for results in pool.map(_tag_batch, chain(first, batches), parallel=parallel):
            count += store.papers.set_tags(results, rules.fingerprint)
            done += len(results)
            report(progress, TAG, min(done, total), total)
    if changed:
        with store.db.transaction():
            store.meta.set("rules_fingerprint", rules.fingerprint)
    return count


def _tag_batch(
    rules: RuleSet, batch: list[tuple[str, str, str]]
) -> list[tuple[str, tuple[str, ...], str, float]]:
    """(id, tags, theme, rule score) of each (id, title, abstract) (pure: runs in a worker
    process)."""
    out = []
    for pid, title, abstract in batch:
        tagging = rules.tag(title, abstract)
        out.append((pid, tagging.tags, tagging.theme, rule_score(tagging)))
    return out
