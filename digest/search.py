"""Offline search: each week's papers -> a Pagefind search bundle of that week.

Input: the papers of the weeks whose pages a build rendered, as :class:`Record` items
(the text to find a paper by, and the anchor of its card). Output: the files of each
week's bundle (``pagefind/WEEK/...``, relative path -> bytes), which the site's search
page merges at query time (Pagefind's ``mergeIndex``), so a run indexes only the weeks
it rendered, never the whole archive.

The only module that imports ``pagefind`` (the optional ``search`` extra, a binary of
about 10 MB): without it :func:`available` is False and the site has no search.
"""

from __future__ import annotations

import html
import importlib.util
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from digest.config import FeedConfig
from digest.errors import OutputError

BUNDLES = "pagefind"
"""The folder of the site that holds one bundle per week."""

ENTRY = "pagefind-entry.json"
"""The file every bundle has (a week whose bundle lacks it is indexed again)."""

_UI_FILES = ("pagefind-ui", "pagefind-component-ui", "pagefind-modular-ui", "pagefind-highlight")
"""Bundle files of Pagefind's own UI, not written (the site has its own search page)."""


@dataclass(frozen=True, slots=True)
class Record:
    """One paper as the search finds it."""

    url: str
    """Its card, relative to the site root: ``2026-W11.html#p1234abcd``."""
    title: str
    """Plain text (shown as text, never as markup)."""
    content: str
    """Title, authors, theme, tags and abstract, plain text."""


def wanted(cfg: FeedConfig) -> bool:
    """Whether the configuration asks for search (``output.search`` on an HTML site)."""
    return cfg.output.search and "html" in cfg.output.formats


def enabled(cfg: FeedConfig) -> bool:
    """Whether builds make the search index (asked for, and Pagefind installed)."""
    return wanted(cfg) and available()


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether Pagefind (the ``search`` extra) is installed."""
    try:
        return importlib.util.find_spec("pagefind.index") is not None and _binary()
    except (ImportError, ValueError):
        return False


def _binary() -> bool:
    from pagefind.service import get_executable

    return get_executable() is not None


def bundle_path(week: str, part: int = 1) -> str:
    """The folder of a week's bundle (of its ``part``-th bundle), relative to the site
    root: ``pagefind/WEEK``, and ``pagefind/WEEK/partK`` for part K > 1 (a name no
    folder of Pagefind's own has)."""
    return f"{BUNDLES}/{week}" if part == 1 else f"{BUNDLES}/{week}/{PART_PREFIX}{part}"


PART_PREFIX = "part"

PART = 1000
"""Records one Pagefind run indexes at most: a week with more has one bundle per
thousand papers, each indexed by a run of its own. Pagefind holds about 180 kB per
page while it indexes (1,000 pages: 190 MB; 4,000: 730 MB; a week of 19,000 papers
took 2.5 GB; Pagefind issue 842), and its time per page grows with the pages of a run
(1.7 ms a page at 1,000, 2.6 at 4,000)."""


PROCESSES = 2
"""Pagefind runs at once, each indexing one week (a run is mostly one core's work and
its start-up, so two overlap well on two cores and more only queue)."""


WAITING_RECORDS = 20_000
"""Records of the weeks given to :class:`Indexer` and not indexed yet, at most (beyond
one week's): about 40 MB of pages in the scratch folder."""


def stage(scratch: Path, week: str, records: Sequence[Record]) -> int:
    """Write ``week``'s records into ``scratch`` as the small pages Pagefind indexes,
    :data:`PART` to a folder (in a worker process, or here); how many were written.
    :meth:`Indexer.submit` of that many indexes them."""
    for start in range(0, len(records), PART):
        src = scratch / week / f"pages{start // PART + 1}"
        src.mkdir(parents=True)
        for record in records[start : start + PART]:
            (src / page_name(record.url)).write_text(_page(record), encoding="utf-8")
    return len(records)


class Indexer:
    """Indexes weeks as they are rendered and hands each week's bundle files (relative
    path in the site -> the file Pagefind made, read by the sink and removed once it
    returns) to ``sink`` as soon as Pagefind made them, in a worker thread. A week's
    records wait in the :attr:`scratch` folder as small pages (:func:`stage`), indexed by
    the Pagefind binary, one run per :data:`PART` records (its Python service answers one
    request per 0.1 s, too slow for a request a paper), ``processes`` runs at a time.

    Neither every week's records nor every bundle is held at once (a cold build of a
    million papers would hold gigabytes): records wait on disk, and :meth:`submit` waits
    while ``2 * processes`` weeks, or :data:`WAITING_RECORDS` records, are queued. A
    context manager: leaving it waits for every week and raises the first error (a
    failed Pagefind run, a failed ``sink``), and removes the scratch folder; threads
    start at the first :meth:`submit` (after any worker process was forked)."""

    def __init__(
        self,
        language: str,
        sink: Callable[[str, dict[str, Path]], None],
        processes: int = PROCESSES,
    ) -> None:
        self.lang = (language or "en").split("-")[0].lower()
        self.sink = sink
        self.processes = max(1, processes)
        self._binary = ""
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[tuple[Future[None], int]] = deque()

    def __enter__(self) -> Indexer:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            while self._pending and exc_type is None:
                self._pending.popleft()[0].result()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
            if self._scratch is not None:
                self._scratch.cleanup()

    def scratch(self) -> Path:
        """The folder where records wait (:func:`stage`), made at the first call: call
        it before forking the processes that write there."""
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="digest-search-")
        return Path(self._scratch.name)

    def submit(self, week: str, records: int) -> None:
        """Index ``week``'s ``records`` waiting in :meth:`scratch` (none: the week has no
        bundle, nothing is done)."""
        if not records:
            return
        if self._pool is None:
            self._binary = _executable()
            self._pool = ThreadPoolExecutor(self.processes, thread_name_prefix="digest-search")
        while self._pending and (
            len(self._pending) >= 2 * self.processes
            or sum(n for _, n in self._pending) + records > WAITING_RECORDS
        ):
            self._pending.popleft()[0].result()
        self._pending.append((self._pool.submit(self._index, week, records), records))

    def _index(self, week: str, records: int) -> None:
        """Index ``week``'s staged records, part by part, and hand the files of its
        bundles (path in the site -> the file made, in the scratch folder) to the sink."""
        root = self.scratch() / week
        files: dict[str, Path] = {}
        try:
            for part in range(1, (records + PART - 1) // PART + 1):
                src, dest = root / f"pages{part}", root / f"bundle{part}"
                self._run(week, src, dest)
                shutil.rmtree(src)
                for path in sorted(dest.rglob("*")):
                    name = path.relative_to(dest).as_posix()
                    if path.is_file() and not name.startswith(_UI_FILES):
                        files[f"{bundle_path(week, part)}/{name}"] = path
            self.sink(week, files)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _run(self, week: str, src: Path, dest: Path) -> None:
        """Pagefind over the pages in ``src``, its bundle written to ``dest``."""
        command = [self._binary, "--site", str(src), "--output-path", str(dest)]
        done = subprocess.run(
            [*command, "--force-language", self.lang, "--silent"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise OutputError(f"search index of week {week}: Pagefind failed: {detail[0]}")


def _executable() -> str:
    from pagefind.service import get_executable

    found = get_executable()
    if found is None:
        raise OutputError(
            "search: the Pagefind binary is missing (pip install 'reading-digest[search]')"
        )
    return str(found)


def _page(record: Record) -> str:
    """A record as the small HTML page Pagefind indexes (every text escaped)."""
    title, body = html.escape(record.title), html.escape(record.content)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><main data-pagefind-body><h1>{title}</h1><p>{body}</p></main></body></html>"
    )


def page_name(url: str) -> str:
    """The indexed page of a card's ``WEEK.html#ID``: ``WEEK--ID.html`` (search.js turns
    the one back into the other)."""
    return url.replace(".html#", "--") + ".html"
