"""Shared fixtures: the example feed built once per session, and small feeds made to order.

``built_example`` copies ``feeds/example`` to a temporary folder and runs the whole
pipeline on it with a fixed date; tests read its ``site`` folder and must not change
it. ``make_feed`` writes a small feed (a feed.yaml and JSON Lines listings with
explicit dates) for tests that need papers of their own.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from digest.commands import run as run_command
from digest.config import FeedConfig, load_config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "feeds" / "example"
TODAY = dt.date(2026, 11, 25)
LOCAL_HOSTS = "127.0.0.1,localhost,::1"


def pytest_sessionstart(session: pytest.Session) -> None:
    """CI refuses ``UPDATE_GOLDEN``: it rewrites the golden files instead of comparing them,
    so a CI run with it set would pass whatever the output."""
    if os.environ.get("CI") and os.environ.get("UPDATE_GOLDEN"):
        pytest.exit(
            "UPDATE_GOLDEN is set in CI (CI is set): golden files would be rewritten, not "
            "compared. Unset UPDATE_GOLDEN; regenerate golden files only on a workstation.",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


def require_tool(name: str, what: str) -> None:
    """Skip the test when ``what`` is missing, or fail it when the run says every tool must be
    there (``DIGEST_REQUIRE_BROWSER``, which CI sets: a missing tool fails, never skips)."""
    message = f"{what} missing ({name})"
    if os.environ.get("DIGEST_REQUIRE_BROWSER"):
        pytest.fail(f"{message}, and DIGEST_REQUIRE_BROWSER is set")
    pytest.skip(message)


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    """A copy of the example feed (listings and feed.yaml, no store, no site)."""
    target = tmp_path / "feed"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("site", "*.sqlite*"))
    return target


@pytest.fixture
def runner() -> CliRunner:
    """click's runner for the CLI in this process."""
    return CliRunner()


@pytest.fixture(autouse=True)
def _no_proxy_for_local_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test servers listen on 127.0.0.1: a proxy from the environment (``http_proxy``) must
    never see that traffic, so every test runs with the local hosts in ``no_proxy``."""
    for var in ("no_proxy", "NO_PROXY"):
        current = os.environ.get(var, "")
        monkeypatch.setenv(var, f"{current},{LOCAL_HOSTS}" if current else LOCAL_HOSTS)


@pytest.fixture(autouse=True)
def _no_digest_options_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``DIGEST_*`` variables set options (``DIGEST_RUN_JOBS``...): one in the environment of
    the test run must not change what a test runs. ``DIGEST_REQUIRE_BROWSER`` is the suite's."""
    for var in list(os.environ):
        if var.startswith("DIGEST_") and var != "DIGEST_REQUIRE_BROWSER":
            monkeypatch.delenv(var)


@dataclass(frozen=True)
class BuiltFeed:
    """A feed folder after one ``run_command.run``."""

    root: Path
    """The feed folder (holds feed.yaml, listings/, the store)."""
    site: Path
    """The output folder."""
    cfg: FeedConfig
    report: run_command.RunReport


def copy_example(dest: Path) -> Path:
    """A fresh copy of the example feed (without any built site or store)."""
    shutil.copytree(
        EXAMPLE, dest, ignore=shutil.ignore_patterns("site", "*.sqlite*", "cache", ".lock")
    )
    return dest


def run_feed(root: Path, today: dt.date = TODAY) -> BuiltFeed:
    """Load ``root/feed.yaml`` and run the pipeline once."""
    cfg = load_config(root)
    report = run_command.run(cfg, today=today)
    return BuiltFeed(root=root, site=cfg.output.dir, cfg=cfg, report=report)


@pytest.fixture(scope="session")
def built_example(tmp_path_factory: pytest.TempPathFactory) -> BuiltFeed:
    """The example feed, built once with today = 2026-11-25. Read only."""
    root = copy_example(tmp_path_factory.mktemp("example") / "feed")
    return run_feed(root)


TEST_FEED = """\
title: Test digest
description: A feed made by the tests.
base_url: https://example.org/d/
language: en
author: Tests
timezone: UTC
sources:
  - path: listings/*
store: digest.sqlite
output:
  dir: site
  feed_items: {feed_items}
  theme_feed_items: {theme_feed_items}
  empty_weeks: {empty_weeks}
  formats: [{formats}]
catch_all: Other papers
tags:
  diffusion:
    any: ["diffusion"]
  quantization:
    any: ["quantiz*"]
themes:
  - name: Diffusion
    tags: [diffusion]
  - name: Quantization
    tags: [quantization]
{extra}"""


def paper(title: str, date: str, abstract: str = "", **more: Any) -> dict[str, Any]:
    """One JSON Lines record."""
    return {"title": title, "abstract": abstract or f"About {title}.", "date": date, **more}


class FeedMaker:
    """Writes a test feed and its listings; ``run`` builds it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "listings").mkdir(parents=True, exist_ok=True)

    def config(
        self,
        *,
        feed_items: int = 12,
        theme_feed_items: int = 200,
        empty_weeks: bool = False,
        formats: Iterable[str] = ("markdown", "html", "rss", "atom", "theme_feeds"),
        extra: str = "",
    ) -> FeedMaker:
        """(Re)write feed.yaml."""
        text = TEST_FEED.format(
            feed_items=feed_items,
            theme_feed_items=theme_feed_items,
            empty_weeks=str(empty_weeks).lower(),
            formats=", ".join(formats),
            extra=extra,
        )
        (self.root / "feed.yaml").write_text(text, encoding="utf-8")
        return self

    def listing(self, name: str, records: Iterable[Mapping[str, Any]]) -> FeedMaker:
        """Write one JSON Lines listing."""
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        (self.root / "listings" / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        return self

    def run(self, today: dt.date = TODAY) -> BuiltFeed:
        """Ingest, tag and build."""
        return run_feed(self.root, today)


@pytest.fixture
def make_feed(tmp_path: Path) -> Callable[..., FeedMaker]:
    """``make_feed(**config)`` -> a :class:`FeedMaker` in a fresh folder."""
    counter = iter(range(1000))

    def make(**config: Any) -> FeedMaker:
        return FeedMaker(tmp_path / f"feed{next(counter)}").config(**config)

    return make
