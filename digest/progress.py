"""How a long stage tells how far it got: a callback of (stage, done, total).

Input: nothing; the stages call it. Output: nothing; whoever passed the callback shows it
(the CLI draws progress bars on a terminal, :mod:`digest.terminal`). It knows nothing of
click: a stage calls it with ``done`` rising from 1 to ``total`` (and never with a total
of 0).
"""

from __future__ import annotations

from typing import Protocol

READ = "read"
"""Listings read, parsed and keyed."""
STORE = "store"
"""Listings resolved against the store's papers and stored."""
TAG = "tag"
"""Papers tagged."""
RENDER = "render"
"""Week pages rendered (weeks)."""
FEEDS = "feeds"
"""Feed documents made."""

STAGES = (READ, STORE, TAG, RENDER, FEEDS)
"""Every stage, in the order a run goes through them."""


class Progress(Protocol):
    """Called as a stage advances: ``done`` of ``total`` units of ``stage``."""

    def __call__(self, stage: str, done: int, total: int) -> None: ...


def report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    """Call ``progress`` (when there is one) for a stage that has something to do."""
    if progress is not None and total > 0:
        progress(stage, done, total)
