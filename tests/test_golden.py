"""Golden files: the whole output of the example feed, byte for byte.

Regenerate only on purpose, after reviewing the change:
``UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest

from digest.commands import inspect
from digest.commands import run as run_command
from digest.config import load_config

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden" / "example"
TODAY = dt.date(2026, 11, 25)
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
GOLDEN_TOPIC_PAGES = {"surveys.html", "three-d.html", "serving.html", "serving.1.html"}
"""The theme and tag pages kept as golden files (the others are like them): a theme, a
tag, and a tag's newest and oldest pages."""


def build(tmp: Path, everything: bool = False) -> dict[str, bytes]:
    """The example's outputs: with ``everything``, every file; else those kept as golden
    files (not every theme and tag page; not the search index, Pagefind's binary files,
    which the byte-identical test compares)."""
    feed = tmp / "feed"
    shutil.copytree(ROOT / "feeds" / "example", feed,
                    ignore=shutil.ignore_patterns("site", "*.sqlite*", "cache"))  # fmt: skip
    cfg = load_config(feed)
    run_command.run(cfg, TODAY)
    files = {
        str(p.relative_to(feed / "site")): p.read_bytes()
        for p in sorted((feed / "site").rglob("*"))
        if p.is_file() and not p.name.startswith(".")
        and (everything or (
            (p.parent.name not in ("themes", "tags") or p.suffix != ".html"
             or p.name in GOLDEN_TOPIC_PAGES)
            and not p.relative_to(feed / "site").as_posix().startswith("pagefind/")))
    }  # fmt: skip
    # What `digest export` prints (hidden papers marked).
    lines = [json.dumps(record, ensure_ascii=False) for record in inspect.export(cfg)]
    files["export.jsonl"] = ("\n".join(lines) + "\n").encode()
    return files


def test_example_output_matches_golden_files(tmp_path: Path) -> None:
    got = build(tmp_path)
    if UPDATE:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, data in got.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
        pytest.skip("golden files regenerated; review the diff and commit it")
    assert GOLDEN.is_dir(), "no golden files yet: run with UPDATE_GOLDEN=1 once"
    want = {
        str(p.relative_to(GOLDEN)): p.read_bytes() for p in sorted(GOLDEN.rglob("*")) if p.is_file()
    }
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], f"{name} differs from tests/golden/example/{name}"
    # The four output kinds of the contract are all there.
    assert {"index.html", "rss.xml", "atom.xml", "2026-W11.md", "2026-W11.html"} <= set(got)


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    first = build(tmp_path / "a", everything=True)
    assert first == build(tmp_path / "b", everything=True)
    assert any(name.startswith("pagefind/2026-W11/") for name in first)  # search included
