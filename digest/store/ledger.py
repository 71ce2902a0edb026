"""The ``sent`` table: which week went to which recipient.

Input: the steps of sending one week to one address. Output: its status, ``sending``
(recorded before talking to SMTP: a run may have been killed) or ``sent``.
"""

from __future__ import annotations

import datetime as dt

from digest.store.database import Database


class Ledger:
    """The email ledger: one row per (week, recipient)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def status(self, week: str, recipient: str) -> str | None:
        """``sending`` (a run started sending and may have been killed), ``sent``, or None."""
        row = self.db.execute(
            "SELECT status FROM sent WHERE week=? AND recipient=?", (week, recipient)
        ).fetchone()
        return str(row[0]) if row else None

    def mark_sending(self, week: str, recipient: str, message_id: str, day: dt.date) -> None:
        """Record that ``week`` is about to go to ``recipient`` (before talking to SMTP)."""
        self.db.execute(
            "INSERT INTO sent(week, recipient, status, message_id, day) "
            "VALUES(?, ?, 'sending', ?, ?) ON CONFLICT(week, recipient) DO UPDATE SET "
            "status='sending', message_id=excluded.message_id, day=excluded.day",
            (week, recipient, message_id, day.isoformat()),
        )

    def mark_sent(self, week: str, recipient: str, day: dt.date) -> None:
        """Record that the server accepted ``week`` for ``recipient``."""
        self.db.execute(
            "UPDATE sent SET status='sent', day=? WHERE week=? AND recipient=?",
            (day.isoformat(), week, recipient),
        )

    def clear_sending(self, week: str, recipient: str) -> None:
        """Forget a 'sending' record whose message the server certainly did not accept."""
        self.db.execute(
            "DELETE FROM sent WHERE week=? AND recipient=? AND status='sending'",
            (week, recipient),
        )
