"""A feed's permanent id: the configured base URL and the store -> the id every
GUID of the feed and every email's Message-ID starts with.

Shared by the site build and delivery, so neither depends on the other.
"""

from __future__ import annotations

import hashlib

from digest.config import FeedConfig
from digest.store import Store

FEED_UID = "feed_uid"
"""The store's meta key of the feed's id."""


def new_feed_uid(base_url: str) -> str:
    """The id a feed gets at its first build, made from its base URL."""
    return "urn:digest:" + hashlib.sha256(base_url.encode()).hexdigest()[:16]


def feed_uid(cfg: FeedConfig, store: Store) -> str:
    """The feed's permanent id: chosen at the first build from the base URL, then kept
    in the store, so a later change of base_url or title never changes any GUID."""
    uid = store.meta.get(FEED_UID)
    if not uid:
        uid = new_feed_uid(cfg.base_url)
        with store.db.transaction():
            store.meta.set(FEED_UID, uid)
    return uid
