"""Quoted-printable text parts encoded once for many recipients.

Input: a part's text (the email's text or HTML body) holding a placeholder where
each recipient's name goes. Output: for each recipient, the part's quoted-printable
payload, exactly what :meth:`email.message.EmailMessage.set_content` writes for the
text with the placeholder replaced; and :func:`set_parts`, which makes a message
``multipart/alternative`` from such payloads without encoding them again.

The stdlib encoder works line by line (a soft line break never joins two lines of
the text), so the lines without the placeholder are encoded once and only the few
with it (the "Sent to ..." line) for each recipient. The caller
(:class:`digest.mail.WeekMail`) checks that against the whole text encoded in one
piece for its first recipient, and otherwise encodes the whole text per recipient.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import EmailPolicy

CTE = "quoted-printable"


def payload(text: str, policy: EmailPolicy[EmailMessage]) -> str:
    """``text`` as the quoted-printable payload of a UTF-8 text part (the stdlib's own
    encoder, through the public ``set_content``)."""
    part = EmailMessage(policy=policy)
    part.set_content(text, cte=CTE)
    return str(part.get_payload())


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

    def payload(self, replacement: str) -> str:
        """The payload of the text with ``placeholder`` replaced by ``replacement`` (which
        holds no line break: the caller sends such a recipient the slow way)."""
        return "".join(
            payload(piece.replace(self.placeholder, replacement) + "\n", self.policy)
            if live
            else piece
            for live, piece in self.pieces
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
