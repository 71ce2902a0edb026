"""Theme and tag pages: every theme's and tag's papers across weeks, newest first,
paginated from the oldest paper so that full pages never change; linked from every card
and from the archive; a run renders only the pages whose papers changed."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import lxml.html
import pytest
from conftest import TODAY, FeedMaker, paper

from digest import output
from digest.commands import run as run_command
from digest.config import load_config
from digest.site import topics
from digest.site.manifest import MANIFEST

Maker = Callable[..., FeedMaker]


def ids_and_titles(path: object) -> list[str]:
    doc = lxml.html.parse(str(path)).getroot()
    return [str(t) for t in doc.xpath("//article[@class='paper']/h3/a/text()")]


def pager(path: object) -> dict[str, str]:
    doc = lxml.html.parse(str(path)).getroot()
    nav = doc.xpath("//nav[@class='pager']")[0]
    return {str(a.get("rel")): str(a.get("href")) for a in nav.xpath("a")}


def diffusion(n: int, day: int) -> dict[str, str]:
    return paper(f"Diffusion paper {n:02d}", f"2026-03-{day:02d}", "A diffusion model.")


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(topics, "PAGE_SIZE", 3)


@pytest.mark.usefixtures("small_pages")
def test_pages_newest_first_from_the_oldest_and_only_changed_ones_rendered(
    make_feed: Maker,
) -> None:
    feed = make_feed()
    feed.listing("a.jsonl", [diffusion(n, n + 1) for n in range(1, 8)])
    feed.listing("q.jsonl", [paper("A quantization paper", "2026-03-02", "We quantize.")])
    built = feed.run()
    themes, tags = built.site / "themes", built.site / "tags"
    # 7 papers, 3 a page from the oldest: [1-3] [4-6] [7]; the newest page is SLUG.html.
    assert ids_and_titles(themes / "diffusion.html") == ["Diffusion paper 07"]
    assert ids_and_titles(themes / "diffusion.2.html") == [
        f"Diffusion paper {n:02d}" for n in (6, 5, 4)
    ]
    assert ids_and_titles(themes / "diffusion.1.html") == [
        f"Diffusion paper {n:02d}" for n in (3, 2, 1)
    ]
    assert pager(themes / "diffusion.html") == {"next": "diffusion.2.html"}
    assert pager(themes / "diffusion.2.html") == {
        "prev": "diffusion.html",
        "next": "diffusion.1.html",
    }
    assert ids_and_titles(tags / "diffusion.html") == ["Diffusion paper 07"]
    assert ids_and_titles(tags / "quantization.html") == ["A quantization paper"]

    # Cards link to their theme's and tags' pages; the theme pages link back to the cards.
    week = lxml.html.parse(str(built.site / "2026-W10.html")).getroot()
    card = week.xpath("//article[@class='paper'][h3/a='Diffusion paper 01']")[0]
    assert card.xpath(".//ul[@class='tags']/li/a/@href") == [
        "themes/diffusion.html",
        "tags/diffusion.html",
    ]
    listed = lxml.html.parse(str(themes / "diffusion.1.html")).getroot()
    first = listed.xpath("//article[h3/a='Diffusion paper 01']")[0]
    assert first.xpath(".//p[@class='meta']/a/@href") == [f"../2026-W10.html#{first.get('id')}"]
    assert first.xpath(".//ul[@class='tags']/li/a/@href") == [
        "../themes/diffusion.html",
        "../tags/diffusion.html",
    ]
    # The archive links to every theme and tag page, and lists each week's top picks.
    index = lxml.html.parse(str(built.site / "index.html")).getroot()
    browse = set(index.xpath("//section[@aria-labelledby='browse_h']//a/@href"))
    assert {"themes/diffusion.html", "tags/diffusion.html", "tags/quantization.html"} <= browse
    picks = index.xpath("//ol[@class='picks-list']/li/a[1]/text()")
    assert picks and all(isinstance(t, str) for t in picks)
    assert set(picks) <= {f"Diffusion paper {n:02d}" for n in range(1, 8)} | {
        "A quantization paper"
    }

    # One more diffusion paper: the newest pages of its theme and tag, nothing older,
    # nothing of the quantization theme.
    feed.listing("b.jsonl", [diffusion(8, 20)])
    again = feed.run()
    written = set(again.report.build.written)
    assert {"themes/diffusion.html", "tags/diffusion.html"} <= written
    assert not {
        "themes/diffusion.1.html", "themes/diffusion.2.html", "themes/quantization.html",
        "tags/quantization.html", "tags/diffusion.1.html",
    } & written  # fmt: skip
    assert ids_and_titles(themes / "diffusion.html") == ["Diffusion paper 08", "Diffusion paper 07"]

    # Two more fill page 3: it is written as diffusion.3.html, page 2's "newer" link
    # moves to it, page 1 stays as it was.
    feed.listing("c.jsonl", [diffusion(9, 21), diffusion(10, 22)])
    third = feed.run()
    written = set(third.report.build.written)
    assert {
        "themes/diffusion.html",
        "themes/diffusion.3.html",
        "themes/diffusion.2.html",
    } <= written
    assert "themes/diffusion.1.html" not in written
    assert ids_and_titles(themes / "diffusion.html") == ["Diffusion paper 10"]
    assert pager(themes / "diffusion.2.html")["prev"] == "diffusion.3.html"

    # A run with nothing new writes no page at all.
    assert feed.run().report.build.written == []


def test_tag_index_follows_every_write_to_papers(make_feed: Maker) -> None:
    """``paper_tag`` and ``tag_state`` are kept by triggers: a retag moves a paper between
    tags and bumps both tags' versions."""
    feed = make_feed()
    feed.listing("a.jsonl", [paper("Diffusion one", "2026-03-02", "A diffusion model.")])
    built = feed.run()
    db = sqlite3.connect(built.root / "digest.sqlite")
    assert db.execute("SELECT tag FROM paper_tag").fetchall() == [("diffusion",)]
    before = dict(db.execute("SELECT tag, version FROM tag_state").fetchall())
    with db:
        db.execute("UPDATE paper SET tags='[\"quantization\"]'")
    assert db.execute("SELECT tag FROM paper_tag").fetchall() == [("quantization",)]
    after = dict(db.execute("SELECT tag, version FROM tag_state").fetchall())
    assert after["diffusion"] == before["diffusion"] + 1
    assert after["quantization"] == 1
    with db:
        db.execute("DELETE FROM sighting")
        db.execute("DELETE FROM paper")
    assert db.execute("SELECT COUNT(*) FROM paper_tag").fetchone() == (0,)
    db.close()


class CountingCards(topics.Cards):
    """The cards of every build, so a test can count how many each rendered."""

    made: ClassVar[list[topics.Cards]] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        CountingCards.made.append(self)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[topics.Cards]:
    CountingCards.made = []
    monkeypatch.setattr(topics, "Cards", CountingCards)
    return CountingCards.made


def topic_files(site: object) -> dict[str, bytes]:
    root = Path(str(site))
    return {
        str(p.relative_to(root)): p.read_bytes()
        for folder in ("themes", "tags")
        for p in sorted((root / folder).glob("*.html"))
    }


@pytest.mark.usefixtures("small_pages")
def test_each_card_rendered_once_kept_and_rendered_again_only_when_stale(
    make_feed: Maker, counted: list[topics.Cards]
) -> None:
    feed = make_feed()
    feed.listing("a.jsonl", [diffusion(n, n + 1) for n in range(1, 8)])
    feed.listing("q.jsonl", [paper("A quantization paper", "2026-03-02", "We quantize.")])
    built = feed.run()
    # Each diffusion paper is on a theme page and a tag page: rendered once.
    assert counted[-1].rendered == 8
    db = sqlite3.connect(built.cfg.store)
    assert db.execute("SELECT COUNT(*) FROM topic_card").fetchone() == (8,)

    # A new paper: its card only, though the newest pages of its theme and tag are new.
    feed.listing("b.jsonl", [diffusion(8, 20)])
    again = feed.run()
    assert counted[-1].rendered == 1
    assert "themes/diffusion.html" in again.report.build.written

    # A paper whose shown fields change is rendered again, and its pages follow.
    (pid,) = db.execute(
        "SELECT p.id FROM paper p JOIN text t ON t.id = p.text_id "
        "WHERE t.title='Diffusion paper 08'"
    ).fetchone()
    with db:
        db.execute("UPDATE paper SET url='https://example.org/moved' WHERE id=?", (pid,))
    feed.run()
    assert counted[-1].rendered == 1
    page = lxml.html.parse(str(built.site / "themes" / "diffusion.html")).getroot()
    assert page.xpath(f"//article[@id='{pid}']/h3/a/@href") == ["https://example.org/moved"]

    # A kept card whose stamp is not this build's is never shown: pages a build must
    # write again (here: removed from the folder) render that paper anew.
    with db:
        db.execute("UPDATE topic_card SET stamp=x'00', html=x'00' WHERE paper_id=?", (pid,))
    for name in topic_files(built.site):
        (built.site / name).unlink()
    feed.run()
    assert counted[-1].rendered == 1
    assert db.execute("SELECT COUNT(*) FROM topic_card WHERE stamp=x'00'").fetchone() == (0,)
    db.close()

    # Other settings (here the site title, which no card shows but the fingerprint of
    # the build holds): every card rendered again, not trusted across settings.
    text = (feed.root / "feed.yaml").read_text(encoding="utf-8")
    (feed.root / "feed.yaml").write_text(text.replace("Test digest", "Test digest 2"))
    feed.run()
    assert counted[-1].rendered == 9


@pytest.mark.usefixtures("small_pages")
def test_pages_built_run_by_run_are_byte_identical_to_one_build(make_feed: Maker) -> None:
    days = [diffusion(n, n + 1) for n in range(1, 11)]
    quant = [paper(f"Quantization {n}", f"2026-03-{n + 2:02d}", "We quantize.") for n in range(4)]
    step = make_feed()
    for n in range(0, 10, 3):
        step.listing(f"d{n}.jsonl", days[n : n + 3])
        step.listing(f"q{n}.jsonl", quant[n // 3 : n // 3 + 1])
        stepwise = step.run()
    whole = make_feed()
    whole.listing("d.jsonl", days).listing("q.jsonl", quant)
    at_once = whole.run()
    assert topic_files(stepwise.site) == topic_files(at_once.site)
    assert len(topic_files(at_once.site)) >= 6


def test_a_store_of_version_14_gains_the_card_cache_and_change_numbers(
    make_feed: Maker,
) -> None:
    feed = make_feed()
    feed.listing("a.jsonl", [diffusion(n, n + 1) for n in range(1, 4)])
    built = feed.run()
    pages = topic_files(built.site)
    db = sqlite3.connect(built.cfg.store)
    with db:
        db.execute("DROP TABLE topic_card")
        for trigger in ("paper_seq_insert", "paper_seq_update", "sighting_extra_seq"):
            db.execute(f"DROP TRIGGER {trigger}")
        db.execute("DROP INDEX paper_seq")
        db.execute("DROP TABLE paper_seq_counter")
        db.execute("ALTER TABLE paper DROP COLUMN seq")
        db.execute("UPDATE meta SET value='14' WHERE key='schema_version'")
    for name in pages:
        (built.site / name).unlink()
    feed.run()
    assert topic_files(built.site) == pages
    assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("16",)
    assert db.execute("SELECT COUNT(*) FROM topic_card").fetchone() == (3,)
    assert db.execute("SELECT MAX(seq) FROM paper").fetchone() == (0,)
    feed.listing("b.jsonl", [diffusion(4, 20)])
    feed.run()
    assert db.execute("SELECT seq FROM paper WHERE seq > 0").fetchall() == [(1,)]
    assert db.execute("SELECT n FROM paper_seq_counter").fetchall() == [(1,)]
    db.close()


def title_id(db: sqlite3.Connection, title: str) -> str:
    row = db.execute(
        "SELECT p.id FROM paper p JOIN text t ON t.id = p.text_id WHERE t.title=?", (title,)
    ).fetchone()
    return str(row[0])


@pytest.mark.usefixtures("small_pages")
def test_a_changed_topic_reads_only_the_pages_a_change_can_touch(
    make_feed: Maker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run reads of a changed topic the pages of its papers added or changed since the
    last build (``paper.seq``) and the newest two, not its whole history; a change it
    cannot place (a paper removed, one before the first page) reads it whole; the pages
    come out as a build from scratch makes them."""
    starts: list[tuple[str, int]] = []
    read: dict[str, list[int]] = {}
    from_changes = topics._from_changes

    def spy(record: object, topic: topics.Topic, *args: object) -> topics.Layout | None:
        got = from_changes(record, topic, *args)  # type: ignore[arg-type]
        key = f"{topic.kind}:{topic.key}"
        starts.append((key, min(got.pages) if got else 1))
        read[key] = sorted(got.pages) if got else []
        return got

    monkeypatch.setattr(topics, "_from_changes", spy)
    feed = make_feed()
    feed.listing("a.jsonl", [diffusion(n, n + 1) for n in range(1, 14)])
    built = feed.run()
    assert starts == []  # nothing recorded: read whole
    themes = built.site / "themes"

    # 13 papers, 3 a page: 5 pages. Two more: read from page 4 (the one before the newest).
    feed.listing("b.jsonl", [diffusion(14, 20), diffusion(15, 21)])
    second = feed.run()
    assert sorted(starts) == [("tag:diffusion", 4), ("theme:Diffusion", 4)]
    assert not {f"themes/diffusion.{n}.html" for n in (1, 2, 3)} & set(second.report.build.written)

    # A change to a paper of page 2: read from page 2; page 1 as it was.
    db = sqlite3.connect(built.cfg.store)
    pid = title_id(db, "Diffusion paper 05")
    (url,) = db.execute("SELECT url FROM paper WHERE id=?", (pid,)).fetchone()
    with db:
        db.execute("UPDATE paper SET url='https://example.org/five' WHERE id=?", (pid,))
    starts.clear()
    third = feed.run()
    assert sorted(starts) == [("tag:diffusion", 2), ("theme:Diffusion", 2)]
    assert read["tag:diffusion"] == [2, 4, 5]  # its page, and the newest two
    written = set(third.report.build.written)
    assert "themes/diffusion.2.html" in written and "themes/diffusion.1.html" not in written
    assert "https://example.org/five" in (themes / "diffusion.2.html").read_text()
    with db:  # and back: the same again
        db.execute("UPDATE paper SET url=? WHERE id=?", (url, pid))
    feed.run()

    # A paper of page 1 gone from the tag, and one of page 3 changed: the tag cannot
    # place the removal (its count before page 3 is short by one): read whole.
    one, seven = title_id(db, "Diffusion paper 01"), title_id(db, "Diffusion paper 07")
    (tags,) = db.execute("SELECT tags FROM paper WHERE id=?", (one,)).fetchone()
    with db:
        db.execute("UPDATE paper SET tags='[]' WHERE id=?", (one,))
        db.execute("UPDATE paper SET url='https://example.org/seven' WHERE id=?", (seven,))
    starts.clear()
    feed.run()
    assert ("tag:diffusion", 1) in starts
    tag_pages = topic_files(built.site)
    assert b"Diffusion paper 01" not in b"".join(v for k, v in tag_pages.items() if "tags/" in k)
    with db:
        db.execute("UPDATE paper SET tags=? WHERE id=?", (tags, one))
        db.execute("UPDATE paper SET url=? WHERE id=?", (url, seven))
    db.close()
    feed.run()

    # A paper first seen before every other (backfilled) shifts every page: read whole.
    feed.listing("c.jsonl", [diffusion(0, 1)])
    starts.clear()
    feed.run()
    assert sorted(starts) == [("tag:diffusion", 1), ("theme:Diffusion", 1)]
    feed.listing("d.jsonl", [diffusion(16, 22)])
    feed.run()

    whole = make_feed()
    records = [diffusion(n, n + 1) for n in range(1, 14)]
    records += [diffusion(14, 20), diffusion(15, 21), diffusion(0, 1), diffusion(16, 22)]
    whole.listing("a.jsonl", records)
    assert topic_files(built.site) == topic_files(whole.run().site)


@pytest.mark.usefixtures("small_pages")
@pytest.mark.parametrize("seed", range(3))
def test_pages_built_from_changes_match_a_build_from_scratch(make_feed: Maker, seed: int) -> None:
    """Random runs (papers added at any date, papers changed, moved out of and back
    into a tag): after each, the theme and tag pages built from the changes are those
    a build into an empty folder makes."""
    rng = random.Random(seed)
    feed = make_feed()
    feed.listing("0.jsonl", [diffusion(n, rng.randint(1, 28)) for n in range(12)])
    built = feed.run()
    db = sqlite3.connect(built.cfg.store)
    number = 12
    for step in range(1, 7):
        new = [diffusion(number + k, rng.randint(1, 28)) for k in range(rng.randint(0, 4))]
        number += len(new)
        feed.listing(f"{step}.jsonl", new)
        ids = [str(r[0]) for r in db.execute("SELECT id FROM paper ORDER BY id")]
        with db:
            for pid in rng.sample(ids, 2):
                db.execute("UPDATE paper SET url=? WHERE id=?", (f"https://e.org/{step}", pid))
            pid = rng.choice(ids)
            tags = '["diffusion"]' if rng.random() < 0.5 else "[]"
            db.execute("UPDATE paper SET tags=? WHERE id=?", (tags, pid))
        feed.run()
        scratch = feed.root / f"scratch{step}"
        run_command.run(built.cfg, TODAY, scratch)
        assert topic_files(built.site) == topic_files(scratch), step
    db.close()


def scratch_files(feed: FeedMaker) -> dict[str, bytes]:
    """The theme and tag pages a build of the feed's store into an empty folder makes."""
    scratch = feed.root / "scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    run_command.run(load_config(feed.root), TODAY, scratch)
    return topic_files(scratch)


def set_rows(db: sqlite3.Connection, sql: str, *titles: str) -> None:
    with db:
        for title in titles:
            db.execute(sql, (title_id(db, title),))


@pytest.mark.usefixtures("small_pages")
@pytest.mark.parametrize("gone", [[13], [10, 11, 12, 13]])
def test_a_topic_that_shrinks_to_its_newest_pages_is_read_whole(
    make_feed: Maker, gone: list[int]
) -> None:
    """13 papers (5 pages). The newest page emptied (or the newest two), and a paper of
    an older page changed: the page before the newest moves, so the topic is read whole
    (found in review: the older page kept a link to a page that no longer exists)."""
    feed = make_feed()
    feed.listing("a.jsonl", [diffusion(n, n + 1) for n in range(1, 14)])
    built = feed.run()
    db = sqlite3.connect(built.cfg.store)
    set_rows(db, "UPDATE paper SET tags='[]' WHERE id=?", *(f"Diffusion paper {n}" for n in gone))
    set_rows(db, "UPDATE paper SET url='https://e.org/2' WHERE id=?", "Diffusion paper 02")
    db.close()
    feed.run()
    assert topic_files(built.site) == scratch_files(feed)  # the emptied pages removed too


@pytest.mark.usefixtures("small_pages")
def test_pages_of_a_curated_build_are_not_kept_once_curation_ends(make_feed: Maker) -> None:
    """Built with a paper hidden and one filed under the theme; the decisions removed and
    one paper added: no paper's change number moved, yet both pages change (found in
    review)."""
    feed = make_feed()
    feed.listing("a.jsonl", [diffusion(n, n + 1) for n in range(1, 14)])
    feed.listing("q.jsonl", [paper("Quantization paper Q", "2026-03-09", "We quantize.")])
    (feed.root / "curation.yaml").write_text(
        "papers:\n"
        "  - title: Diffusion paper 05\n    hide: true\n"
        "  - title: Quantization paper Q\n    theme: Diffusion\n"
    )
    built = feed.run()
    assert "Quantization paper Q" in (built.site / "themes" / "diffusion.3.html").read_text()
    (feed.root / "curation.yaml").unlink()
    feed.listing("b.jsonl", [diffusion(20, 25)])
    feed.run()
    assert topic_files(built.site) == scratch_files(feed)


@pytest.mark.usefixtures("small_pages")
def test_change_numbers_never_go_back_when_papers_are_deleted(make_feed: Maker) -> None:
    """The paper holding the newest change number deleted (as re-resolving identity
    does), and a paper of page 2: the next paper stored still gets a number after the
    recorded one, so its page is read (found in review: MAX(seq) + 1 gave it again)."""
    feed = make_feed()
    feed.listing("a.jsonl", [diffusion(n, n + 1) for n in range(1, 14)])
    built = feed.run()
    db = sqlite3.connect(built.cfg.store)
    (recorded,) = db.execute("SELECT MAX(seq) FROM paper").fetchone()
    (newest,) = db.execute("SELECT id FROM paper ORDER BY seq DESC LIMIT 1").fetchone()
    gone = title_id(db, "Diffusion paper 05")
    with db:
        db.execute("DELETE FROM sighting WHERE paper_id IN (?, ?)", (newest, gone))
        db.execute("DELETE FROM paper WHERE id IN (?, ?)", (newest, gone))
    older = paper("Diffusion paper 07b", "2026-03-08", "A diffusion model.")
    feed.listing("b.jsonl", [older, diffusion(20, 25), diffusion(21, 26), diffusion(22, 27)])
    feed.run()
    seven_b = title_id(db, "Diffusion paper 07b")
    assert db.execute("SELECT seq FROM paper WHERE id=?", (seven_b,)).fetchone()[0] > recorded
    db.close()
    assert topic_files(built.site) == scratch_files(feed)


@pytest.mark.usefixtures("small_pages")
def test_pages_a_topic_no_longer_has_are_removed_even_after_a_failed_build(
    make_feed: Maker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """7 papers tagged diffusion (pages [1-3] [4-6] [7]) and one quantization paper. Three
    papers lose the tag (two pages left) and the quantization tag goes: the pages they
    no longer have are removed, as a build into an empty folder never makes them, also
    when the build that removed them stopped before its manifest (the next build, not
    finding them, reads those topics again). Nothing a hand-edited manifest names
    outside the page names is touched."""
    feed = make_feed()
    feed.listing("a.jsonl", [diffusion(n, n + 1) for n in range(1, 8)])
    feed.listing("q.jsonl", [paper("A quantization paper", "2026-03-02", "We quantize.")])
    built = feed.run()
    tags = built.site / "tags"
    assert {p.name for p in tags.glob("*.html")} == {
        "diffusion.1.html", "diffusion.2.html", "diffusion.html", "quantization.html"
    }  # fmt: skip
    keep = built.site / "keep.html"
    keep.write_text("a file of the user's")
    manifest = built.site / MANIFEST
    entry = json.loads(manifest.read_text())
    entry["topics"]["tag:x"] = {"pages": {"../keep.html": "x", "/etc/hosts": "x"}}
    manifest.write_text(json.dumps(entry))

    db = sqlite3.connect(built.cfg.store)
    set_rows(db, "UPDATE paper SET tags='[]' WHERE id=?", "A quantization paper")
    assert feed.run().report.build.removed == ["tags/quantization.html"]
    assert keep.read_text() == "a file of the user's"
    assert "tag:x" not in json.loads(manifest.read_text())["topics"]

    set_rows(
        db, "UPDATE paper SET tags='[]' WHERE id=?", *(f"Diffusion paper 0{n}" for n in (5, 6, 7))
    )
    db.close()
    real = output.Writer.write

    def failing(self: output.Writer, relpath: str, data: str | bytes) -> bool:
        if relpath == MANIFEST:
            raise OSError(28, "No space left on device")
        return real(self, relpath, data)

    with monkeypatch.context() as broken:
        broken.setattr(output.Writer, "write", failing)
        with pytest.raises(OSError):
            feed.run()
    assert not (tags / "diffusion.2.html").exists()  # removed before the manifest failed
    assert (
        "diffusion.2.html" in json.loads(manifest.read_text())["topics"]["tag:diffusion"]["pages"]
    )
    feed.run()
    assert {p.name for p in tags.glob("*.html")} == {"diffusion.1.html", "diffusion.html"}
    assert topic_files(built.site) == scratch_files(feed)
    assert (
        "diffusion.2.html"
        not in json.loads(manifest.read_text())["topics"]["tag:diffusion"]["pages"]
    )


def test_a_replaced_store_does_not_inherit_the_folders_topic_record(make_feed: Maker) -> None:
    """The store deleted and made again from a changed listing: the new store's tag and
    theme versions are those the manifest records (one paper each), its papers are not;
    the manifest is not that store's, so its topic record is not trusted (found in
    review: the pages kept the old store's paper)."""
    feed = make_feed()
    feed.listing("a.jsonl", [paper("Diffusion paper A", "2026-03-02", "A diffusion model.")])
    built = feed.run()
    assert ids_and_titles(built.site / "tags" / "diffusion.html") == ["Diffusion paper A"]
    built.cfg.store.unlink()
    feed.listing("a.jsonl", [paper("Diffusion paper B", "2026-03-02", "A diffusion model.")])
    feed.run()
    for folder in ("tags", "themes"):
        assert ids_and_titles(built.site / folder / "diffusion.html") == ["Diffusion paper B"]
    assert topic_files(built.site) == scratch_files(feed)


def test_the_archive_lists_only_topics_that_have_pages(make_feed: Maker) -> None:
    """The rule of a tag changed so that no paper has it: its pages are removed, and the
    archive no longer links them (the store keeps the tag's version; found in review)."""
    feed = make_feed()
    diffusion_paper = paper("Diffusion paper", "2026-11-23", "A diffusion model.")
    feed.listing("a.jsonl", [diffusion_paper, paper("A quantization paper", "2026-11-23")])
    built = feed.run()

    def browse() -> list[str]:
        doc = lxml.html.parse(str(built.site / "index.html")).getroot()
        hrefs = doc.xpath("//a/@href")
        pages = (str(h) for h in hrefs if str(h).startswith(("tags/", "themes/")))
        return sorted(h for h in pages if h.endswith(".html"))

    assert "tags/quantization.html" in browse()
    yaml = (feed.root / "feed.yaml").read_text().replace('any: ["quantiz*"]', 'any: ["zzzz"]')
    (feed.root / "feed.yaml").write_text(yaml)
    assert feed.run().report.build.removed == ["tags/quantization.html", "themes/quantization.html"]
    assert browse() == ["tags/diffusion.html", "themes/diffusion.html", "themes/other-papers.html"]
    assert all((built.site / href).is_file() for href in browse())
    assert topic_files(built.site) == scratch_files(feed)
