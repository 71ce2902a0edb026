"""The README's scheduling examples parse and name real commands and options."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import click
import pytest
import yaml

from digest.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text()


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)\n```", README, flags=re.S)


def check_digest_command(command: str) -> None:
    """Parse a shell command line; every digest invocation must parse with our click CLI."""
    for part in re.split(r"&&|;|\|", command):
        argv = shlex.split(part)
        if not argv or not argv[0].endswith("digest"):
            continue
        # click resolves options and arguments exactly as a real invocation would.
        ctx = cli.make_context("digest", argv[1:], resilient_parsing=False)
        # click 8 keeps the subcommand apart from the rest ("protected" args).
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
        assert rest and rest[0] in cli.commands, argv  # type: ignore[attr-defined]
        command_obj = cli.commands[rest[0]]  # type: ignore[attr-defined]
        command_obj.make_context(rest[0], rest[1:], parent=ctx)


def test_crontab_line() -> None:
    (block,) = blocks("cron")
    lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert lines
    for line in lines:
        fields = line.split(None, 5)
        assert len(fields) == 6
        ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
        for value, (low, high) in zip(fields[:5], ranges, strict=True):
            for item in value.split(","):
                if item == "*":
                    continue
                assert low <= int(item.split("/")[0]) <= high
        check_digest_command(fields[5])


def test_systemd_units() -> None:
    service, timer = blocks("ini")
    unit = configparser.ConfigParser(strict=True, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(service)
    assert unit["Service"]["Type"] == "oneshot"
    check_digest_command(unit["Service"]["ExecStart"])
    tim = configparser.ConfigParser(strict=True, interpolation=None)
    tim.optionxform = str  # type: ignore[assignment,method-assign]
    tim.read_string(timer)
    assert tim["Timer"]["OnCalendar"] and tim["Install"]["WantedBy"] == "timers.target"


def test_github_actions_workflow() -> None:
    (workflow,) = [b for b in blocks("yaml") if "jobs:" in b]
    data = yaml.safe_load(workflow)
    assert data[True]["schedule"][0]["cron"]  # YAML 1.1 reads the key "on" as True
    steps = data["jobs"]["build"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert any("digest" in r for r in runs)
    for command in runs:
        check_digest_command(command)


def test_quick_start_command_is_real() -> None:
    (quick,) = [b for b in blocks("sh") if "digest run feeds/example" in b]
    check_digest_command(quick)


@pytest.mark.parametrize("bad", ["digest run", "digest run x --no-such-option", "digest fly x"])
def test_the_checker_itself_rejects_bad_commands(bad: str) -> None:
    with pytest.raises((click.UsageError, AssertionError)):
        check_digest_command(bad)
