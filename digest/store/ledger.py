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
        row = self.record(week, recipient)
        return row[0] if row else None

    def record(self, week: str, recipient: str) -> tuple[str, str, str] | None:
        """(status, message id, ISO day) of ``week`` for ``recipient``, or None."""
        row = self.db.execute(
            "SELECT status, message_id, day FROM sent WHERE week=? AND recipient=?",
            (week, recipient),
        ).fetchone()
        return (str(row[0]), str(row[1]), str(row[2])) if row else None

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

    def clear_sending(
        self, week: str, recipient: str, before: tuple[str, str, str] | None = None
    ) -> None:
        """Forget a 'sending' record whose message the server certainly did not accept:
        back to the :meth:`record` it replaced (a forced resend of a week already sent
        that failed leaves it sent, so the next run does not mail it again), else none."""
        if before is not None and before[0] == "sent":
            self.db.execute(
                "UPDATE sent SET status='sent', message_id=?, day=? "
                "WHERE week=? AND recipient=? AND status='sending'",
                (before[1], before[2], week, recipient),
            )
            return
        self.db.execute(
            "DELETE FROM sent WHERE week=? AND recipient=? AND status='sending'",
            (week, recipient),
        )
