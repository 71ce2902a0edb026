"""Packaging: the distribution ``reading-digest``; the wheel carries the default templates and
installs into a fresh environment outside the source tree; the sdist holds what its tests
need."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.slow
def test_wheel_ships_templates_and_entry_point(tmp_path: Path) -> None:
    # Built from a copy without build/: setuptools reuses build/lib, so a wheel built in a
    # worked-in tree can hold modules that pyproject's package list leaves out.
    tree = tmp_path / "tree"
    skip = ("build", ".venv", "*.egg-info", ".git", ".hypothesis", ".*_cache", "*.sqlite*")
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(*skip))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(tree),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("reading_digest-*.whl")
    from digest import __version__

    # The version has one source; the distribution's name is not the import package's.
    assert wheel.name.startswith(f"reading_digest-{__version__}-")
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in (
        "week.html",
        "week.md",
        "index.html",
        "base.html",
        "style.css",
        "init/feed.yaml",
    ):
        assert f"digest/templates/{template}" in names, template
    # every module of the package, in every subpackage (a package missing from
    # pyproject's list installs a digest that cannot start)
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "digest").rglob("*.py")}
    assert modules <= names, sorted(modules - names)
    # pyproject's readme = "README.md" is the long description PyPI shows: Markdown,
    # holding the two commands (docs/ is not in the wheel: the README stands alone).
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    long_description = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Description-Content-Type: text/markdown" in long_description
    assert "\nName: reading-digest\n" in long_description
    assert "\nLicense-Expression: MIT\n" in long_description  # SPDX (PEP 639)
    assert "\nLicense-File: LICENSE\n" in long_description
    assert "Classifier: Programming Language :: Python :: 3.11" in long_description
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "pip install . && digest run feeds/example" in long_description
    assert "pip install -e '.[test]' && python -m pytest" in long_description
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "digest = digest.cli:main" in text

    # The installed layout works: the wheel installed by pip into a fresh environment and run
    # from a folder outside the checkout builds the example feed (templates are found inside
    # the package, not in a checkout). The dependencies come from this environment through a
    # .pth line, so no index is needed; the .pth files of this environment (its editable
    # install of digest) are not processed from there, so only the wheel provides digest.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "zz_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    outside = tmp_path / "elsewhere"
    feed = outside / "feed"
    shutil.copytree(
        ROOT / "feeds" / "example",
        feed,
        ignore=shutil.ignore_patterns("site", "*.sqlite*", "cache", ".digest.lock"),
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def installed(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, cwd=outside, env=env, capture_output=True, text=True)

    where = installed(
        str(python),
        "-c",
        "import digest.render as r, importlib.metadata as m; "
        "print(r.default_template_dir()); print(m.version('reading-digest'))",
    )
    assert where.returncode == 0, where.stderr
    assert where.stdout.split() == [str(site / "digest" / "templates"), __version__]
    version = installed(str(python), "-m", "digest", "--version")
    assert version.returncode == 0 and version.stdout == f"digest, version {__version__}\n"
    run = installed(str(venv / "bin" / "digest"), "run", "feed", "--today", "2026-11-25")
    assert run.returncode == 0, run.stderr
    assert (feed / "site" / "2026-W11.html").is_file() and (feed / "site" / "rss.xml").is_file()


@pytest.mark.slow
def test_sdist_holds_what_its_tests_need(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--sdist",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (sdist,) = tmp_path.glob("reading_digest-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    tracked = subprocess.run(
        ["git", "ls-files", "tests", "feeds/example", "docs", "benchmarks", "templates", "deploy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wanted = set(tracked.stdout.split()) if tracked.returncode == 0 else set()
    wanted |= {
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "tests/conftest.py",
        "feeds/example/feed.yaml",
        "docs/commands.md",
        "benchmarks/run.py",
        "templates/week.html",
    }
    assert wanted - names == set()
    assert any(n.startswith("tests/golden/example/") for n in names)
    assert any(n.startswith("tests/fixtures/sources/") for n in names)
    assert any(n.startswith("feeds/example/listings/") for n in names)
    # Nothing a local run leaves behind: no store, no built site, no bytecode.
    assert not [n for n in names if ".sqlite" in n or "__pycache__" in n or "example/site/" in n]


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    start = readme.index("## Tests")
    block = readme[start:].split("```sh\n", 1)[1].split("\n```", 1)[0].strip()
    assert block in ci.splitlines()
    # ... and a failed step of it (venv, pip install, pytest) fails CI: set -e alone
    # ignores every failure in an && list but the last.
    assert "readme_test_command || exit $?" in ci.splitlines()


def test_ci_fails_when_a_step_of_the_test_command_fails(tmp_path: Path) -> None:
    """.ci/run's way of running the README command, with a stand-in ``pip`` that fails
    and one ``pytest`` that finds no test: each failure is CI's exit status."""
    ci = (ROOT / ".ci" / "run").read_text()
    wrapper = ci[ci.index("readme_test_command() {") : ci.index("deactivate\n")]
    for failing, code in (("pip", 7), ("python", 5)):
        fake = tmp_path / failing
        (fake / "bin").mkdir(parents=True)
        stubs = {"python3": "exit 0", "pip": "exit 0", "python": "exit 0"}
        stubs[failing] = f"exit {code}"
        for name, body in stubs.items():
            (fake / "bin" / name).write_text(f"#!/bin/sh\n{body}\n")
            (fake / "bin" / name).chmod(0o755)
        (fake / ".venv" / "bin").mkdir(parents=True)
        (fake / ".venv" / "bin" / "activate").write_text("")
        script = f"set -euo pipefail\nPATH={fake}/bin:$PATH\n{wrapper}echo reached\n"
        done = subprocess.run(["bash", "-c", script], cwd=fake, capture_output=True, text=True)
        assert (done.returncode, done.stdout) == (code, ""), failing


def test_top_level_layout() -> None:
    for name in (
        "pyproject.toml",
        "README.md",
        "digest",
        "templates",
        "feeds",
        "tests",
        "benchmarks",
        "deploy",
        ".ci",
    ):
        assert (ROOT / name).exists(), name
