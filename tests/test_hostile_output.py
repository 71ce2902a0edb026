"""Hostile and unlucky input on the output side (issue 15): whatever text the store
holds, every output is valid; RSS descriptions are text; only the tool's temporary
files are swept and ``--out`` never holds the feed's own files; ``--rebuild`` gives
what a cold build gives; a read-only or full output folder is a clear message and the
next run works; an email always shows something and says right what it shows."""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import html
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import feedparser
import lxml.html
import pytest
from click.testing import CliRunner
from conftest import TODAY, FeedMaker, paper
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from digest import feeds, mail, outtext, render
from digest.cli import cli
from digest.commands import run as run_command
from digest.config import load_config
from digest.errors import OutputError
from digest.grouping import group_week
from digest.models import Paper, Sighting
from digest.output import TEMP_PREFIX, atomic_write, sweep_temp_files
from digest.store import Store

BAD = "\ufffe\uffff\x01\x1b[31m\x7f\x85\ufdd0\U0001ffff\x0b"
"""Characters no output may carry (XML-forbidden, controls, noncharacters, an ESC
sequence)."""
EVIL_URL = "https://example.org/a\r\nBcc: evil@example.org"


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def assert_outputs_valid(site: Path) -> None:
    """Every feed parses strictly; no page holds a forbidden character or the bad URL."""
    files = tree(site)
    assert any(name.endswith(".xml") for name in files)
    for name, data in files.items():
        if name.startswith("pagefind/"):
            # The search index: Pagefind's compressed binary files, shown by search.js as
            # text only (tests/test_search.py).
            continue
        if name.endswith((".xml", ".atom")):
            etree.fromstring(data)  # strict XML: raises on anything invalid
            parsed = feedparser.parse(data)
            assert parsed.bozo == 0, (name, getattr(parsed, "bozo_exception", None))
        text = data.decode("utf-8")
        assert outtext.is_clean(text), name
        assert "Bcc: evil" not in text, name


def tamper(db: Path) -> None:
    """What an older digest (or a reader letting anything through) left in a store: text
    with forbidden characters in every field outputs show, a URL with CR/LF, a listing
    name with an ESC sequence, and a stored feed item holding them too."""
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE text SET title = title || ?, abstract = ? || abstract", (BAD, BAD))
        con.execute("UPDATE paper SET url = ?, authors = ?", (EVIL_URL, json.dumps([f"A{BAD}"])))
        con.execute("UPDATE listing SET name = ? || name", ("\x1b[2J",))
        escaped = json.dumps(BAD)[1:-1]  # a week's issue draft is JSON
        con.execute("UPDATE week SET dirty = 1")
        drafts = con.execute(
            "UPDATE feed_item SET draft = replace(draft, 'Test', ?) WHERE draft LIKE '%Test%'",
            (escaped,),
        )
        assert drafts.rowcount > 0
    con.close()


def test_forbidden_characters_in_the_store_never_break_an_output(
    make_feed: Callable[..., FeedMaker],
) -> None:
    feed = make_feed().listing(
        "a.jsonl",
        [
            paper(f"Diffusion {BAD} models", "2026-11-10", f"Text {BAD} here."),
            paper("Quantized caches", "2026-11-17", "See https://example.org/x.", url=EVIL_URL),
        ],
    )
    built = feed.run()  # what the listing carried (as far as the readers let it in)
    assert_outputs_valid(built.site)
    tamper(built.cfg.store)
    # The next run, and a rebuild, work from the store as it is (the lost feeds are made
    # again from the items the store keeps).
    (built.site / "rss.xml").unlink()
    (built.site / "themes" / "diffusion.xml").unlink()
    again = feed.run()
    assert "rss.xml" in again.report.build.written
    assert_outputs_valid(again.site)
    run_command.run(again.cfg, TODAY, rebuild=True)
    assert_outputs_valid(again.site)
    # The store keeps the text as it came.
    with Store(again.cfg.store) as store:
        papers = store.papers.load()
        assert all(BAD in p.title for p in papers)
        assert all(p.url == EVIL_URL for p in papers)
        week = papers[0].week
        digest = group_week(week, store.papers.load(week), again.cfg.rules.section_names)
    # The email (text and HTML part) shows no forbidden character and no raw bad URL.
    email = mail.EmailConfig(
        sender="D <d@example.org>", list_id="t.example.org", unsubscribe=("https://x.org/u",)
    )
    msg = mail.compose(
        again.cfg,
        email,
        digest,
        recipient="a@example.org",
        uid="urn:x",
        now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC),
    )
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            body = part.get_content()
            assert outtext.is_clean(body) and "Bcc: evil" not in body


def test_file_names_with_terminal_escapes_do_not_reach_pages(
    make_feed: Callable[..., FeedMaker],
) -> None:
    feed = make_feed().listing("evil\x1b[31mred\x07.jsonl", [paper("A paper", "2026-11-10")])
    built = feed.run()
    for name, data in tree(built.site).items():
        if name.startswith("pagefind/"):
            # The search index: gzip-compressed records (listing names are not in them).
            plain = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
            assert b"evil" not in plain, name
            continue
        assert "\x1b" not in data.decode("utf-8") and "\x07" not in data.decode("utf-8"), name
    # the reader escapes what does not print in a listing name (sources.shown_name)
    assert "evil\\x1b[31mred\\x07.jsonl" in (built.site / "2026-W46.html").read_text()


_ANY = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)


@settings(max_examples=150, deadline=None)
@given(text=_ANY)
def test_any_text_gives_a_well_formed_feed(text: str) -> None:
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    meta = feeds.FeedMeta(
        text or "t", text or "d", "urn:x", "https://x.org/", "https://x.org/r", when
    )
    item = feeds.FeedItem(
        id="urn:x:1",
        title=text,
        link="https://x.org/1",
        published=when,
        updated=when,
        content_html=text,
        summary=text or "s",
        categories=(text or "c",),
    )
    for data in (feeds.rss(meta, [item]), feeds.atom(meta, [item])):
        etree.fromstring(data)


@settings(max_examples=150, deadline=None)
@given(text=_ANY, url=_ANY)
def test_clean_paper_leaves_nothing_forbidden(text: str, url: str) -> None:
    p = Paper(
        id="p1",
        title=text,
        abstract=text,
        first_seen=dt.date(2026, 1, 1),
        week="2026-W01",
        authors=(text,),
        sightings=(Sighting(text, dt.date(2026, 1, 1), 0),),
        url="https://x.org/" + url,
    )
    shown = outtext.clean_paper(p)
    assert outtext.is_clean(shown.title) and outtext.is_clean(shown.sightings[0].listing)
    assert shown.url is None or render.safe_url(shown.url) == shown.url
    assert shown.url is None or outtext.is_clean(shown.url)
    assert outtext.clean("a\ud800b") == "a\ufffdb"  # a lone surrogate
    assert outtext.clean("tab\tLF\nCR\r") == "tab\tLF\nCR\r"


_STORED = st.text(st.characters(codec=None, exclude_categories=("Cs",)), max_size=30)
"""Any text SQLite can hold (a lone surrogate cannot be bound; clean() replaces it all the
same, see above)."""


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=_STORED, abstract=_STORED, author=_STORED, url=_STORED, listing=_STORED)
def test_whatever_the_store_holds_every_output_is_valid(
    make_feed: Callable[..., FeedMaker],
    tmp_path_factory: pytest.TempPathFactory,
    title: str,
    abstract: str,
    author: str,
    url: str,
    listing: str,
) -> None:
    feed = make_feed().listing("a.jsonl", [paper("Diffusion one", "2026-11-10")])
    built = feed.run()
    con = sqlite3.connect(built.cfg.store)
    with con:
        con.execute("UPDATE text SET title = ?, abstract = ?", (f"Diffusion {title}", abstract))
        con.execute(
            "UPDATE paper SET url = ?, authors = ?",
            ("https://example.org/" + url, json.dumps([author])),
        )
        con.execute("UPDATE listing SET name = ?", (listing or "x",))
    con.close()
    out = tmp_path_factory.mktemp("out")
    run_command.run(built.cfg, TODAY, out, rebuild=True)
    assert_outputs_valid(out)


# --- 2. RSS description is HTML-escaped text -------------------------------------------

HOSTILE = (
    "predicting <human, action, object> triplets <script>alert(1)</script> "
    "<img src=x onerror=alert(1)> <iframe src=javascript:alert(1)></iframe> & more"
)


def test_rss_description_is_escaped_text(make_feed: Callable[..., FeedMaker]) -> None:
    built = make_feed().listing("a.jsonl", [paper("Diffusion x", "2026-11-10", HOSTILE)]).run()
    parsed = feedparser.parse((built.site / "themes/diffusion.xml").read_bytes())
    assert parsed.bozo == 0
    (entry,) = parsed.entries
    # RSS description is HTML: the text survives literally, nothing in it is an element.
    assert entry.summary_detail.type == "text/html"
    assert html.unescape(entry.summary) == HOSTILE
    assert len(lxml.html.fragment_fromstring(entry.summary, create_parent="div")) == 0
    # Atom summary is text, as it was.
    (entry,) = feedparser.parse((built.site / "themes/diffusion.atom").read_bytes()).entries
    assert entry.summary_detail.type == "text/plain" and entry.summary == HOSTILE
    raw = (built.site / "themes/diffusion.xml").read_bytes()
    assert b"&amp;lt;script&amp;gt;" in raw and b"<script" not in raw


# --- 3. the temp-file sweep and --out -----------------------------------------------------


def test_sweep_removes_only_the_tools_own_temp_files(tmp_path: Path) -> None:
    mine = tmp_path / "themes" / f"{TEMP_PREFIX}x.xml.abcd1234.tmp"
    mine.parent.mkdir()
    mine.write_text("left by a killed run")
    users = [tmp_path / ".partial-download.tmp", tmp_path / ".index.html.abcd1234.tmp"]
    for path in users:
        path.write_text("the user's")
    assert sweep_temp_files(tmp_path) == 1
    assert not mine.exists() and all(p.exists() for p in users)
    atomic_write(tmp_path / "a.html", b"x")  # its temporary file is one the sweep takes
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)] == []


def test_out_may_not_hold_the_feeds_own_files(
    make_feed: Callable[..., FeedMaker], tmp_path: Path
) -> None:
    feed = make_feed().listing("a.jsonl", [paper("A paper", "2026-11-10")])
    keep = feed.root / "listings" / ".partial-download.tmp"
    keep.write_text("a download in progress")
    runner = CliRunner()
    for out in (
        Path("/"),
        feed.root,
        feed.root / "listings",
        feed.root / "cache",
        feed.root.parent,
    ):
        result = runner.invoke(
            cli, ["run", str(feed.root), "--out", str(out), "--today", "2026-11-25"]
        )
        assert result.exit_code == 1, (out, result.output)
        assert "output folder" in result.output and "Traceback" not in result.output
        with pytest.raises(OutputError):
            run_command.run(load_config(feed.root), TODAY, out)
    assert keep.read_text() == "a download in progress"
    assert not (feed.root / "digest.sqlite").exists()  # refused before anything was done
    # A folder of its own is fine, even next to the feed.
    ok = runner.invoke(cli, ["run", str(feed.root), "--out", str(tmp_path / "own")])
    assert ok.exit_code in (0, 3), ok.output  # 3: the download is no listing (a warning)


# --- 4. --rebuild is a cold build ----------------------------------------------------------


def test_rebuild_rewrites_every_output_as_a_cold_build(
    make_feed: Callable[..., FeedMaker], tmp_path: Path
) -> None:
    feed = make_feed().listing(
        "a.jsonl",
        [paper("Diffusion one", "2026-11-03"), paper("Quantized two", "2026-11-10")],
    )
    built = feed.run()
    site = built.site
    (site / "2026-W46.html").write_text("edited by hand")
    (site / "2026-W45.md").unlink()
    (site / "rss.xml").write_bytes((site / "rss.xml").read_bytes().replace(b"Test", b"Tost"))
    with (site / "themes" / "diffusion.atom").open("ab") as handle:
        handle.write(b"<!-- appended -->\n")
    (site / "index.html").write_text("")
    run_command.run(built.cfg, TODAY, rebuild=True)
    cold = tmp_path / "cold"
    run_command.run(built.cfg, TODAY, cold)
    assert tree(site) == tree(cold)


# --- 5. read-only and full output folders --------------------------------------------------


@contextlib.contextmanager
def tmpfs(where: Path, options: str) -> Iterator[Path]:
    """A small tmpfs mounted at ``where`` (root only); skips the test when impossible."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)])
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def remount(where: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True)


@pytest.mark.parametrize("options", ["ro,size=1m", "size=12k"], ids=["read-only", "full"])
def test_unwritable_output_is_a_message_and_the_next_run_works(
    make_feed: Callable[..., FeedMaker], tmp_path: Path, options: str
) -> None:
    records = [paper(f"Diffusion paper {i}", "2026-11-10", "word " * 400) for i in range(12)]
    feed = make_feed().listing("a.jsonl", records)
    out = tmp_path / "mnt"
    with tmpfs(out, options):
        result = CliRunner().invoke(
            cli, ["run", str(feed.root), "--out", str(out), "--today", "2026-11-25"]
        )
        assert result.exit_code == 1, result.output
        assert str(out) in result.output and "Traceback" not in result.output
        assert not list(out.rglob(f"{TEMP_PREFIX}*"))
        cfg = load_config(feed.root)
        with Store(cfg.store) as store:
            assert store.weeks.published() == []  # nothing published that was not written
        remount(out, "rw,size=8m")
        run_command.run(cfg, TODAY, out)
        written = tree(out)
    run_command.run(cfg, TODAY, tmp_path / "cold")
    assert written == tree(tmp_path / "cold")
    with Store(cfg.store) as store:
        assert store.weeks.published() == ["2026-W46"]


# --- 6. email: an oversized record, the note ---------------------------------------------


def test_oversized_title_still_gives_a_readable_email(make_feed: Callable[..., FeedMaker]) -> None:
    huge = "Diffusion " + "enormous " * 12_000  # about 100 KB
    records = [paper(huge, "2026-11-10"), paper("Small one", "2026-11-11")]
    records.append(paper("Small two", "2026-11-12"))
    built = make_feed().listing("a.jsonl", records).run()
    email = mail.EmailConfig(
        sender="D <d@example.org>",
        list_id="t.example.org",
        unsubscribe=("https://x.org/u",),
        max_html_bytes=10_000,
    )
    with Store(built.cfg.store) as store:
        names = built.cfg.rules.section_names
        digest = group_week("2026-W46", store.papers.load("2026-W46"), names)
    msg = mail.compose(
        built.cfg,
        email,
        digest,
        recipient="a@example.org",
        uid="urn:x",
        now=dt.datetime(2026, 11, 25, tzinfo=dt.UTC),
    )
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    page = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for body in (text, page):
        assert "Small one" in body and "Small two" in body and "Diffusion enormous" in body
        assert "shows ;" not in body and "shows  " not in body
    assert len(mail.message_bytes(msg)) < 40_000


@pytest.mark.parametrize(
    ("count", "full", "listed", "note"),
    [
        (3, 3, 3, ""),
        (3, 1, 3, "This email shows the top paper in full and 2 more papers by title."),
        (
            5,
            2,
            3,
            "This email shows the top 2 papers in full and 1 more paper by title; "
            "2 more papers are only on the web.",
        ),
        (3, 0, 2, "This email shows 2 papers by title; 1 more paper is only on the web."),
        (2, 0, 0, "This email shows no paper in full or by title: 2 papers are only on the web."),
        (1, 0, 0, "This email shows no paper in full or by title: 1 paper is only on the web."),
    ],
)
def test_the_note_reads_right_in_every_case(count: int, full: int, listed: int, note: str) -> None:
    assert mail.shown_note(count, full, listed) == note


def test_an_escaped_listing_name_is_not_read_as_latex(
    make_feed: Callable[..., FeedMaker],
) -> None:
    # shown_name escapes U+202E as ``\u202e``: that is the name, not LaTeX's breve ``\u``
    feed = make_feed().listing("evil\u202e.jsonl", [paper("A paper", "2026-11-10")])
    built = feed.run()
    for page in ("2026-W46.html", "2026-W46.md"):
        text = (built.site / page).read_text()
        assert "\u0306" not in text, page
        assert "evil\\u202e.jsonl" in text.replace("\\\\", "\\"), page
