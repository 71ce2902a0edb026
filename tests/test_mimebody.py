"""The shared quoted-printable encoding (digest.mimebody) against the stdlib encoding the
whole text at once: any text, any recipient (hypothesis), and whole messages."""

from __future__ import annotations

from email.message import EmailMessage

from hypothesis import given
from hypothesis import strategies as st

from digest import mimebody
from digest.mail import POLICY

PLACE = "rcpt0123456789abcdef"
LINE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)
# A recipient never holds a line break (WeekMail sends those the slow way).
RCPT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=80)


@given(
    st.lists(st.tuples(LINE, st.booleans()), max_size=12),
    RCPT,
    st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_shared_payload_is_the_whole_text_encoded_at_once(
    lines: list[tuple[str, bool]], rcpt: str, eol: str
) -> None:
    text = eol.join(line + (f"Sent to {PLACE} ." if mark else "") for line, mark in lines)
    shared = mimebody.SharedText(text, PLACE, POLICY)
    assert shared.payload(rcpt) == mimebody.payload(text.replace(PLACE, rcpt), POLICY)


def test_set_parts_gives_the_message_set_content_gives() -> None:
    text, html = "Sent to ann \u00e9\n" + "x" * 300 + " \n", "<p>Sent to ann</p>\n"

    def message() -> EmailMessage:
        msg = EmailMessage(policy=POLICY)
        msg["Subject"] = "week"
        return msg

    reference, built = message(), message()
    reference.set_content(text, cte="quoted-printable")
    reference.add_alternative(html, subtype="html", cte="quoted-printable")
    mimebody.set_parts(built, mimebody.payload(text, POLICY), mimebody.payload(html, POLICY))
    for msg in (reference, built):
        msg.set_boundary("=_b")
    assert built.as_bytes() == reference.as_bytes()
