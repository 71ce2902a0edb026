"""Email: the ``email`` config section, and one week's digest -> one MIME message.

Input: the raw ``email`` mapping of feed.yaml (with its :class:`~digest.yamlsrc.Source`),
or a :class:`~digest.models.WeekDigest` plus the feed settings, one recipient and the
send time. Output: a typed :class:`EmailConfig` (and every problem at once), or an
:class:`~email.message.EmailMessage`: multipart/alternative with a wrapped text/plain
part and a text/html part whose CSS is inlined (the only module that imports
css_inline). The HTML part is kept under ``max_html_bytes`` by showing the rest of
the week as titles only. Nothing here talks to a server or the store (see
:mod:`digest.delivery`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import quopri
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

import css_inline

from digest import render
from digest.errors import MailError, Problem
from digest.models import Paper, WeekDigest
from digest.outtext import clean_paper
from digest.yamlsrc import Path as KeyPath
from digest.yamlsrc import Source
from digest.yamlsrc import describe as _kind
from digest.yamlsrc import shown as _shown

if TYPE_CHECKING:  # config imports this module to validate the email section
    from digest.config import FeedConfig

EMAIL_KEYS = {"enabled", "from", "to", "list_id", "unsubscribe", "max_html_bytes", "smtp"}
SMTP_KEYS = {
    "host",
    "port",
    "security",
    "username",
    "password_env",
    "timeout",
    "retries",
    "backoff",
}
HTML_BYTES = (10_000, 10_000_000)
"""Range of ``max_html_bytes``: below 10 kB no paper fits; many servers refuse
messages past 10-25 MB."""
SMTP_TIMEOUT = (1, 600)
"""Seconds for connecting and each reply (RFC 5321 suggests 5 to 10 minutes at most)."""
SMTP_BACKOFF = (0, 300)
SMTP_RETRIES = (0, 8)
"""With the largest backoff, 8 doubling retries wait under a day in all: a daily cron
run never overlaps the next one because of mail."""
SECURITY_PORTS = {"none": 25, "starttls": 587, "tls": 465}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}

# Headers are written as given (List-Unsubscribe is pre-folded one URI a line): the
# default policy would RFC 2047-encode a long URL and so break it.
POLICY = policy.default.clone(refold_source="none")

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LIST_ID = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_URI = re.compile(r"^(https://[!-~]+|mailto:[!-~]+)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_UNSAFE = re.compile("[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029]")


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """The ``email.smtp`` section: how to reach the outgoing server."""

    host: str = "localhost"
    port: int = 587
    """Default by ``security``: 25 (none), 587 (starttls), 465 (tls)."""
    security: str = "starttls"
    """``none``, ``starttls`` or ``tls`` (implicit TLS from the first byte)."""
    username: str | None = None
    """Log in when set; the password comes from the environment variable ``password_env``."""
    password_env: str | None = None
    """Name of the environment variable holding the password (never the password)."""
    timeout: float = 30.0
    """Seconds for connecting and for each server reply."""
    retries: int = 3
    """Further attempts after a temporary (4xx or connection) failure."""
    backoff: float = 5.0
    """Seconds before the first retry; doubled for each further one."""


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """The validated ``email`` section."""

    sender: str
    """The From header (``Name <addr>``), key ``from``."""
    list_id: str
    """List-Id label, like ``efficient-ml.digest.example.org``."""
    unsubscribe: tuple[str, ...]
    """List-Unsubscribe URIs (``https:`` and/or ``mailto:``)."""
    to: tuple[str, ...] = ()
    """Default recipients (``--to`` overrides)."""
    enabled: bool = False
    """Send from ``digest run`` (cron); ``digest send`` works either way."""
    max_html_bytes: int = 100_000
    """Budget for the HTML part (Gmail clips messages past ~102 KB)."""
    smtp: SmtpConfig = field(default_factory=SmtpConfig)


def parse_address(text: str) -> tuple[str, str] | None:
    """``Name <a@b.org>`` -> (display name, addr-spec with an ASCII domain); None unless
    exactly one valid address (:func:`address_problem` says why)."""
    parsed = _parse_address(text)
    return parsed if isinstance(parsed, tuple) else None


def address_problem(text: str) -> str | None:
    """Why ``text`` is not one address digest will send to or from; None when it is."""
    parsed = _parse_address(text)
    return parsed if isinstance(parsed, str) else None


def header_address(text: str) -> str:
    """A valid address as a header value: the domain IDNA-encoded (``xn--``), the display
    name left for the header policy to RFC 2047-encode. MailError when not valid."""
    parsed = _parse_address(text)
    if isinstance(parsed, str):
        raise MailError(f"not one valid email address ({parsed}): {one_line(text)!r}")
    name, addr = parsed
    local, _, domain = addr.rpartition("@")
    return str(Address(display_name=name, username=local, domain=domain))


def _parse_address(text: str) -> tuple[str, str] | str:
    """(display name, addr-spec) or the reason there is none."""
    if _UNSAFE.search(text):
        return "it contains a control character or line break"
    try:
        header = policy.default.header_factory("To", text)
        addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    except (ValueError, LookupError, TypeError):
        # The parser refuses, among others, a CR or LF hidden in an RFC 2047 word.
        return "it hides a control character or line break (in an encoded word?)"
    if len(addresses) == 1 and not addresses[0].username.isascii():
        # Such an address needs SMTPUTF8 from every server on the way, and digest sends
        # plain ASCII envelopes: refusing it now beats a bounce later.
        return "a non-ASCII name before the '@' needs SMTPUTF8, which digest does not use"
    if header.defects or len(addresses) != 1 or not addresses[0].domain:
        return "expected exactly one address like 'Name <name@example.org>'"
    found = addresses[0]
    if any(_UNSAFE.search(part) for part in (found.display_name, found.username, found.domain)):
        return "it hides a control character or line break (in an encoded word?)"
    try:
        domain = ascii_domain(found.domain)
    except ValueError as err:
        return str(err)
    return found.display_name, f"{found.username}@{domain}"


IDNA_DEVIATIONS = frozenset("\u00df\u03c2\u200c\u200d")
"""Characters IDNA 2003 (the stdlib codec) maps away and IDNA 2008 keeps: ß, final
sigma, ZWNJ, ZWJ. ``straße.de`` is ``strasse.de`` to the codec but a domain of its own
under IDNA 2008, so such a domain is refused instead of silently mailing another one."""


def ascii_domain(domain: str) -> str:
    """``exämple.org`` -> ``xn--exmple-cua.org`` (IDNA, stdlib codec); an ASCII domain as
    it is. ValueError saying why for a name that is not a domain or is refused."""
    if domain.isascii():
        return domain
    if IDNA_DEVIATIONS.intersection(domain):
        raise ValueError(
            f"the domain {domain!r} holds a character IDNA versions disagree on "
            "(ß, ς, ZWJ, ZWNJ); write it in its xn-- form"
        )
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{domain!r} is not a valid international domain name") from None


def parse_email_config(raw: Any, source: Source) -> tuple[EmailConfig | None, list[Problem]]:
    """Validate the ``email`` mapping; None when the section is absent. Every problem at once."""
    if raw is None:
        return None, []
    problems: list[Problem] = []

    def bad(path: KeyPath, message: str) -> None:
        problems.append(source.problem(path, message))

    if not isinstance(raw, dict):
        bad(("email",), f"expected a mapping, got {_kind(raw)}")
        return None, problems
    for key in raw:
        if key not in EMAIL_KEYS:
            known = ", ".join(sorted(EMAIL_KEYS))
            problems.append(source.key_problem(("email", key), f"unknown key (known: {known})"))
    enabled = raw.get("enabled", False)
    if not isinstance(enabled, bool):
        bad(("email", "enabled"), f"expected true or false, got {_kind(enabled)}")
        enabled = False
    sender = raw.get("from")
    if not isinstance(sender, str):
        bad(
            ("email", "from"),
            f"expected one address like 'Digest <d@example.org>', got {_kind(sender)}",
        )
        sender = ""
    elif (why := address_problem(sender)) is not None:
        bad(("email", "from"), f"not one valid email address ({why})")
        sender = ""
    to = raw.get("to", [])
    to = [to] if isinstance(to, str) else to
    if not isinstance(to, list):
        bad(("email", "to"), f"expected a list of addresses, got {_kind(to)}")
        to = []
    for i, item in enumerate(to):
        where = ("email", "to", i) if isinstance(raw.get("to"), list) else ("email", "to")
        if not isinstance(item, str):
            bad(where, f"expected one email address, got {_kind(item)}")
        elif (why := address_problem(item)) is not None:
            bad(where, f"not one valid email address ({why})")
    if enabled and not to:
        bad(("email", "to"), "list at least one recipient when 'enabled' is true")
    list_id = raw.get("list_id")
    if not isinstance(list_id, str) or not _LIST_ID.match(list_id):
        bad(
            ("email", "list_id"),
            f"expected a dotted label like 'news.example.org', got {_kind(list_id)}",
        )
    unsub = raw.get("unsubscribe")
    unsub = [unsub] if isinstance(unsub, str) else unsub
    if not isinstance(unsub, list) or not unsub:
        bad(("email", "unsubscribe"), "expected an https: or mailto: URI (or a list of them)")
        unsub = []
    for i, uri in enumerate(unsub):
        if not isinstance(uri, str) or not _URI.match(uri) or len(uri) > 900 or "<" in uri:
            where = (
                ("email", "unsubscribe", i)
                if isinstance(raw.get("unsubscribe"), list)
                else ("email", "unsubscribe")
            )
            bad(where, f"expected an https: or mailto: URI without spaces, got {_kind(uri)}")
    budget = raw.get("max_html_bytes", 100_000)
    low, high = HTML_BYTES
    if isinstance(budget, bool) or not isinstance(budget, int) or not low <= budget <= high:
        bad(
            ("email", "max_html_bytes"),
            f"expected a whole number from {low} to {high:,}, got {_shown(budget)}",
        )
        budget = 100_000
    smtp = _smtp(raw.get("smtp", {}), source, problems)
    if problems:
        return None, problems
    return EmailConfig(
        sender=str(sender),
        list_id=str(list_id),
        unsubscribe=tuple(str(u) for u in unsub),
        to=tuple(str(t) for t in to),
        enabled=enabled,
        max_html_bytes=budget,
        smtp=smtp,
    ), problems


def _smtp(raw: Any, source: Source, problems: list[Problem]) -> SmtpConfig:
    def bad(key: str, message: str) -> None:
        problems.append(
            source.problem(("email", "smtp", key) if key else ("email", "smtp"), message)
        )

    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        bad("", f"expected a mapping, got {_kind(raw)}")
        return SmtpConfig()
    for key in raw:
        if key not in SMTP_KEYS:
            known = ", ".join(sorted(SMTP_KEYS))
            message = f"unknown key (known: {known})"
            if key == "password":
                message = "never put the password in feed.yaml: name an environment variable "
                message += "in 'password_env' and set the password there"
            problems.append(source.key_problem(("email", "smtp", key), message))
    host = raw.get("host", "localhost")
    if not isinstance(host, str) or not host or _CONTROL.search(host) or " " in host:
        bad("host", f"expected a host name, got {_kind(host)}")
        host = "localhost"
    security = raw.get("security", "starttls")
    if security not in SECURITY_PORTS:
        bad("security", f"expected none, starttls or tls, got {_kind(security)}")
        security = "starttls"
    port = raw.get("port", SECURITY_PORTS[security])
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        bad("port", f"expected a port number 1-65535, got {_kind(port)}")
        port = SECURITY_PORTS[security]
    username = raw.get("username")
    if username is not None and (not isinstance(username, str) or not username):
        bad("username", f"expected text, got {_kind(username)}")
        username = None
    password_env = raw.get("password_env")
    if password_env is not None and (
        not isinstance(password_env, str) or not _ENV_NAME.match(password_env)
    ):
        bad("password_env", f"expected an environment variable name, got {_kind(password_env)}")
        password_env = None
    if username and not password_env and "password_env" not in raw:
        bad("password_env", "name the environment variable holding the password for 'username'")
    if username and security == "none" and host not in LOCAL_HOSTS:
        bad("security", "'none' would send the password in clear text; use starttls or tls")
    numbers: dict[str, float] = {}
    for key, default, (low, high) in (
        ("timeout", 30.0, SMTP_TIMEOUT),
        ("backoff", 5.0, SMTP_BACKOFF),
        ("retries", 3, SMTP_RETRIES),
    ):
        value = raw.get(key, default)
        whole = key == "retries"
        kinds = int if whole else int | float
        # NaN fails both comparisons, so .nan and .inf are refused with 10**50.
        if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
            kind = "a whole number" if whole else "a number of seconds"
            bad(key, f"expected {kind} from {low:g} to {high:g}, got {_shown(value)}")
            value = default
        numbers[key] = value
    return SmtpConfig(
        host=host,
        port=port,
        security=security,
        username=username,
        password_env=password_env,
        timeout=float(numbers["timeout"]),
        retries=int(numbers["retries"]),
        backoff=float(numbers["backoff"]),
    )


@dataclass(slots=True)
class EmailSection:
    """One theme section as the email shows it: some papers in full, some as titles."""

    name: str
    total: int
    """Papers in the section this week (shown or not)."""
    full: list[Paper]
    """Papers shown with authors and abstract."""
    titles: list[Paper]
    """Papers past the size budget: title and link only."""


def one_line(text: str) -> str:
    """Text safe for a header: control characters (CR, LF, ...) and runs of space collapsed."""
    return " ".join(_CONTROL.sub(" ", text).split())


def subject(feed: FeedConfig, digest: WeekDigest) -> str:
    """``Title: 2026-W18 (12 papers)``, one line."""
    return one_line(f"{feed.title}: {digest.week} ({render.plural(digest.count, 'paper')})")


def message_id(uid: str, week: str, recipient: str, sender: str) -> str:
    """The same feed, week and recipient always give the same Message-ID, so a re-send
    (``--force``) is recognisable as the same message."""
    addr = (parse_address(recipient) or ("", recipient))[1].lower()
    digest = hashlib.sha256(f"{uid}\0{week}\0{addr}".encode()).hexdigest()[:24]
    domain = (parse_address(sender) or ("", "digest@localhost"))[1].rpartition("@")[2]
    return f"<digest.{week}.{digest}@{domain}>"


def compose(
    feed: FeedConfig,
    email: EmailConfig,
    digest: WeekDigest,
    *,
    recipient: str,
    uid: str,
    now: dt.datetime,
    env: render.Environment | None = None,
) -> EmailMessage:
    """One recipient's message for ``digest``: text/plain + inlined text/html."""
    env = env or render.environment(feed.templates)
    title = subject(feed, digest)
    ctx: dict[str, Any] = {
        "feed": feed,
        "digest": digest,
        "subject": title,
        "week_url": render.week_url(feed.base_url, feed.output.formats, digest.week),
        "unsubscribe": next(
            (u for u in email.unsubscribe if u.startswith("https:")), email.unsubscribe[0]
        ),
        "recipient": recipient,
    }

    def html_for(full: int, listed: int) -> str:
        sections = _sections(digest, full, listed)
        page = render.render(
            env, "email.html", sections=sections, **ctx, **_counts(digest, full, listed)
        )
        return inline_css(page)

    full, listed = fit(html_for, digest.count, email.max_html_bytes)
    html = html_for(full, listed)
    text = render.render(
        env,
        "email.txt",
        sections=_sections(digest, full, listed),
        **ctx,
        **_counts(digest, full, listed),
    )

    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = title
    msg["From"] = header_address(email.sender)
    msg["To"] = header_address(recipient)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(uid, digest.week, recipient, email.sender)
    msg["List-Id"] = f"{one_line(feed.title)} <{email.list_id}>"
    msg.set_raw("List-Unsubscribe", ",\n ".join(f"<{u}>" for u in email.unsubscribe))
    if any(u.startswith("https:") for u in email.unsubscribe):
        # RFC 8058 one-click unsubscribe: only meaningful with an https URI.
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    _check_headers(msg)
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    # A fixed boundary keeps the output reproducible; "=_" never occurs in a
    # quoted-printable body, so it cannot collide with the content.
    msg.set_boundary("=_" + str(msg["Message-ID"]).strip("<>").split("@")[0])
    return msg


def _check_headers(msg: EmailMessage) -> None:
    """The headers as built: each folds to lines of its own (no injected header), and
    From and To hold exactly one address each. A failure is a bug, refused before sending."""
    for name, value in msg.items():
        folded = POLICY.fold(name, value)
        lines = folded.removesuffix("\n").split("\n")
        if any(not line[:1].isspace() for line in lines[1:]) or "\r" in folded:
            raise MailError(f"refusing to send: the {name} header would hold a line break")
    for name in ("From", "To"):
        if len(getattr(msg[name], "addresses", ())) != 1:
            raise MailError(f"refusing to send: the {name} header is not one address")


def inline_css(html: str) -> str:
    """Move the ``<style>`` rules into ``style`` attributes (mail clients strip style
    blocks); nothing is fetched from the network."""
    inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False)
    return str(inliner.inline(html))


def fit(html_for: Callable[[int, int], str], count: int, budget: int) -> tuple[int, int]:
    """(papers in full, papers listed at all) so the HTML stays within ``budget`` bytes:
    as many in full as fit, the rest as titles; past even that, the rest only counted."""

    def size(full: int, listed: int) -> int:
        # Measured as sent (quoted-printable), which is what a client sees and clips.
        return len(quopri.encodestring(html_for(full, listed).encode("utf-8")))

    if size(count, count) <= budget:
        return count, count
    if size(0, count) <= budget:
        return _largest(lambda k: size(k, count) <= budget, count - 1), count
    return 0, _largest(lambda t: size(0, t) <= budget, count - 1)


def _largest(ok: Callable[[int], bool], high: int) -> int:
    """The largest n in 0..high with ok(n), assuming ok is monotone and ok(0) may fail (-> 0)."""
    low = 0
    while low < high:
        mid = (low + high + 1) // 2
        if ok(mid):
            low = mid
        else:
            high = mid - 1
    return low


TITLE_CHARS = 300
"""Most characters of a title an email shows (the rest is on the week page): one huge
title must not leave no room for any paper."""
AUTHORS_CHARS = 300
"""Most characters of the author list an email shows (then ``et al.``)."""
ABSTRACT_CHARS = 3000
"""Most characters of an abstract an email shows (real abstracts are shorter)."""


def _sections(digest: WeekDigest, full: int, listed: int) -> list[EmailSection]:
    out, seen = [], 0
    for section in digest.sections:
        shown = EmailSection(section.name, len(section.papers), [], [])
        for paper in section.papers:
            if seen < full:
                shown.full.append(shown_paper(paper))
            elif seen < listed:
                shown.titles.append(shown_paper(paper))
            seen += 1
        out.append(shown)
    return out


def shown_paper(paper: Paper) -> Paper:
    """``paper`` as the email shows it: its text fit for output
    (:func:`~digest.outtext.clean_paper`: no link that is no URL), and its title,
    authors and abstract cut to :data:`TITLE_CHARS`, :data:`AUTHORS_CHARS` and
    :data:`ABSTRACT_CHARS`."""
    paper = clean_paper(paper)
    authors = paper.authors
    if sum(len(a) + 2 for a in authors) > AUTHORS_CHARS:
        kept: list[str] = []
        room = AUTHORS_CHARS
        for author in authors:
            room -= len(author) + 2
            if room < 0:
                break
            kept.append(author)
        authors = (*kept, "et al.") if kept else (_clip(authors[0], AUTHORS_CHARS), "et al.")
    title, abstract = _clip(paper.title, TITLE_CHARS), _clip(paper.abstract, ABSTRACT_CHARS)
    if title is paper.title and abstract is paper.abstract and authors is paper.authors:
        return paper
    return replace(paper, title=title, abstract=abstract, authors=authors)


def _clip(text: str, limit: int) -> str:
    """``text``, or its first ``limit`` characters (ending with an ellipsis)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def shown_note(count: int, full: int, listed: int) -> str:
    """The sentence that says how much of a week of ``count`` papers the email shows
    (``full`` in full, up to ``listed`` by title); empty when it shows all of it."""
    if full >= count:
        return ""
    titles, omitted = listed - full, count - listed
    parts = []
    if full:
        first = "the first paper" if full == 1 else f"the first {full} papers"
        parts.append(f"{first} in full")
    if titles:
        parts.append(f"{render.plural(titles, 'more paper' if full else 'paper')} by title")
    if not parts:
        verb = "is" if count == 1 else "are"
        shown = render.plural(count, "paper")
        return f"This email shows no paper in full or by title: {shown} {verb} only on the web."
    note = "This email shows " + " and ".join(parts)
    if omitted:
        verb = "is" if omitted == 1 else "are"
        note += f"; {render.plural(omitted, 'more paper')} {verb} only on the web"
    return note + "."


def _counts(digest: WeekDigest, full: int, listed: int) -> dict[str, Any]:
    return {
        "shown_full": full,
        "listed": listed,
        "omitted": digest.count - listed,
        "note": shown_note(digest.count, full, listed),
    }


def message_bytes(msg: EmailMessage, *, mbox: bool = False) -> bytes:
    """The message as it would go over the wire (``\\n`` line ends, for display); with
    ``mbox``, body lines starting with ``From `` are quoted as an mbox file needs."""
    try:
        return msg.as_bytes(policy=POLICY.clone(mangle_from_=mbox))
    except (ValueError, UnicodeError) as err:  # a header the policy cannot serialise
        raise MailError(f"cannot serialise the email: {err}") from None
