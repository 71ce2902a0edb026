"""The command line through click's CliRunner: messages and exit codes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from digest import __version__
from digest.cli import cli
from digest.terminal import Reporter

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "feeds" / "example"
SEED = EXAMPLE / "listings" / "000_b7ea8f9abe6ed864.txt"
TODAY = ["--today", "2026-11-25"]


def commands() -> list[str]:
    return sorted(cli.commands)  # type: ignore[attr-defined]


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_python_dash_m_works() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "digest", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("digest, version")


@pytest.mark.parametrize("name", commands())
def test_every_command_has_help_and_is_in_the_readme(runner: CliRunner, name: str) -> None:
    result = runner.invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Usage: cli " + name in result.output or f"Usage: digest {name}" in result.output
    help_line = cli.commands[name].get_short_help_str()  # type: ignore[attr-defined]
    assert help_line
    assert f"digest {name}" in (ROOT / "README.md").read_text()


def test_init_then_run_works_on_an_empty_feed(runner: CliRunner, tmp_path: Path) -> None:
    feed = tmp_path / "new"
    result = runner.invoke(cli, ["init", str(feed)])
    assert result.exit_code == 0, result.output
    assert (feed / "feed.yaml").is_file() and (feed / "listings").is_dir()
    result = runner.invoke(cli, ["run", str(feed), *TODAY])
    assert result.exit_code == 0, result.output
    assert "matches no file" in result.output  # a notice, not a failure
    assert (feed / "site" / "rss.xml").is_file()
    again = runner.invoke(cli, ["init", str(feed)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_ingest_then_run_then_export(runner: CliRunner, tmp_path: Path) -> None:
    feed = tmp_path / "f"
    assert runner.invoke(cli, ["init", str(feed)]).exit_code == 0
    result = runner.invoke(cli, ["ingest", str(feed), str(SEED), *TODAY])
    assert result.exit_code == 0, result.output
    assert "94 sightings, 94 new papers" in result.output
    result = runner.invoke(cli, ["-q", "ingest", str(feed), str(SEED), *TODAY])
    assert result.exit_code == 0 and result.output == ""  # quiet and nothing new
    out = tmp_path / "out"
    result = runner.invoke(cli, ["run", str(feed), "--out", str(out), *TODAY])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} >= {
        "2026-W11.md",
        "2026-W11.html",
        "index.html",
        "rss.xml",
        "atom.xml",
    }
    result = runner.invoke(cli, ["export", str(feed), "--format", "jsonl"])
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.output.splitlines()]
    assert len(records) == 94
    first = records[0]
    assert {"id", "title", "abstract", "first_seen", "week", "tags", "theme", "sightings"} <= set(
        first
    )
    assert first["week"] == "2026-W11" and first["first_seen"] == "2026-03-11"
    assert isinstance(first["tags"], list) and first["theme"]
    (sighting,) = first["sightings"]
    assert sighting["listing"] == SEED.name and sighting["date"] == "2026-03-11"
    positions = sorted(r["sightings"][0]["position"] for r in records)
    assert positions == list(range(94))


def test_run_check_explain_on_the_example(runner: CliRunner, feed: Path) -> None:
    result = runner.invoke(cli, ["run", str(feed), *TODAY])
    assert result.exit_code == 0, result.output
    assert "5 new listings, 453 new papers, 2 of 2 weeks rebuilt" in result.output
    result = runner.invoke(cli, ["check", str(feed)])
    assert result.exit_code == 0, result.output
    assert "5 listings, 563 sightings, 453 papers" in result.output
    assert "untagged:" in result.output
    result = runner.invoke(cli, ["explain", str(feed), "Block Transformer"])
    assert result.exit_code == 0, result.output
    assert "sightings (2)" in result.output and "same title after normalisation" in result.output
    result = runner.invoke(cli, ["explain", str(feed), "no such paper at all"])
    assert result.exit_code == 1 and "no paper matches" in result.output


@pytest.mark.parametrize("name", ["run", "check", "export", "explain"])
def test_missing_feed_folder_is_one_sentence(runner: CliRunner, tmp_path: Path, name: str) -> None:
    args = [name, str(tmp_path / "nope")] + (["x"] if name == "explain" else [])
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_bad_yaml_is_reported_with_line(runner: CliRunner, feed: Path) -> None:
    (feed / "feed.yaml").write_text("title: [unclosed\nthemes: 3\n")
    result = runner.invoke(cli, ["run", str(feed), *TODAY])
    assert result.exit_code == 1
    assert "feed.yaml:2:7: invalid YAML" in result.output
    assert not (feed / "site").exists() and not (feed / "digest.sqlite").exists()


def test_unreadable_and_missing_listing_files(runner: CliRunner, feed: Path) -> None:
    binary = feed / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    result = runner.invoke(
        cli, ["ingest", str(feed), str(binary), str(feed / "gone.txt"), str(SEED), *TODAY]
    )
    assert result.exit_code == 3, result.output  # success with warnings
    assert "gone.txt: no such file" in result.output
    assert "image.png: looks like a binary file" in result.output
    assert "94 new papers" in result.output
    strict = runner.invoke(cli, ["ingest", str(feed), str(binary), "--strict", *TODAY])
    assert strict.exit_code == 1


def test_bad_today(runner: CliRunner, feed: Path) -> None:
    result = runner.invoke(cli, ["run", str(feed), "--today", "25/11/2026"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_json_log_format(runner: CliRunner, feed: Path) -> None:
    result = runner.invoke(cli, ["--log-format", "json", "run", str(feed), *TODAY])
    assert result.exit_code == 0
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["new_papers"] == 453 and summary["level"] == "info"


def test_a_notice_is_logged_as_one_and_never_fails_a_strict_run(
    runner: CliRunner, tmp_path: Path
) -> None:
    feed = tmp_path / "new"
    assert runner.invoke(cli, ["init", str(feed)]).exit_code == 0
    result = runner.invoke(cli, ["--log-format", "json", "run", str(feed), "--strict", *TODAY])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.strip().splitlines()]
    notice = next(line for line in lines if "matches no file" in line["message"])
    assert notice["level"] == "notice"


def test_options_from_digest_environment_variables(tmp_path: Path) -> None:
    """Through the real command (a subprocess): DIGEST_* variables set options, the command
    line wins, a bad value is refused like a bad option."""
    feed = tmp_path / "new"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}

    def digest(*argv: str, **more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "digest", *argv],
            env={**env, **more},
            capture_output=True,
            text=True,
        )

    assert digest("init", str(feed)).returncode == 0
    quiet = digest("run", str(feed), *TODAY, DIGEST_QUIET="1", DIGEST_RUN_JOBS="1")
    assert quiet.returncode == 0 and "matches no file" in quiet.stderr  # a notice still shows
    assert "files written" not in quiet.stderr  # the summary does not
    logged = digest("run", str(feed), DIGEST_LOG_FORMAT="json", DIGEST_RUN_TODAY="2026-11-25")
    lines = [json.loads(line) for line in logged.stderr.splitlines()]
    assert logged.returncode == 0 and lines[-1]["level"] == "info"
    text = digest("--log-format", "text", "run", str(feed), *TODAY, DIGEST_LOG_FORMAT="json")
    assert text.stderr.splitlines()[-1].startswith("digest: ")  # the command line wins
    bad = digest("run", str(feed), DIGEST_RUN_JOBS="many")
    assert bad.returncode == 2 and "--jobs" in bad.stderr
    forced = digest("init", str(feed), DIGEST_INIT_FORCE="true")
    assert forced.returncode == 0  # a flag from the environment
    version = digest("-q", "run", str(feed), *TODAY, DIGEST_VERSION="1")
    assert version.returncode == 0 and "version" not in version.stdout


def listings(feed: Path) -> list[tuple[str, str]]:
    """(name, format) of every listing version in the feed's store."""
    with sqlite3.connect(feed / "digest.sqlite") as db:
        return list(db.execute("SELECT name, format FROM listing ORDER BY id"))


def test_ingest_reads_one_listing_from_stdin(runner: CliRunner, tmp_path: Path) -> None:
    feed = tmp_path / "f"
    assert runner.invoke(cli, ["init", str(feed)]).exit_code == 0
    data = SEED.read_bytes()
    result = runner.invoke(cli, ["ingest", str(feed), "-", *TODAY], input=data)
    assert result.exit_code == 0, result.output
    assert "1 listings ingested (0 unchanged), 94 sightings, 94 new papers" in result.output
    name = "stdin-" + hashlib.sha256(data).hexdigest()[:12]
    assert listings(feed) == [(name, "textdump")]  # named by content, format detected
    # The same content piped again (another day) is the same listing: nothing added.
    again = runner.invoke(cli, ["ingest", str(feed), "-", "--today", "2026-11-26"], input=data)
    assert again.exit_code == 0, again.output
    assert "0 listings ingested (1 unchanged), 0 sightings, 0 new papers" in again.output
    assert len(listings(feed)) == 1
    # Another format, named with --name, next to a file: JSON Lines detected from content.
    record = {"title": "Piped Paper About Diffusion", "abstract": "Piped.", "date": "2026-03-12"}
    piped = json.dumps(record) + "\n"
    args = ["ingest", str(feed), "-", str(SEED), "--name", "piped.jsonl", *TODAY]
    named = runner.invoke(cli, args, input=piped)
    assert named.exit_code == 0, named.output
    assert listings(feed)[1:] == [("piped.jsonl", "jsonl"), (SEED.name, "textdump")]
    exported = runner.invoke(cli, ["export", str(feed)])
    titles = {json.loads(line)["title"] for line in exported.output.splitlines()}
    assert "Piped Paper About Diffusion" in titles


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-", "-"], "may be given once"),
        ([str(SEED), "--name", "x.txt"], "no '-' is given"),
        (["-", "--name", "a/b.txt"], "expected a file name"),
        (["-", "--name", " "], "expected a file name"),
    ],
)
def test_ingest_stdin_usage_errors(
    runner: CliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(cli, ["ingest", str(tmp_path), *args], input="")
    assert result.exit_code == 2 and message in result.output


def test_ingest_dash_through_the_real_command(tmp_path: Path) -> None:
    feed = tmp_path / "f"
    digest = [sys.executable, "-m", "digest"]
    subprocess.run([*digest, "-q", "init", str(feed)], check=True)
    piped = subprocess.run(
        [*digest, "ingest", str(feed), "-", *TODAY],
        input=SEED.read_bytes(),
        capture_output=True,
    )
    assert piped.returncode == 0 and b"94 new papers" in piped.stderr


STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
LEVELS = {"info", "notice", "warning", "error", "hint"}


def json_log(stderr: str) -> list[dict[str, Any]]:
    """Every stderr line parsed as JSON: an object stamped in UTC, with a level and message."""
    lines = [json.loads(line) for line in stderr.splitlines()]
    for line in lines:
        assert STAMP.fullmatch(line["timestamp"]), line
        stamp = dt.datetime.fromisoformat(line["timestamp"])
        assert stamp.utcoffset() == dt.timedelta(0)
        assert abs(dt.datetime.now(dt.UTC) - stamp) < dt.timedelta(minutes=10)  # the real time
        assert line["level"] in LEVELS and isinstance(line["message"], str)
    return lines


def test_json_logs_every_message_with_timestamp_and_level(runner: CliRunner, feed: Path) -> None:
    json_mode = ["--log-format", "json"]
    run = runner.invoke(cli, [*json_mode, "run", str(feed), *TODAY])
    assert run.exit_code == 0 and json_log(run.stderr)[-1]["level"] == "info"
    # A warning (exit 3), an error with its hint, and command lines click refuses: all JSON.
    binary = feed / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    warned = runner.invoke(cli, [*json_mode, "ingest", str(feed), str(binary), *TODAY])
    assert warned.exit_code == 3
    assert "warning" in {line["level"] for line in json_log(warned.stderr)}
    (feed / "digest.sqlite").write_bytes(b"not a database at all, " * 100)
    damaged = runner.invoke(cli, [*json_mode, "run", str(feed), *TODAY])
    assert damaged.exit_code == 1
    assert [line["level"] for line in json_log(damaged.stderr)] == ["error", "hint"]
    for argv in (["run", str(feed), "--today", "soon"], ["bogus"], ["run", str(feed), "-j", "x"]):
        refused = runner.invoke(cli, [*json_mode, *argv])
        assert refused.exit_code == 2
        (line,) = json_log(refused.stderr)
        assert line["level"] == "error"


def test_json_log_timestamp_comes_from_the_reporters_clock(
    capsys: pytest.CaptureFixture[str],
) -> None:
    noon = dt.datetime(2026, 3, 11, 13, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    Reporter(fmt="json", clock=lambda: noon).hint("do this")
    line = json.loads(capsys.readouterr().err)
    assert line == {"timestamp": "2026-03-11T12:00:00.123Z", "level": "hint", "message": "do this"}
