"""What the CLI tells its user: problems, summaries, errors, hints, progress bars.

Input: the problems and reports of a command, or an exception escaping it. Output:
text lines (``digest: warning: ...``) or JSON lines on stderr, and the documented exit
code. The level of a problem is its severity (a notice, or a warning that ``--strict``
makes an error); exit code 3 (1 under ``--strict``) means at least one warning.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import Any, TextIO, TypeVar

import click

from digest.errors import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_WARNINGS,
    ConfigError,
    DigestError,
    Problem,
    environment_error,
    printable,
)
from digest.progress import Progress

F = TypeVar("F", bound=Callable[..., Any])


Clock = Callable[[], dt.datetime]
"""Reads the time a JSON log line is stamped with (an aware datetime)."""


def utc_now() -> dt.datetime:
    """The real time in UTC: what JSON log lines are stamped with."""
    return dt.datetime.now(dt.UTC)


class Reporter:
    """Where messages go: human lines or JSON lines on stderr; quiet hides the summary.

    A JSON line is one object: ``timestamp`` (ISO 8601, UTC, milliseconds, from ``clock``),
    ``level`` (``info``, ``notice``, ``warning``, ``error``, ``hint``), ``message``, then the
    message's own fields."""

    def __init__(self, quiet: bool = False, fmt: str = "text", clock: Clock = utc_now) -> None:
        self.quiet = quiet
        self.fmt = fmt
        self.clock = clock

    def problem(self, problem: Problem, strict: bool = False) -> None:
        """Report one input problem (always shown, even when quiet) at the level of its
        severity: a notice, or a warning (an error under ``strict``)."""
        level: str = problem.severity
        if strict and level == "warning":
            level = "error"
        if self.fmt == "json":
            self._json(
                level=level,
                file=problem.file,
                line=problem.line,
                column=problem.column,
                message=problem.message,
            )
        else:
            click.echo(f"digest: {level}: {printable(str(problem))}", err=True)

    def summary(self, message: str, **fields: Any) -> None:
        """The one line a run ends with (hidden by --quiet)."""
        if self.quiet:
            return
        if self.fmt == "json":
            self._json(level="info", message=message, **fields)
        else:
            click.echo(f"digest: {printable(message)}", err=True)

    def error(self, message: str, details: Sequence[str] = ()) -> None:
        """A fatal error (always shown), with ``details`` on lines of their own."""
        if self.fmt == "json":
            self._json(level="error", message="\n".join([message, *details]))
        else:
            click.echo(f"digest: error: {printable(message)}", err=True)
            for line in details:
                click.echo(f"  {printable(line)}", err=True)

    def hint(self, message: str) -> None:
        """What to do about the error just reported (always shown)."""
        if self.fmt == "json":
            self._json(level="hint", message=message)
        else:
            click.echo(f"digest: hint: {printable(message)}", err=True)

    def usage_error(self, err: click.ClickException) -> None:
        """A command line click refused (exit 2): in JSON mode, as one JSON line."""
        fields: dict[str, Any] = {}
        if isinstance(err, click.UsageError) and err.ctx is not None:
            fields["command"] = err.ctx.command_path
        self._json(level="error", message=err.format_message(), **fields)

    def _json(self, level: str, message: str, **fields: Any) -> None:
        stamp = self.clock().astimezone(dt.UTC).isoformat(timespec="milliseconds")
        record = {"timestamp": stamp.replace("+00:00", "Z"), "level": level, "message": message}
        # JSON escapes control characters itself; a lone surrogate (a non-UTF-8 file
        # name) is written as its \\udcXX escape instead of failing to encode.
        line = json.dumps({**record, **fields}, ensure_ascii=False, default=str)
        click.echo(line.encode("utf-8", "backslashreplace"), err=True)


def reporter() -> Reporter:
    """The Reporter of the running command (set up by the ``digest`` group)."""
    ctx = click.get_current_context()
    obj = ctx.find_object(Reporter)
    return obj if obj is not None else Reporter()


def handle_errors(func: F) -> F:
    """Turn DigestError, and an OSError or SQLite failure of the environment (full or
    read-only disk, permissions, damaged store), into a message and its exit code.
    Anything else escaping is a bug in digest and keeps its traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DigestError as err:
            _fail(err)
        except BrokenPipeError:
            # The reader of stdout went away (`digest export | head`): nothing to say
            # to it; keep the interpreter's final flush from failing again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_FAILURE)
        except (OSError, sqlite3.Error) as err:
            ctx = click.get_current_context()
            known = environment_error(err, f"'digest {ctx.info_name}'")
            if known is None:
                raise
            _fail(known)

    return wrapper  # type: ignore[return-value]


def _fail(err: DigestError) -> None:
    shown = reporter()
    if isinstance(err, ConfigError):
        shown.error(str(err).partition(":\n")[0] + ":", [str(p) for p in err.problems])
    else:
        shown.error(str(err))
    if err.hint:
        shown.hint(err.hint)
    sys.exit(err.exit_code)


class ProgressBars:
    """Draws a stage's progress (a :class:`~digest.progress.Progress` callback) as a
    click progress bar on ``stream``, one line per stage, the stage's name as its label.

    A stage's bar ends its line when the stage reaches its total; two stages that take
    turns (read and store) share the line until then. :meth:`close` ends a bar left
    unfinished (a failed run)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._bars: dict[str, Any] = {}
        self._open: list[str] = []

    def __call__(self, stage: str, done: int, total: int) -> None:
        bar = self._bars.get(stage)
        if bar is None:
            bar = click.progressbar(
                length=total,
                label=stage.ljust(6),
                file=self.stream,
                show_eta=False,
                update_min_steps=1,
            )
            self._bars[stage] = bar
            self._open.append(stage)
        if stage not in self._open:
            return  # already finished
        bar.update(max(0, min(done, total) - bar.pos))
        if done >= total:
            self._finish(stage)

    def close(self) -> None:
        """End the bars still drawn."""
        for stage in list(self._open):
            self._finish(stage)

    def _finish(self, stage: str) -> None:
        self._open.remove(stage)
        self._bars[stage].render_finish()


@contextmanager
def progress(stream: TextIO | None = None) -> Iterator[Progress | None]:
    """Progress bars on a terminal (on ``stream``, standard error by default); None, so
    nothing is drawn, under --quiet, with JSON logs, or when the stream is not a
    terminal (cron, a pipe, a file)."""
    shown = reporter()
    out: TextIO = sys.stderr if stream is None else stream
    if shown.quiet or shown.fmt != "text" or not out.isatty():
        yield None
        return
    bars = ProgressBars(out)
    try:
        yield bars
    finally:
        bars.close()


def notices(problems: Sequence[Problem]) -> list[Problem]:
    """Report the notices among ``problems``; return the others, in order."""
    for problem in problems:
        if problem.severity == "notice":
            reporter().problem(problem)
    return [p for p in problems if p.severity != "notice"]


def finish(problems: Sequence[Problem], strict: bool) -> None:
    """Report problems and exit with 0 (clean or notices only), 3 (warnings) or 1
    (warnings under --strict)."""
    warnings = notices(problems)
    for problem in warnings:
        reporter().problem(problem, strict)
    if warnings:
        sys.exit(EXIT_FAILURE if strict else EXIT_WARNINGS)
    sys.exit(EXIT_OK)
