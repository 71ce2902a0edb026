"""Progress bars: each long stage reports (stage, done, total); the CLI draws click
progress bars on a terminal only, never under --quiet or JSON logs."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import click.testing
import pytest
from click.testing import CliRunner
from conftest import TODAY

from digest.cli import cli
from digest.commands import run as run_command
from digest.commands.ingest import ingest_files
from digest.config import load_config
from digest.progress import FEEDS, READ, RENDER, STORE, TAG
from digest.terminal import ProgressBars

DAY = ["--today", TODAY.isoformat()]


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class Recorder:
    """A progress callback that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.calls.append((stage, done, total))

    def stages(self) -> list[str]:
        seen: list[str] = []
        for stage, _, _ in self.calls:
            if stage not in seen:
                seen.append(stage)
        return seen

    def check(self) -> None:
        """Each stage's progress rises (never falls) to its total, which never changes."""
        for stage in self.stages():
            calls = [(d, t) for s, d, t in self.calls if s == stage]
            totals = {t for _, t in calls}
            assert len(totals) == 1, (stage, calls)
            done = [d for d, _ in calls]
            assert done == sorted(done) and done[0] >= 1, (stage, done)
            assert done[-1] == totals.pop(), (stage, done)


def test_the_adapter_draws_a_bar_per_stage_on_a_terminal() -> None:
    stream = Terminal()
    bars = ProgressBars(stream)
    for i in range(1, 4):
        bars(READ, i, 3)
        bars(STORE, i, 3)
    bars(TAG, 1, 2)
    bars.close()  # an unfinished bar still ends its line
    lines = stream.getvalue().split("\n")
    assert [line.rsplit("\r", 1)[-1].split()[0].lstrip("\x1b[?25l") for line in lines[:3]] == [
        READ,
        STORE,
        TAG,
    ]
    assert "100%" in lines[0] and "100%" in lines[1] and "50%" in lines[2]
    assert "[" in lines[0] and "#" in lines[0]
    assert lines[-1] == ""


def test_the_adapter_ignores_calls_after_a_stage_ended() -> None:
    stream = Terminal()
    bars = ProgressBars(stream)
    bars(FEEDS, 2, 2)
    drawn = stream.getvalue()
    bars(FEEDS, 2, 2)
    bars.close()
    assert stream.getvalue() == drawn and drawn.count("\n") == 1


def test_each_stage_of_a_run_rises_to_its_total(feed: Path) -> None:
    recorder = Recorder()
    run_command.run(load_config(feed), TODAY, progress=recorder)
    # papers are tagged as they are read: the tag stage has nothing left to do
    assert recorder.stages() == [READ, STORE, RENDER, FEEDS]
    recorder.check()
    assert (READ, 5, 5) in recorder.calls and (STORE, 5, 5) in recorder.calls


def test_tagging_under_new_rules_reports_progress(feed: Path) -> None:
    cfg = load_config(feed)
    run_command.run(cfg, TODAY)
    with sqlite3.connect(cfg.store) as db:  # as if tagged under other rules
        db.execute("UPDATE paper SET rules = 'older rules'")
    db.close()
    recorder = Recorder()
    run_command.run(cfg, TODAY, rebuild=True, progress=recorder)
    assert recorder.stages() == [TAG, RENDER, FEEDS]
    assert READ not in recorder.stages()  # nothing new to read
    recorder.check()


def test_a_run_with_nothing_to_do_reports_nothing(feed: Path) -> None:
    cfg = load_config(feed)
    run_command.run(cfg, TODAY)
    recorder = Recorder()
    run_command.run(cfg, TODAY, progress=recorder)
    assert recorder.calls == []


def test_ingest_files_reports_read_and_store(feed: Path) -> None:
    recorder = Recorder()
    files = sorted((feed / "listings").iterdir())
    ingest_files(load_config(feed), files, TODAY, progress=recorder)
    assert recorder.stages() == [READ, STORE]
    recorder.check()


@pytest.fixture
def tty(monkeypatch: pytest.MonkeyPatch) -> None:
    """CliRunner's standard error says it is a terminal."""
    monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self: True)


@pytest.mark.parametrize("command", ["run", "ingest"])
def test_the_cli_draws_bars_on_a_terminal(
    runner: CliRunner, feed: Path, tty: None, command: str
) -> None:
    args = [command, str(feed), *DAY]
    if command == "ingest":
        args += [str(p) for p in sorted((feed / "listings").iterdir())]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    for stage in [READ, STORE] if command == "ingest" else [READ, STORE, RENDER, FEEDS]:
        assert f"{stage} " in result.stderr and "100%" in result.stderr


@pytest.mark.parametrize(
    "options", [[], ["-q"], ["--log-format", "json"]], ids=["not-a-tty", "quiet", "json"]
)
def test_the_cli_draws_nothing_off_a_terminal_quiet_or_json(
    runner: CliRunner, feed: Path, monkeypatch: pytest.MonkeyPatch, options: list[str]
) -> None:
    if options:  # quiet and JSON logs draw nothing even on a terminal
        monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self: True)
    result = runner.invoke(cli, [*options, "run", str(feed), *DAY])
    assert result.exit_code == 0, result.output
    assert "%" not in result.stderr and "\r" not in result.stderr
    assert "#" not in result.stderr
