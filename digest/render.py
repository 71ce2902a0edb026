"""Jinja2 rendering of week pages, the archive and plain text: WeekDigest -> text.

Input: :class:`~digest.models.WeekDigest` values and the feed config. Output:
strings (Markdown, HTML, feed item bodies). The environment searches the
user's template folder first, then the packaged defaults; ``!default/week.html``
always names the packaged one, so an override can
``{% extends "!default/week.html" %}``. HTML and XML templates are
autoescaped; Markdown and text templates are not, and listing text goes
through :func:`md_escape` there instead. Undefined variables are errors
(StrictUndefined), never silent blanks.

Filters: ``text`` (LaTeX shown as Unicode), ``linkify`` (escaped HTML with
http(s) URLs linked), ``md`` (:func:`md_text`: math kept, the rest
Markdown-escaped), ``md_url`` (a Markdown autolink or nothing), ``safe_url``
(an http(s) URL or empty), ``plural``, ``split_abstract`` (the visible lead
and the collapsed rest) and ``listings`` (a paper's sightings, one row per
listing).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from digest.latex import MATH, to_unicode
from digest.models import Sighting

Environment = jinja2.Environment

# The packaged templates: inside the wheel as digest/templates, in a source
# checkout as the top-level templates/ folder.
_SOURCE_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def default_template_dir() -> Path:
    """Folder of the packaged default templates."""
    try:
        found = resources.files("digest.templates")
        path = Path(str(found))
        if (path / "week.html").is_file():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    return _SOURCE_TEMPLATES


def environment(user_dir: Path | None = None) -> jinja2.Environment:
    """A Jinja2 environment: user folder first, then defaults, ``!default/`` prefix."""
    default = jinja2.FileSystemLoader(str(default_template_dir()))
    loaders: list[jinja2.BaseLoader] = []
    if user_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(user_dir)))
    loaders.append(jinja2.PrefixLoader({"!default": default}, delimiter="/"))
    loaders.append(default)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "xml", "svg"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        md=md_text,
        md_url=md_url,
        text=readable,
        linkify=linkify,
        safe_url=safe_url,
        plural=plural,
        split_abstract=split_abstract,
        listings=listings,
    )
    return env


def render(env: jinja2.Environment, name: str, **context: Any) -> str:
    """Render template ``name`` with ``context``."""
    return env.get_template(name).render(**context)


# --- HTML, feeds, email -------------------------------------------------------------------


def readable(text: str) -> str:
    """Listing text for HTML, feeds and email: LaTeX shown as Unicode."""
    return to_unicode(text)


# RFC 3986 characters only: braces, backslashes, quotes and non-ASCII end a URL (listings
# hold LaTeX like ``\url{https://...}`` and ``\href{https://a}{b}``).
_URL = re.compile(r"\bhttps?://[A-Za-z0-9\-._~:/?#@!$&*+,;=%()\[\]]+")
_TRAILING = ".,;:!?*"


def _trim_url(url: str) -> str:
    """Drop trailing punctuation and unbalanced closing brackets (``(see https://x.org).``)."""
    pairs = {")": "(", "]": "["}
    while url and (
        url[-1] in _TRAILING
        or (url[-1] in pairs and url.count(pairs[url[-1]]) < url.count(url[-1]))
    ):
        url = url[:-1]
    return url


def linkify(text: str) -> Markup:
    """Escaped HTML of ``text`` (LaTeX as Unicode) with http(s) URLs as links; no other
    scheme ever becomes a link."""
    text = readable(text)
    parts: list[str] = []
    last = 0
    for m in _URL.finditer(text):
        url = _trim_url(m.group(0))
        if "://" not in url or url.endswith("://"):
            continue
        parts.append(str(escape(text[last : m.start()])))
        href = escape(url)
        parts.append(f'<a href="{href}" rel="nofollow noopener">{href}</a>')
        last = m.start() + len(url)
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))


_SAFE_URL = re.compile(r"^https?://[^\s<>\"'`\\{}|^]+$", re.IGNORECASE)


def safe_url(url: str | None) -> str:
    """``url`` when it is an http(s) URL without characters that could break out of an
    attribute or a Markdown autolink; otherwise the empty string."""
    return url if url and _SAFE_URL.match(url) else ""


def plural(count: int, word: str, many: str | None = None) -> str:
    """``3, "paper"`` -> ``3 papers``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


_SENTENCE_END = re.compile(r"[.!?][\"')\]]?\s+(?=\S)")


def split_abstract(text: str, lead: int = 240, slack: int = 120) -> tuple[str, str]:
    """``(shown, rest)``: the first sentences (about ``lead`` characters) and the rest,
    which pages collapse. Short abstracts, or ones whose rest would be under ``slack``
    characters, are not split. Never splits inside inline math or a URL."""
    if len(text) <= lead + slack:
        return text, ""
    cut = 0
    for m in _SENTENCE_END.finditer(text):
        if m.end() > lead + slack // 2:
            break
        if _splittable(text, m.end()):
            cut = m.end()
    if cut < lead // 3:
        # No sentence end near the lead: cut at the last space before it instead.
        cut = next(
            (i + 1 for i in range(lead, 0, -1) if text[i] == " " and _splittable(text, i + 1)),
            0,
        )
    if cut == 0 or len(text) - cut < slack // 2:
        return text, ""
    return text[:cut].rstrip(), text[cut:].lstrip()


def _splittable(text: str, at: int) -> bool:
    return not any(m.start() < at < m.end() for m in MATH.finditer(text)) and not any(
        m.start() < at < m.end() for m in _URL.finditer(text)
    )


@dataclass(frozen=True, slots=True)
class ListingRow:
    """One listing a paper was seen in (several entries of one listing count once)."""

    name: str
    """Listing file name."""
    date: str
    """The listing's date, ISO format."""
    entries: int
    """How many entries of this listing were this paper (usually 1)."""


def listings(sightings: Sequence[Sighting]) -> list[ListingRow]:
    """A paper's provenance, one row per listing, oldest first."""
    rows: dict[tuple[str, str], int] = {}
    for s in sightings:
        key = (s.date.isoformat(), s.listing)
        rows[key] = rows.get(key, 0) + 1
    return [ListingRow(name, date, n) for (date, name), n in sorted(rows.items())]


# --- Markdown -----------------------------------------------------------------------------

_ASCII_PUNCT = r"!-/:-@\[-`{-~"
# Outside math: every character that can open or close an inline construct anywhere in
# a line (emphasis, code, links, images, autolinks, raw HTML, entities, tables,
# strikethrough, an ATX closing sequence, math delimiters), and a backslash that would
# otherwise escape the character after it. Letters, digits, quotes, dots and
# parentheses are left alone so the Markdown stays readable.
_MD_INLINE = re.compile(rf"([`*_\[\]<>&|~#$]|\\(?=[{_ASCII_PUNCT}]|$))")
# Inside math: the same, minus ``$`` (which cannot occur there): ``\alpha`` is no
# escape in CommonMark and stays as it is, so math-aware renderers see the LaTeX.
_MD_MATH = re.compile(rf"([`*_\[\]<>&|~#]|\\(?=[{_ASCII_PUNCT}]|$))")
# What starts a block when it opens a line: list markers, a setext/thematic dash, an
# ordered-list number (``1.``/``1)``) and a blockquote (``>`` is escaped anyway).
_MD_START = re.compile(r"^(?:([-+=])|(\d{1,9})([.)]))")
_BLANKS = re.compile(r"[ \t\r\n]+")


def md_escape(text: str) -> str:
    """Listing text for Markdown: nothing in it can become markup.

    Inline math (``$\\alpha$``) stays math; the characters inside it that could still
    start markup are escaped. Elsewhere every Markdown-significant character is
    backslash-escaped, and a line-starting list marker or number is too. Runs of
    spaces, tabs and line breaks become one space (a title is one line of a heading).
    Rendered by a CommonMark renderer the result is exactly ``text`` (with its
    whitespace collapsed), math included.
    """
    text = _BLANKS.sub(" ", text).strip(" ")
    out: list[str] = []
    last = 0
    for m in MATH.finditer(text):
        out.append(_MD_INLINE.sub(r"\\\1", text[last : m.start()]))
        out.append("$" + _MD_MATH.sub(r"\\\1", m.group(1)) + "$")
        last = m.end()
    out.append(_MD_INLINE.sub(r"\\\1", text[last:]))
    joined = "".join(out)
    return _MD_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", joined)


def md_text(text: str) -> str:
    """The ``md`` filter: LaTeX text commands outside math (``\\textbf{X}``, ``\\%``) as
    Unicode, math kept as math, then :func:`md_escape`."""
    parts: list[str] = []
    last = 0
    for m in MATH.finditer(text):
        parts.append(to_unicode(text[last : m.start()]))
        parts.append(m.group(0))
        last = m.end()
    parts.append(to_unicode(text[last:]))
    return md_escape("".join(parts))


def md_url(url: str | None) -> str:
    """A CommonMark autolink ``<url>`` for an http(s) URL, or the empty string."""
    safe = safe_url(url)
    return f"<{safe}>" if safe else ""
