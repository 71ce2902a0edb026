"""Listings, their sightings, texts and paper keys: what ingesting writes.

Input: a listing's rows and, for each of its entries, the paper it belongs to (decided
by :mod:`digest.identity`, never here) with its keys and, when known, its tags. Output:
``listing``, ``sighting``, ``text``, ``paper``, ``paper_key`` and ``block_key`` rows, and
each paper's keys (:mod:`digest.store.keys`).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Container, Sequence
from dataclasses import dataclass

from digest.models import Entry
from digest.store import extra
from digest.store.database import Database
from digest.store.keys import PaperKeys
from digest.store.weeks import Weeks

KEPT = "kept:"
"""Prefix of the rules fingerprint of a paper shown in a newer version than its tags
were computed from, whose week kept them (see :meth:`Listings.add_sighting`)."""

Tagged = tuple[str, str, str, float]
"""Tags (JSON list), theme, rules fingerprint and rule score of a text, as paper and text
rows keep them."""
_UNTAGGED = ("[]", "", "", None)


@dataclass(frozen=True, slots=True)
class Link:
    """Why a sighting belongs to its paper, and the keys to index the paper under."""

    rule: str
    """``new``, ``source-id``, ``title``, ``fuzzy``, ``abstract`` or ``forced``."""
    score: float
    detail: str
    title_key: str
    """The sighting's title key (a ``title`` key of its paper)."""
    keys: Sequence[tuple[str, str]] = ()
    """Further (kind, key) pairs: ``block`` keys."""


class Listings:
    """The listings read, and the sightings, texts and keys they brought."""

    def __init__(self, db: Database, weeks: Weeks, keys: PaperKeys) -> None:
        self.db = db
        self.weeks = weeks
        self.keys = keys

    # -- listing rows ---------------------------------------------------------------------

    def latest_hash(self, name: str) -> str | None:
        """Content hash of the latest stored version of the listing ``name``, or None."""
        row = self.db.execute(
            "SELECT sha256 FROM listing WHERE name=? ORDER BY id DESC LIMIT 1", (name,)
        ).fetchone()
        return str(row[0]) if row else None

    def has(self, name: str, sha256: str) -> bool:
        """True when the listing ``name`` was stored with this content (in any version)."""
        row = self.db.execute(
            "SELECT 1 FROM listing WHERE name=? AND sha256=?", (name, sha256)
        ).fetchone()
        return row is not None

    def stat(self, name: str) -> str | None:
        """The file status (size, mtime, ctime, inode) recorded when the listing's content
        was last hashed; an unchanged status lets a run skip reading the file."""
        row = self.db.execute(
            "SELECT stat FROM listing WHERE name=? ORDER BY id DESC LIMIT 1", (name,)
        ).fetchone()
        return str(row[0]) if row else None

    def set_stat(self, name: str, stat: str) -> None:
        """Record the file status under which the latest version's hash was verified."""
        with self.db.transaction(join=True):
            self.db.execute(
                "UPDATE listing SET stat=? WHERE id=(SELECT MAX(id) FROM listing WHERE name=?)",
                (stat, name),
            )

    def changed(self) -> list[tuple[str, int]]:
        """(name, versions) of every listing whose content changed since first read."""
        rows = self.db.execute(
            "SELECT name, COUNT(*) FROM listing GROUP BY name HAVING COUNT(*) > 1 ORDER BY name"
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    def add(
        self, name: str, sha256: str, fmt: str, date: dt.date | None, entries: int, problems: int
    ) -> tuple[int, set[tuple[str, str]]]:
        """Add a version of listing ``name`` (inside the caller's transaction); returns its
        id and the (text hash, date) of every sighting earlier versions stored (an entry
        among them is seen already: it adds no sighting). Nothing stored is removed."""
        seen = self._seen_in(name) if self.latest_hash(name) is not None else set()
        cur = self.db.execute(
            "INSERT INTO listing(name, sha256, format, date, entries, problems) "
            "VALUES(?, ?, ?, ?, ?, ?)",
            (name, sha256, fmt, date.isoformat() if date else None, entries, problems),
        )
        return int(cur.lastrowid or 0), seen

    def _seen_in(self, name: str) -> set[tuple[str, str]]:
        rows = self.db.execute(
            "SELECT t.hash, s.date FROM listing l JOIN sighting s ON s.listing_id = l.id "
            "JOIN text t ON t.id = s.text_id WHERE l.name=?",
            (name,),
        )
        return {(str(r[0]), str(r[1])) for r in rows}

    def meta(self) -> dict[int, tuple[str, str, str, dt.date | None, int]]:
        """Listing version id -> (name, sha256, format, date, problem count), oldest first."""
        rows = self.db.execute(
            "SELECT id, name, sha256, format, date, problems FROM listing ORDER BY id"
        )
        return {
            int(r[0]): (
                str(r[1]),
                str(r[2]),
                str(r[3]),
                dt.date.fromisoformat(r[4]) if r[4] else None,
                int(r[5]),
            )
            for r in rows
        }

    def all_sightings(self) -> list[tuple[int, Entry]]:
        """Every stored sighting as (listing version id, Entry), in ingestion order (to
        resolve them again). Links and authors are kept by paper: the sighting that made
        the paper carries them back."""
        rows = self.db.execute(
            "SELECT l.name, s.*, t.title, t.abstract,"
            " CASE WHEN s.rule = 'new' THEN p.url END AS paper_url,"
            " CASE WHEN s.rule = 'new' THEN p.authors ELSE '[]' END AS paper_authors"
            " FROM sighting s JOIN listing l ON l.id = s.listing_id"
            " JOIN text t ON t.id = s.text_id JOIN paper p ON p.id = s.paper_id"
            " ORDER BY l.id, s.position"
        ).fetchall()
        return [
            (
                r["listing_id"],
                Entry(
                    title=r["title"],
                    abstract=r["abstract"],
                    listing=r["name"],
                    date=dt.date.fromisoformat(r["date"]),
                    position=r["position"],
                    line=r["line"],
                    source_id=r["source_id"],
                    version=r["version"],
                    announce=r["announce"],
                    url=r["paper_url"],
                    authors=tuple(json.loads(r["paper_authors"])),
                    **extra.entry_fields(r["extra"]),
                ),
            )
            for r in rows
        ]

    def clear_papers(self) -> None:
        """Drop every listing, paper and sighting but keep texts (in the caller's
        transaction)."""
        self.db.execute("UPDATE week SET dirty=1")
        self.db.execute("DELETE FROM sighting")
        self.db.execute("DELETE FROM paper_key")
        self.db.execute("DELETE FROM block_key")
        self.db.execute("DELETE FROM paper")
        self.db.execute("DELETE FROM listing")

    # -- sightings ------------------------------------------------------------------------

    def add_sighting(
        self,
        listing_id: int,
        entry: Entry,
        paper_id: str | None,
        link: Link,
        text_hash: str,
        week: str,
        *,
        new_id: str = "",
        tagged: Tagged | None = None,
        frozen: Container[str] = (),
    ) -> tuple[str, bool]:
        """Record a sighting of ``paper_id``, or of a new paper (``paper_id`` None, its id
        ``new_id`` or ``new_id-N``); ``week`` is the ISO week of ``entry.date``,
        ``tagged`` the tags of its text under the current rules, when known. A paper of a
        ``frozen`` week shown in a newer text keeps its tags (its rules marked
        :data:`KEPT`). Returns the paper id, and True when the paper now has ``tagged``."""
        text_id = self._text_id(entry.title, entry.abstract, text_hash, tagged)
        if paper_id is None:
            paper_id = self._new_paper(entry, new_id, week, text_id, tagged)
            self._attach(listing_id, entry, paper_id, link, week, text_id, tagged, frozen, True)
            return paper_id, tagged is not None
        shown = self._attach(listing_id, entry, paper_id, link, week, text_id, tagged, frozen)
        return paper_id, shown and tagged is not None

    def _text_id(self, title: str, abstract: str, digest: str, tagged: Tagged | None) -> int:
        cur = self.db.conn.execute(
            "INSERT OR IGNORE INTO text(hash, title, abstract, tags, theme, rules, score) "
            "VALUES(?, ?, ?, ?, ?, ?, ?)",
            (digest, title, abstract, *(tagged or _UNTAGGED)),
        )
        if cur.rowcount:
            return int(cur.lastrowid or 0)
        row = self.db.conn.execute("SELECT id FROM text WHERE hash=?", (digest,)).fetchone()
        return int(row[0])

    def _new_paper(
        self, entry: Entry, base: str, week: str, text_id: int, tagged: Tagged | None
    ) -> str:
        day = entry.date.isoformat()
        self.weeks.touch(week)
        row = (
            text_id, day, day, week, entry.source_id, entry.url,
            _json_list(entry.authors), *(tagged or _UNTAGGED),
        )  # fmt: skip
        paper_id, n = base, 1
        while True:  # ids are derived from the title; a forced split may need a suffix
            try:
                self.db.conn.execute(
                    "INSERT INTO paper(id, text_id, first_seen, shown_date, week, source_id, url,"
                    " authors, tags, theme, rules, score)"
                    " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (paper_id, *row),
                )
            except sqlite3.IntegrityError:
                n += 1
                paper_id = f"{base}-{n}"
                continue
            return paper_id

    def _attach(
        self,
        listing_id: int,
        entry: Entry,
        paper_id: str,
        link: Link,
        week: str,
        text_id: int,
        tagged: Tagged | None,
        frozen: Container[str],
        new: bool = False,
    ) -> bool:
        """Record a sighting of ``paper_id``; ``new`` when the paper was just made from
        it (nothing about it can change then). True when the paper is now shown in this
        sighting's text (a newer version) with its tags."""
        conn = self.db.conn
        conn.execute(
            "INSERT INTO sighting(listing_id, position, paper_id, text_id, date, line, source_id,"
            " version, announce, rule, score, detail, extra)"
            " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                listing_id,
                entry.position,
                paper_id,
                text_id,
                entry.date.isoformat(),
                entry.line,
                entry.source_id,
                entry.version,
                entry.announce,
                link.rule,
                link.score,
                link.detail,
                extra.encode(entry),
            ),
        )
        keys = [("title", link.title_key), *link.keys]
        if entry.source_id:
            keys.append(("id", entry.source_id))
        keys += [("id", other) for other in entry.ids if other != entry.source_id]
        self.keys.add(paper_id, keys)
        if new:
            return True
        day = entry.date.isoformat()
        paper = conn.execute(
            "SELECT first_seen, shown_date, text_id, week, rules FROM paper WHERE id=?",
            (paper_id,),
        ).fetchone()
        self.weeks.touch_sightings(paper["week"])  # its provenance changed
        if day < paper["first_seen"]:
            self.weeks.touch(paper["week"], week)  # it moves to an earlier week
            conn.execute("UPDATE paper SET first_seen=?, week=? WHERE id=?", (day, week, paper_id))
        shown = bool(day >= paper["shown_date"] and text_id != paper["text_id"])
        if shown and paper["rules"] and paper["week"] in frozen:
            # Its week keeps the tags it has; the rules are marked stale, for a retag.
            rules = paper["rules"]
            kept = rules if rules.startswith(KEPT) else KEPT + rules
            conn.execute(
                "UPDATE paper SET text_id=?, shown_date=?, rules=? WHERE id=?",
                (text_id, day, kept, paper_id),
            )
            shown = False  # not tagged here
        elif shown:
            # The newest version is the one shown: its tags, or none until tagged (rules
            # is indexed: it is set only when it changes).
            self.weeks.touch(paper["week"])  # its theme may change
            if tagged is not None:
                conn.execute(
                    "UPDATE paper SET text_id=?, shown_date=?, tags=?, theme=?, rules=?, score=?"
                    " WHERE id=?",
                    (text_id, day, *tagged, paper_id),
                )
            else:
                conn.execute(
                    "UPDATE paper SET text_id=?, shown_date=?"
                    + (", rules=''" if paper["rules"] else "")
                    + " WHERE id=?",
                    (text_id, day, paper_id),
                )
        if entry.source_id or entry.url or entry.authors:
            # Only when it fills a gap: an UPDATE naming these columns moves the theme's
            # version (schema 10's trigger) even when it changes nothing.
            authors = _json_list(entry.authors)
            conn.execute(
                "UPDATE paper SET source_id=COALESCE(source_id, ?), url=COALESCE(url, ?),"
                " authors=CASE WHEN authors='[]' THEN ? ELSE authors END WHERE id=? AND ("
                "(source_id IS NULL AND ? IS NOT NULL) OR (url IS NULL AND ? IS NOT NULL)"
                " OR (authors='[]' AND ? != '[]'))",
                (entry.source_id, entry.url, authors, paper_id, entry.source_id, entry.url,
                 authors),
            )  # fmt: skip
        return shown


def _json_list(items: Sequence[str]) -> str:
    """``json.dumps(list(items))``, without the encoder for the usual empty list."""
    return json.dumps(list(items)) if items else "[]"
