"""Email: one week's digest -> one MIME message.

Input: a :class:`~digest.models.WeekDigest` plus the feed settings (its ``email``
section is :class:`~digest.config.email.EmailConfig`), one recipient and the send
time. Output: an :class:`~email.message.EmailMessage`: multipart/alternative with a
wrapped text/plain part and a text/html part whose CSS is inlined (the only module
that imports css_inline); or, to send, an :class:`Outgoing`: its Message-ID and its
bytes as they go to the SMTP server. What the message shows, within
``max_html_bytes``, is decided by :mod:`digest.mailbody`. Nothing here talks to a
server or the store (see :mod:`digest.delivery`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

import css_inline
from jinja2 import nodes

from digest import addresses, mailbody, mimebody, render
from digest.addresses import ascii_domain
from digest.config.email import EmailConfig, SmtpConfig
from digest.errors import MailError
from digest.mailbody import EmailSection, fit, shown_note, shown_paper
from digest.models import WeekDigest

if TYPE_CHECKING:
    from digest.config import FeedConfig

__all__ = [
    "EmailConfig",
    "EmailSection",
    "Outgoing",
    "SmtpConfig",
    "WeekMail",
    "address_problem",
    "ascii_domain",
    "compose",
    "fit",
    "header_address",
    "one_line",
    "parse_address",
    "shown_note",
    "shown_paper",
]

# Headers are written as given (List-Unsubscribe is pre-folded one URI a line): the
# default policy would RFC 2047-encode a long URL and so break it.
POLICY = policy.default.clone(refold_source="none")

WIRE_POLICY = POLICY.clone(linesep=mimebody.CRLF)
"""How smtplib serialises a message of ours: CRLF line ends."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@functools.lru_cache(maxsize=4096)
def read_address(text: str) -> tuple[str, str] | str:
    """:func:`digest.addresses.read_address`, remembered: a send reads each recipient's
    address several times (to check it, for the envelope, the Message-ID, the To header)."""
    return addresses.read_address(text)


def parse_address(text: str) -> tuple[str, str] | None:
    """:func:`digest.addresses.parse_address` (remembered, as :func:`read_address`)."""
    parsed = read_address(text)
    return parsed if isinstance(parsed, tuple) else None


def address_problem(text: str) -> str | None:
    """:func:`digest.addresses.address_problem` (remembered, as :func:`read_address`)."""
    parsed = read_address(text)
    return parsed if isinstance(parsed, str) else None


def header_address(text: str) -> str:
    """A valid address as a header value: the domain IDNA-encoded (``xn--``), the display
    name left for the header policy to RFC 2047-encode. MailError when not valid."""
    parsed = read_address(text)
    if isinstance(parsed, str):
        raise MailError(f"not one valid email address ({parsed}): {one_line(text)!r}")
    name, addr = parsed
    local, _, domain = addr.rpartition("@")
    return str(Address(display_name=name, username=local, domain=domain))


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


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One recipient's message, ready for the SMTP server."""

    message_id: str
    data: bytes
    """The message as :meth:`smtplib.SMTP.send_message` would serialise it (CRLF line
    ends; smtplib's ``sendmail`` dot-stuffs it)."""


def outgoing(msg: EmailMessage) -> Outgoing:
    """``msg`` serialised for the wire."""
    try:
        return Outgoing(str(msg["Message-ID"]), mimebody.flatten(msg))
    except (ValueError, UnicodeError) as err:  # a header the policy cannot serialise
        raise MailError(f"cannot serialise the email: {err}") from None


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
    """One recipient's message for ``digest``: text/plain + inlined text/html, rendered
    for this recipient alone (:class:`WeekMail` renders a week once for many)."""
    env = env or render.environment(feed.templates)
    title = subject(feed, digest)
    ctx = _context(feed, email, digest, title, recipient)

    def html_for(full: int, listed: int) -> str:
        return _html(env, ctx, digest, full, listed)

    full, listed = fit(html_for, digest.count, email.max_html_bytes)
    html = html_for(full, listed)
    text = _text(env, ctx, digest, full, listed)
    return _message(feed, email, digest, title, recipient, uid, now, text, html)


class WeekMail:
    """One week's messages for any number of recipients, the week rendered once.

    The templates are rendered and the CSS inlined with a placeholder for the
    recipient (once per size-fitting step, shared by all recipients); each
    recipient's message is that text with the placeholder replaced (HTML-escaped as
    the inliner writes text), fitted to the size budget by the same search as
    :func:`compose`, and its own headers. The bytes are :func:`compose`'s: a template
    that does more with ``recipient`` than print it, or whose output a probe recipient
    shows to differ from the replacement, is rendered per recipient by :func:`compose`
    (as is a recipient with control characters, which :mod:`digest.addresses` refuses
    anyway)."""

    def __init__(
        self,
        feed: FeedConfig,
        email: EmailConfig,
        digest: WeekDigest,
        *,
        uid: str,
        now: dt.datetime,
        env: render.Environment | None = None,
    ) -> None:
        self.feed, self.email, self.digest, self.uid, self.now = feed, email, digest, uid, now
        self.env = env or render.environment(feed.templates)
        self.title = subject(feed, digest)
        self.placeholder = "rcpt" + secrets.token_hex(16)
        self.ctx = _context(feed, email, digest, self.title, self.placeholder)
        self._htmls: dict[tuple[int, int], str] = {}
        self._texts: dict[tuple[int, int], str] = {}
        self.shared = all(_prints_recipient(self.env, n) for n in ("email.html", "email.txt"))
        """Whether the rendered week is shared by recipients (else :func:`compose`)."""
        self._fits: dict[str, tuple[int, int]] = {}
        self._parts: dict[tuple[int, int], tuple[mimebody.SharedText, ...] | None] = {}
        """Per fit, the text and HTML parts encoded once (None: encoded per recipient)."""
        self._skeletons: dict[tuple[int, int], mimebody.Skeleton | None] = {}
        """Per fit, the message serialised once (None: serialised per recipient)."""
        if self.shared:  # the probe is rendered with no paper: small, and enough
            probe, place = _PROBE, self.placeholder
            ctx = _context(feed, email, digest, self.title, probe)
            self.shared = _text(self.env, ctx, digest, 0, 0) == self._text(0, 0).replace(
                place, probe
            ) and _html(self.env, ctx, digest, 0, 0) == self._html(0, 0).replace(
                place, _html_text(probe)
            )

    def compose(self, recipient: str) -> EmailMessage:
        """``recipient``'s message, byte for byte :func:`compose`'s."""
        if not self.shared or _CONTROLS.search(recipient):
            return compose(
                self.feed, self.email, self.digest,
                recipient=recipient, uid=self.uid, now=self.now, env=self.env,
            )  # fmt: skip
        in_html, key = self._fit(recipient)
        html = self._html(*key).replace(self.placeholder, in_html)
        text = self._text(*key).replace(self.placeholder, recipient)
        parts = self._parts.get(key)
        payloads = (
            None if parts is None else (parts[0].payload(recipient), parts[1].payload(in_html))
        )
        msg = _message(
            self.feed, self.email, self.digest, self.title, recipient, self.uid, self.now,
            text, html, payloads,
        )  # fmt: skip
        if key not in self._parts:  # the first recipient of this fit: share its encoding
            self._parts[key] = self._share(key, msg, (recipient, in_html))
        return msg

    def outgoing(self, recipient: str) -> Outgoing:
        """``recipient``'s message for the wire, byte for byte :func:`outgoing` of
        :meth:`compose`'s: the first recipient of each size fit is composed and
        serialised whole, and that message made a :class:`~digest.mimebody.Skeleton`
        (if it gives those bytes back); the others' bytes are the skeleton with their
        own To and Message-ID headers (built and checked as :func:`compose` does) and
        their "Sent to" lines put in."""
        if not self.shared or _CONTROLS.search(recipient):
            return outgoing(self.compose(recipient))
        in_html, key = self._fit(recipient)
        skeleton, parts = self._skeletons.get(key), self._parts.get(key)
        if skeleton is None or parts is None:
            msg = self.compose(recipient)
            out = outgoing(msg)
            if key not in self._skeletons:
                self._skeletons[key] = self._skeleton(key, msg, out, recipient)
            return out
        mid, mid_line = header_line("Message-ID", self._message_id(recipient))
        return Outgoing(
            mid,
            skeleton.fill(
                header_line("To", header_address(recipient))[1], mid_line, _hex_id(mid),
                parts[0].wire(recipient), parts[1].wire(in_html),
            ),
        )  # fmt: skip

    def _message_id(self, recipient: str) -> str:
        return message_id(self.uid, self.digest.week, recipient, self.email.sender)

    def _skeleton(
        self, key: tuple[int, int], msg: EmailMessage, out: Outgoing, recipient: str
    ) -> mimebody.Skeleton | None:
        """Fit ``key``'s skeleton made from ``msg`` (its first recipient's), if it gives
        ``out`` back for that recipient; else None: serialise each message whole."""
        parts = self._parts.get(key)
        if parts is None:
            return None
        hex_id = _hex_id(out.message_id)
        skeleton = mimebody.Skeleton(msg, hex_id)
        again = skeleton.fill(
            header_line("To", header_address(recipient))[1],
            header_line("Message-ID", out.message_id)[1],
            hex_id, parts[0].wire(recipient), parts[1].wire(_html_text(recipient)),
        )  # fmt: skip
        return skeleton if again == out.data else None

    def _fit(self, recipient: str) -> tuple[str, tuple[int, int]]:
        """The recipient as the HTML shows it, and the size fit of its message."""
        in_html = _html_text(recipient)
        # Recipients of one shape (see _qp_shape) give the same quoted-printable sizes,
        # so the same fit: it is searched once per shape.
        shape = _qp_shape(in_html)
        if shape not in self._fits:

            def html_for(full: int, listed: int) -> str:
                return self._html(full, listed).replace(self.placeholder, in_html)

            self._fits[shape] = fit(html_for, self.digest.count, self.email.max_html_bytes)
        return in_html, self._fits[shape]

    def _share(
        self, key: tuple[int, int], msg: EmailMessage, replacements: tuple[str, str]
    ) -> tuple[mimebody.SharedText, ...] | None:
        """The text and HTML of fit ``key`` with their constant lines encoded once, if
        they give ``msg``'s parts (encoded whole) back; else None: encode per recipient."""
        texts = (self._text(*key), self._html(*key))
        parts = tuple(mimebody.SharedText(t, self.placeholder, POLICY) for t in texts)
        payloads = tuple(p.get_payload() for p in msg.iter_parts())
        ok = payloads == tuple(p.payload(r) for p, r in zip(parts, replacements, strict=True))
        return parts if ok else None

    def _html(self, full: int, listed: int) -> str:
        key = (full, listed)
        if key not in self._htmls:
            self._htmls[key] = _html(self.env, self.ctx, self.digest, full, listed)
        return self._htmls[key]

    def _text(self, full: int, listed: int) -> str:
        key = (full, listed)
        if key not in self._texts:
            self._texts[key] = _text(self.env, self.ctx, self.digest, full, listed)
        return self._texts[key]


def _hex_id(message_id: str) -> str:
    """The part of a :func:`message_id` that differs between recipients."""
    return message_id.strip("<>").split("@")[0].rpartition(".")[2]


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""What an HTML parser may drop or rewrite (NUL, CR, surrogates): no shared body."""

_PROBE = 'Ann "O\'Neil" & Co <ann@example.org> \u00e9\u00a0\u4e2d'
"""A recipient with every character HTML escaping or the inliner changes in text."""


def _qp_shape(text: str) -> str:
    """``text`` with each printable ASCII character that quoted-printable always writes
    as itself, one column wide, as ``a``: two texts of one shape, put in the same place
    of a page, encode to the same length (space, ``.``, ``=``, and everything else,
    which the encoder may treat by position, are kept)."""
    return _QP_PLAIN.sub(lambda m: "a" * len(m.group()), text)


_QP_PLAIN = re.compile(r"[!-\-/-<>-~]+")
"""Printable ASCII but space, ``.`` and ``=``."""


def _html_text(text: str) -> str:
    """``text`` as the CSS inliner writes it in an HTML text node (after autoescaping)."""
    return (
        text.replace("&", "&amp;")
        .replace("\u00a0", "&nbsp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


_NOT_PLAIN = (nodes.Macro, nodes.CallBlock, nodes.FilterBlock, nodes.AssignBlock)


def _prints_recipient(env: render.Environment, name: str) -> bool:
    """Whether template ``name`` uses ``recipient`` only as a plain ``{{ recipient }}``
    (no filter, test, assignment, macro or filter block; no other template pulled in),
    so its output is the same with the recipient replaced afterwards."""
    if env.loader is None:
        return False
    tree = env.parse(env.loader.get_source(env, name)[0])
    if any(tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport))):
        return False

    def plain(node: nodes.Node, inside: bool) -> bool:
        for child in node.iter_child_nodes():
            if isinstance(child, nodes.Name) and child.name == "recipient":
                if inside or not isinstance(node, nodes.Output):
                    return False
            elif not plain(child, inside or isinstance(child, _NOT_PLAIN)):
                return False
        return True

    return plain(tree, False)


def _context(
    feed: FeedConfig, email: EmailConfig, digest: WeekDigest, title: str, recipient: str
) -> dict[str, Any]:
    return {
        "feed": feed,
        "digest": digest,
        "subject": title,
        "week_url": render.week_url(feed.base_url, feed.output.formats, digest.week),
        "unsubscribe": next(
            (u for u in email.unsubscribe if u.startswith("https:")), email.unsubscribe[0]
        ),
        "recipient": recipient,
    }


def _html(
    env: render.Environment, ctx: dict[str, Any], digest: WeekDigest, full: int, listed: int
) -> str:
    sections = mailbody.sections(digest, full, listed)
    page = render.render(
        env, "email.html", sections=sections, **ctx, **mailbody.counts(sections, digest.count)
    )
    return inline_css(page)


def _text(
    env: render.Environment, ctx: dict[str, Any], digest: WeekDigest, full: int, listed: int
) -> str:
    sections = mailbody.sections(digest, full, listed)
    return render.render(
        env, "email.txt", sections=sections, **ctx, **mailbody.counts(sections, digest.count)
    )


def _message(
    feed: FeedConfig,
    email: EmailConfig,
    digest: WeekDigest,
    title: str,
    recipient: str,
    uid: str,
    now: dt.datetime,
    text: str,
    html: str,
    payloads: tuple[str, str] | None = None,
) -> EmailMessage:
    """The message; ``payloads``: the text and HTML already encoded (quoted-printable)."""
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
    if payloads is None:
        msg.set_content(text, cte=mimebody.CTE)
        msg.add_alternative(html, subtype="html", cte=mimebody.CTE)
    else:
        mimebody.set_parts(msg, *payloads)
    # A fixed boundary keeps the output reproducible; "=_" never occurs in a
    # quoted-printable body, so it cannot collide with the content.
    msg.set_boundary("=_" + str(msg["Message-ID"]).strip("<>").split("@")[0])
    return msg


def _check_headers(msg: EmailMessage) -> None:
    """The headers as built: each folds to lines of its own (no injected header), and
    From and To hold exactly one address each. A failure is a bug, refused before sending."""
    for name, value in msg.items():
        _check_header(name, value)
    for name in ("From", "To"):
        if name not in msg:
            raise MailError(f"refusing to send: the {name} header is not one address")


def _check_header(name: str, value: Any) -> None:
    """One header as :func:`_check_headers` checks it."""
    folded = POLICY.fold(name, value)
    lines = folded.removesuffix("\n").split("\n")
    if any(not line[:1].isspace() for line in lines[1:]) or "\r" in folded:
        raise MailError(f"refusing to send: the {name} header would hold a line break")
    if name in ("From", "To") and len(getattr(value, "addresses", ())) != 1:
        raise MailError(f"refusing to send: the {name} header is not one address")


def header_line(name: str, value: str) -> tuple[str, bytes]:
    """The header ``name: value`` as :class:`~email.message.EmailMessage` stores it
    (``msg[name] = value``), checked by :func:`_check_header`: its value as text, and
    its line(s) as the generator writes them on the wire."""
    _, header = POLICY.header_store_parse(name, value)
    _check_header(name, header)
    try:
        return str(header), WIRE_POLICY.fold_binary(name, header)
    except (ValueError, UnicodeError) as err:
        raise MailError(f"cannot serialise the email: {err}") from None


def inline_css(html: str) -> str:
    """Move the ``<style>`` rules into ``style`` attributes (mail clients strip style
    blocks); nothing is fetched from the network."""
    inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False)
    return str(inliner.inline(html))


def message_bytes(msg: EmailMessage, *, mbox: bool = False) -> bytes:
    """The message as it would go over the wire (``\\n`` line ends, for display); with
    ``mbox``, body lines starting with ``From `` are quoted as an mbox file needs."""
    try:
        return msg.as_bytes(policy=POLICY.clone(mangle_from_=mbox))
    except (ValueError, UnicodeError) as err:  # a header the policy cannot serialise
        raise MailError(f"cannot serialise the email: {err}") from None
