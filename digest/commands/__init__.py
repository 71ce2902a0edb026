"""The use cases: what each ``digest`` command does, as library functions.

Input: a validated :class:`~digest.config.FeedConfig`, the run's date and the
command's options. Output: a report that says what changed (or the lines to show);
nothing here parses argv, reads the clock, takes the feed's lock or prints. The CLI
(:mod:`digest.cli`) does those and calls one function here per command:

- :mod:`~digest.commands.ingest`: listing files -> the store
- :mod:`~digest.commands.run`: what cron runs (sources -> store -> tags -> site -> email)
- :mod:`~digest.commands.send`: one week's digest -> its recipients
- :mod:`~digest.commands.inspect`: ``check``, ``export`` and ``explain``
"""

from __future__ import annotations

from pathlib import Path

from digest.config import FeedConfig
from digest.store import Store


def open_store(cfg: FeedConfig, store_path: Path | None = None) -> Store:
    """Open (creating or migrating) the feed's store."""
    return Store(store_path or cfg.store)
