"""Email: one week's digest -> one MIME message.

Input: a :class:`~digest.models.WeekDigest` plus the feed settings (its ``email``
section is :class:`~digest.config.email.EmailConfig`), one recipient and the send
time. Output: an :class:`~email.message.EmailMessage`: multipart/alternative with a
wrapped text/plain part and a text/html part whose CSS is inlined (the only module
that imports css_inline). The HTML part is kept under ``max_html_bytes`` by showing the rest of
the week as titles only. Nothing here talks to a server or the store (see
:mod:`digest.delivery`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import quopri
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

import css_inline

from digest import render
from digest.addresses import address_problem, ascii_domain, parse_address, read_address
from digest.config.email import EmailConfig, SmtpConfig
from digest.errors import MailError
from digest.models import Paper, WeekDigest
from digest.outtext import clean_paper

if TYPE_CHECKING:
    from digest.config import FeedConfig

__all__ = [
    "EmailConfig",
    "SmtpConfig",
    "address_problem",
    "ascii_domain",
    "compose",
    "header_address",
    "one_line",
    "parse_address",
]

# Headers are written as given (List-Unsubscribe is pre-folded one URI a line): the
# default policy would RFC 2047-encode a long URL and so break it.
POLICY = policy.default.clone(refold_source="none")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def header_address(text: str) -> str:
    """A valid address as a header value: the domain IDNA-encoded (``xn--``), the display
    name left for the header policy to RFC 2047-encode. MailError when not valid."""
    parsed = read_address(text)
    if isinstance(parsed, str):
        raise MailError(f"not one valid email address ({parsed}): {one_line(text)!r}")
    name, addr = parsed
    local, _, domain = addr.rpartition("@")
    return str(Address(display_name=name, username=local, domain=domain))


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
