"""Quoted-printable text parts encoded once for many recipients.

Input: a part's text (the email's text or HTML body) holding a placeholder where
each recipient's name goes; a whole message. Output: for each recipient, the part's
quoted-printable payload, exactly what :meth:`email.message.EmailMessage.set_content`
writes for the text with the placeholder replaced (as text, or as the bytes that go
on the wire); :func:`set_parts`, which makes a message ``multipart/alternative`` from
such payloads without encoding them again; and :class:`Skeleton`, a message's wire
bytes with holes for what differs between recipients (To, Message-ID, the boundary
made from it, the payloads), serialised once by the stdlib generator.

The stdlib encoder works line by line (a soft line break never joins two lines of
the text), so the lines without the placeholder are encoded once and only the few
with it (the "Sent to ..." line) for each recipient. The caller
(:class:`digest.mail.WeekMail`) checks that against the whole text encoded in one
piece for its first recipient, and otherwise encodes the whole text per recipient.
"""

from __future__ import annotations

import io
import re
import secrets
from email import quoprimime
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.policy import EmailPolicy

CTE = "quoted-printable"
CRLF = "\r\n"
_LINE_END = re.compile(r"\r\n|\r|\n")
"""The line ends the generator rewrites (``email.generator.NLCRE``)."""


def flatten(msg: EmailMessage) -> bytes:
    """``msg`` exactly as :meth:`smtplib.SMTP.send_message` serialises it (CRLF line
    ends, the message's own policy)."""
    with io.BytesIO() as out:
        BytesGenerator(out).flatten(msg, linesep=CRLF)
        return out.getvalue()


def wire(text: str) -> bytes:
    """A payload as the generator writes it: every line end CRLF, ASCII bytes."""
    return _LINE_END.sub(CRLF, text).encode("ascii", "surrogateescape")


def payload(text: str, policy: EmailPolicy[EmailMessage]) -> str:
    """``text`` as the quoted-printable payload of a UTF-8 text part (the stdlib's own
    encoder, through the public ``set_content``)."""
    part = EmailMessage(policy=policy)
    part.set_content(text, cte=CTE)
    return str(part.get_payload())


def line_payload(line: str, policy: EmailPolicy[EmailMessage]) -> str:
    """:func:`payload` of ``line`` and a newline (``line`` holds no line break): the
    encoder ``set_content`` runs on it (``quoted-printable`` in
    ``email.contentmanager._encode_text``), without building a message around it."""
    if not policy.max_line_length or "\r" in line or "\n" in line:  # (bytes line ends)
        return payload(line + "\n", policy)
    body = line.encode("utf-8") + b"\n"
    return quoprimime.body_encode(body.decode("latin-1"), policy.max_line_length)


class SharedText:
    """One part's text with a placeholder: its constant lines encoded once."""

    def __init__(self, text: str, placeholder: str, policy: EmailPolicy[EmailMessage]) -> None:
        self.text, self.placeholder, self.policy = text, placeholder, policy
        # Lines as set_content splits them (bytes.splitlines: \r, \n, \r\n only).
        lines = text.encode("utf-8").splitlines()
        self.pieces: list[tuple[bool, str]] = []
        """(holds the placeholder, the line's text | the run of lines' payload)."""
        run: list[bytes] = []
        mark = placeholder.encode("ascii")
        for line in lines:
            if mark in line:
                if run:
                    self.pieces.append((False, payload(_joined(run), policy)))
                    run = []
                self.pieces.append((True, line.decode("utf-8")))
            else:
                run.append(line)
        if run or not self.pieces:
            self.pieces.append((False, payload(_joined(run), policy)))
        self.wire_pieces = [piece if live else wire(piece) for live, piece in self.pieces]
        """The pieces as wire bytes (a live line stays its text)."""

    def payload(self, replacement: str) -> str:
        """The payload of the text with ``placeholder`` replaced by ``replacement`` (which
        holds no line break: the caller sends such a recipient the slow way)."""
        return "".join(
            line_payload(piece.replace(self.placeholder, replacement), self.policy)
            if live
            else piece
            for live, piece in self.pieces
        )

    def wire(self, replacement: str) -> bytes:
        """:meth:`payload` as it goes on the wire (:func:`wire`), the constant lines
        converted once."""
        return b"".join(
            piece
            if isinstance(piece, bytes)
            else wire(line_payload(piece.replace(self.placeholder, replacement), self.policy))
            for piece in self.wire_pieces
        )


def _joined(lines: list[bytes]) -> str:
    """The lines as a text that splits back into exactly them (each ends with a newline)."""
    return b"".join(line + b"\n" for line in lines).decode("utf-8")


def set_parts(msg: EmailMessage, text_payload: str, html_payload: str) -> None:
    """Make ``msg`` multipart/alternative: a text/plain and a text/html part (UTF-8,
    quoted-printable) with these payloads, already encoded. The parts and headers are
    built by ``set_content``/``add_alternative`` (on a one-character body, cheap to
    encode), so they are exactly theirs; only the payloads are put in afterwards."""
    msg.set_content("-", cte=CTE)
    msg.add_alternative("-", subtype="html", cte=CTE)
    plain, html = msg.iter_parts()
    plain.set_payload(text_payload)
    html.set_payload(html_payload)


TO, MESSAGE_ID, HEX_ID, TEXT, HTML = range(5)
"""The holes of a :class:`Skeleton`, in the order :meth:`Skeleton.fill` takes them."""


class Skeleton:
    """A multipart/alternative message (:func:`set_parts`'s) as wire bytes with holes:
    the To and Message-ID header lines, each occurrence of ``hex_id`` (the part of the
    Message-ID the boundary is made from) and the two payloads. Everything else (the
    other headers, the part headers, the boundary lines) is the generator's output,
    serialised once; :meth:`fill` joins bytes. ``msg`` is changed (its boundary and
    payloads become markers): pass a message already sent or serialised."""

    def __init__(self, msg: EmailMessage, hex_id: str) -> None:
        token = secrets.token_hex(len(hex_id) // 2)  # as long as hex_id, and hex too
        mark = secrets.token_hex(16)
        boundary = msg.get_boundary() or ""
        msg.set_boundary(boundary.replace(hex_id, token))
        plain, html = msg.iter_parts()
        plain.set_payload("T" + mark)
        html.set_payload("H" + mark)
        policy = msg.policy.clone(linesep=CRLF)
        self.pieces: list[bytes | int] = []
        """Constant bytes, or the number of a hole."""
        for name, value in msg.raw_items():
            if name in ("To", "Message-ID"):
                self.pieces.append(TO if name == "To" else MESSAGE_ID)
            else:
                self._split(policy.fold_binary(name, value), token)
        self.pieces.append(CRLF.encode())
        body = flatten(msg).split(b"\r\n\r\n", 1)[1]
        head, rest = body.split(b"T" + mark.encode())
        middle, tail = rest.split(b"H" + mark.encode())
        for piece, hole in ((head, TEXT), (middle, HTML), (tail, None)):
            self._split(piece, token)
            if hole is not None:
                self.pieces.append(hole)

    def _split(self, data: bytes, token: str) -> None:
        first, *others = data.split(token.encode())
        self.pieces.append(first)
        for other in others:
            self.pieces.extend((HEX_ID, other))

    def fill(self, to: bytes, message_id: bytes, hex_id: str, text: bytes, html: bytes) -> bytes:
        """The message: the folded header lines ``to`` and ``message_id`` (CRLF-ended),
        ``hex_id`` (as long as the one the skeleton was made with) and the payloads'
        wire bytes (:func:`wire`) put in the holes."""
        holes = (to, message_id, hex_id.encode("ascii"), text, html)
        return b"".join(p if isinstance(p, bytes) else holes[p] for p in self.pieces)
