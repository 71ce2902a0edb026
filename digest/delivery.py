"""Delivery: one week's digest -> each recipient over SMTP, never twice.

Input: the feed config and its ``email`` section, the store, a week, its recipients
and the run's date. Output: the messages (:func:`composer`: the week's
:class:`~digest.mail.WeekMail`), and a :class:`SendReport` of who was sent them
(:func:`deliver`, which sends each recipient's :class:`~digest.mail.Outgoing` bytes);
the store's ``sent`` table records every send.
Which week and to whom is the ``send`` use case's (:mod:`digest.commands.send`).

Never twice: before a message goes to the server its (week, recipient) row is
written as ``sending`` (in a transaction that first checks no row exists), and
turned into ``sent`` once the server accepted it. A ``sending`` row left by a run
that was killed, or lost the connection mid-message, means "possibly delivered":
it is skipped with a warning until ``--force``. A row is removed only when the
server certainly refused the message (an SMTP reply, or no connection at all).

SMTP: smtplib with none/STARTTLS/implicit TLS over one connection for all
recipients, login with the password from the
environment variable named by ``password_env``, a timeout, and retries with
exponential backoff on temporary (4xx, connection) failures; ``sleep`` is a
parameter so tests need not wait. A permanent (5xx) reply fails that recipient
only; the others are still tried, then one :class:`~digest.errors.MailError`
names every failure. A reused connection is not probed (no NOOP) before each
message: one the server has closed meanwhile (or closes with a 421 reply, as servers
that limit messages per connection do) fails at the MAIL command, before the DATA
command starts the message, which is certainly undelivered and is sent again right
away on a new connection, no retry spent.
"""

from __future__ import annotations

import datetime as dt
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from digest import mail, render
from digest.config import FeedConfig
from digest.editorial import curated_week, load_editorial
from digest.errors import MailError, Problem
from digest.feedid import feed_uid
from digest.mail import EmailConfig, SmtpConfig
from digest.store import Store

Sleep = Callable[[float], None]


@dataclass(slots=True)
class SendReport:
    """What one send did."""

    week: str | None = None
    """The week sent (None: no complete week with papers yet)."""
    sent: list[str] = field(default_factory=list)
    """Recipients the server accepted the message for in this run."""
    skipped: list[str] = field(default_factory=list)
    """Recipients who already had this week (or possibly had it: see ``problems``)."""
    messages: list[EmailMessage] = field(default_factory=list)
    """With ``dry_run``: the messages that would be sent, one per recipient."""
    problems: list[Problem] = field(default_factory=list)
    """Warnings, such as a 'sending' record left by an interrupted run."""


class SendFailure(MailError):
    """One message was not delivered. ``certain``: the server surely did not take it.
    ``fatal``: no point trying the other recipients (no connection, bad login)."""

    def __init__(self, message: str, *, certain: bool = True, fatal: bool = False) -> None:
        super().__init__(message)
        self.certain = certain
        self.fatal = fatal


def composer(
    cfg: FeedConfig, email: EmailConfig, store: Store, week: str, when: dt.datetime
) -> mail.WeekMail:
    """The messages of ``week``, dated ``when``: the week's papers are read and grouped,
    and its body rendered and CSS-inlined, once for all recipients (``compose`` gives
    one recipient's message, ``outgoing`` its bytes for :func:`deliver`)."""
    editorial = load_editorial(cfg, store)  # the note opens it; decisions apply
    digest = curated_week(
        week, store.papers.load(week), cfg.rules, editorial, cfg.reading.top_picks
    )
    uid = feed_uid(cfg, store)
    week_mail = mail.WeekMail(
        cfg, email, digest, uid=uid, now=when, env=render.environment(cfg.templates)
    )
    return week_mail


def deliver(
    cfg: FeedConfig,
    email: EmailConfig,
    store: Store,
    week: str,
    recipients: Sequence[str],
    compose: Callable[[str], mail.Outgoing],
    today: dt.date,
    *,
    force: bool = False,
    environ: Mapping[str, str] | None = None,
    sleep: Sleep = time.sleep,
) -> SendReport:
    """Send ``week`` to each recipient not sent it already (all with ``force``),
    recording each send in the ledger. A failure raises one
    :class:`~digest.errors.MailError` naming every recipient missed."""
    report = SendReport(week=week)
    password = _password(email.smtp, os.environ if environ is None else environ)
    sender = (mail.parse_address(email.sender) or ("", ""))[1]
    failures: list[str] = []
    with Transport(email.smtp, password, sleep=sleep) as transport:
        for rcpt in recipients:
            addr = (mail.parse_address(rcpt) or ("", rcpt))[1].lower()
            msg = compose(rcpt)
            with store.db.transaction():
                before = store.ledger.record(week, addr)
                status = before[0] if before else None
                claim = force or status is None
                if claim:
                    store.ledger.mark_sending(week, addr, msg.message_id, today)
            if not claim:
                report.skipped.append(rcpt)
                if status == "sending":
                    report.problems.append(_interrupted(cfg, week, rcpt))
                continue
            try:
                transport.send(msg.data, sender, addr)
            except SendFailure as err:
                if err.certain:
                    store.ledger.clear_sending(week, addr, before)
                failures.append(f"{rcpt}: {err}")
                if err.fatal or not err.certain:
                    failures.extend(f"{r}: not tried" for r in _after(recipients, rcpt))
                    break
                continue
            except BaseException:
                # Anything else (a bug, an interrupt): the ledger still tells the truth.
                # Before the message went out it was certainly not delivered; after, it
                # may have been, and the 'sending' row says so.
                if not transport.handed_over:
                    store.ledger.clear_sending(week, addr, before)
                raise
            store.ledger.mark_sent(week, addr, today)
            report.sent.append(rcpt)
    if failures:
        done = f"; sent to {len(report.sent)} other(s)" if report.sent else ""
        raise MailError(
            f"could not send {week} to {len(failures)} recipient(s){done}:\n  "
            + "\n  ".join(failures),
            hint="a later run retries them; a recipient marked 'may have been delivered' is "
            "skipped until 'digest send --force --to ADDR'",
        )
    return report


def _interrupted(cfg: FeedConfig, week: str, rcpt: str) -> Problem:
    return Problem(
        str(cfg.file),
        None,
        f"email: {week} to {rcpt} was being sent when a run stopped; it may have been "
        f"delivered, so it is skipped (use 'digest send --force --week {week} --to {rcpt}')",
    )


def _after(items: Sequence[str], item: str) -> list[str]:
    return list(items[items.index(item) + 1 :])


def _password(smtp: SmtpConfig, environ: Mapping[str, str]) -> str | None:
    if not smtp.username:
        return None
    name = smtp.password_env or ""
    value = environ.get(name)
    if not value:
        raise MailError(
            f"the SMTP password is not set: environment variable {name} is empty or missing",
            hint=f"export {name}=... in the environment that runs digest (never in feed.yaml)",
        )
    return value


class Transport:
    """One SMTP connection, opened on first use and reopened after a failure."""

    def __init__(self, cfg: SmtpConfig, password: str | None, *, sleep: Sleep) -> None:
        self.cfg = cfg
        self._password = password
        self.sleep = sleep
        self.conn: _Connection | None = None
        self._sending: _Connection | None = None
        """The connection the last :meth:`send` attempt used."""

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def handed_over(self) -> bool:
        """Whether the last :meth:`send` began giving the message to the server (its
        DATA command: from then on a failure may leave it delivered)."""
        return self._sending is not None and self._sending.data_started

    def close(self) -> None:
        """Say QUIT (politely; a dead connection is just dropped)."""
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                self.conn.close()
            self.conn = None

    def send(self, data: bytes, sender: str, recipient: str) -> None:
        """Deliver the message ``data`` (:class:`~digest.mail.Outgoing`) to one
        recipient, retrying temporary failures with backoff."""
        last, unreachable, attempt = "", False, 0
        while attempt <= self.cfg.retries:
            self._sending = None  # an attempt refused before was certainly not delivered
            if attempt:
                self.sleep(self.cfg.backoff * 2 ** (attempt - 1))
            attempt += 1
            unreachable, reused = True, self.conn is not None
            try:
                conn = self._connection()
            except smtplib.SMTPResponseException as err:
                last = self._reply(err.smtp_code, err.smtp_error, "the server", fatal=True)
                continue
            except (smtplib.SMTPNotSupportedError, ssl.SSLCertVerificationError) as err:
                raise SendFailure(f"{self._where()}: {err}", fatal=True) from None
            except (ValueError, OverflowError) as err:  # a timeout no socket takes (NaN, inf)
                raise SendFailure(
                    f"cannot connect to {self._where()} with timeout {self.cfg.timeout!r}: {err}",
                    fatal=True,
                ) from None
            except OSError as err:  # refused, unreachable, timed out: nothing was sent
                self._drop()
                last = f"cannot reach {self._where()}: {err}"
                continue
            unreachable = False
            self._sending = conn
            conn.data_started = False
            try:
                conn.sendmail(sender, [recipient], data)
                return
            except smtplib.SMTPRecipientsRefused as err:
                code, text = err.recipients.get(recipient, (550, b"refused"))
                last = self._reply(code, text, "the recipient")
            except smtplib.SMTPResponseException as err:
                last = self._reply(err.smtp_code, err.smtp_error, "the message")
                if err.smtp_code == 421 and reused and not conn.data_started:
                    attempt -= 1  # the server closed the channel before the message: again now
            except smtplib.SMTPNotSupportedError as err:  # raised before anything is sent
                raise SendFailure(f"{self._where()}: {err}") from None
            except OSError as err:  # the connection broke mid-transaction
                self._drop()
                if not conn.data_started:  # certainly not delivered: send it again
                    last = f"connection to {self._where()} lost before the message: {err}"
                    if reused:  # closed by the server while idle: no attempt lost
                        attempt -= 1
                    continue
                raise SendFailure(
                    f"connection to {self._where()} lost while sending ({err}); "
                    "the message may have been delivered",
                    certain=False,
                ) from None
        tries = self.cfg.retries + 1
        raise SendFailure(
            f"temporary failure, gave up after {tries} attempts: {last}", fatal=unreachable
        )

    def _reply(self, code: int, text: bytes | str, what: str, *, fatal: bool = False) -> str:
        """A refusal: raise if permanent (5xx), else drop the connection and describe it."""
        said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        line = f"{code} {mail.one_line(said)}"
        if not 400 <= code < 500:
            if code in (530, 534, 535):
                hint = f"; check email.smtp.username and ${self.cfg.password_env}"
                raise SendFailure(f"{self._where()} refused the login: {line}{hint}", fatal=True)
            raise SendFailure(f"{self._where()} rejected {what} permanently: {line}", fatal=fatal)
        self._drop()
        return f"{self._where()}: {line}"

    def _where(self) -> str:
        return f"{self.cfg.host}:{self.cfg.port}"

    def _drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _connection(self) -> _Connection:
        if self.conn is not None:
            return self.conn
        cfg = self.cfg
        # Loading the CA certificates costs tens of milliseconds: only when TLS is used.
        context = ssl.create_default_context() if cfg.security != "none" else None
        conn: _Connection
        if cfg.security == "tls":
            conn = _TLSConnection(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
        else:
            conn = _Connection(cfg.host, cfg.port, timeout=cfg.timeout)
        try:
            conn.ehlo()
            if cfg.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if cfg.username:
                conn.login(cfg.username, self._password or "")
        except BaseException:
            conn.close()
            raise
        self.conn = conn
        return conn


class _Connection(smtplib.SMTP):
    """smtplib's client, noting when ``sendmail`` starts the DATA command: a failure
    before it (MAIL, RCPT) certainly delivered nothing."""

    data_started = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_started = True
        return super().data(msg)


class _TLSConnection(_Connection, smtplib.SMTP_SSL):
    """:class:`_Connection` over implicit TLS."""
