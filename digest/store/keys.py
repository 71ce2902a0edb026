"""The keys papers are indexed under, and the lookups identity resolution makes.

Input: (kind, key) pairs of a paper (``id``, ``title`` and near-duplicate ``block``
keys), or keys to look up. Output: ``paper_key`` and ``block_key`` rows; the papers
under a key, and the stored texts of a paper.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from digest.store.database import Database


class PaperKeys:
    """Papers by key, and the texts identity resolution compares a sighting with."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, paper_id: str, keys: Iterable[tuple[str, str]]) -> None:
        """Index a paper under (kind, key) pairs: ``id``, ``title`` or ``block`` keys."""
        rows = [(kind, key, paper_id) for kind, key in keys if key and kind != "block"]
        blocks = [(key, paper_id) for kind, key in keys if key and kind == "block"]
        conn = self.db.conn
        conn.executemany(
            "INSERT OR IGNORE INTO paper_key(kind, key, paper_id) VALUES(?, ?, ?)", rows
        )
        if blocks:
            conn.executemany("INSERT OR IGNORE INTO block_key(key, paper_id) VALUES(?, ?)", blocks)

    def papers_by_key(self, kind: str, keys: Sequence[str]) -> list[str]:
        """Ids of papers indexed under any of ``keys`` of ``kind``, oldest paper first."""
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        rows = self.db.conn.execute(
            f"SELECT DISTINCT k.paper_id FROM paper_key k JOIN paper p ON p.id = k.paper_id "
            f"WHERE k.kind=? AND k.key IN ({marks}) ORDER BY p.first_seen, p.id",
            (kind, *keys),
        )
        return [str(r[0]) for r in rows]

    def block_candidates(self, keys: Sequence[str], cap: int) -> list[list[str]]:
        """Per key of ``keys`` (in that order), the papers sharing it, newest first (by
        first sighting, then id); empty for a key held by more than ``cap`` papers (it
        says nothing, and would cost a lookup).

        Two queries, each bounded by ``cap``: at most ``cap + 1`` holders are read per
        key (a boilerplate key held by a tenth of the store costs what a rare one does),
        then the first sightings of the holders of the keys kept."""
        if not keys:
            return []
        query = " UNION ALL ".join(
            f"SELECT {i}, paper_id FROM (SELECT paper_id FROM block_key WHERE key=? LIMIT ?)"
            for i in range(len(keys))
        )
        params: list[object] = []
        for key in keys:
            params += (key, cap + 1)
        holders: list[list[str]] = [[] for _ in keys]
        for i, paper_id in self.db.conn.execute(query, params):
            holders[i].append(str(paper_id))
        kept = [papers if len(papers) <= cap else [] for papers in holders]
        ids = sorted({pid for papers in kept for pid in papers})
        if not ids:
            return kept
        first_seen = dict(
            self.db.conn.execute(
                f"SELECT id, first_seen FROM paper WHERE id IN ({','.join('?' * len(ids))})", ids
            ).fetchall()
        )
        # Sorted here: an ORDER BY would cost more than the few rows it sorts.
        return [
            sorted(
                (p for p in papers if p in first_seen),
                key=lambda p: (str(first_seen[p]), p),
                reverse=True,
            )
            for papers in kept
        ]

    def has_text(self, digest: str) -> bool:
        """True when a text of this hash was stored before."""
        row = self.db.conn.execute("SELECT 1 FROM text WHERE hash=?", (digest,)).fetchone()
        return row is not None

    def paper_texts(
        self, paper_ids: Sequence[str], versions: int | None = None, limit: int | None = None
    ) -> list[tuple[str, str, str, str]]:
        """(id, title, abstract, text hash) of every distinct version of each paper (the shown one
        first), papers in the order given. With ``versions``, at most that many per
        paper: the shown one, then the newest among its ``8 * versions`` newest
        sightings' texts (a paper seen thousands of times costs what one seen a few
        times does). With ``limit``, at most that many texts in all (the first papers')."""
        out: list[tuple[str, str, str, str]] = []
        conn = self.db.conn
        for pid in paper_ids:
            if limit is not None and len(out) >= limit:
                return out[:limit]
            if versions is not None:
                rows = conn.execute(
                    "SELECT t.title, t.abstract, t.hash FROM text t WHERE t.id IN (SELECT text_id "
                    "FROM paper WHERE id=:id UNION SELECT text_id FROM (SELECT text_id "
                    "FROM sighting WHERE paper_id=:id ORDER BY rowid DESC LIMIT :scan)) "
                    "ORDER BY t.id = (SELECT text_id FROM paper WHERE id=:id) DESC, "
                    "t.id DESC LIMIT :n",
                    {"id": pid, "n": versions, "scan": 8 * versions},
                ).fetchall()
                out.extend((pid, str(r[0]), str(r[1]), str(r[2])) for r in rows)
                continue
            rows = conn.execute(
                "SELECT t.title, t.abstract, t.hash FROM paper p JOIN text t ON t.id = p.text_id "
                "WHERE p.id=:id UNION SELECT t.title, t.abstract, t.hash FROM sighting s "
                "JOIN text t ON t.id = s.text_id WHERE s.paper_id=:id",
                {"id": pid},
            ).fetchall()
            out.extend((pid, str(r[0]), str(r[1]), str(r[2])) for r in rows)
        return out if limit is None else out[:limit]

    def paper_refs(self, paper_id: str) -> set[str]:
        """Everything a user may call a paper by: its id and its title keys."""
        rows = self.db.execute(
            "SELECT key FROM paper_key WHERE paper_id=? AND kind='title'", (paper_id,)
        )
        return {paper_id, *(str(r[0]) for r in rows)}
