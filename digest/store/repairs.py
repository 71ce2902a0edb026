"""Repairs: what migrating a store to a schema version runs after that version's SQL
(``digest.store.schema.MIGRATIONS``), in the same transaction, for what SQL alone
cannot do.

Input: a :class:`~digest.store.database.Database` in a migration's transaction. Output:
its rows repaired as that version's readers expect. Each repair is frozen with its
migration (a later change to the readers must not change what an old migration did),
hence their own copies of the bounds and names.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable

from digest.store.database import Database

REPAIRS: dict[int, Callable[[Database], None]] = {}
"""Version -> its repair (filled below). Append, never edit."""


_DATE_MIN, _DATE_MAX = dt.date(1900, 1, 1), dt.date(9000, 12, 31)
"""The dates the readers of version 8 keep (``digest.sources.bounds``)."""


def _repair_for_version_8(db: Database) -> None:
    """What the readers of version 8 refuse or show otherwise, in stores written before:
    sightings dated outside the outputs' range, and listing names with characters that
    do not print (now escaped, so the file is known again)."""
    _drop_unshowable_sightings(db)
    listings = db.execute("SELECT id, name, sha256 FROM listing ORDER BY id").fetchall()
    for listing_id, name, sha256 in listings:
        shown = _shown_name(str(name))
        if shown == name:
            continue
        # A file named as another escapes (a raw control byte, or the literal text of
        # its escape) may hold the same content: the row keeps its sightings under a
        # name of its own, and the file is known again by that content.
        target, n = shown, 2
        while db.execute(
            "SELECT 1 FROM listing WHERE name=? AND sha256=?", (target, sha256)
        ).fetchone():
            target, n = f"{shown} ({n})", n + 1
        db.execute("UPDATE listing SET name=? WHERE id=?", (target, listing_id))


REPAIRS[8] = _repair_for_version_8


_ITEM_DATES = "feed_item:"
"""Prefix of the meta keys that held feed items' dates before version 9."""


def _repair_for_version_9(db: Database) -> None:
    """Move feed items' dates out of ``meta`` and weeks' issue drafts out of
    ``week.item`` into ``feed_item``, values unchanged (same ids, same dates: no item
    of a feed changes), then drop what held them."""
    low, high = _ITEM_DATES, _ITEM_DATES[:-1] + chr(ord(_ITEM_DATES[-1]) + 1)
    dated = []
    for key, value in db.execute(
        "SELECT key, value FROM meta WHERE key >= ? AND key < ?", (low, high)
    ):
        try:
            dates = json.loads(value)
            row = (str(key)[len(low) :], dates["fingerprint"], dates["published"], dates["updated"])
        except (ValueError, TypeError, KeyError):
            continue  # unreadable dates: the item is dated as new, as before
        dated.append(row)
    db.conn.executemany(
        "INSERT INTO feed_item(id, fingerprint, published, updated) VALUES(?, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET fingerprint=excluded.fingerprint, "
        "published=excluded.published, updated=excluded.updated",
        dated,
    )
    db.execute("DELETE FROM meta WHERE key >= ? AND key < ?", (low, high))
    columns = {str(r[1]) for r in db.execute("PRAGMA table_info(week)")}
    if "item" not in columns:
        return
    drafts = []
    for (item,) in db.execute("SELECT item FROM week WHERE item != '' ORDER BY week"):
        try:
            item_id = json.loads(item)["id"]
        except (ValueError, TypeError, KeyError):
            continue  # no readable draft: the week's issue is made again from its papers
        drafts.append((str(item_id), str(item)))
    db.conn.executemany(
        "INSERT INTO feed_item(id, draft) VALUES(?, ?) "
        "ON CONFLICT(id) DO UPDATE SET draft=excluded.draft",
        drafts,
    )
    if sqlite3.sqlite_version_info >= (3, 35, 0):  # DROP COLUMN
        db.execute("ALTER TABLE week DROP COLUMN item")
    else:
        db.execute("UPDATE week SET item=''")


REPAIRS[9] = _repair_for_version_9


def _add_sighting_extra(db: Database) -> None:
    """Version 11: the ``sighting.extra`` column, unless a later store had it already."""
    columns = {str(r[1]) for r in db.execute("PRAGMA table_info(sighting)")}
    if "extra" not in columns:
        db.execute("ALTER TABLE sighting ADD COLUMN extra TEXT NOT NULL DEFAULT ''")


REPAIRS[11] = _add_sighting_extra


def _add_rule_scores(db: Database) -> None:
    """Version 12: ``text.score`` and ``paper.score``, unless a later store had them."""
    for table in ("text", "paper"):
        columns = {str(r[1]) for r in db.execute(f"PRAGMA table_info({table})")}
        if "score" not in columns:
            db.execute(f"ALTER TABLE {table} ADD COLUMN score REAL")


REPAIRS[12] = _add_rule_scores


def _add_paper_seq(db: Database) -> None:
    """Version 16: ``paper.seq`` (unless a later store had it), its index, the counter
    that numbers changes (``paper_seq_counter``: one row, never lowered, so a number is
    not given twice even when papers are deleted and stored again), and the triggers
    that give a paper the next number on every insert, every change to what a theme or
    tag page shows of it, and every sighting that brings links (the same events as
    ``theme_state``'s and ``tag_state``'s)."""
    columns = {str(r[1]) for r in db.execute("PRAGMA table_info(paper)")}
    if "seq" not in columns:
        db.execute("ALTER TABLE paper ADD COLUMN seq INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX IF NOT EXISTS paper_seq ON paper(seq)")
    db.execute("CREATE TABLE IF NOT EXISTS paper_seq_counter(n INTEGER NOT NULL)")
    db.execute(
        "INSERT INTO paper_seq_counter SELECT COALESCE(MAX(seq), 0) FROM paper "
        "WHERE NOT EXISTS (SELECT 1 FROM paper_seq_counter)"
    )
    move = (
        "UPDATE paper_seq_counter SET n = n + 1; "
        "UPDATE paper SET seq = (SELECT n FROM paper_seq_counter) WHERE id = NEW.{}"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS paper_seq_insert AFTER INSERT ON paper "
        f"BEGIN {move.format('id')}; END"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS paper_seq_update AFTER UPDATE OF text_id, first_seen, "
        "shown_date, week, source_id, url, authors, tags, theme ON paper "
        f"BEGIN {move.format('id')}; END"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS sighting_extra_seq AFTER INSERT ON sighting "
        f"WHEN NEW.extra != '' BEGIN {move.format('paper_id')}; END"
    )


REPAIRS[16] = _add_paper_seq


def _drop_unshowable_sightings(db: Database) -> None:
    """Remove sightings dated outside the outputs' range (every run failed on them), and
    the papers and weeks they alone made; a paper seen on other days too moves to its
    earliest remaining one."""
    low, high = _DATE_MIN.isoformat(), _DATE_MAX.isoformat()
    where = "date < ? OR date > ? OR length(date) != 10"
    papers = [
        str(r[0])
        for r in db.execute(f"SELECT DISTINCT paper_id FROM sighting WHERE {where}", (low, high))
    ]
    if not papers:
        return
    db.execute(f"DELETE FROM sighting WHERE {where}", (low, high))
    gone = []
    touched = set()
    for paper_id in papers:
        rows = db.execute(
            "SELECT s.text_id, s.date FROM sighting s JOIN listing l ON l.id = s.listing_id"
            " WHERE s.paper_id=? ORDER BY s.date, l.id, s.position",
            (paper_id,),
        ).fetchall()
        if not rows:
            gone.append((paper_id,))
            continue
        year, week, _ = dt.date.fromisoformat(rows[0]["date"]).isocalendar()
        label = f"{year:04d}-W{week:02d}"
        db.execute(
            "UPDATE paper SET first_seen=?, week=?, text_id=?, shown_date=? WHERE id=?",
            (rows[0]["date"], label, rows[-1]["text_id"], rows[-1]["date"], paper_id),
        )
        touched.add(label)
    # Blocking keys of a removed paper may stay: they point to no paper, which the
    # near-duplicate lookup skips.
    db.conn.executemany("DELETE FROM paper_key WHERE paper_id=?", gone)
    db.conn.executemany("DELETE FROM paper WHERE id=?", gone)
    last = "{}-W{:02d}".format(*_DATE_MAX.isocalendar()[:2])  # 9000-12-31 is in 9001-W01
    db.execute("DELETE FROM week WHERE week < '1900' OR week > ?", (last,))
    db.execute("DELETE FROM sent WHERE week < '1900' OR week > ?", (last,))
    db.conn.executemany(
        "INSERT INTO week(week, dirty) VALUES(?, 1) ON CONFLICT(week) DO UPDATE SET dirty=1",
        [(w,) for w in sorted(touched)],
    )


def _shown_name(text: str) -> str:
    """A listing name as version 8 shows it (``digest.sources.shown_name``)."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's surrogateescape of byte code - 0xDC00
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char.isprintable():
            out.append(char)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)
