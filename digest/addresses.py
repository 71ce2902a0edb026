"""Email addresses as digest accepts them: exactly one, ASCII before the '@', IDNA domain.

Input: an address as written in feed.yaml or on the command line (``Name <a@b.org>``).
Output: (display name, addr-spec with an ASCII domain), or the reason, in words, that
it is not one address digest will send to or from. Standard library only; used by
the ``email`` config section and by :mod:`digest.mail` when writing headers.
"""

from __future__ import annotations

import re
from email import policy
from email.headerregistry import Address

_UNSAFE = re.compile("[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029]")


def parse_address(text: str) -> tuple[str, str] | None:
    """``Name <a@b.org>`` -> (display name, addr-spec with an ASCII domain); None unless
    exactly one valid address (:func:`address_problem` says why)."""
    parsed = read_address(text)
    return parsed if isinstance(parsed, tuple) else None


def address_problem(text: str) -> str | None:
    """Why ``text`` is not one address digest will send to or from; None when it is."""
    parsed = read_address(text)
    return parsed if isinstance(parsed, str) else None


def read_address(text: str) -> tuple[str, str] | str:
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
