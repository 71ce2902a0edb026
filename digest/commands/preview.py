"""``digest preview``: the next issue, built aside and served on 127.0.0.1.

Input: a validated :class:`~digest.config.FeedConfig`, the run's date and a folder of
the caller's (a temporary one). Output: that folder holding a copy of the store and the
site built from it (``site/``), then, while :func:`serve` runs, the site served over HTTP
on 127.0.0.1 with the standard library's server.

Nothing of the feed's own is changed: the build runs against a COPY of the store. A build
marks ended weeks published and records feed items' dates and drafts in the store it
uses (that is how the real site keeps its pages and items as sent), so building a preview
against the real store would freeze weeks before cron published them. Sources are read
offline (URL sources from their kept copies), and no email is sent.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import threading
from collections.abc import Callable
from pathlib import Path

from digest.commands import open_store
from digest.commands.run import RunReport, run
from digest.config import FeedConfig

SITE = "site"
"""The preview's site, inside the caller's folder."""

STORE_COPY = "store.sqlite"
"""The copy of the store the preview is built against, inside the caller's folder."""


def build_preview(cfg: FeedConfig, today: dt.date, folder: Path, *, jobs: int = 1) -> RunReport:
    """Copy the store into ``folder`` and run against the copy into ``folder/site``: the
    sources (offline), tagging and the site, no email."""
    copy = folder / STORE_COPY
    if cfg.store.exists():
        with open_store(cfg) as store:
            store.copy_to(copy)
    return run(cfg, today, folder / SITE, store_path=copy, offline=True, jobs=jobs, email=False)


def landing_page(report: RunReport, cfg: FeedConfig) -> str:
    """The page a preview opens on: the newest week's, else the archive."""
    weeks = report.build.weeks
    if not weeks:
        return "index.html" if "html" in cfg.output.formats else ""
    return f"{weeks[-1]}.html" if "html" in cfg.output.formats else f"{weeks[-1]}.md"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """Serves files, logging nothing (the preview's URL is the only thing printed)."""

    def log_message(self, format: str, *args: object) -> None:  # the stdlib's name
        pass


def serve(
    site: Path,
    port: int,
    on_ready: Callable[[str], None],
    *,
    timeout: float | None = None,
) -> None:
    """Serve ``site`` on 127.0.0.1:``port`` (0: any free port) until interrupted (Ctrl-C
    raises KeyboardInterrupt here) or, with ``timeout``, for that many seconds.
    ``on_ready`` is given the server's root URL once it listens."""
    handler = functools.partial(_Quiet, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        host, bound = server.server_address[:2]
        on_ready(f"http://{host!s}:{bound}/")
        if timeout is None:
            server.serve_forever()
            return
        stopper = threading.Timer(timeout, server.shutdown)
        stopper.start()
        try:
            server.serve_forever()
        finally:
            stopper.cancel()
