"""Papers as the later stages read them, and their tags.

Input: a week, paper ids, or a rules fingerprint. Output: :class:`~digest.models.Paper`
objects with their sightings (or plain rows of them, cheap to send to a worker), counts,
the papers to tag, and the tags stored for them.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from digest.models import Paper, Sighting
from digest.store.database import Database, chunks
from digest.store.extra import PaperExtras
from digest.store.weeks import Weeks


@dataclass(frozen=True, slots=True)
class PaperRows:
    """Papers as rows of plain values (see :meth:`Papers.week_rows`)."""

    papers: list[tuple[Any, ...]]
    """(id, title, abstract, first_seen, week, tags, theme, url, source_id, authors),
    oldest first."""
    sightings: list[tuple[Any, ...]]
    """(paper id, listing, date, position, rule, score, version, extra), oldest first."""

    def pack(self) -> PackedRows:
        """These rows in a tenth of the memory, for a job that waits for a worker."""
        return PackedRows(zlib.compress(pickle.dumps(self, pickle.HIGHEST_PROTOCOL), 1))


@dataclass(frozen=True, slots=True)
class PackedRows:
    """:class:`PaperRows` pickled and compressed (a week of 19,000 papers: 140 MB of rows,
    about 15 MB packed), as a job holds them while it waits for a worker process, and
    as they cross to it."""

    data: bytes

    def unpack(self) -> PaperRows:
        """The rows (made by :meth:`PaperRows.pack` in this run: never untrusted bytes)."""
        rows = pickle.loads(zlib.decompress(self.data))
        assert isinstance(rows, PaperRows)
        return rows


class Papers:
    """The distinct papers of a store."""

    def __init__(self, db: Database, weeks: Weeks) -> None:
        self.db = db
        self.weeks = weeks

    # -- reading --------------------------------------------------------------------------

    def load(self, week: str | None = None, ids: Sequence[str] | None = None) -> list[Paper]:
        """Papers (all, of one week, or by id), each with all its sightings, oldest first."""
        where, args = "", ()  # type: tuple[str, tuple[Any, ...]]
        if week is not None:
            where, args = "WHERE p.week=?", (week,)
        elif ids is not None:
            where, args = f"WHERE p.id IN ({','.join('?' * len(ids))})", tuple(ids)
        rows = self.db.execute(
            "SELECT p.*, t.title, t.abstract FROM paper p JOIN text t ON t.id = p.text_id "
            f"{where} ORDER BY p.first_seen, p.id",
            args,
        ).fetchall()
        if not rows:
            return []
        sightings: dict[str, list[Sighting]] = {r["id"]: [] for r in rows}
        extras = {r["id"]: PaperExtras() for r in rows}
        for chunk in chunks([r["id"] for r in rows], 500):
            for s in self.db.execute(
                "SELECT s.paper_id, l.name, s.date, s.position, s.rule, s.score, s.version, "
                "s.extra FROM sighting s JOIN listing l ON l.id = s.listing_id "
                f"WHERE s.paper_id IN ({','.join('?' * len(chunk))}) "
                "ORDER BY s.date, l.name, s.position",
                chunk,
            ):
                sightings[s[0]].append(
                    Sighting(s[1], dt.date.fromisoformat(s[2]), s[3], s[4], s[5])
                )
                extras[s[0]].add(s[6], s[7])
        return [
            Paper(
                id=r["id"],
                title=r["title"],
                abstract=r["abstract"],
                first_seen=dt.date.fromisoformat(r["first_seen"]),
                week=r["week"],
                tags=tuple(json.loads(r["tags"])),
                theme=r["theme"],
                sightings=tuple(sightings[r["id"]]),
                url=r["url"],
                source_id=r["source_id"],
                authors=tuple(json.loads(r["authors"])),
                score=r["score"],
                **extras[r["id"]].paper_fields(),
            )
            for r in rows
        ]

    def week_rows(self, week: str) -> PaperRows:
        """A week's papers as plain rows (cheap to read, and to send to another process):
        :meth:`from_rows` makes them what :meth:`load` gives for the week."""
        cur = self.db.conn.cursor()
        cur.row_factory = None
        papers = cur.execute(
            "SELECT p.id, t.title, t.abstract, p.first_seen, p.week, p.tags, p.theme, p.url, "
            "p.source_id, p.authors, p.score FROM paper p JOIN text t ON t.id = p.text_id "
            "WHERE p.week=? ORDER BY p.first_seen, p.id",
            (week,),
        ).fetchall()
        sightings = cur.execute(
            "SELECT s.paper_id, l.name, s.date, s.position, s.rule, s.score, s.version, s.extra "
            "FROM paper p JOIN sighting s ON s.paper_id = p.id "
            "JOIN listing l ON l.id = s.listing_id WHERE p.week=? "
            "ORDER BY s.date, l.name, s.position",
            (week,),
        ).fetchall()
        return PaperRows(papers, sightings)

    @staticmethod
    def from_rows(rows: PaperRows) -> list[Paper]:
        """The papers of :meth:`week_rows` (reads no database: runs in any process). Dates
        and tag lists repeat across a week's papers: each is parsed once."""
        days: dict[str, dt.date] = {}
        lists: dict[str, tuple[str, ...]] = {"[]": ()}

        def day(text: str) -> dt.date:
            got = days.get(text)
            if got is None:
                got = days[text] = dt.date.fromisoformat(text)
            return got

        def strings(text: str) -> tuple[str, ...]:
            got = lists.get(text)
            if got is None:
                got = lists[text] = tuple(json.loads(text))
            return got

        sightings: dict[str, list[Sighting]] = {r[0]: [] for r in rows.papers}
        extras = {r[0]: PaperExtras() for r in rows.papers}
        for s in rows.sightings:
            sightings[s[0]].append(Sighting(s[1], day(s[2]), s[3], s[4], s[5]))
            extras[s[0]].add(s[6], s[7])
        return [
            Paper(
                id=r[0],
                title=r[1],
                abstract=r[2],
                first_seen=day(r[3]),
                week=r[4],
                tags=strings(r[5]),
                theme=r[6],
                sightings=tuple(sightings[r[0]]),
                url=r[7],
                source_id=r[8],
                authors=() if r[9] == "[]" else tuple(json.loads(r[9])),  # seldom repeated
                score=r[10],
                **extras[r[0]].paper_fields(),
            )
            for r in rows.papers
        ]

    def iter_all(self, batch: int = 1000) -> Iterator[Paper]:
        """Every paper, oldest first, in batches (memory stays bounded)."""
        last: tuple[str, str] = ("", "")
        while True:
            rows = self.db.execute(
                "SELECT id, first_seen FROM paper WHERE (first_seen, id) > (?, ?) "
                "ORDER BY first_seen, id LIMIT ?",
                (*last, batch),
            ).fetchall()
            if not rows:
                return
            yield from self.load(ids=[r[0] for r in rows])
            last = (rows[-1][1], rows[-1][0])

    def exists(self, paper_id: str) -> bool:
        """True when a paper has this id."""
        return self.db.execute("SELECT 1 FROM paper WHERE id=?", (paper_id,)).fetchone() is not None

    def titled_like(self, text: str, limit: int = 20) -> list[str]:
        """Ids of papers any version of whose title contains ``text``, oldest first."""
        rows = self.db.execute(
            "SELECT DISTINCT p.id, p.first_seen FROM sighting s JOIN text t ON t.id = s.text_id "
            "JOIN paper p ON p.id = s.paper_id WHERE t.title LIKE ? ESCAPE '\\' "
            "ORDER BY p.first_seen, p.id LIMIT ?",
            ("%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%", limit),
        )
        return [str(r[0]) for r in rows]

    def merges(self, paper_id: str) -> list[dict[str, Any]]:
        """Every sighting of a paper with the rule, score and detail that tied it in."""
        rows = self.db.execute(
            "SELECT l.name, s.date, s.position, s.line, s.rule, s.score, s.detail, t.title "
            "FROM sighting s JOIN listing l ON l.id = s.listing_id JOIN text t ON t.id = s.text_id"
            " WHERE s.paper_id=? ORDER BY s.date, l.name, s.position",
            (paper_id,),
        )
        return [dict(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Listings, sightings and papers in the store."""
        one = self.db.execute
        return {
            "listings": one("SELECT COUNT(DISTINCT name) FROM listing").fetchone()[0],
            "sightings": one("SELECT COUNT(*) FROM sighting").fetchone()[0],
            "papers": one("SELECT COUNT(*) FROM paper").fetchone()[0],
        }

    def count_in(self, weeks: Sequence[str]) -> int:
        """Papers first seen in the given weeks (from the week index: no paper is read)."""
        total = 0
        for chunk in chunks(list(weeks), 500):
            row = self.db.execute(
                f"SELECT COUNT(*) FROM paper WHERE week IN ({','.join('?' * len(chunk))})",
                tuple(chunk),
            ).fetchone()
            total += int(row[0])
        return total

    def weeks_and_themes(self, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Paper id -> (week, theme) of those of ``ids`` that exist (no text or sighting read)."""
        out: dict[str, tuple[str, str]] = {}
        for chunk in chunks(list(ids), 500):
            rows = self.db.execute(
                f"SELECT id, week, theme FROM paper WHERE id IN ({','.join('?' * len(chunk))})",
                tuple(chunk),
            )
            out.update((str(r[0]), (str(r[1]), str(r[2]))) for r in rows)
        return out

    def theme_counts(self) -> dict[str, int]:
        """Papers per primary theme."""
        rows = self.db.execute("SELECT theme, COUNT(*) FROM paper GROUP BY theme ORDER BY theme")
        return {str(r[0]): int(r[1]) for r in rows}

    # -- tags -----------------------------------------------------------------------------

    def untagged(
        self,
        fingerprint: str,
        frozen: Sequence[str] = (),
        *,
        only_new: bool = False,
        limit: int = 2000,
    ) -> Iterator[list[tuple[str, str, str]]]:
        """Batches of up to ``limit`` (id, title, abstract) of papers to tag: never tagged,
        and unless ``only_new`` also those tagged under other rules than ``fingerprint``
        outside the ``frozen`` weeks. Each batch is read when the next is asked for (a
        cursor on rowid: results may be stored between batches). ``only_new`` uses an
        index: its cost grows with the new papers only."""
        select = (
            "SELECT p.rowid, p.id, t.title, t.abstract FROM paper p "
            "JOIN text t ON t.id = p.text_id WHERE p.rowid > ? AND "
        )
        where, args = _untagged(fingerprint, frozen, only_new)
        last = 0
        while True:
            rows = self.db.execute(
                select + where + " ORDER BY p.rowid LIMIT ?", (last, *args, limit)
            ).fetchall()
            if not rows:
                return
            last = int(rows[-1][0])
            yield [(str(r[1]), str(r[2]), str(r[3])) for r in rows]

    def count_untagged(
        self, fingerprint: str, frozen: Sequence[str] = (), *, only_new: bool = False
    ) -> int:
        """How many papers :meth:`untagged` would give (with the same arguments)."""
        where, args = _untagged(fingerprint, frozen, only_new)
        row = self.db.execute(f"SELECT COUNT(*) FROM paper p WHERE {where}", args).fetchone()
        return int(row[0])

    def tags_from_texts(self, fingerprint: str) -> int:
        """Give papers never tagged the tags their shown text was given as it was
        ingested, when under the rules of ``fingerprint``; returns how many got them."""
        if self.db.execute("SELECT 1 FROM paper WHERE rules='' LIMIT 1").fetchone() is None:
            return 0  # the usual case: papers are tagged as they are stored
        with self.db.transaction():
            self.weeks.touch(
                *(
                    str(r[0])
                    for r in self.db.execute("SELECT DISTINCT week FROM paper WHERE rules=''")
                )
            )
            cur = self.db.execute(
                "UPDATE paper SET (tags, theme, rules, score) = "
                "(SELECT t.tags, t.theme, t.rules, t.score FROM text t WHERE t.id = paper.text_id) "
                "WHERE rules = '' AND (SELECT t.rules FROM text t WHERE t.id = paper.text_id) = ?",
                (fingerprint,),
            )
            self.weeks.flush_touched()
        return max(cur.rowcount, 0)

    def set_tags(
        self, rows: Iterable[tuple[str, Sequence[str], str, float]], fingerprint: str
    ) -> int:
        """Store (paper id, tags, theme, rule score) results computed with rules
        ``fingerprint``."""
        data = [
            (json.dumps(list(tags)), theme, fingerprint, score, pid)
            for pid, tags, theme, score in rows
        ]
        with self.db.transaction():
            for chunk in chunks([d[4] for d in data], 500):
                marks = ",".join("?" * len(chunk))
                self.weeks.touch(
                    *(
                        str(r[0])
                        for r in self.db.execute(
                            f"SELECT DISTINCT week FROM paper WHERE id IN ({marks})", chunk
                        )
                    )
                )
            self.db.conn.executemany(
                "UPDATE paper SET tags=?, theme=?, rules=?, score=? WHERE id=?", data
            )
            self.weeks.flush_touched()
        return len(data)


def _untagged(
    fingerprint: str, frozen: Sequence[str], only_new: bool
) -> tuple[str, tuple[Any, ...]]:
    """The condition on ``paper p`` of the papers to tag (see :meth:`Papers.untagged`)."""
    if only_new:
        return "p.rules = ''", ()
    marks = ",".join("?" * len(frozen))
    outside = f" AND p.week NOT IN ({marks})" if frozen else ""
    return f"(p.rules = '' OR (p.rules != ?{outside}))", (fingerprint, *frozen)
