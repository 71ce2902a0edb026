"""``digest run``, what cron runs: sources -> ingest -> tag -> site -> email.

Input: a validated :class:`~digest.config.FeedConfig`, the run's date, the output
folder and the run's options. Output: the store updated, the output folder written,
email sent when configured; a :class:`RunReport`. The feed's lock is the caller's: a
library user running one feed at a time needs none, the CLI takes it.

Order matters: everything is gathered (store updated, papers tagged) before anything
is written, and each output path is written at most once per run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from digest import site
from digest.commands import open_store
from digest.config import FeedConfig
from digest.errors import Problem
from digest.ingest import IngestReport, ingest
from digest.output import sweep_temp_files
from digest.progress import Progress
from digest.sources.gather import gather_sources
from digest.tag import tag

if TYPE_CHECKING:
    from digest import delivery


@dataclass(slots=True)
class RunReport:
    """A whole run: ingest, tag, build."""

    ingest: IngestReport
    tagged: int
    build: site.BuildReport
    problems: list[Problem] = field(default_factory=list)
    """Ingest problems plus source problems (a pattern matching no file, ...)."""
    email: delivery.SendReport | None = None
    """What was emailed (None when email is not configured or not enabled)."""


def run(
    cfg: FeedConfig,
    today: dt.date,
    out: Path | None = None,
    *,
    rebuild: bool = False,
    store_path: Path | None = None,
    offline: bool = False,
    progress: Progress | None = None,
    jobs: int = 1,
    email: bool = True,
) -> RunReport:
    """Ingest the configured sources, tag, build every output, then send the week's
    email when it is enabled. ``jobs`` is how many processes a large run may keep busy
    (see :mod:`digest.workers`); ``progress`` is told how far each stage got (see
    :mod:`digest.progress`); without ``email`` none is sent (a preview's run)."""
    out = out or cfg.output.dir
    site.check_output_dir(cfg, out, store_path)  # before anything is read or swept
    inputs, problems = gather_sources(cfg, today, offline=offline)
    with open_store(cfg, store_path) as store:
        if rebuild:
            store.weeks.unpublish()
        report = ingest(cfg, store, inputs, today, progress=progress, jobs=jobs)
        tagged = report.tagged + tag(cfg, store, rebuild=rebuild, jobs=jobs, progress=progress)
        sweep_temp_files(out)  # left by a run killed while writing
        built = site.build(cfg, store, out, today, jobs=jobs, rebuild=rebuild, progress=progress)
        # -- email: last, so a failed send never stops the site from being written --
        emailed = None
        if email and cfg.email is not None and cfg.email.enabled:
            # imported only by runs that send (css-inline, smtplib)
            from digest.commands.send import send_week

            emailed = send_week(cfg, store, today)
            problems += emailed.problems
    found = problems + report.problems + built.problems
    return RunReport(report, tagged, built, found, email=emailed)
