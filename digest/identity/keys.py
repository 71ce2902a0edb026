"""The keys a paper is known by.

Input: an entry (or a reference a user typed). Output: its :class:`~digest.models.EntryKeys`
(title key, near-duplicate blocking keys, text hash), the id a new paper gets, and the
papers a reference names in a store.
"""

from __future__ import annotations

from digest.identity.matching import block_keys
from digest.models import Entry, EntryKeys
from digest.normalize import stable_hash, text_hash, title_key
from digest.store import Store


def entry_keys(entry: Entry, fuzzy: bool = True) -> EntryKeys:
    """The keys an entry is resolved by (pure: a worker may compute them)."""
    blocks = block_keys(entry.title, entry.abstract) if fuzzy else []
    return EntryKeys(title_key(entry.title), tuple(blocks), text_hash(entry.title, entry.abstract))


def new_paper_id(entry: Entry, keys: EntryKeys) -> str:
    """The id of a paper first seen in ``entry`` (derived from its title; the store adds a
    suffix when a forced split made two papers of one title)."""
    return "p" + stable_hash(keys.title or entry.title)


def find(store: Store, reference: str) -> list[str]:
    """Paper ids for an id, a source id (``arxiv:...``) or a title (exact key, then
    substring of any version's title)."""
    if store.papers.exists(reference):
        return [reference]
    for kind, key in (("id", reference), ("title", title_key(reference))):
        found = store.listings.papers_by_key(kind, [key])
        if found:
            return found
    return store.papers.titled_like(reference)
