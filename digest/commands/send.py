"""``digest send``: one week's digest -> its recipients, or, on a dry run, -> stdout.

Input: the config, the run's date, the send time, and the options (week, recipients,
force, dry run). Output: a :class:`~digest.delivery.SendReport`, and for a dry run the
bytes to print (:func:`dry_run_output`). This chooses the week and the recipients and
whether to send; composing, SMTP and the never-twice ledger are
:mod:`digest.delivery`'s. ``digest run`` sends through :func:`send_week` too.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence

from digest import delivery, mail
from digest.commands import open_store
from digest.config import FeedConfig
from digest.errors import DigestError, MailError
from digest.store import Store
from digest.tag import tag
from digest.weeks import is_week, midnight, week_bounds


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
        report = send_week(
            cfg, store, today, week=week, to=to, force=force, dry_run=dry_run, now=now
        )
    if report.week is None and dry_run:
        raise DigestError(nothing_to_send(today), hint="give --week YYYY-Www")
    return report


def default_week(store: Store, today: dt.date) -> str | None:
    """The latest complete week (its Sunday before ``today``) that has papers."""
    done = [w for w in store.weeks.with_papers() if week_bounds(w)[1] < today]
    return done[-1] if done else None


def send_week(
    cfg: FeedConfig,
    store: Store,
    today: dt.date,
    *,
    week: str | None = None,
    to: Sequence[str] = (),
    force: bool = False,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    environ: Mapping[str, str] | None = None,
    sleep: delivery.Sleep = time.sleep,
) -> delivery.SendReport:
    """Send ``week`` (default: :func:`default_week`) to ``to`` (default: email.to) from
    an open store; with ``dry_run`` only compose the messages (in ``messages``).
    ``environ`` holds the SMTP password's variable (default: the process's);
    ``sleep`` waits between retries."""
    email = cfg.email
    if email is None:
        raise MailError("feed.yaml has no 'email' section", hint="see the README, section Email")
    recipients = list(to or email.to)
    for addr in recipients:
        if (why := mail.address_problem(addr)) is not None:
            raise MailError(f"not one valid email address ({why}): {mail.one_line(addr)!r}")
    if not recipients:
        raise MailError("no recipients", hint="list them in email.to or give --to")
    if week is not None and not is_week(week):
        raise MailError(f"not an ISO week like 2026-W18: {week!r}")
    chosen = week or default_week(store, today)
    if chosen is None:
        return delivery.SendReport()
    week_mail = delivery.composer(cfg, email, store, chosen, now or midnight(today, cfg.timezone))
    if dry_run:
        return delivery.SendReport(chosen, messages=[week_mail.compose(r) for r in recipients])
    return delivery.deliver(
        cfg, email, store, chosen, recipients, week_mail.outgoing, today,
        force=force, environ=environ, sleep=sleep,
    )  # fmt: skip


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
