"""``digest ingest``: listing files named on the command line -> the feed's store.

Input: the config, the files, the run's date, a format and how many processes.
Output: an :class:`~digest.ingest.IngestReport` whose problems start with one per
file that does not exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from digest.commands import open_store
from digest.config import FeedConfig
from digest.errors import Problem
from digest.ingest import IngestReport, ingest


def ingest_files(
    cfg: FeedConfig, files: Sequence[Path], today: dt.date, fmt: str = "auto", *, jobs: int = 1
) -> IngestReport:
    """Ingest the ``files`` that exist; each missing one is a problem, not a failure."""
    missing = [Problem(str(f), None, "no such file") for f in files if not f.is_file()]
    with open_store(cfg) as store:
        report = ingest(cfg, store, [f for f in files if f.is_file()], today, fmt, jobs=jobs)
    report.problems[:0] = missing
    return report
