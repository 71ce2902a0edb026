"""What theme and tag pages read: a theme's or a tag's papers in order, and versions.

Input: a theme name or a tag. Output: its papers' ids, oldest first (first seen, then
id), each with its first-seen date and a version string that changes whenever anything
a page shows of the paper does; each tag's version (``tag_state``, kept by triggers as
``theme_state`` is for themes), and the tags in use. Also the kept cards of papers
(``topic_card``: a paper's card as these pages show it, rendered once, with the stamp
of what it was rendered from).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from digest.store.database import Database, chunks

Listed = tuple[str, str, str]
"""A paper on a topic's pages: (id, first seen ISO date, version)."""

_END = ("\U0010ffff", "")
"""A (first seen, id) after every paper's (dates are ISO dates)."""

_SHOWN = (
    "p.text_id, p.first_seen, p.shown_date, p.week, p.source_id, p.url, p.authors, p.tags, "
    "(SELECT MAX(s.rowid) FROM sighting s WHERE s.paper_id = p.id AND s.extra != '')"
)
"""The columns of a paper that its card on a theme or tag page shows (a text row never
changes, so its id stands for its content), and its newest sighting that brought links
or signals."""


class Topics:
    """Theme and tag listings of a store."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def theme_papers(
        self, theme: str, start: tuple[str, str] = ("", ""), end: tuple[str, str] = _END
    ) -> list[Listed]:
        """Every paper of ``theme``, oldest first (by its index); with ``start`` and
        ``end`` (first seen, id), those from ``start`` on and before ``end``."""
        rows = self.db.execute(
            f"SELECT p.id, {_SHOWN}, p.theme FROM paper p WHERE p.theme=? "
            "AND p.first_seen BETWEEN ? AND ? AND (p.first_seen, p.id) >= (?, ?) "
            "AND (p.first_seen, p.id) < (?, ?) ORDER BY p.first_seen, p.id",
            (theme, start[0], end[0], *start, *end),
        )
        return [(str(r[0]), str(r[2]), repr(tuple(r[1:]))) for r in rows]

    def tag_papers(
        self, tag: str, start: tuple[str, str] = ("", ""), end: tuple[str, str] = _END
    ) -> list[Listed]:
        """Every paper tagged ``tag``, oldest first (by ``paper_tag``); with ``start``
        and ``end`` (first seen, id), those from ``start`` on and before ``end``."""
        rows = self.db.execute(
            f"SELECT p.id, {_SHOWN}, p.theme FROM paper_tag t JOIN paper p ON p.id = t.paper_id "
            "WHERE t.tag=? AND (t.first_seen, t.paper_id) >= (?, ?) "
            "AND (t.first_seen, t.paper_id) < (?, ?) ORDER BY t.first_seen, t.paper_id",
            (tag, *start, *end),
        )
        return [(str(r[0]), str(r[2]), repr(tuple(r[1:]))) for r in rows]

    def seq(self) -> int:
        """The newest paper change's number (``paper.seq``; 0 for none)."""
        row = self.db.execute("SELECT n FROM paper_seq_counter").fetchone()
        return int(row[0]) if row else 0

    def changed_since(self, seq: int) -> list[tuple[str, str, str, int]]:
        """(topic, first seen, id, seq) of each paper changed after change ``seq``, once
        for its theme (topic ``theme:NAME``) and once for each of its tags (``tag:TAG``)."""
        rows = self.db.execute(
            "SELECT 'theme:' || theme, first_seen, id, seq FROM paper WHERE seq > ? UNION ALL "
            "SELECT 'tag:' || j.value, p.first_seen, p.id, p.seq FROM paper p, "
            "json_each(iif(json_valid(p.tags), p.tags, '[]')) j WHERE p.seq > ? "
            "AND j.type = 'text'",
            (seq, seq),
        )
        return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    def count_before(self, kind: str, key: str, first: tuple[str, str]) -> int:
        """How many papers of theme or tag (``kind``) ``key`` come before ``first``
        (first seen, id) in its order."""
        if kind == "theme":
            sql = (
                "SELECT COUNT(*) FROM paper WHERE theme=? AND (first_seen < ? OR "
                "(first_seen = ? AND id < ?))"
            )
            args: tuple[str, ...] = (key, first[0], *first)
        else:
            sql = "SELECT COUNT(*) FROM paper_tag WHERE tag=? AND (first_seen, paper_id) < (?, ?)"
            args = (key, *first)
        return int(self.db.execute(sql, args).fetchone()[0])

    def shown(self, ids: Sequence[str]) -> list[Listed]:
        """The papers of ``ids`` (those stored), as :meth:`theme_papers` lists them."""
        out: list[Listed] = []
        for part in chunks(ids, 500):
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f"SELECT p.id, {_SHOWN}, p.theme FROM paper p WHERE p.id IN ({marks})", part
            )
            out += [(str(r[0]), str(r[2]), repr(tuple(r[1:]))) for r in rows]
        return sorted(out, key=lambda r: (r[1], r[0]))

    def cards(self, ids: Sequence[str]) -> dict[str, tuple[bytes, bytes]]:
        """Paper id -> (stamp, card) of the kept cards of ``ids``."""
        out: dict[str, tuple[bytes, bytes]] = {}
        for part in chunks(ids, 500):
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f"SELECT paper_id, stamp, html FROM topic_card WHERE paper_id IN ({marks})", part
            )
            out.update((str(r[0]), (bytes(r[1]), bytes(r[2]))) for r in rows)
        return out

    def keep_cards(self, rows: Iterable[tuple[str, bytes, bytes]]) -> None:
        """Keep (paper id, stamp, card) rows, each replacing the paper's card kept before,
        in one transaction."""
        with self.db.transaction():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO topic_card(paper_id, stamp, html) VALUES(?, ?, ?)", rows
            )

    def tag_versions(self) -> dict[str, int]:
        """Tag -> a number that grows with every change to one of its papers that a tag
        page shows (a tag never used has none)."""
        rows = self.db.execute("SELECT tag, version FROM tag_state")
        return {str(r[0]): int(r[1]) for r in rows}
