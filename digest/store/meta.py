"""The ``meta`` table: the store's small named values (schema version, fingerprints of
the rules and identity overrides, the feed's uid and epoch).

Input: a key. Output: its value, '' (or a default) when unset.
"""

from __future__ import annotations

from digest.store.database import Database


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
