"""Normal forms of listing text and the keys that identify papers (pure functions).

Input: raw titles and abstracts. Output: display text (whitespace collapsed,
HTML entities decoded) and the title key under which equal titles meet.

Two titles are the same title when they are equal after: HTML entity
decoding, LaTeX to Unicode, Unicode NFKC, case folding, Greek letters spelled
out, and removal of punctuation and whitespace differences. ``+`` is kept:
``FlashDecoding++`` is another paper than ``FlashDecoding``.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from functools import lru_cache

from digest.latex import to_unicode

_SPACE = re.compile(r"\s+")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff]+")
"""Unicode categories Cc and Cs minus the whitespace controls (which become spaces);
checked against unicodedata in the tests."""
# Everything that is not a letter, digit or '+' separates words.
_NON_WORD = re.compile(r"[^\w+]+|_+")
_GREEK = {
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "ε": "epsilon",
    "ϵ": "epsilon",
    "ζ": "zeta",
    "η": "eta",
    "θ": "theta",
    "ι": "iota",
    "κ": "kappa",
    "λ": "lambda",
    "μ": "mu",
    "ν": "nu",
    "ξ": "xi",
    "ο": "omicron",
    "π": "pi",
    "ρ": "rho",
    "σ": "sigma",
    "ς": "sigma",
    "τ": "tau",
    "υ": "upsilon",
    "φ": "phi",
    "ϕ": "phi",
    "χ": "chi",
    "ψ": "psi",
    "ω": "omega",
}
_GREEK_RE = re.compile("|".join(_GREEK))


def clean_text(text: str) -> str:
    """Display form: entities decoded, control characters dropped, whitespace collapsed."""
    if "&" in text:
        text = html.unescape(text)
    if text.isprintable() and "  " not in text:
        # The common case, without a regex pass: a printable string has no whitespace but
        # U+0020 and no control character, so there is nothing to drop or collapse.
        return text.strip()
    # Control characters (Cc) and lone surrogates (Cs) never display; the rest is kept.
    # Whitespace controls (tab, CR, NEL, ...) become spaces, so they still separate words.
    return _SPACE.sub(" ", _CONTROL.sub("", text)).strip()


def _fold(text: str) -> str:
    # upper() first: casefold alone keeps e.g. dotless ı apart from i.
    text = unicodedata.normalize("NFKC", text).upper().casefold()
    return unicodedata.normalize("NFKC", text)


# title_key of plain ASCII titles in one bytes.translate: control characters deleted,
# case folded, _NON_WORD characters (whitespace included) turned into spaces.
_ASCII_DELETED = bytes(c for c in range(128) if _CONTROL.match(chr(c)))
_ASCII_KEY = bytes(
    c if c > 127 else ord(" " if _NON_WORD.match(chr(c)) else chr(c).casefold()) for c in range(256)
)


@lru_cache(maxsize=8192)  # each sighting asks for its key several times
def title_key(title: str) -> str:
    """The exact-identity key of a title: equal keys are the same paper.

    Idempotent: ``title_key(title_key(t)) == title_key(t)``.
    """
    if title.isascii() and "&" not in title and "$" not in title and "\\" not in title:
        # No entity, LaTeX, Greek or Unicode form to resolve: what _title_key does, five
        # times faster.
        return " ".join(title.encode().translate(_ASCII_KEY, _ASCII_DELETED).decode().split())
    return _title_key(title)


def _title_key(title: str) -> str:
    """:func:`title_key` of any title."""
    text = to_unicode(clean_text(title))
    text = _fold(text)
    text = _GREEK_RE.sub(lambda m: f" {_GREEK[m.group(0)]} ", text)
    return _SPACE.sub(" ", _NON_WORD.sub(" ", text)).strip()


def words(text: str) -> list[str]:
    """Folded words of a text (for similarity and blocking), LaTeX and entities resolved."""
    return title_key(text).split()


def stable_hash(*parts: str, length: int = 12) -> str:
    """A short hex digest that never changes across runs, platforms or Python versions."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:length]


def text_hash(title: str, abstract: str) -> str:
    """The key under which the store keeps one exact title+abstract text."""
    return stable_hash(title, abstract, length=24)


def slugify(name: str) -> str:
    """An ASCII anchor/file-name slug for a theme name (``Efficient inference`` ->
    ``efficient-inference``); never empty."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    return slug or "section-" + stable_hash(name, length=6)
