"""Packaging: the wheel carries the default templates; the console script exists."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
    (wheel,) = tmp_path.glob("digest-*.whl")
    from digest import __version__

    assert wheel.name.startswith(f"digest-{__version__}-")  # the version has one source
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
    assert "pip install . && digest run feeds/example" in long_description
    assert "pip install -e '.[test]' && python -m pytest" in long_description
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "digest = digest.cli:main" in text

    # The installed layout works: the wheel's contents alone, run from elsewhere, build
    # the example feed (templates are found inside the package, not in a checkout).
    site = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(site)
    feed = tmp_path / "feed"
    shutil.copytree(
        ROOT / "feeds" / "example",
        feed,
        ignore=shutil.ignore_patterns("site", "*.sqlite*", "cache"),
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import digest.render as r; print(r.default_template_dir())"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip() == str(site / "digest" / "templates")
    run = subprocess.run(
        [sys.executable, "-m", "digest", "run", str(feed), "--today", "2026-11-25"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert (feed / "site" / "2026-W11.html").is_file() and (feed / "site" / "rss.xml").is_file()


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    start = readme.index("## Tests")
    block = readme[start:].split("```sh\n", 1)[1].split("\n```", 1)[0].strip()
    assert block in ci.splitlines()


def test_top_level_layout() -> None:
    for name in (
        "pyproject.toml",
        "README.md",
        "digest",
        "templates",
        "feeds",
        "tests",
        "benchmarks",
        ".ci",
    ):
        assert (ROOT / name).exists(), name
