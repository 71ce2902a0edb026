"""``digest send``: one week's digest -> its recipients, or, on a dry run, -> stdout.

Input: the config, the run's date, the send time, and the options (week, recipients,
force, dry run). Output: a :class:`~digest.delivery.SendReport`, and for a dry run the
bytes to print (:func:`dry_run_output`). Papers are tagged first, so a week is sent as
it would be built. The SMTP and never-twice mechanics are :mod:`digest.delivery`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from digest import delivery, mail
from digest.commands import open_store
from digest.config import FeedConfig
from digest.errors import DigestError
from digest.tag import tag


def send(
    cfg: FeedConfig,
    today: dt.date,
    *,
    week: str | None = None,
    to: Sequence[str] = (),
    force: bool = False,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> delivery.SendReport:
    """Send ``week`` (default: the latest complete week with papers before ``today``) to
    ``to`` (default: email.to); a dry run composes the messages and sends nothing.
    ``now`` is the Date header (default: ``today``'s midnight in the feed's zone).

    A dry run with no week to send is an error (there is nothing to show); a real
    send with none returns a report whose ``week`` is None."""
    with open_store(cfg) as store:
        tag(cfg, store)
        report = delivery.send(
            cfg, store, today, week=week, to=to, force=force, dry_run=dry_run, now=now
        )
    if report.week is None and dry_run:
        raise DigestError(nothing_to_send(today), hint="give --week YYYY-Www")
    return report


def nothing_to_send(today: dt.date) -> str:
    """The sentence for a send that finds no week."""
    return f"nothing to send: no complete week with papers before {today.isoformat()}"


def dry_run_output(report: delivery.SendReport, today: dt.date) -> bytes:
    """What a dry run prints: the message, or for several recipients an mbox of one
    message each (readable with ``mail -f``)."""
    several = len(report.messages) > 1
    out = b""
    for msg in report.messages:
        if several:
            out += b"From digest " + today.strftime("%a %b %d 00:00:00 %Y").encode() + b"\n"
        out += mail.message_bytes(msg, mbox=several) + (b"\n" if several else b"")
    return out
