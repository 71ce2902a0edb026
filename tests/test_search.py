"""Offline search: every week's papers found in the browser (Chromium via Playwright,
the site served on 127.0.0.1, every other request refused), landing on the paper's
card; a run indexes only the weeks it rendered; without Pagefind the build still works
and says so once."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import json
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import BuiltFeed, FeedMaker, copy_example, paper, run_feed

from digest import output, search
from digest.commands import run as run_command
from digest.errors import OutputError
from digest.site import pages, searchpage

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def require(what: str, present: bool) -> None:
    if present:
        return
    if os.environ.get("DIGEST_REQUIRE_BROWSER"):
        pytest.fail(f"{what} missing, and DIGEST_REQUIRE_BROWSER is set")
    pytest.skip(f"{what} missing")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> BuiltFeed:
    """The example feed, its weeks indexed 60 papers a bundle (several bundles a week,
    as weeks of more than search.PART papers are)."""
    require("Pagefind (the search extra)", search.available())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "PART", 60)
        return run_feed(copy_example(tmp_path_factory.mktemp("search") / "feed"))


@pytest.fixture(scope="module")
def served(example: BuiltFeed) -> Iterator[str]:
    """The example site on 127.0.0.1 (Pagefind fetches its index: file:// cannot)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(example.site))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.mark.browser
def test_a_query_typed_in_the_search_box_lands_on_the_card(served: str) -> None:
    require("Chromium", CHROMIUM.exists())
    from playwright.sync_api import Route, sync_playwright

    refused: list[str] = []

    def route(r: Route) -> None:
        if r.request.url.startswith(served):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page()
        page.route("**/*", route)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(served + "search.html")
        listed = page.get_attribute("#search_results", "data-bundles") or ""
        assert "pagefind/2026-W18/part2" in listed.split()  # the week's second bundle
        page.goto(served + "index.html")
        # Words of a 2026-W18 paper's title, typed in the box every page has.
        page.fill("form.search input[name=q]", "TriForce hierarchical speculative")
        page.press("form.search input[name=q]", "Enter")
        page.wait_for_url("**/search.html?q=*")
        first = page.locator("#search_results li h3 a").first
        first.wait_for(timeout=20000)
        assert "TriForce" in first.inner_text()
        assert "papers found" in page.inner_text("#search_status") or "1 paper found" in (
            page.inner_text("#search_status")
        )
        first.click()
        page.wait_for_url("**/2026-W18.html#p*")
        anchor = page.evaluate("location.hash").lstrip("#")
        card = page.locator(f"article[id='{anchor}'] h3")
        assert "TriForce" in card.inner_text()
        # An abstract word finds papers of the other week too (every bundle merged).
        page.goto(served + "search.html?q=quantization")
        page.locator("#search_results li h3 a").first.wait_for(timeout=20000)
        hrefs = page.eval_on_selector_all("#search_results a", "as => as.map(a => a.href)")
        assert any("2026-W11.html#p" in h for h in hrefs)
        # Each paper is found, whichever of its week's bundles holds it: the 2026-W18
        # titles, one word each (the first 60 are in the first bundle, the rest after).
        page.goto(served + "2026-W18.html")
        cards = page.eval_on_selector_all(
            "article.paper", "as => as.map(a => [a.id, a.querySelector('h3').innerText])"
        )
        assert len(cards) > 64
        for _, title in sorted(cards)[58:64]:
            page.goto(served + "search.html?q=" + quote(title))
            page.locator("#search_results li h3 a").first.wait_for(timeout=20000)
            shown = page.eval_on_selector_all("#search_results a", "as => as.map(a => a.text)")
            assert title in shown, (title, shown[:5])
        browser.close()
    assert errors == []
    assert refused == []


def test_a_run_indexes_only_the_weeks_it_renders(
    make_feed: Callable[..., FeedMaker],
) -> None:
    require("Pagefind (the search extra)", search.available())
    feed = make_feed()
    feed.listing("a.jsonl", [paper("Diffusion one", "2026-03-02", "A diffusion model.")])
    built = feed.run()
    assert (built.site / "pagefind" / "2026-W10" / "pagefind-entry.json").is_file()
    assert (built.site / "search.html").is_file()
    feed.listing("b.jsonl", [paper("Diffusion two", "2026-03-16", "A diffusion model.")])
    again = feed.run()
    written = again.report.build.written
    assert any(w.startswith("pagefind/2026-W12/") for w in written)
    assert not any(w.startswith("pagefind/2026-W10/") for w in written)
    assert "search.html" in written  # it lists the new week's bundle
    # A bundle removed by hand is made again (its week is indexed again).
    (built.site / "pagefind" / "2026-W10" / "pagefind-entry.json").unlink()
    third = feed.run()
    assert "pagefind/2026-W10/pagefind-entry.json" in third.report.build.written


def _week_in_three_parts(
    make_feed: Callable[..., FeedMaker], monkeypatch: pytest.MonkeyPatch
) -> tuple[FeedMaker, BuiltFeed]:
    """A feed of one week of five papers, built with bundles of two papers (search.PART)."""
    require("Pagefind (the search extra)", search.available())
    monkeypatch.setattr(search, "PART", 2)
    feed = make_feed()
    feed.listing("a.jsonl", [paper(f"Diffusion paper {i}", "2026-03-02", "A diffusion model.")
                             for i in range(5)])  # fmt: skip
    return feed, feed.run()


def test_a_large_week_is_indexed_in_parts_and_its_leftover_parts_removed(
    make_feed: Callable[..., FeedMaker], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A week of more than search.PART papers gets one bundle per PART papers (Pagefind
    held 2.5 GB indexing a week of 19,000 at once); the search page lists every one; a
    week indexed again in fewer parts leaves no part behind."""
    built = _week_in_three_parts(make_feed, monkeypatch)[1]
    week = built.site / "pagefind" / "2026-W10"
    entries = sorted(e.relative_to(week).as_posix() for e in week.rglob(search.ENTRY))
    assert entries == [search.ENTRY, "part2/pagefind-entry.json", "part3/pagefind-entry.json"]
    assert json.loads((week / searchpage.MARKER).read_text("utf-8")) == [
        "pagefind/2026-W10", "pagefind/2026-W10/part2", "pagefind/2026-W10/part3"
    ]  # fmt: skip
    listed = re.search(r'data-bundles="([^"]*)"', (built.site / "search.html").read_text("utf-8"))
    assert listed is not None
    # The week's first bundle last: search.js makes the last one Pagefind's primary index,
    # which must not begin the path of another (Pagefind would skip merging that one).
    assert listed[1].split() == [
        "pagefind/2026-W10/part2", "pagefind/2026-W10/part3", "pagefind/2026-W10"
    ]  # fmt: skip
    # Each part indexed its own papers (no paper twice, none missing).
    found = []
    for entry in week.rglob(search.ENTRY):
        pages = json.loads(entry.read_text("utf-8"))["languages"]["en"]["page_count"]
        found.append(pages)
    assert sorted(found) == [1, 2, 2]
    monkeypatch.setattr(search, "PART", 1000)
    again = run_command.run(built.cfg, today=dt.date(2026, 11, 25), rebuild=True)
    assert "pagefind/2026-W10/pagefind-entry.json" in again.build.written
    assert [e.relative_to(week).as_posix() for e in week.rglob(search.ENTRY)] == [search.ENTRY]
    assert not (week / "part2").exists() and not (week / "part3").exists()
    listed = re.search(r'data-bundles="([^"]*)"', (built.site / "search.html").read_text("utf-8"))
    assert listed is not None and listed[1] == "pagefind/2026-W10"


def test_a_week_whose_bundles_are_not_all_there_is_indexed_again(
    make_feed: Callable[..., FeedMaker], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each bundle of a week counts: a part deleted by hand, or a build that failed while
    writing one (its marker is written after every file), has the week indexed again."""
    feed, built = _week_in_three_parts(make_feed, monkeypatch)
    week = built.site / "pagefind" / "2026-W10"
    shutil.rmtree(week / "part2")
    again = feed.run()
    assert again.report.build.rebuilt == ["2026-W10"]
    assert (week / "part2" / search.ENTRY).is_file()
    assert feed.run().report.build.rebuilt == []  # whole again: nothing more to do

    # A build that fails writing the second part (a full disk), then one that works.
    shutil.rmtree(built.site / "pagefind")
    put = output.put

    def full(root: Path, relpath: str, data: object) -> bool:
        if "/part2/" in relpath:
            raise OutputError(f"cannot write {relpath}: No space left on device")
        return put(root, relpath, data)  # type: ignore[arg-type]

    with monkeypatch.context() as patched:
        patched.setattr(output, "put", full)
        with pytest.raises(OutputError):
            feed.run()
    assert (week / search.ENTRY).is_file() and not (week / searchpage.MARKER).exists()
    third = feed.run()
    assert third.report.build.rebuilt == ["2026-W10"]
    assert searchpage.complete(built.site, "2026-W10")
    listed = re.search(r'data-bundles="([^"]*)"', (built.site / "search.html").read_text("utf-8"))
    assert listed is not None and len(listed[1].split()) == 3


def test_the_sweep_leaves_a_linked_folder_alone(tmp_path: Path) -> None:
    """A week's bundle folder that is a link to elsewhere is not swept (nothing outside
    the output folder is deleted)."""
    elsewhere = tmp_path / "photos"
    (elsewhere / "album").mkdir(parents=True)
    (elsewhere / "photo.jpg").write_bytes(b"jpg")
    (elsewhere / "empty").mkdir()
    out = tmp_path / "site"
    (out / "pagefind").mkdir(parents=True)
    (out / "pagefind" / "2026-W10").symlink_to(elsewhere, target_is_directory=True)
    searchpage.sweep(out, ["pagefind/2026-W10/pagefind-entry.json"])
    assert (elsewhere / "photo.jpg").is_file() and (elsewhere / "empty").is_dir()
    linked = tmp_path / "site2"
    linked.mkdir()
    (linked / "pagefind").symlink_to(tmp_path / "site" / "pagefind", target_is_directory=True)
    searchpage.sweep(linked, ["pagefind/2026-W10/pagefind-entry.json"])
    assert (elsewhere / "photo.jpg").is_file() and (elsewhere / "album").is_dir()


def test_a_cold_build_indexes_weeks_while_rendering_and_holds_few(
    make_feed: Callable[..., FeedMaker], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twelve weeks: each week's bundle is written while later weeks are still being
    rendered, and never more than 2 x PROCESSES weeks' records wait (a cold build of a
    million papers once held every week's records and every bundle until the end)."""
    require("Pagefind (the search extra)", search.available())
    events: list[str] = []
    waiting: list[int] = []
    render_job, submit = pages.render_job, search.Indexer.submit

    def rendering(*args: object, **kwargs: object) -> object:
        result = render_job(*args, **kwargs)  # type: ignore[arg-type]
        events.append(f"render {result.week}")
        return result

    def submitting(self: search.Indexer, week: str, records: object) -> None:
        submit(self, week, records)  # type: ignore[arg-type]
        waiting.append(len(self._pending))

    monkeypatch.setattr(pages, "render_job", rendering)
    monkeypatch.setattr("digest.site.render_job", rendering)
    monkeypatch.setattr(search.Indexer, "submit", submitting)
    sweep = searchpage.sweep

    def sweeping(out: Path, files: dict[str, Path]) -> None:
        events.append("bundle " + next(iter(files)).split("/")[1])
        sweep(out, files)

    monkeypatch.setattr(searchpage, "sweep", sweeping)
    feed = make_feed()
    day = dt.date(2026, 1, 5)
    feed.listing("a.jsonl", [paper(f"Diffusion paper {i}", str(day + dt.timedelta(weeks=i)),
                                   "A diffusion model.") for i in range(12)])  # fmt: skip
    built = feed.run()
    weeks = sorted(p.name for p in (built.site / "pagefind").iterdir())
    assert len(weeks) == 12
    assert max(waiting) <= 2 * search.PROCESSES
    first_bundle = events.index(f"bundle {weeks[0]}")
    last_render = events.index(f"render {weeks[-1]}")
    assert first_bundle < last_render, events


def test_without_pagefind_the_build_works_and_says_so(
    make_feed: Callable[..., FeedMaker], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "available", lambda: False)
    feed = make_feed()
    feed.listing("a.jsonl", [paper("Diffusion one", "2026-03-02", "A diffusion model.")])
    built = feed.run(dt.date(2026, 11, 25))
    assert (built.site / "2026-W10.html").is_file()
    assert not (built.site / "search.html").exists()
    assert not (built.site / "pagefind").exists()
    assert len(built.report.build.notes) == 1
    assert "Pagefind is not installed" in built.report.build.notes[0]
    assert "search.html" not in (built.site / "index.html").read_text("utf-8")
    # output.search: false turns it off without a note.
    feed.config(extra="").root.joinpath("feed.yaml").write_text(
        feed.root.joinpath("feed.yaml")
        .read_text("utf-8")
        .replace("  dir: site\n", "  dir: site\n  search: false\n"),
        encoding="utf-8",
    )
    assert feed.run(dt.date(2026, 11, 25)).report.build.notes == []


def test_the_missing_pagefind_note_stays_out_of_a_quiet_run(
    make_feed: Callable[..., FeedMaker], monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from digest.cli import cli

    monkeypatch.setattr(search, "available", lambda: False)
    feed = make_feed().listing("a.jsonl", [paper("Diffusion one", "2026-03-02", "A model.")])
    quiet = CliRunner().invoke(cli, ["-q", "run", str(feed.root), "--today", "2026-11-25"])
    assert quiet.exit_code == 0 and quiet.output == "" and quiet.stderr == ""  # cron stays silent
    feed.listing("b.jsonl", [paper("Diffusion two", "2026-03-03", "Another model.")])
    loud = CliRunner().invoke(cli, ["run", str(feed.root), "--today", "2026-11-25"])
    assert loud.exit_code == 0 and "Pagefind is not installed" in loud.stderr
