"""The ``digest`` command: click only. Parses options, calls one use case, reports.

Input: argv. Output: messages on stderr, data (export, dry runs) on stdout,
and the documented exit codes (see README, "Exit codes"). Each command reads the
clock (``--today`` overrides; nowhere else reads it), takes the feed's lock when it
writes, calls one function of :mod:`digest.commands`, and reports. Exit code 3 (1
under ``--strict``) comes from the problems' severities, never from their text. A
:class:`~digest.errors.DigestError` becomes one clear sentence, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import click

from digest import __version__, scaffold, workers
from digest.commands import ingest as ingest_command
from digest.commands import inspect
from digest.commands import run as run_command
from digest.config import FeedConfig, load_config
from digest.errors import Problem, printable
from digest.locking import feed_lock
from digest.sources import MAX_LISTING_BYTES, formats
from digest.sources.fields import DATINGS
from digest.terminal import Reporter, finish, handle_errors, notices, progress, reporter
from digest.weeks import WEEK, is_week, zone

YEARS = (1900, 2999)
"""Years ``--today`` and ``--week`` may name (as feed.yaml's ``year``): a week's
neighbours and a year's inference never leave what dates and feeds can express."""


def parse_today(value: str | None, cfg: FeedConfig | None = None) -> dt.date:
    """``--today`` as a date; unset = today in the feed's time zone."""
    if value:
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise click.BadParameter(
                f"expected YYYY-MM-DD, got {printable(repr(value))}", param_hint="--today"
            ) from None
        if not YEARS[0] <= day.year <= YEARS[1]:
            raise click.BadParameter(
                f"expected a date in the years {YEARS[0]}-{YEARS[1]}, got {value}",
                param_hint="--today",
            )
        return day
    tz = zone(cfg.timezone if cfg else "UTC") or dt.UTC
    return dt.datetime.now(tz).date()


def parse_week(value: str | None) -> str | None:
    """``--week`` checked: an ISO week that exists (2026-W53 does, 2025-W53 does not)."""
    if value is None:
        return None
    shown = printable(repr(value))
    hint = "--week"
    if not WEEK.match(value):
        raise click.BadParameter(
            f"expected an ISO week like 2026-W18, got {shown}", param_hint=hint
        )
    if not YEARS[0] <= int(value[:4]) <= YEARS[1]:
        message = f"expected a week in the years {YEARS[0]}-{YEARS[1]}, got {shown}"
        raise click.BadParameter(message, param_hint=hint)
    if not is_week(value):
        raise click.BadParameter(f"the year {value[:4]} has no week {value[6:]}", param_hint=hint)
    return value


class Seconds(click.FloatRange):
    """A finite number of seconds from 0 to ``max`` (click's FloatRange lets NaN through)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if not math.isfinite(seconds):
            self.fail(f"expected a finite number of seconds, got {value!r}", param, ctx)
        return seconds


# Whether FEED_DIR is a folder is load_config's to say: click would print the name raw.
feed_dir = click.argument("feed_dir", type=click.Path(path_type=Path), metavar="FEED_DIR")
today_option = click.option(
    "--today", metavar="YYYY-MM-DD", help="The run's date (default: today in the feed's zone)."
)
strict_option = click.option(
    "--strict", is_flag=True, help="Treat input warnings as errors (exit 1 instead of 3)."
)
LOCK_TIMEOUT_MAX = 86_400.0
"""A day: a cron run waiting longer would overlap the next day's run."""
JOBS_MAX = 256
"""Processes for --jobs: past the machine's cores more only costs memory."""
lock_option = click.option(
    "--lock-timeout",
    type=Seconds(min=0, max=LOCK_TIMEOUT_MAX),
    default=60.0,
    show_default=True,
    help="Seconds to wait for another run on the same feed to finish (at most a day).",
)

jobs_option = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0, max=JOBS_MAX),
    default=0,
    help="Processes for a large run's parsing, tagging and rendering "
    "(default 0: one per available CPU; 1: none besides this one).",
)


def _jobs(jobs: int) -> int:
    return jobs or workers.available()


ENV_PREFIX = "DIGEST"
"""Every option can also come from the environment: ``DIGEST_QUIET=1``, ``DIGEST_RUN_JOBS=1``
(click's ``auto_envvar_prefix``: the prefix, the command, the option, upper case, ``-`` as
``_``; docs/commands.md lists them). The command line wins over the environment."""


class DigestGroup(click.Group):
    """click's group, except that under ``--log-format json`` a command line click refuses
    (exit 2) is reported as a JSON line too (before the group's options are parsed, the
    format is not known yet: click's own text)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as err:
            if ctx.params.get("log_format") != "json":
                raise
            # An unknown command is refused before the group's callback made the Reporter.
            (ctx.find_object(Reporter) or Reporter(fmt="json")).usage_error(err)
            sys.exit(err.exit_code)


@click.group(
    cls=DigestGroup,
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": ENV_PREFIX},
)
# DIGEST_VERSION set for another purpose (a deploy script's) must not turn a run into --version.
@click.version_option(__version__, prog_name="digest", allow_from_autoenv=False)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success (for cron).")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Messages as text lines or JSON lines (for log collectors).",
)
@click.pass_context
def cli(ctx: click.Context, quiet: bool, log_format: str) -> None:
    """Weekly reading digests from paper listings: site, RSS/Atom feeds and email."""
    # JSON lines are stamped with the real time in UTC (--today pins dates, not the log).
    ctx.obj = Reporter(quiet, log_format, clock=lambda: dt.datetime.now(dt.UTC))


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an existing feed.yaml.")
@handle_errors
def init(directory: Path, force: bool) -> None:
    """Create a feed folder DIRECTORY with a working feed.yaml."""
    created = scaffold.init_feed(directory, force=force)
    reporter().summary(
        f"created {created}; add listings to {directory / 'listings'} "
        f"and run 'digest run {directory}'"
    )


def check_listing_name(name: str, *, piped: bool) -> None:
    """``--name``: a file name (what listings are known by), and only with ``-``."""
    if not piped:
        message = "names the listing read from '-', and no '-' is given"
        raise click.BadParameter(message, param_hint="--name")
    if not name.strip() or "/" in name or name in (".", "..") or len(name) > 255:
        shown = printable(repr(name))
        message = f"expected a file name (no '/', at most 255 characters), got {shown}"
        raise click.BadParameter(message, param_hint="--name")


@cli.command()
@feed_dir
# No click checks on paths that may come from a glob: click would print a name raw.
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", *formats()]),
    envvar="DIGEST_INGEST_FORMAT",  # the parameter is named fmt: click would say ..._FMT
    default="auto",
    show_default=True,
    help="Listing format (default: detect from content).",
)
@click.option(
    "--date",
    "dating",
    type=click.Choice(["auto", *DATINGS]),
    envvar="DIGEST_INGEST_DATE",  # the parameter is named dating
    default="auto",
    help="Date sightings by each entry's date, the listing's, or today (default: the format's).",
)
@click.option(
    "--name",
    "stdin_as",
    metavar="NAME",
    allow_from_autoenv=False,  # names one piped listing: from the environment, every ingest
    help="The listing name for '-' (standard input); default: stdin- and 12 hex digits "
    "of its SHA-256.",
)
@today_option
@strict_option
@lock_option
@jobs_option
@handle_errors
def ingest(
    feed_dir: Path,
    files: tuple[Path, ...],
    fmt: str,
    dating: str,
    stdin_as: str | None,
    today: str | None,
    strict: bool,
    lock_timeout: float,
    jobs: int,
) -> None:
    """Add listing FILES to the store of the feed in FEED_DIR ('-' reads one from stdin)."""
    piped = files.count(ingest_command.STDIN)
    if piped > 1:
        raise click.BadParameter("'-' (standard input) may be given once", param_hint="FILES")
    if stdin_as is not None:
        check_listing_name(stdin_as, piped=bool(piped))
    cfg = load_config(feed_dir)
    day = parse_today(today, cfg)
    # Read before taking the lock (a slow producer must not hold the feed), and no more than
    # tells a listing too large to take from one.
    data = sys.stdin.buffer.read(MAX_LISTING_BYTES + 1) if piped else None
    start = time.monotonic()
    with feed_lock(cfg.root, lock_timeout), progress() as shown:
        report = ingest_command.ingest_files(
            cfg,
            files,
            day,
            fmt,
            dating,
            jobs=_jobs(jobs),
            stdin=data,
            stdin_as=stdin_as,
            progress=shown,
        )
    reporter().summary(
        f"{report.listings_new} listings ingested ({report.listings_unchanged} unchanged), "
        f"{report.sightings} sightings, {report.new_papers} new papers "
        f"in {time.monotonic() - start:.2f} s",
        listings=report.listings_new,
        unchanged=report.listings_unchanged,
        sightings=report.sightings,
        new_papers=report.new_papers,
    )
    finish(report.problems, strict)


@cli.command()
@feed_dir
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Output folder (default: output.dir of feed.yaml).",
)
@today_option
@click.option(
    "--rebuild",
    is_flag=True,
    help="Re-tag and re-render published weeks too (their feed items may change).",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Do not fetch URL sources; use their last kept copies in FEED_DIR/cache.",
)
@strict_option
@lock_option
@jobs_option
@handle_errors
def run(
    feed_dir: Path,
    out: Path | None,
    today: str | None,
    rebuild: bool,
    offline: bool,
    strict: bool,
    lock_timeout: float,
    jobs: int,
) -> None:
    """Ingest the feed's sources, tag, and write every output (what cron runs)."""
    cfg = load_config(feed_dir)
    day = parse_today(today, cfg)
    start = time.monotonic()
    with feed_lock(cfg.root, lock_timeout), progress() as shown:
        report = run_command.run(
            cfg, day, out, rebuild=rebuild, offline=offline, progress=shown, jobs=_jobs(jobs)
        )
    warnings = notices(report.problems)  # before the summary; warnings after it
    emailed = len(report.email.sent) if report.email is not None else 0
    reporter().summary(
        f"{report.ingest.listings_new} new listings, {report.ingest.new_papers} new papers, "
        f"{len(report.build.rebuilt)} of {len(report.build.weeks)} weeks rebuilt, "
        f"{len(report.build.written)} files written"
        + (f", {emailed} emails sent" if report.email is not None else "")
        + f" in {time.monotonic() - start:.2f} s",
        new_listings=report.ingest.listings_new,
        new_papers=report.ingest.new_papers,
        weeks=len(report.build.weeks),
        weeks_rebuilt=len(report.build.rebuilt),
        files_written=len(report.build.written),
        emails_sent=emailed,
        seconds=round(time.monotonic() - start, 3),
    )
    for note in [] if reporter().quiet else report.build.notes:  # advice, not a problem
        reporter().hint(note)
    finish(warnings, strict)


@cli.command()
@feed_dir
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
    help="Port on 127.0.0.1 (0: any free port).",
)  # fmt: skip
@click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
    help="Stop serving after SECONDS (default: until Ctrl-C).",
)  # fmt: skip
@today_option
@lock_option
@handle_errors
def preview(
    feed_dir: Path, port: int, timeout: float | None, today: str | None, lock_timeout: float
) -> None:
    """Build the site into a temporary folder (against a copy of the store: nothing is
    published, no email sent) and serve it on 127.0.0.1 to read before cron publishes."""
    import tempfile  # only this command needs them

    from digest.commands import preview as preview_command

    cfg = load_config(feed_dir)
    day = parse_today(today, cfg)
    with tempfile.TemporaryDirectory(prefix="digest-preview-") as tmp:
        with feed_lock(cfg.root, lock_timeout):  # while the store is copied
            report = preview_command.build_preview(cfg, day, Path(tmp))
        for problem in report.problems:
            reporter().problem(problem)
        page = preview_command.landing_page(report, cfg)

        def ready(url: str) -> None:
            click.echo(url + page)  # the one line on stdout: where to read the preview
            if timeout is None:
                click.echo("digest: serving the preview; Ctrl-C stops it", err=True)

        try:
            preview_command.serve(Path(tmp) / preview_command.SITE, port, ready, timeout=timeout)
        except KeyboardInterrupt:
            click.echo("preview stopped", err=True)


@cli.command()
@feed_dir
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl"]),
    envvar="DIGEST_EXPORT_FORMAT",
    default="jsonl",
    show_default=True,
    help="Output format.",
)
@handle_errors
def export(feed_dir: Path, fmt: str) -> None:
    """Print one JSON object per distinct paper (with every sighting) on stdout."""
    cfg = load_config(feed_dir)
    for record in inspect.export(cfg):
        line = json.dumps(record, ensure_ascii=False)
        # A lone surrogate kept from an input becomes its JSON escape (\\udcXX).
        click.echo(line.encode("utf-8", "backslashreplace"))


@cli.command()
@feed_dir
@handle_errors
def check(feed_dir: Path) -> None:
    """Validate feed.yaml and print what the store holds and how the rules fare."""
    for line in inspect.check(load_config(feed_dir)):
        if isinstance(line, Problem):
            # check changes nothing: whatever their severity, source problems are notices
            click.echo(f"  notice: {printable(str(line))}")
        else:
            click.echo(printable(line))


@cli.command()
@feed_dir
@click.argument("reference")
@handle_errors
def explain(feed_dir: Path, reference: str) -> None:
    """Show why a paper (given by title, id or arXiv id) looks as it does: its sightings,
    the merges that formed it, and how it was tagged."""
    if len(reference) > inspect.MAX_REFERENCE:
        limit = inspect.MAX_REFERENCE
        message = f"expected a title, paper id or arXiv id (at most {limit} characters)"
        raise click.BadParameter(message, param_hint="REFERENCE")
    explained = inspect.explain(load_config(feed_dir), reference)
    for i, lines in enumerate(explained.papers):
        if i:
            click.echo("")
        for line in lines:
            click.echo(printable(line))
    if explained.more:
        click.echo(f"... and {explained.more} more papers match {printable(repr(reference))}")


# -- email ----------------------------------------------------------------------------------


@cli.command()
@feed_dir
@click.option(
    "--week",
    metavar="YYYY-Www",
    help="The week to send (default: the latest complete week with papers before --today).",
)
@click.option(
    "--to", "to", multiple=True, metavar="ADDR", help="Send to ADDR instead of email.to (repeat)."
)
@click.option("--dry-run", is_flag=True, help="Print the message on stdout; send nothing.")
@click.option(
    "--force", is_flag=True, help="Send even to recipients who (possibly) had this week already."
)
@today_option
@lock_option
@handle_errors
def send(
    feed_dir: Path,
    week: str | None,
    to: tuple[str, ...],
    dry_run: bool,
    force: bool,
    today: str | None,
    lock_timeout: float,
) -> None:
    """Email one week's digest (plain text + HTML), at most once per recipient."""
    from digest.commands import send as send_command  # slow to import: only here

    week = parse_week(week)
    cfg = load_config(feed_dir)
    day = parse_today(today, cfg)
    # The Date header: the real time, unless --today pins the run (then its midnight).
    now = None if today else dt.datetime.now(zone(cfg.timezone) or dt.UTC)
    with feed_lock(cfg.root, lock_timeout):
        report = send_command.send(
            cfg, day, week=week, to=to, force=force, dry_run=dry_run, now=now
        )
    if report.week is None:
        reporter().summary(send_command.nothing_to_send(day))
        return
    if dry_run:
        click.echo(send_command.dry_run_output(report, day), nl=False)
        return
    for problem in report.problems:
        reporter().problem(problem)
    reporter().summary(
        f"{report.week}: sent to {len(report.sent)}, skipped {len(report.skipped)}",
        week=report.week,
        sent=report.sent,
        skipped=report.skipped,
    )
    finish(report.problems, strict=False)


GC_THRESHOLDS = (10_000, 10, 10)
"""The cyclic garbage collector's thresholds for a command (Python's are 700, 10, 10):
digest allocates millions of short-lived tuples (rows, entries) and makes few cycles,
so a collection every 700 allocations costs 2-3% of a large run and frees nothing."""


def main() -> None:
    """Entry point of the ``digest`` console script."""
    # What start-up created lives as long as the process: out of the collector's scans
    # (worker processes inherit both settings).
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    cli(prog_name="digest")
