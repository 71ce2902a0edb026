"""The ``meta`` table: the store's small named values (fingerprints, feed uid, ...).

Input: a key. Output: its value, '' (or a default) when unset.
"""

from __future__ import annotations

from collections.abc import Sequence

from digest.store.database import Database, chunks


class Meta:
    """Key-value settings kept with the store."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str, default: str = "") -> str:
        """The value of ``key``, or ``default``."""
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set(self, key: str, value: str) -> None:
        """Set a value (inside the caller's transaction, if any)."""
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def values(self, keys: Sequence[str]) -> dict[str, str]:
        """The values of those of ``keys`` that are set, in few queries."""
        out: dict[str, str] = {}
        for chunk in chunks(list(keys), 500):
            rows = self.db.execute(
                f"SELECT key, value FROM meta WHERE key IN ({','.join('?' * len(chunk))})",
                tuple(chunk),
            )
            out.update((str(r[0]), str(r[1])) for r in rows)
        return out
