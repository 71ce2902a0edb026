"""Editor's notes (notes/YYYY-Www.md) and curation.yaml: what they change in the pages,
email, feeds (read back with feedparser) and export, how they are validated, that a
change re-renders a published week, that a hostile note renders inert; and
``digest preview`` served on 127.0.0.1 (a real subprocess, fetched with urllib)."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import feedparser
from click.testing import CliRunner
from conftest import FeedMaker, paper
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.cli import cli
from digest.commands import inspect
from digest.config import load_config
from digest.curation import parse_curation
from digest.notes import render_note

WEEK = "2026-W11"
DAY = dt.date(2026, 11, 25)  # long after the week: it is published by the first run
SECTIONS = ("Diffusion", "Quantization", "Other papers")

HOSTILE = """\
# Hello <b>bold</b>

<script>alert(1)</script>

[x](javascript:alert(1)) [y](data:text/html;base64,PHNjcmlwdD4=) ![i](data:image/png;base64,AA)
<javascript:alert(2)> [ok](https://example.org/a?b=1&c=2) [v](vbscript:msgbox)

<img src=x onerror=alert(3)>
"""


def week_feed(make_feed: Callable[..., FeedMaker]) -> FeedMaker:
    return make_feed().listing(
        "2026-03-10.jsonl",
        [
            paper("Fast diffusion sampling", "2026-03-10", id="arXiv:2603.00001v1"),
            paper("Quantized diffusion", "2026-03-10"),
            paper("A paper nobody should see", "2026-03-11"),
            paper("Unrelated systems paper", "2026-03-11"),
        ],
    )


def ids_by_title(feed: FeedMaker) -> dict[str, str]:
    cfg = load_config(feed.root)
    return {r["title"]: r["id"] for r in inspect.export(cfg)}


def entries(path: Path) -> list[Any]:
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, getattr(parsed, "bozo_exception", None)
    return list(parsed.entries)


# -- notes -----------------------------------------------------------------------------


def test_a_hostile_note_renders_inert() -> None:
    note = render_note(HOSTILE)
    html = note.html.lower()
    assert "<script" not in html and "<img src=x" not in html and "<b>" not in html
    assert "javascript:" not in re.findall(r'(?:href|src)="([^"]*)"', html).__repr__()
    assert re.findall(r'(?:href|src)="([^"]*)"', note.html) == ["https://example.org/a?b=1&amp;c=2"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in note.html  # shown as text
    assert "<h3>" in note.html  # the note's h1 sits under the page's own headings
    # The Markdown form is made again: only the checked link, every text escaped.
    assert re.findall(r"\]\(<([^>]*)>\)", note.markdown) == ["https://example.org/a?b=1&c=2"]
    assert "<script>" not in note.markdown and "\\<script\\>" in note.markdown
    assert "https://example.org/a?b=1&c=2" in note.text and "<script>" in note.text


def test_a_link_or_image_to_no_url_is_its_text() -> None:
    # CommonMark allows an empty destination: `[a]()` would link the page to itself.
    note = render_note("See [the paper]() and ![a chart]() here.")
    assert "href" not in note.html and "<img" not in note.html
    assert "See the paper and a chart here." in note.html
    assert note.markdown == "See the paper and a chart here."
    assert note.text == "See the paper and a chart here."
    for nested in ("![![x]()]()", "![see [x]()]()", "[![x]()](https://example.org/)"):
        html = render_note(nested).html
        assert 'href=""' not in html and 'src=""' not in html, (nested, html)
        assert "](<>)" not in render_note(nested).markdown


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("[]()<>!:/ jsavcrpt-dat#*_`\n&\"'=x1")), max_size=80))
def test_a_note_never_raises_and_links_only_http(text: str) -> None:
    note = render_note(text)
    for url in re.findall(r'(?:href|src)="([^"]*)"', note.html):
        assert url.startswith(("http://", "https://")), url
    assert "<script" not in note.html


def test_the_note_opens_page_markdown_email_and_feed_item(
    make_feed: Callable[..., FeedMaker], runner: CliRunner
) -> None:
    feed = week_feed(make_feed)
    (feed.root / "notes").mkdir()
    (feed.root / "notes" / f"{WEEK}.md").write_text(
        "A **quiet** week. See [the list](https://example.org/list).\n", encoding="utf-8"
    )
    built = feed.run(DAY)
    page = (built.site / f"{WEEK}.html").read_text(encoding="utf-8")
    assert '<div class="editor-note">' in page
    assert 'A <strong>quiet</strong> week. See <a href="https://example.org/list">' in page
    assert page.index('<div class="editor-note">') < page.index('id="diffusion"')
    md = (built.site / f"{WEEK}.md").read_text(encoding="utf-8")
    assert "A **quiet** week. See [the list](<https://example.org/list>)." in md
    for name in ("rss.xml", "atom.xml"):
        (item,) = entries(built.site / name)
        assert "<strong>quiet</strong>" in item.content[0].value
    # The email, both parts (a dry run composes it and sends nothing).
    (feed.root / "feed.yaml").write_text(
        (feed.root / "feed.yaml").read_text(encoding="utf-8")
        + "email:\n  from: digest@example.org\n  to: [reader@example.org]\n"
        "  list_id: test.digest.example.org\n  unsubscribe: mailto:off@example.org\n"
        "  smtp:\n    host: 127.0.0.1\n    security: none\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        cli, ["send", str(feed.root), "--dry-run", "--week", WEEK, "--today", "2026-11-25"]
    )
    assert result.exit_code == 0, result.output
    assert "A quiet week. See the list <https://example.org/list>." in result.output
    assert "<strong>quiet</strong>" in result.output


def test_a_changed_note_rerenders_a_published_week(make_feed: Callable[..., FeedMaker]) -> None:
    feed = week_feed(make_feed)
    notes = feed.root / "notes"
    notes.mkdir()
    (notes / f"{WEEK}.md").write_text("First words.\n", encoding="utf-8")
    built = feed.run(DAY)
    assert WEEK in built.report.build.rebuilt
    again = feed.run(DAY + dt.timedelta(days=1))
    assert again.report.build.rebuilt == [] and again.report.build.written == []
    (notes / f"{WEEK}.md").write_text("Second thoughts.\n", encoding="utf-8")
    changed = feed.run(DAY + dt.timedelta(days=2))
    assert changed.report.build.rebuilt == [WEEK]
    assert "Second thoughts." in (built.site / f"{WEEK}.html").read_text(encoding="utf-8")
    assert "Second thoughts." in (built.site / f"{WEEK}.md").read_text(encoding="utf-8")
    (item,) = entries(built.site / "atom.xml")
    assert "Second thoughts." in item.content[0].value
    assert item.updated.startswith("2026-11-27")  # the item moved with its content
    # Removing the note takes it out again; the week's pages return to no note.
    (notes / f"{WEEK}.md").unlink()
    feed.run(DAY + dt.timedelta(days=3))
    assert "Second thoughts" not in (built.site / f"{WEEK}.html").read_text(encoding="utf-8")


def test_bad_notes_are_warnings_and_the_run_goes_on(make_feed: Callable[..., FeedMaker]) -> None:
    feed = week_feed(make_feed)
    notes = feed.root / "notes"
    notes.mkdir()
    (notes / f"{WEEK}.md").write_bytes(b"caf\xe9 au lait\n")
    (notes / "2026-W99.md").write_text("no such week\n", encoding="utf-8")
    (notes / "2026-W12.md").mkdir()  # unreadable as a file
    built = feed.run(DAY)
    messages = [str(p) for p in built.report.problems]
    assert any(f"{WEEK}.md:1: not UTF-8 text (byte 0xe9); note skipped" in m for m in messages)
    assert any("2026-W99.md: not a week's note" in m for m in messages)
    assert any("2026-W12.md: cannot read" in m for m in messages)
    assert (built.site / f"{WEEK}.html").is_file()


# -- curation.yaml ---------------------------------------------------------------------


def test_every_problem_of_curation_yaml_is_reported_at_once() -> None:
    text = """\
papers:
  - id: p1
    pin: maybe
  - title: Some paper
    theme: Nowhere
    colour: red
  - comment: no paper named
  - id: p2
    hide: true
    pin: true
  - arxiv: 2603.00001
  - 42
"""
    decisions, problems = parse_curation(text, SECTIONS)
    shown = [str(p) for p in problems]
    assert shown == [
        "curation.yaml:3:10: papers[0].pin: expected true or false, got the text 'maybe'",
        "curation.yaml:6:5: papers[1].colour: unknown key (known: arxiv, comment, hide, id, "
        "pin, theme, title)",
        "curation.yaml:5:12: papers[1].theme: no theme 'Nowhere' in feed.yaml (themes: "
        "'Diffusion', 'Quantization', 'Other papers')",
        "curation.yaml:7:5: papers[2]: name the paper with exactly one of id, title, arxiv "
        "(got none)",
        "curation.yaml:10:10: papers[3].pin: a paper cannot be both hidden and pinned",
        "curation.yaml:11:5: papers[4]: decides nothing: give comment, pin, hide or theme",
        "curation.yaml:12:5: papers[5]: expected a mapping like {id: ..., pin: true}",
    ], shown
    assert decisions == []


def test_hide_pin_comment_and_theme_in_pages_feeds_and_export(
    make_feed: Callable[..., FeedMaker],
) -> None:
    feed = week_feed(make_feed)
    feed.run(DAY)
    ids = ids_by_title(feed)
    (feed.root / "curation.yaml").write_text(
        f"""\
papers:
  - title: "  fast DIFFUSION sampling "
    comment: Read this one first.
    pin: true
  - id: {ids["A paper nobody should see"]}
    hide: true
  - arxiv: 2603.00001v2
    theme: Quantization
""",
        encoding="utf-8",
    )
    # the first and third entries name the same paper: the second decision is refused
    built = feed.run(DAY + dt.timedelta(days=1))
    assert [p.line for p in built.report.problems] == [7]
    (feed.root / "curation.yaml").write_text(
        f"""\
papers:
  - title: "  fast DIFFUSION sampling "
    comment: Read this one first.
    pin: true
    theme: Quantization
  - id: {ids["A paper nobody should see"]}
    hide: true
""",
        encoding="utf-8",
    )
    built = feed.run(DAY + dt.timedelta(days=2))
    assert built.report.problems == [] and built.report.build.rebuilt == [WEEK]
    page = (built.site / f"{WEEK}.html").read_text(encoding="utf-8")
    assert "A paper nobody should see" not in page
    quantization = page[page.index('id="quantization"') : page.index('id="other-papers"')]
    assert "Fast diffusion sampling" in quantization
    assert '<span class="comment-by">Editor:</span> Read this one first.' in quantization
    md = (built.site / f"{WEEK}.md").read_text(encoding="utf-8")
    assert "*Editor:* Read this one first." in md and "nobody should see" not in md
    for name in ("rss.xml", "atom.xml", "themes/other-papers.xml", "themes/diffusion.atom"):
        text = json.dumps([e.get("title") for e in entries(built.site / name)])
        assert "nobody should see" not in text, name
    titles = [e.title for e in entries(built.site / "themes/quantization.xml")]
    assert "Fast diffusion sampling" in titles
    diffusion = [e.title for e in entries(built.site / "themes/diffusion.xml")]
    assert "Fast diffusion sampling" not in diffusion
    exported = {r["title"]: r for r in inspect.export(load_config(feed.root))}
    assert exported["A paper nobody should see"]["hidden"] is True
    assert exported["Fast diffusion sampling"]["hidden"] is False
    # A pinned paper opens the week's top picks, however few there are.
    from digest.editorial import curated_week, load_editorial
    from digest.store import Store

    with Store(built.cfg.store) as store:
        editorial = load_editorial(built.cfg, store)
        digest = curated_week(WEEK, store.papers.load(WEEK), built.cfg.rules, editorial, 1)
    pinned = [p.title for s in digest.sections for p in s.papers if p.pinned]
    assert pinned == ["Fast diffusion sampling"] and digest.count == 3
    assert [p.title for p in digest.picks] == ["Fast diffusion sampling"]
    page = (built.site / f"{WEEK}.html").read_text(encoding="utf-8")
    picks = page[page.index('id="top-picks"') :]
    assert "Fast diffusion sampling" in picks[: picks.index("</aside>")]
    # Taking the decisions away brings every paper back where its rules put it.
    (feed.root / "curation.yaml").write_text("papers: []\n", encoding="utf-8")
    feed.run(DAY + dt.timedelta(days=3))
    page = (built.site / f"{WEEK}.html").read_text(encoding="utf-8")
    assert "A paper nobody should see" in page and "Read this one first." not in page
    diffusion = [e.title for e in entries(built.site / "themes/diffusion.xml")]
    assert "Fast diffusion sampling" in diffusion


def test_check_reports_notes_and_decisions_that_match_nothing(
    make_feed: Callable[..., FeedMaker], runner: CliRunner
) -> None:
    feed = week_feed(make_feed)
    feed.run(DAY)
    (feed.root / "notes").mkdir()
    (feed.root / "notes" / "2026-W30.md").write_text("A week without papers.\n", encoding="utf-8")
    (feed.root / "notes" / "week-eleven.md").write_text("Misnamed.\n", encoding="utf-8")
    (feed.root / "curation.yaml").write_text(
        "papers:\n  - title: No such paper\n    hide: true\n", encoding="utf-8"
    )
    result = runner.invoke(cli, ["check", str(feed.root)])
    assert result.exit_code == 0, result.output
    assert "week-eleven.md: not a week's note: name it like 2026-W11.md" in result.output
    assert "matches nothing: notes/2026-W30.md: no papers in week 2026-W30" in result.output
    assert "matches nothing: curation.yaml:2: title 'No such paper' matches no paper" in (
        result.output
    )


# -- preview ---------------------------------------------------------------------------


def test_preview_serves_the_site_on_localhost_and_changes_nothing(
    make_feed: Callable[..., FeedMaker],
) -> None:
    feed = week_feed(make_feed)
    built = feed.run(dt.date(2026, 3, 12))  # the week is not over: not published yet
    store_before = built.cfg.store.read_bytes()
    site_before = {p: p.read_bytes() for p in built.site.rglob("*") if p.is_file()}
    (feed.root / "notes").mkdir()
    (feed.root / "notes" / f"{WEEK}.md").write_text("Preview me.\n", encoding="utf-8")
    command = [sys.executable, "-m", "digest", "preview", str(feed.root), "--port", "0"]
    command += ["--timeout", "30", "--today", "2026-11-25"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/{WEEK}\.html", url), url
        with urllib.request.urlopen(url, timeout=10) as response:
            page = response.read().decode("utf-8")
        proc.terminate()
    assert "<p>Preview me.</p>" in page and "Fast diffusion sampling" in page
    # The real store and site are as they were: the preview published nothing.
    assert built.cfg.store.read_bytes() == store_before
    assert {p: p.read_bytes() for p in built.site.rglob("*") if p.is_file()} == site_before
