"""RSS and Atom: read back with feedparser (a real feed client) and checked strictly
against the required elements of RSS 2.0 and RFC 4287; ids and dates that never move
unless the content does; bounded, escaped once, valid when empty."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import feedparser
import pytest
from conftest import BuiltFeed, FeedMaker, paper
from lxml import etree

from digest import site
from digest.store import SCHEMA_VERSION, Store

ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "https://example.org/d/"


def parse(path: Path) -> Any:
    feed = feedparser.parse(path.read_bytes())
    assert feed.bozo == 0, getattr(feed, "bozo_exception", None)
    return feed


def items(path: Path) -> dict[str, tuple[str, str, str, str]]:
    """id -> (title, content, published, updated) as a reader sees them."""
    return {
        e.id: (e.title, e.content[0].value, e.published, dict.get(e, "updated", ""))
        for e in parse(path).entries
    }


def rfc3339(text: str | None) -> dt.datetime:
    assert text, "missing date"
    value = dt.datetime.fromisoformat(text)
    assert value.tzinfo is not None, text
    return value


def check_atom(path: Path, base: str, self_url: str) -> None:
    """RFC 4287's musts: feed id/title/updated once, an author, rel=self; per entry
    id/title/updated once, an alternate link; content typed; dates RFC 3339."""
    root = etree.parse(str(path)).getroot()
    assert root.tag == ATOM + "feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(ATOM + name)) == 1, name
    rfc3339(root.findtext(ATOM + "updated"))
    assert root.find(f"{ATOM}author/{ATOM}name") is not None
    selfs = [link.get("href") for link in root.findall(ATOM + "link") if link.get("rel") == "self"]
    assert selfs == [self_url]
    ids = []
    for entry in root.findall(ATOM + "entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(ATOM + name)) == 1, name
        ids.append(entry.findtext(ATOM + "id"))
        assert rfc3339(entry.findtext(ATOM + "published")) <= rfc3339(
            entry.findtext(ATOM + "updated")
        )
        links = [link for link in entry.findall(ATOM + "link") if link.get("rel", "alternate")]
        assert links and all(link.get("href", "").startswith("https://") for link in links)
        assert entry.find(ATOM + "content").get("type") == "html"
    assert len(ids) == len(set(ids))


def check_rss(path: Path, base: str, self_url: str) -> None:
    """RSS 2.0's required channel elements, a GUID and an RFC 822 date per item, the
    atom:link rel=self the RSS Advisory Board recommends."""
    root = etree.parse(str(path)).getroot()
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for name in ("title", "link", "description"):
        assert (channel.findtext(name) or "").strip(), name
    selfs = [
        link.get("href") for link in channel.findall(ATOM + "link") if link.get("rel") == "self"
    ]
    assert selfs == [self_url]
    guids = []
    for item in channel.findall("item"):
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "false"
        guids.append(guid.text)
        assert item.findtext("link", "").startswith("https://")
        assert email.utils.parsedate_to_datetime(item.findtext("pubDate")).tzinfo is not None
    assert len(guids) == len(set(guids))


def all_feeds(site: Path) -> list[Path]:
    return [
        site / "rss.xml",
        site / "atom.xml",
        *sorted(p for p in (site / "themes").iterdir() if p.suffix != ".html"),
    ]


# --- the example feed ---------------------------------------------------------------------


def test_example_feeds_parse_cleanly(built_example: BuiltFeed) -> None:
    site = built_example.site
    base = built_example.cfg.base_url
    for path in all_feeds(site):
        feed = parse(path)
        rel = str(path.relative_to(site))
        assert feed.version == (
            "atom10" if path.suffix == ".atom" or rel == "atom.xml" else "rss20"
        )
        selfs = [link.href for link in feed.feed.links if link.rel == "self"]
        assert selfs == [base + rel]
        for entry in feed.entries:
            if rel.startswith("themes/"):
                # A theme feed's item links to the paper, its body to the week page too.
                assert entry.link.startswith("https://")
                assert f'href="{base}20' in entry.content[0].value
            else:
                assert entry.link.startswith(base)
        (check_atom if feed.version == "atom10" else check_rss)(path, base, base + rel)
    weekly = parse(site / "rss.xml")
    assert [e.link for e in weekly.entries] == [base + "2026-W18.html", base + "2026-W11.html"]


def test_theme_feeds_hold_one_item_per_paper(built_example: BuiltFeed) -> None:
    site = built_example.site
    pages = {w: (site / f"{w}.html").read_text(encoding="utf-8") for w in ("2026-W11", "2026-W18")}
    feed = parse(site / "themes" / "surveys.atom")
    assert feed.feed.title == "Efficient ML reading digest: Surveys"
    assert feed.entries
    base = built_example.cfg.base_url
    for entry in feed.entries:
        # The item links to the paper (an arXiv title search: the example's listings
        # carry no URL); its body's second link is its place on the week page.
        assert entry.link.startswith("https://arxiv.org/search/?query=")
        body = entry.content[0].value
        assert f'href="{entry.link.replace("&", "&amp;")}"' in body
        week_link = body.split(f'href="{base}', 1)[1].split('"', 1)[0]
        page, anchor = week_link.split("#")
        assert f'id="{anchor}"' in pages[page.removesuffix(".html")]
        assert entry.id.endswith(":paper:" + anchor)
    rss = parse(site / "themes" / "surveys.xml")
    assert [e.id for e in rss.entries] == [e.id for e in feed.entries]


def test_latex_reads_as_unicode_in_feeds(built_example: BuiltFeed) -> None:
    titles = [e.title for p in all_feeds(built_example.site) for e in parse(p).entries]
    assert any("PixArt-α" in t for t in titles)
    assert not any("$\\" in t for t in titles)


# --- own feeds ----------------------------------------------------------------------------


def test_hostile_text_is_escaped_exactly_once(make_feed: Callable[..., FeedMaker]) -> None:
    title = "Diffusion <script>alert(1)</script> & <img src=x onerror=alert(2)> AT&T"
    feed = make_feed().listing("a.jsonl", [paper(title, "2026-03-09", "Uses 5 < 6 & 7 > 3.")])
    site = feed.run().site
    for name in ("themes/diffusion.atom", "themes/diffusion.xml"):
        entry = parse(site / name).entries[0]
        assert entry.title == title
        content = entry.content[0].value
        assert "Uses 5 &lt; 6 &amp; 7 &gt; 3." in content
        assert "&amp;lt;" not in content and "<script" not in content
    weekly = parse(site / "atom.xml").entries[0].content[0].value
    assert "Diffusion &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img" in weekly


def test_items_are_stable_and_new_weeks_leave_old_items_alone(
    make_feed: Callable[..., FeedMaker],
) -> None:
    feed = make_feed().listing(
        "a.jsonl", [paper("Diffusion one", "2026-03-09"), paper("Quantization two", "2026-03-10")]
    )
    first = feed.run(dt.date(2026, 3, 20))
    names = ["rss.xml", "atom.xml", "themes/diffusion.atom", "themes/quantization.xml"]
    before = {n: items(first.site / n) for n in names}
    # The same input again gives the same bytes (no clock inside).
    raw = {n: (first.site / n).read_bytes() for n in names}
    again = feed.run(dt.date(2026, 3, 21))
    assert {n: (again.site / n).read_bytes() for n in names} == raw
    assert not [w for w in again.report.build.written if w.endswith((".xml", ".atom"))]

    feed.listing("b.jsonl", [paper("Diffusion three", "2026-03-23")])
    later = feed.run(dt.date(2026, 3, 30))
    after = {n: items(later.site / n) for n in names}
    for name in names:
        for item_id, old in before[name].items():
            assert after[name][item_id] == old, f"{name}: {item_id} changed"
    assert len(after["rss.xml"]) == 2 and len(after["themes/diffusion.atom"]) == 2
    assert next(iter(after["rss.xml"])).endswith(":week:2026-W13")  # newest first


def test_item_date_moves_only_when_its_content_changes(
    make_feed: Callable[..., FeedMaker],
) -> None:
    feed = make_feed().listing("a.jsonl", [paper("Diffusion one", "2026-03-09")])
    feed.listing("b.jsonl", [paper("Quantization in W12", "2026-03-16")])
    first = feed.run(dt.date(2026, 3, 20))
    week11 = first.site / "atom.xml"
    old = {e.id: e for e in parse(week11).entries}
    # A late listing adds a paper to week 11: that issue's content changes, the other's not.
    feed.listing("c.jsonl", [paper("Late diffusion", "2026-03-10")])
    second = feed.run(dt.date(2026, 3, 25))
    new = {e.id: e for e in parse(second.site / "atom.xml").entries}
    assert new.keys() == old.keys()
    (w11,) = [i for i in new if i.endswith("2026-W11")]
    (w12,) = [i for i in new if i.endswith("2026-W12")]
    assert new[w11].published == old[w11].published == "2026-03-09T00:00:00+00:00"
    assert new[w11].updated == "2026-03-25T00:00:00+00:00" != old[w11].updated
    assert new[w12].updated == old[w12].updated and new[w12].content == old[w12].content


def test_ids_survive_a_change_of_base_url(make_feed: Callable[..., FeedMaker]) -> None:
    feed = make_feed().listing("a.jsonl", [paper("Diffusion one", "2026-03-09")])
    ids = [e.id for e in parse(feed.run().site / "themes/diffusion.atom").entries]
    text = (feed.root / "feed.yaml").read_text(encoding="utf-8")
    (feed.root / "feed.yaml").write_text(text.replace(BASE, "https://moved.example/"), "utf-8")
    moved = parse(feed.run().site / "themes/diffusion.atom")
    assert [e.id for e in moved.entries] == ids
    assert 'href="https://moved.example/' in moved.entries[0].content[0].value


def test_item_counts_are_bounded(make_feed: Callable[..., FeedMaker]) -> None:
    records = [paper(f"Diffusion {n}", f"2026-03-{n:02d}") for n in range(2, 30)]
    feed = make_feed(feed_items=2, theme_feed_items=3).listing("a.jsonl", records)
    site = feed.run().site
    weekly = parse(site / "rss.xml")
    assert [e.link.rsplit("/", 1)[1] for e in weekly.entries] == ["2026-W13.html", "2026-W12.html"]
    theme = parse(site / "themes/diffusion.atom")
    assert [e.title for e in theme.entries] == ["Diffusion 29", "Diffusion 28", "Diffusion 27"]


def test_feeds_without_items_are_still_valid(make_feed: Callable[..., FeedMaker]) -> None:
    built = make_feed().run()
    for path in all_feeds(built.site):
        feed = parse(path)
        assert feed.entries == []
        rel = str(path.relative_to(built.site))
        (check_atom if path.read_bytes().find(b"<feed") >= 0 else check_rss)(path, BASE, BASE + rel)
    # The theme with no papers in a feed that has some is a valid empty feed too.
    some = make_feed().listing("a.jsonl", [paper("Diffusion one", "2026-03-09")]).run()
    assert parse(some.site / "themes/quantization.atom").entries == []


def test_empty_weeks_make_explicit_issues_when_asked(make_feed: Callable[..., FeedMaker]) -> None:
    records = [paper("Diffusion early", "2026-03-02"), paper("Diffusion later", "2026-03-16")]
    today = dt.date(2026, 3, 31)
    on = parse(make_feed(empty_weeks=True).listing("a.jsonl", records).run(today).site / "rss.xml")
    summaries = {e.id.rsplit(":", 1)[1]: e.summary for e in on.entries}
    assert list(summaries) == ["2026-W13", "2026-W12", "2026-W11", "2026-W10"]
    assert summaries["2026-W11"] == summaries["2026-W13"] == "No new papers this week."
    off = parse(make_feed().listing("a.jsonl", records).run(today).site / "rss.xml")
    assert [e.id.rsplit(":", 1)[1] for e in off.entries] == ["2026-W12", "2026-W10"]


@pytest.mark.parametrize(
    ("formats", "present", "absent"),
    [
        (("rss", "theme_feeds"), ["rss.xml", "themes/diffusion.xml"], ["atom.xml"]),
        (("atom",), ["atom.xml"], ["rss.xml", "themes"]),
    ],
)
def test_formats_decide_which_feeds_exist(
    make_feed: Callable[..., FeedMaker],
    formats: tuple[str, ...],
    present: list[str],
    absent: list[str],
) -> None:
    feed = make_feed(formats=formats).listing("a.jsonl", [paper("Diffusion", "2026-03-09")])
    site = feed.run().site
    for name in present:
        assert (site / name).exists(), name
    for name in absent:
        assert not (site / name).exists(), name
    assert not (site / "themes" / "diffusion.atom").exists()


def test_feed_state_moved_by_migration_9_keeps_every_item(
    make_feed: Callable[..., FeedMaker], tmp_path: Path
) -> None:
    # A store of version 8 kept each item's dates in meta 'feed_item:ID' and a week's
    # issue in week.item: made here from a built store, through that old schema.
    feed = make_feed().listing("a.jsonl", [paper("Diffusion one", "2026-03-09")])
    feed.listing("b.jsonl", [paper("Quantization in W12", "2026-03-16")])
    feed.run(dt.date(2026, 3, 20))
    feed.listing("c.jsonl", [paper("Late diffusion", "2026-03-10")])  # W11 is updated
    built = feed.run(dt.date(2026, 3, 25))
    names = ["rss.xml", "atom.xml", "themes/diffusion.atom", "themes/quantization.xml"]
    before = {n: (built.site / n).read_bytes() for n in names}
    kept = {n: items(built.site / n) for n in names}
    db = sqlite3.connect(built.cfg.store)
    items_before = db.execute("SELECT * FROM feed_item ORDER BY id").fetchall()
    (uid,) = db.execute("SELECT value FROM meta WHERE key='feed_uid'").fetchone()
    db.execute("ALTER TABLE week ADD COLUMN item TEXT NOT NULL DEFAULT ''")
    for item_id, fp, published, updated, draft in items_before:
        if draft is not None:
            week = item_id.removeprefix(f"{uid}:week:")
            db.execute("UPDATE week SET item=? WHERE week=?", (draft, week))
        if published is not None:
            dates = {"fingerprint": fp, "published": published, "updated": updated}
            value = json.dumps(dates, sort_keys=True)
            db.execute("INSERT INTO meta(key, value) VALUES(?, ?)", ("feed_item:" + item_id, value))
    db.execute("DROP TABLE feed_item")
    db.execute("UPDATE meta SET value='8' WHERE key='schema_version'")
    db.commit()
    db.close()
    assert sum(1 for r in items_before if r[4] is not None) == 2  # both weeks' drafts
    assert sum(1 for r in items_before if r[2] is not None) == 5  # 2 issues, 3 papers

    # Migrated, the next runs write the same feeds: in the same folder (entries reused
    # through the manifest), and in an empty one (every item made and dated again).
    again = feed.run(dt.date(2026, 4, 10))
    assert {n: (again.site / n).read_bytes() for n in names} == before
    with Store(again.cfg.store) as store:
        assert store.version == SCHEMA_VERSION
        items_after = store.db.execute("SELECT * FROM feed_item ORDER BY id").fetchall()
        assert [tuple(r) for r in items_after] == items_before
        assert not store.db.execute(
            "SELECT 1 FROM meta WHERE key LIKE 'feed^_item:%' ESCAPE '^'"
        ).fetchall()
        columns = {r[1] for r in store.db.execute("PRAGMA table_info(week)")}
        assert "item" not in columns
        site.build(again.cfg, store, tmp_path / "fresh", dt.date(2026, 4, 10))
    assert {n: (tmp_path / "fresh" / n).read_bytes() for n in names} == before
    # A new week later: every item of before keeps its id, content and dates.
    feed.listing("d.jsonl", [paper("Diffusion four", "2026-04-06")])
    later = feed.run(dt.date(2026, 4, 12))
    for name in names:
        after = items(later.site / name)
        for item_id, old_item in kept[name].items():
            assert after[item_id] == old_item, f"{name}: {item_id} changed"
        assert len(after) > len(kept[name]) or name == "themes/quantization.xml"


def test_a_run_reads_and_writes_only_the_feeds_of_the_themes_it_touched(
    make_feed: Callable[..., FeedMaker], monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = make_feed().listing(
        "a.jsonl",
        [
            paper("Compression one", "2026-03-09", "We study diffusion samplers."),
            paper("Quantization two", "2026-03-10"),
        ],
    )
    feed.run(dt.date(2026, 3, 11))
    loaded: list[str] = []
    load = site.feedset.PreviousDocuments.load

    def spy(self: site.feedset.PreviousDocuments, href: str, *, atom: bool) -> Any:
        loaded.append(href)
        return load(self, href, atom=atom)

    monkeypatch.setattr(site.feedset.PreviousDocuments, "load", spy)
    # A new diffusion paper: the quantization feeds are neither read nor written.
    feed.listing("b.jsonl", [paper("Diffusion three", "2026-03-11")])
    second = feed.run(dt.date(2026, 3, 12))
    themes = {w for w in second.report.build.written if w.startswith("themes/")}
    # (and the diffusion theme's page: tests/test_topics.py)
    assert themes == {"themes/diffusion.xml", "themes/diffusion.atom", "themes/diffusion.html"}
    assert not [h for h in loaded if "quantization" in h]
    assert [e.title for e in parse(second.site / "themes/diffusion.atom").entries] == [
        "Diffusion three", "Compression one",
    ]  # fmt: skip

    # A new version moves a paper from one theme to the other: both feeds follow.
    loaded.clear()
    feed.listing("c.jsonl", [paper("Compression one", "2026-03-12", "We quantize weights.")])
    third = feed.run(dt.date(2026, 3, 13))
    themes = {w for w in third.report.build.written if w.startswith("themes/")}
    assert themes == {
        f"themes/{t}.{x}" for t in ("diffusion", "quantization") for x in ("xml", "atom", "html")
    }
    assert [e.title for e in parse(third.site / "themes/diffusion.atom").entries] == [
        "Diffusion three"
    ]
    assert {e.title for e in parse(third.site / "themes/quantization.xml").entries} == {
        "Compression one", "Quantization two",
    }  # fmt: skip
    # And the result is what a build from scratch makes.
    fresh = make_feed()
    for name in ("a.jsonl", "b.jsonl", "c.jsonl"):
        (fresh.root / "listings" / name).write_bytes((feed.root / "listings" / name).read_bytes())
    scratch = fresh.run(dt.date(2026, 3, 13))
    for name in ("diffusion.xml", "diffusion.atom", "quantization.xml", "quantization.atom"):
        made, kept = items(scratch.site / "themes" / name), items(third.site / "themes" / name)
        assert {k: v[:2] for k, v in made.items()} == {k: v[:2] for k, v in kept.items()}


def test_theme_items_carry_authors_and_link_to_the_paper(
    make_feed: Callable[..., FeedMaker],
) -> None:
    authors = ["Ann <One>", "Bo & Two"]
    record = paper(
        "Diffusion one", "2026-03-09", "A diffusion model.",
        url="https://arxiv.org/abs/2403.01234", id="arXiv:2403.01234", authors=authors,
    )  # fmt: skip
    built = make_feed().listing("a.jsonl", [record]).run()
    rss = parse(built.site / "themes/diffusion.xml")
    atom = parse(built.site / "themes/diffusion.atom")
    for feed in (rss, atom):
        assert not feed.bozo, feed.bozo_exception
        (entry,) = feed.entries
        assert [a["name"] for a in entry.authors] == authors
        assert entry.link == "https://arxiv.org/abs/2403.01234"
        body = entry.content[0].value
        assert 'href="https://arxiv.org/pdf/2403.01234"' in body
        assert 'href="https://example.org/d/2026-W11.html#p' in body
    raw = (built.site / "themes/diffusion.xml").read_text(encoding="utf-8")
    assert "<dc:creator>Ann &lt;One&gt;</dc:creator>" in raw
    # The weekly issue opens with the top picks, titles linking to the papers.
    weekly = parse(built.site / "rss.xml").entries[0].content[0].value
    assert 'id="top-picks"' in weekly and 'href="https://arxiv.org/abs/2403.01234"' in weekly


def _same_as_from_scratch(
    make_feed: Callable[..., FeedMaker],
    feed: FeedMaker,
    names: list[str],
    built: BuiltFeed,
    today: dt.date,
    files: tuple[str, ...],
) -> None:
    """``built``'s files ``names`` show what a build from scratch of the same feed does."""
    fresh = make_feed()
    (fresh.root / "feed.yaml").write_bytes((feed.root / "feed.yaml").read_bytes())
    for name in files:
        source = feed.root / name
        (fresh.root / name).parent.mkdir(parents=True, exist_ok=True)
        (fresh.root / name).write_bytes(source.read_bytes())
    scratch = fresh.run(today)
    for name in names:
        ours, theirs = built.site / name, scratch.site / name
        if name.endswith((".xml", ".atom")):  # item dates tell when each build met it
            got = [
                (e.id, e.title, e.get("summary"), e.content[0].value) for e in parse(ours).entries
            ]
            want = [
                (e.id, e.title, e.get("summary"), e.content[0].value) for e in parse(theirs).entries
            ]
            assert got == want, name
        else:
            assert ours.read_text() == theirs.read_text(), name


def test_a_paper_filed_under_a_theme_by_the_curator_follows_its_new_version(
    make_feed: Callable[..., FeedMaker],
) -> None:
    feed = make_feed().listing(
        "a.jsonl",
        [
            paper("Compression one", "2026-03-09", "We study diffusion samplers."),
            paper("Quantization two", "2026-03-10", "We quantize weights."),
        ],
    )
    curation = 'papers:\n  - title: "Compression one"\n    theme: Quantization\n'
    (feed.root / "curation.yaml").write_text(curation, encoding="utf-8")
    feed.run(dt.date(2026, 3, 11))
    # A new version: stored under Diffusion still, shown under Quantization.
    feed.listing("b.jsonl", [paper("Compression one", "2026-03-12", "We study it again.")])
    built = feed.run(dt.date(2026, 3, 13))
    files = ("listings/a.jsonl", "listings/b.jsonl", "curation.yaml")
    names = ["themes/quantization.atom", "themes/quantization.xml"]
    _same_as_from_scratch(make_feed, feed, names, built, dt.date(2026, 3, 13), files)


def test_a_link_a_later_sighting_brings_reaches_the_theme_feed(
    make_feed: Callable[..., FeedMaker],
) -> None:
    def hf(day: str, repo: str | None = None) -> str:
        item = {"id": "2603.01234", "title": "Diffusion one", "summary": "We study samplers.",
                "authors": [{"name": "A B"}], "submittedOnDailyAt": day + "T10:00:00Z"}  # fmt: skip
        return json.dumps([{"paper": item | ({"githubRepo": repo} if repo else {})}])

    feed = make_feed()
    (feed.root / "listings" / "hf1.json").write_text(hf("2026-03-09"), encoding="utf-8")
    feed.run(dt.date(2026, 3, 11))
    later = hf("2026-03-10", "https://github.com/x/y")
    (feed.root / "listings" / "hf2.json").write_text(later, encoding="utf-8")
    built = feed.run(dt.date(2026, 3, 12))
    assert "https://github.com/x/y" in (built.site / "themes/diffusion.atom").read_text()
    files = ("listings/hf1.json", "listings/hf2.json")
    names = ["themes/diffusion.atom", "themes/diffusion.xml"]
    _same_as_from_scratch(make_feed, feed, names, built, dt.date(2026, 3, 12), files)


@pytest.mark.parametrize("change", ["top_picks", "weight"])
def test_a_change_of_picks_or_weights_renders_what_a_build_from_scratch_does(
    make_feed: Callable[..., FeedMaker], change: str
) -> None:
    feed = make_feed().listing(
        "a.jsonl",
        [
            paper("Diffusion one", "2026-03-09", "We study diffusion samplers."),
            paper("Quantization two", "2026-03-10", "We quantize weights."),
            paper("Quantization three", "2026-03-10", "We quantize weights more."),
        ],
    )
    feed.run(dt.date(2026, 3, 11))
    yaml_path = feed.root / "feed.yaml"
    text = yaml_path.read_text(encoding="utf-8")
    if change == "top_picks":
        text += "reading:\n  top_picks: 1\n"
    else:
        text = text.replace('any: ["quantiz*"]', 'any: ["quantiz*"]\n    weight: 5')
    yaml_path.write_text(text, encoding="utf-8")
    built = feed.run(dt.date(2026, 3, 11))
    names = ["2026-W11.html", "2026-W11.md", "rss.xml", "atom.xml"]
    _same_as_from_scratch(
        make_feed, feed, names, built, dt.date(2026, 3, 11), ("listings/a.jsonl",)
    )
