"""``digest ingest``: listing files named on the command line (``-``: standard input) -> the
feed's store.

Input: the config, the files, the run's date, a format, how many processes, and the bytes
read from standard input when ``-`` is among the files. Output: an
:class:`~digest.ingest.IngestReport` whose problems start with one per file that does not
exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path

from digest.commands import open_store
from digest.config import FeedConfig
from digest.errors import Problem
from digest.ingest import IngestReport, ingest
from digest.progress import Progress
from digest.sources import MAX_LISTING_BYTES, listing_name
from digest.sources.gather import ListingInput

STDIN = Path("-")
"""The file name that stands for standard input."""
STDIN_PREFIX = "stdin-"
"""A listing read from standard input without ``--name`` is ``stdin-`` and the first 12 hex
digits of its SHA-256: named by its content, so piping the same listing again adds nothing
(on whatever day), and different listings never share a name."""


def stdin_name(data: bytes) -> str:
    """The name of a listing read from standard input and given no name of its own."""
    return STDIN_PREFIX + hashlib.sha256(data).hexdigest()[:12]


def ingest_files(
    cfg: FeedConfig,
    files: Sequence[Path],
    today: dt.date,
    fmt: str = "auto",
    dating: str = "auto",
    *,
    jobs: int = 1,
    stdin: bytes | None = None,
    stdin_as: str | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest the ``files`` that exist; each missing one is a problem, not a failure.

    ``-`` among the files is the listing ``stdin`` (the bytes read from standard input), named
    ``stdin_as`` or else :func:`stdin_name`; its format is detected like a file's. ``dating``
    is a source's ``date`` option for all of them. ``progress`` is told of the listings read
    and stored (see :mod:`digest.progress`)."""
    items: list[Path | ListingInput] = []
    problems = []
    for f in files:
        if f == STDIN and stdin is not None:
            if len(stdin) > MAX_LISTING_BYTES:
                limit = MAX_LISTING_BYTES // (1024 * 1024)
                message = f"larger than {limit} MiB: not a listing (skipped)"
                problems.append(Problem("stdin", None, message))
            else:
                items.append(ListingInput(stdin_as or stdin_name(stdin), fmt, dating, data=stdin))
        elif f.is_file():
            items.append(ListingInput(listing_name(f), fmt, dating, path=f))
        else:
            problems.append(Problem(str(f), None, "no such file"))
    with open_store(cfg) as store:
        report = ingest(cfg, store, items, today, fmt, progress, jobs=jobs)
    report.problems[:0] = problems
    return report
