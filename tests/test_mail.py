"""Email digests against a real SMTP server on 127.0.0.1 (aiosmtpd), parsed back with the
email package: headers, both parts, escaping, the size budget, retries, never twice."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import io
import json
import socket
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from digest import commands, delivery, mail, mimebody, scaffold
from digest.cli import cli
from digest.commands import run as run_command
from digest.commands import send as send_command
from digest.config import FeedConfig, load_config, parse_config
from digest.errors import ConfigError, MailError
from digest.feedid import feed_uid
from digest.grouping import group_week
from digest.ingest import ingest
from digest.store import Store
from digest.store.ledger import Ledger
from digest.tag import tag

# aiosmtpd warns that AUTH without TLS is unsafe: true, and why feed.yaml refuses it off
# localhost; these tests talk to 127.0.0.1 only.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

ROOT = Path(__file__).parent.parent
SEED = ROOT / "feeds" / "example" / "listings" / "000_b7ea8f9abe6ed864.txt"
TODAY = dt.date(2026, 5, 6)  # a Wednesday: the latest complete week is 2026-W18
WEEK = "2026-W18"
USER, PASSWORD, PASSWORD_ENV = "digest", "s3cret-pw", "DIGEST_TEST_SMTP_PASSWORD"
EVIL = "<script>alert(1)</script>"
HEADERS = (
    "Subject",
    "From",
    "To",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
)


# -- a real SMTP server ---------------------------------------------------------------------


@dataclass
class Handler:
    """Records every accepted message; replies from ``script`` first (e.g. a 451)."""

    data_replies: list[str] = field(default_factory=list)
    mail_replies: list[str | None] = field(default_factory=list)
    """Replies to MAIL FROM, one per command (None: accept)."""
    reject: set[str] = field(default_factory=set)
    received: list[tuple[list[str], bytes]] = field(default_factory=list)
    hang_up: bool = False
    """Close the connection after accepting each message (as an idle timeout would)."""
    peers: list[Any] = field(default_factory=list)
    """The connection each accepted message came over."""

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        reply = self.mail_replies.pop(0) if self.mail_replies else None
        if reply is not None:
            return reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.reject:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append((list(envelope.rcpt_tos), envelope.original_content))
        self.peers.append(session.peer)
        if self.hang_up:  # after the reply is written
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 2.0.0 accepted"


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[Callable[..., tuple[Handler, int]]]:
    controllers: list[Controller] = []

    def start(exclude: tuple[str, ...] = ()) -> tuple[Handler, int]:
        handler, port = Handler(), free_port()
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port,
            authenticator=authenticator,
            auth_required=True,
            auth_require_tls=False,  # plain localhost test; feed.yaml refuses this elsewhere
            auth_exclude_mechanism=list(exclude),
        )
        controller.start()
        controllers.append(controller)
        return handler, port

    yield start
    for controller in controllers:
        controller.stop()


# -- a feed with papers in one week ---------------------------------------------------------


def email_yaml(port: int, **extra: Any) -> str:
    section: dict[str, Any] = {
        "enabled": False,
        "from": "Test digest <digest@example.org>",
        "to": ["Ann Reader <ann@example.org>", "bob@example.org"],
        "list_id": "test.digest.example.org",
        "unsubscribe": [
            "https://example.org/digest/unsubscribe?list=test.digest.example.org&token=" + "x" * 60,
            "mailto:digest-unsubscribe@example.org",
        ],
        "smtp": {
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "username": USER,
            "password_env": PASSWORD_ENV,
            "timeout": 5,
            "retries": 2,
            "backoff": 0.5,
        },
    }
    section.update(extra)
    return "email: " + json.dumps(section) + "\n"


def papers(n: int = 3, words: int = 40) -> str:
    rows = [
        {
            "title": EVIL,
            "abstract": "Escaping <b>test</b> & more; see https://example.org/x.",
            "date": "2026-04-28",
            "authors": ["A. <Author>"],
        },
        {
            "title": "Quantized \\textbf{KV} caches",
            "abstract": "We quantize the $\\alpha$ cache.",
            "date": "2026-04-29",
            "url": "https://arxiv.org/abs/2604.00001",
        },
    ]
    for i in range(n - 2):
        rows.append(
            {
                "title": f"Paper number {i} on sparse experts",
                "abstract": " ".join(f"w{i}x{j}" for j in range(words)),
                "date": "2026-04-30",
            }
        )
    return "".join(json.dumps(r) + "\n" for r in rows)


def make_feed(tmp_path: Path, port: int, count: int = 3, words: int = 40, **extra: Any) -> Path:
    root = tmp_path / "feed"
    scaffold.init_feed(root)
    text = (root / "feed.yaml").read_text()
    text = text[: text.index("\nemail:")] + "\n" + email_yaml(port, **extra)
    (root / "feed.yaml").write_text(text)
    listing = root / "listings" / "w18.txt"
    listing.write_text(papers(count, words))
    cfg = load_config(root)
    with commands.open_store(cfg) as store:
        assert ingest(cfg, store, [listing], TODAY).new_papers == count
        tag(cfg, store)
    return root


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def send(root: Path, **kwargs: Any) -> delivery.SendReport:
    cfg = load_config(root)
    sleeps: list[float] = kwargs.pop("sleeps", [])
    with commands.open_store(cfg) as store:
        return send_command.send_week(cfg, store, TODAY, sleep=sleeps.append, **kwargs)


def parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def status(root: Path, recipient: str) -> str | None:
    with Store(load_config(root).store) as store:
        return store.ledger.status(WEEK, recipient)


# -- tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("exclude", [("LOGIN",), ("PLAIN",)], ids=["plain", "login"])
def test_message_received_over_smtp_with_auth(
    smtp: Callable[..., tuple[Handler, int]], tmp_path: Path, env: None, exclude: tuple[str, ...]
) -> None:
    handler, port = smtp(exclude)
    root = make_feed(tmp_path, port)
    report = send(root)
    assert report.week == WEEK and len(report.sent) == 2 and not report.problems
    assert [rcpts for rcpts, _ in handler.received] == [["ann@example.org"], ["bob@example.org"]]
    msg = parse(handler.received[0][1])
    assert not msg.defects and all(not part.defects for part in msg.walk())
    for name in HEADERS:
        assert msg[name], name
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert str(msg["Subject"]) == "My reading digest: 2026-W18 (3 papers)"
    assert msg["To"].addresses[0].addr_spec == "ann@example.org"
    assert msg["Date"].datetime == dt.datetime(2026, 5, 6, tzinfo=dt.UTC)
    assert msg["List-Id"] == "My reading digest <test.digest.example.org>"
    assert "token=" + "x" * 60 + ">" in str(msg["List-Unsubscribe"]).replace(" ", "")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Message-ID"] != parse(handler.received[1][1])["Message-ID"]

    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert max(len(line) for line in text.splitlines() if "://" not in line) <= 72
    assert EVIL in text and "https://example.org/digest/2026-W18.html" in text
    assert "Quantized KV caches" in text and "https://arxiv.org/abs/2604.00001" in text

    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;test&lt;/b&gt;" in html and "A. &lt;Author&gt;" in html
    assert '<a href="https://example.org/x"' in html
    assert "<style" not in html and "<link" not in html and "src=" not in html
    assert 'style="' in html  # the CSS was inlined


def test_wrong_password_is_a_clear_error_without_the_password(
    smtp: Callable[..., tuple[Handler, int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, port = smtp()
    root = make_feed(tmp_path, port)
    monkeypatch.setenv(PASSWORD_ENV, "wrong-pw")
    with pytest.raises(MailError) as err:
        send(root)
    assert "refused the login" in str(err.value) and "wrong-pw" not in str(err.value)
    assert "not tried" in str(err.value) and not handler.received
    assert status(root, "ann@example.org") is None  # certainly not sent: retried next time
    monkeypatch.delenv(PASSWORD_ENV)
    with pytest.raises(MailError, match=PASSWORD_ENV):
        send(root)


def test_temporary_failure_is_retried_with_backoff(
    smtp: Callable[..., tuple[Handler, int]], tmp_path: Path, env: None
) -> None:
    handler, port = smtp()
    root = make_feed(tmp_path, port)
    handler.data_replies = ["451 4.3.0 try again later", "451 4.3.0 still busy"]
    sleeps: list[float] = []
    report = send(root, to=["ann@example.org"], sleeps=sleeps)
    assert report.sent == ["ann@example.org"] and len(handler.received) == 1
    assert sleeps == [0.5, 1.0]
    assert status(root, "ann@example.org") == "sent"


def test_temporary_failure_gives_up_after_the_retries(
    smtp: Callable[..., tuple[Handler, int]], tmp_path: Path, env: None
) -> None:
    handler, port = smtp()
    root = make_feed(tmp_path, port)
    handler.data_replies = ["451 4.3.0 busy"] * 3
    with pytest.raises(MailError, match="gave up after 3 attempts"):
        send(root, to=["ann@example.org"])
    assert status(root, "ann@example.org") is None


def test_permanent_rejection_fails_that_recipient_only(
    smtp: Callable[..., tuple[Handler, int]], tmp_path: Path, env: None
) -> None:
    handler, port = smtp()
    root = make_feed(tmp_path, port)
    handler.reject = {"nobody@example.org"}
    sleeps: list[float] = []
    with pytest.raises(MailError) as err:
        send(root, to=["nobody@example.org", "bob@example.org"], sleeps=sleeps)
    message = str(err.value)
    assert "nobody@example.org" in message and "550" in message and "permanently" in message
    assert "sent to 1 other" in message and not sleeps  # a 5xx is never retried
    assert [rcpts for rcpts, _ in handler.received] == [["bob@example.org"]]
    assert status(root, "nobody@example.org") is None
    assert status(root, "bob@example.org") == "sent"


def test_a_rerun_sends_nothing_and_force_resends_the_same_message_id(
    smtp: Callable[..., tuple[Handler, int]], tmp_path: Path, env: None
) -> None:
    handler, port = smtp()
    root = make_feed(tmp_path, port)
    assert len(send(root).sent) == 2
    again = send(root)
    assert again.sent == [] and len(again.skipped) == 2 and not again.problems
    assert len(handler.received) == 2
    forced = send(root, to=["bob@example.org"], force=True)
    assert forced.sent == ["bob@example.org"] and len(handler.received) == 3
    assert (
        parse(handler.received[2][1])["Message-ID"] == parse(handler.received[1][1])["Message-ID"]
    )


def test_a_failed_forced_resend_leaves_the_week_sent(
    smtp: Callable[..., tuple[Handler, int]], tmp_path: Path, env: None
) -> None:
    handler, port = smtp()
    root = make_feed(tmp_path, port)
    assert send(root, to=["bob@example.org"]).sent == ["bob@example.org"]
    handler.reject = {"bob@example.org"}  # the forced resend is refused for good
    with pytest.raises(MailError):
        send(root, to=["bob@example.org"], force=True)
    # Bob has the week already: the ledger still says so, and the next run skips him.
    assert status(root, "bob@example.org") == "sent"
    handler.reject = set()
    again = send(root, to=["bob@example.org"])
    assert again.sent == [] and again.skipped == ["bob@example.org"]
    assert len(handler.received) == 1


def test_a_run_killed_midway_is_never_sent_twice(
    smtp: Callable[..., tuple[Handler, int]],
    tmp_path: Path,
    env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler, port = smtp()
    root = make_feed(tmp_path, port)

    def killed(self: Ledger, week: str, recipient: str, day: dt.date) -> None:
        raise KeyboardInterrupt  # the server has the message; the process dies here

    with monkeypatch.context() as patch:
        patch.setattr(Ledger, "mark_sent", killed)
        with pytest.raises(KeyboardInterrupt):
            send(root)
    assert len(handler.received) == 1 and status(root, "ann@example.org") == "sending"
    report = send(root)
    assert report.sent == ["bob@example.org"] and report.skipped == ["Ann Reader <ann@example.org>"]
    assert len(report.problems) == 1 and "may have been delivered" in str(report.problems[0])
    assert len(handler.received) == 2
    assert send(root, force=True, to=["ann@example.org"]).sent == ["ann@example.org"]
    assert status(root, "ann@example.org") == "sent"


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), -1.0])
def test_an_odd_timeout_never_leaves_a_recipient_sending(
    smtp: Callable[..., tuple[Handler, int]], tmp_path: Path, env: None, timeout: float
) -> None:
    handler, port = smtp()
    root = make_feed(tmp_path, port)
    cfg = load_config(root)
    assert cfg.email is not None
    odd = replace(cfg, email=replace(cfg.email, smtp=replace(cfg.email.smtp, timeout=timeout)))
    with commands.open_store(cfg) as store, pytest.raises(MailError, match=r"127\.0\.0\.1"):
        send_command.send_week(odd, store, TODAY, sleep=lambda _: None)
    assert status(root, "ann@example.org") is None and status(root, "bob@example.org") is None
    assert len(send(root).sent) == 2 and len(handler.received) == 2


def test_any_failure_before_the_message_is_handed_over_clears_the_claim(
    smtp: Callable[..., tuple[Handler, int]],
    tmp_path: Path,
    env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler, port = smtp()
    root = make_feed(tmp_path, port)

    def broken(self: delivery.Transport) -> None:
        raise RuntimeError("a bug while connecting")

    with monkeypatch.context() as patch:
        patch.setattr(delivery.Transport, "_connection", broken)
        with pytest.raises(RuntimeError):
            send(root)
    assert status(root, "ann@example.org") is None
    assert len(send(root).sent) == 2 and len(handler.received) == 2


def test_cron_run_sends_once_when_enabled(
    smtp: Callable[..., tuple[Handler, int]], tmp_path: Path, env: None
) -> None:
    handler, port = smtp()
    root = make_feed(tmp_path, port)
    text = (root / "feed.yaml").read_text().replace('"enabled": false', '"enabled": true')
    (root / "feed.yaml").write_text(text)
    first = run_command.run(load_config(root), TODAY)
    assert first.email is not None and first.email.week == WEEK and len(first.email.sent) == 2
    second = run_command.run(load_config(root), TODAY)
    assert second.email is not None and second.email.sent == []
    assert len(handler.received) == 2


def test_html_over_budget_lists_titles_only(tmp_path: Path) -> None:
    root = make_feed(tmp_path, 25, count=60, words=150, max_html_bytes=20_000)
    report = send(root, dry_run=True, to=["ann@example.org"])
    msg = parse(mail.message_bytes(report.messages[0]))
    html_part = msg.get_body(("html",))
    assert html_part is not None
    assert len(html_part.get_payload(decode=False).encode()) <= 20_000
    html = html_part.get_content()
    assert "by title" in html and "week page" in html and "<li>" in html
    # A paper in full shows its preview (the rest is on the week page); later papers are
    # listed by title only.
    assert "w0x1 " in html and "w0x149" not in html and "w57x1 " not in html
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "by title" in text and "Paper number 57" in text


def test_tiny_budget_keeps_only_what_fits() -> None:
    def html_for(full: int, listed: int) -> str:
        return ("x" * 70 + "\n") * (10 + 5 * full + listed)  # 71 bytes a line, also as QP

    assert mail.fit(html_for, 10, 100_000) == (10, 10)
    # Papers in full come first (each theme's top ones), then titles as room allows.
    assert mail.fit(html_for, 10, 71 * 40) == (5, 5)
    assert mail.fit(html_for, 10, 71 * 45) == (5, 10)
    assert mail.fit(html_for, 10, 71 * 15) == (0, 5)


def test_header_injection_through_the_title_is_impossible(tmp_path: Path) -> None:
    root = make_feed(tmp_path, 25)
    text = (root / "feed.yaml").read_text()
    text = text.replace("title: My reading digest", 'title: "Digest\\r\\nBcc: evil@example.org"')
    (root / "feed.yaml").write_text(text)
    report = send(root, dry_run=True, to=["ann@example.org"])
    raw = mail.message_bytes(report.messages[0])
    msg = parse(raw)
    assert msg["Bcc"] is None and b"\nBcc:" not in raw.split(b"\n\n", 1)[0]
    assert str(msg["Subject"]) == "Digest Bcc: evil@example.org: 2026-W18 (3 papers)"


def test_bad_recipient_on_the_command_line(tmp_path: Path) -> None:
    root = make_feed(tmp_path, 25)
    with pytest.raises(MailError, match="not one valid email address"):
        send(root, dry_run=True, to=["a@example.org\r\nBcc: evil@example.org"])


def test_default_week_is_the_latest_complete_week_with_papers(tmp_path: Path) -> None:
    root = make_feed(tmp_path, 25)
    with Store(load_config(root).store) as store:
        assert send_command.default_week(store, dt.date(2026, 5, 3)) is None  # W18 not over yet
        assert send_command.default_week(store, dt.date(2026, 5, 4)) == WEEK
        assert send_command.default_week(store, dt.date(2026, 12, 1)) == WEEK


def test_email_config_reports_every_problem_at_once(tmp_path: Path) -> None:
    text = """title: x
email:
  enabled: maybe
  from: not an address
  to: [ok@example.org, "two@example.org, three@example.org"]
  list_id: no spaces allowed
  unsubscribe: javascript:alert(1)
  max_html_bytes: 5
  colour: blue
  smtp:
    host: mail.example.org
    port: http
    security: ssl
    username: me
    password: hunter2
    retries: -1
"""
    with pytest.raises(ConfigError) as err:
        parse_config(text, tmp_path)
    lines = [str(p) for p in err.value.problems]
    expected = [
        "email.enabled",
        "email.from",
        "email.to[1]",
        "email.list_id",
        "email.unsubscribe",
        "email.max_html_bytes",
        "email.colour",
        "email.smtp.port",
        "email.smtp.security",
        "email.smtp.password",
        "email.smtp.retries",
        "email.smtp.password_env",
    ]
    for key in expected:
        assert any(f": {key}: " in line for line in lines), (key, lines)
    assert all(line.startswith("feed.yaml:") and line.split(":")[2].isdigit() for line in lines)
    assert "hunter2" not in str(err.value)
    assert any("never put the password" in line for line in lines)


def test_email_config_defaults(tmp_path: Path) -> None:
    cfg: FeedConfig = parse_config(
        "email:\n  from: d@example.org\n  list_id: a.example.org\n  unsubscribe: mailto:u@x.org\n",
        tmp_path,
    )
    assert cfg.email is not None and not cfg.email.enabled
    assert cfg.email.smtp.security == "starttls" and cfg.email.smtp.port == 587
    assert cfg.email.max_html_bytes == 100_000
    assert parse_config("title: x\n", tmp_path).email is None


def test_cli_send_dry_run_on_a_fresh_feed(tmp_path: Path) -> None:
    runner = CliRunner()
    root = tmp_path / "fresh"
    assert runner.invoke(cli, ["init", str(root)]).exit_code == 0
    ingested = runner.invoke(cli, ["ingest", str(root), str(SEED), "--today", "2026-11-25"])
    assert ingested.exit_code == 0, ingested.output
    result = runner.invoke(cli, ["send", str(root), "--dry-run", "--today", "2026-11-25"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    msg = parse(result.stdout_bytes)
    assert not msg.defects and msg["To"] and msg["Message-ID"] and msg["List-Unsubscribe"]
    assert str(msg["Subject"]).startswith("My reading digest: 2026-W11 (")
    assert msg["Date"].datetime == dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    with Store(load_config(root).store) as store:  # a dry run records nothing
        assert store.ledger.status("2026-W11", "reader@example.org") is None
    none = runner.invoke(cli, ["send", str(root), "--dry-run", "--today", "2026-03-01"])
    assert none.exit_code == 1 and "nothing to send" in none.stderr and none.stdout == ""


# -- the week rendered once for all recipients (issue 21 item 5) ----------------------------

RECIPIENTS = (
    "Ann Reader <ann@example.org>",
    "bob@example.org",
    '"O\'Neil & Co, Ltd." <c.oneil@bücher.example>',
)


def week_mail_and_reference(
    root: Path,
) -> tuple[mail.WeekMail, Callable[[str], EmailMessage]]:
    """The new path (one WeekMail) and the reference (mail.compose per recipient)."""
    cfg = load_config(root)
    assert cfg.email is not None
    email = cfg.email
    when = dt.datetime(2026, 5, 6, tzinfo=dt.UTC)
    with commands.open_store(cfg) as store:
        digest = group_week(WEEK, store.papers.load(WEEK), cfg.rules.section_names)
        uid = feed_uid(cfg, store)

    def reference(rcpt: str) -> EmailMessage:
        return mail.compose(cfg, email, digest, recipient=rcpt, uid=uid, now=when)

    return mail.WeekMail(cfg, email, digest, uid=uid, now=when), reference


@pytest.mark.parametrize(
    ("count", "words", "budget"),
    [(3, 40, 100_000), (60, 150, 20_000), (60, 150, 10_000)],
    ids=["all-in-full", "some-by-title", "some-only-counted"],
)
def test_week_mail_is_byte_identical_to_composing_each_recipient(
    tmp_path: Path, count: int, words: int, budget: int
) -> None:
    root = make_feed(tmp_path, 25, count=count, words=words, max_html_bytes=budget)
    week_mail, reference = week_mail_and_reference(root)
    assert week_mail.shared  # the default templates take the shared path
    for rcpt in RECIPIENTS:
        new, old = mail.message_bytes(week_mail.compose(rcpt)), mail.message_bytes(reference(rcpt))
        assert new == old, rcpt
        assert "Sent to" in parse(new).get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_week_mail_encodes_per_recipient_if_the_shared_encoding_would_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Were the stdlib's quoted-printable encoder ever not line by line, the check on the
    # first recipient sees it and every message is encoded whole, still byte-identical.
    monkeypatch.setattr(mimebody.SharedText, "payload", lambda self, replacement: "wrong\n")
    week_mail, reference = week_mail_and_reference(make_feed(tmp_path, 25))
    for rcpt in RECIPIENTS:
        assert mail.message_bytes(week_mail.compose(rcpt)) == mail.message_bytes(reference(rcpt))
    assert week_mail._parts and set(week_mail._parts.values()) == {None}


@pytest.mark.parametrize(
    "line",
    [
        "Sent to {{ recipient|upper }}",
        '{% if "bob" in recipient %}Hi Bob{% endif %} {{ recipient }}',
        "{% set who = recipient %}Sent to {{ who }}",
        '<a title="{{ recipient }}">Sent to {{ recipient }}</a>',
    ],
    ids=["filter", "test", "assignment", "attribute"],
)
def test_week_mail_renders_per_recipient_when_a_template_does_more_than_print_it(
    tmp_path: Path, line: str
) -> None:
    root = make_feed(tmp_path, 25)
    html = (ROOT / "templates" / "email.html").read_text()
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "email.html").write_text(html.replace("Sent to {{ recipient }}", line, 1))
    text = (root / "feed.yaml").read_text()
    (root / "feed.yaml").write_text(text + "templates: templates\n")
    week_mail, reference = week_mail_and_reference(root)
    assert not week_mail.shared
    for rcpt in RECIPIENTS:
        assert mail.message_bytes(week_mail.compose(rcpt)) == mail.message_bytes(reference(rcpt))


def test_send_to_100_recipients_renders_the_week_once_over_one_connection(
    smtp: Callable[..., tuple[Handler, int]],
    tmp_path: Path,
    env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler, port = smtp()
    root = make_feed(tmp_path, port)
    peers: list[Any] = []
    accept = handler.handle_DATA

    async def data(server: Any, session: Any, envelope: Any) -> str:
        peers.append(session.peer)
        return await accept(server, session, envelope)

    monkeypatch.setattr(handler, "handle_DATA", data)
    calls = {"inline_css": 0, "render": 0}
    inline, render_template = mail.inline_css, mail.render.render

    def counted_inline(html: str) -> str:
        calls["inline_css"] += 1
        return inline(html)

    def counted_render(*args: Any, **kwargs: Any) -> str:
        calls["render"] += 1
        return render_template(*args, **kwargs)

    monkeypatch.setattr(mail, "inline_css", counted_inline)
    monkeypatch.setattr(mail.render, "render", counted_render)
    report = send(root, to=["bob@example.org"])
    one = dict(calls)
    calls.update(inline_css=0, render=0)
    many = [f"reader{i:03d}@example.org" for i in range(100)]
    report = send(root, to=many)
    assert report.sent == many and len(handler.received) == 101
    assert calls == one  # the week is rendered and inlined as often for 100 as for 1
    # the shared body, and the no-paper page twice: placeholder and probe recipient
    assert calls["inline_css"] <= 3
    assert len(set(peers[1:])) == 1  # the 100 messages went over one SMTP connection
    assert [rcpts for rcpts, _ in handler.received[1:]] == [[r] for r in many]
    cfg = load_config(root)
    assert cfg.email is not None
    with commands.open_store(cfg) as store:  # the week as send ranks it
        week = delivery.composer(
            cfg, cfg.email, store, WEEK, dt.datetime(2026, 5, 6, tzinfo=dt.UTC)
        )
    for rcpt, (_, received) in list(zip(many, handler.received[1:], strict=True))[::11]:
        # what the server got is what smtplib sends for the message composed on its own
        old = mail.compose(cfg, cfg.email, week.digest, recipient=rcpt, uid=week.uid, now=week.now)
        assert received == smtplib_bytes(old), rcpt


def smtplib_bytes(msg: EmailMessage) -> bytes:
    """``msg`` serialised as smtplib's ``send_message`` does it (its own code path, so
    the comparison does not rest on digest.mimebody.flatten)."""
    out = io.BytesIO()
    BytesGenerator(out).flatten(copy.copy(msg), linesep="\r\n")
    return out.getvalue()


@pytest.mark.parametrize(
    ("count", "words", "budget"),
    [(3, 40, 100_000), (60, 150, 20_000), (60, 150, 10_000)],
    ids=["all-in-full", "some-by-title", "some-only-counted"],
)
def test_outgoing_bytes_are_what_smtplib_sends_for_each_composed_message(
    tmp_path: Path, count: int, words: int, budget: int
) -> None:
    root = make_feed(tmp_path, 25, count=count, words=words, max_html_bytes=budget)
    week_mail, reference = week_mail_and_reference(root)
    for rcpt in RECIPIENTS + RECIPIENTS[::-1]:  # each again: from the skeleton
        out, old = week_mail.outgoing(rcpt), reference(rcpt)
        assert out.data == smtplib_bytes(old), rcpt
        assert out.message_id == str(old["Message-ID"])
    # each message after the first of its size fit was joined from the skeleton
    assert week_mail._skeletons and None not in week_mail._skeletons.values()


NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=90)
LOCALS = st.from_regex(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,24}(\.[A-Za-z0-9_-]{1,12}){0,2}", fullmatch=True
)
DOMAINS = st.sampled_from(
    [
        "example.org",
        "bücher.example",
        "xn--bcher-kva.example",
        "mail.very-long-subdomain." * 3 + "org",
    ]
)


@st.composite
def recipients(draw: st.DrawFn) -> str:
    name, addr = draw(NAMES), f"{draw(LOCALS)}@{draw(DOMAINS)}"
    form = draw(st.sampled_from(["formataddr", "raw", "bare", "quoted"]))
    if form == "formataddr" and addr.isascii():  # (formataddr takes an ASCII address)
        return formataddr((name, addr))
    if form == "quoted":
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + f'" <{addr}>'
    return f"{name} <{addr}>" if form == "raw" else addr


def test_outgoing_bytes_for_any_recipient_are_the_composed_message() -> None:
    # Odd addresses: non-ASCII, quoted and long display names (RFC 2047, folding), IDN
    # domains. Each is joined from the skeleton, and must be what smtplib would send for
    # the message composed on its own (WeekMail.compose, byte-identical to mail.compose
    # as tested above).
    with tempfile.TemporaryDirectory() as tmp:
        week_mail, _ = week_mail_and_reference(make_feed(Path(tmp), 25))
        week_mail.outgoing("first@example.org")  # makes the skeleton

        @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(recipients())
        def check(rcpt: str) -> None:
            assume(mail.address_problem(rcpt) is None)
            assert week_mail.outgoing(rcpt).data == smtplib_bytes(week_mail.compose(rcpt))

        check()
        assert None not in week_mail._skeletons.values()


def test_a_connection_the_server_closed_between_messages_is_replaced_at_once(
    smtp: Callable[..., tuple[Handler, int]], tmp_path: Path, env: None
) -> None:
    # No NOOP before each message: a dead connection fails at MAIL, before the message,
    # so it is certainly undelivered and goes again on a new connection, with no wait.
    handler, port = smtp()
    handler.hang_up = True
    root = make_feed(tmp_path, port)
    sleeps: list[float] = []
    many = [f"reader{i}@example.org" for i in range(3)]
    report = send(root, to=many, sleeps=sleeps)
    assert report.sent == many and not report.problems and sleeps == []
    assert [rcpts for rcpts, _ in handler.received] == [[r] for r in many]
    assert all(status(root, r) == "sent" for r in many)
    assert len(set(handler.peers)) == 3  # each message on a connection of its own


def test_a_421_before_the_message_on_a_reused_connection_reconnects_at_once(
    smtp: Callable[..., tuple[Handler, int]], tmp_path: Path, env: None
) -> None:
    # A server that allows one message per connection says 421 to the next MAIL.
    handler, port = smtp()
    handler.mail_replies = [None, "421 4.7.0 too many messages on this connection"]
    root = make_feed(tmp_path, port)
    sleeps: list[float] = []
    report = send(root, to=["ann@example.org", "bob@example.org"], sleeps=sleeps)
    assert report.sent == ["ann@example.org", "bob@example.org"] and sleeps == []
    assert len(set(handler.peers)) == 2
    # On a new connection a 421 is a temporary failure like any other: retried after a wait.
    handler.mail_replies = ["421 4.3.2 shutting down"]
    assert send(root, to=["carl@example.org"], sleeps=sleeps).sent == ["carl@example.org"]
    assert sleeps == [0.5]
