"""Text filters for the templates: listing text -> HTML-safe or Markdown-safe text.

Input: plain strings from papers (titles, abstracts, URLs). Output: strings or
:class:`~markupsafe.Markup`: LaTeX shown as Unicode (:func:`readable`), escaped HTML
with http(s) URLs linked (:func:`linkify`), Markdown with its significant characters
escaped and math kept (:func:`md_escape`, :func:`md_text`, :func:`md_url`), the preview
of an abstract (:func:`split_abstract`). :mod:`digest.render` registers them as
Jinja filters; they are plain functions, usable without Jinja.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from markupsafe import Markup, escape

from digest.latex import MATH
from digest.latex import readable as latex_readable
from digest.preview import LEAD, SLACK, split

# --- HTML, feeds, email -------------------------------------------------------------------


def readable(text: str) -> str:
    """Listing text for HTML, feeds and email: LaTeX shown as Unicode
    (:func:`digest.latex.readable`: no brace group or backslash command left)."""
    return latex_readable(text)


# RFC 3986 characters only: braces, backslashes, quotes and non-ASCII end a URL (listings
# hold LaTeX like ``\url{https://...}`` and ``\href{https://a}{b}``).
_URL = re.compile(r"\bhttps?://[A-Za-z0-9\-._~:/?#@!$&*+,;=%()\[\]]+")
_TRAILING = ".,;:!?*"


def _urls(text: str) -> Iterator[re.Match[str]]:
    """``_URL.finditer(text)``, several times faster: a match can only start where
    ``http`` does, and the pattern's leading ``\\b`` keeps the regex engine from
    skipping ahead to those places by itself."""
    at = text.find("http")
    while at >= 0:
        m = _URL.match(text, at)
        if m:
            yield m
            at = text.find("http", m.end())
        else:
            at = text.find("http", at + 1)


def _trim_url(url: str) -> str:
    """Drop trailing punctuation and unbalanced closing brackets (``(see https://x.org).``).

    Linear in ``len(url)``: the brackets are counted once and the counts kept as the end
    moves left (counting again per dropped character would be quadratic on ``x.org))))...``)."""
    opens = {")": url.count("("), "]": url.count("[")}
    closes = {")": url.count(")"), "]": url.count("]")}
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _TRAILING:
            end -= 1
        elif last in closes and opens[last] < closes[last]:
            closes[last] -= 1
            end -= 1
        else:
            break
    return url[:end]


def linkify(text: str) -> Markup:
    """Escaped HTML of ``text`` (LaTeX as Unicode) with http(s) URLs as links; no other
    scheme ever becomes a link."""
    text = readable(text)
    if "http" not in text:  # no URL can match: the common case
        return escape(text)
    parts: list[str] = []
    last = 0
    for m in _urls(text):
        url = _trim_url(m.group(0))
        if "://" not in url or url.endswith("://"):
            continue
        parts.append(str(escape(text[last : m.start()])))
        href = escape(url)
        parts.append(f'<a href="{href}" rel="nofollow noopener">{href}</a>')
        last = m.start() + len(url)
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))


_SAFE_URL = re.compile(r"^https?://[^\s\x00-\x1f\x7f-\x9f<>\"'`\\{}|^]+$", re.IGNORECASE)


def safe_url(url: str | None) -> str:
    """``url`` when it is an http(s) URL without characters that could break out of an
    attribute or a Markdown autolink, nor any control character (CR, LF, ESC, ...);
    otherwise the empty string."""
    return url if url and _SAFE_URL.match(url) else ""


def plural(count: int, word: str, many: str | None = None) -> str:
    """``3, "paper"`` -> ``3 papers``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def split_abstract(text: str, lead: int = LEAD, slack: int = SLACK) -> tuple[str, str]:
    """``(preview, rest)``: the sentence that says what the paper does (the first
    sentence when none does), and the rest of the abstract, which pages collapse
    (:func:`digest.preview.split`). Short abstracts, or ones whose rest would be under
    ``slack // 2`` characters, are not split. Never splits inside inline math or a URL."""
    if len(text) <= lead + slack:
        return text, ""
    # Math and URLs are found once per text (most texts have neither).
    return split(text, _unsplittable(text), lead, slack)


def _unsplittable(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` that a split must not fall inside: inline math and URLs."""
    spans = [m.span() for m in MATH.finditer(text)] if "$" in text else []
    if "http" in text:  # rare: no URL can start elsewhere
        spans.extend(m.span() for m in _urls(text))
    return spans


_ASCII_PUNCT = r"!-/:-@\[-`{-~"
# Outside math: every character that can open or close an inline construct anywhere in
# a line (emphasis, code, links, images, autolinks, raw HTML, entities, tables,
# strikethrough, an ATX closing sequence, math delimiters), and a backslash that would
# otherwise escape the character after it. Letters, digits, quotes, dots and
# parentheses are left alone so the Markdown stays readable.
_MD_INLINE = "`*_[]<>&|~#$"
# Inside math: the same, minus ``$`` (which cannot occur there): ``\alpha`` is no
# escape in CommonMark and stays as it is, so math-aware renderers see the LaTeX.
_MD_MATH = "`*_[]<>&|~#"
_MD_BACKSLASH = re.compile(rf"\\(?=[{_ASCII_PUNCT}]|$)")
# What starts a block when it opens a line: list markers, a setext/thematic dash, an
# ordered-list number (``1.``/``1)``) and a blockquote (``>`` is escaped anyway).
_MD_START = re.compile(r"^(?:([-+=])|(\d{1,9})([.)]))")
_BLANKS = re.compile(r"[ \t\r\n]+")


def _md_chars(text: str, chars: str) -> str:
    """Backslash-escape ``chars`` and the backslashes that would escape something.

    One ``str.replace`` per character present: each scan is a C loop, many times
    faster than a regex substitution over the whole text. Backslashes go first, so
    the ones added for ``chars`` are not escaped again."""
    if "\\" in text:
        text = _MD_BACKSLASH.sub(r"\\\\", text)
    for char in chars:
        if char in text:
            text = text.replace(char, "\\" + char)
    return text


def md_escape(text: str) -> str:
    """Listing text for Markdown: nothing in it can become markup.

    Inline math (``$\\alpha$``) stays math; the characters inside it that could still
    start markup are escaped. Elsewhere every Markdown-significant character is
    backslash-escaped, and a line-starting list marker or number is too. Runs of
    spaces, tabs and line breaks become one space (a title is one line of a heading).
    Rendered by a CommonMark renderer the result is exactly ``text`` (with its
    whitespace collapsed), math included.
    """
    if "\t" in text or "\r" in text or "\n" in text or "  " in text:
        text = _BLANKS.sub(" ", text)
    text = text.strip(" ")
    if "$" in text:
        out: list[str] = []
        last = 0
        for m in MATH.finditer(text):
            out.append(_md_chars(text[last : m.start()], _MD_INLINE))
            out.append("$" + _md_chars(m.group(1), _MD_MATH) + "$")
            last = m.end()
        out.append(_md_chars(text[last:], _MD_INLINE))
        text = "".join(out)
    else:
        text = _md_chars(text, _MD_INLINE)
    start = _MD_START.match(text)
    if start is None:
        return text
    mark = f"\\{start[1]}" if start[1] else f"{start[2]}\\{start[3]}"
    return mark + text[start.end() :]


def md_text(text: str) -> str:
    """The ``md`` filter: LaTeX text commands outside math (``\\textbf{X}``, ``\\%``) as
    Unicode, math kept as math, then :func:`md_escape`."""
    if "$" not in text:  # no math: all of it is text
        return md_escape(latex_readable(text))
    parts: list[str] = []
    last = 0
    for m in MATH.finditer(text):
        parts.append(latex_readable(text[last : m.start()]))
        parts.append(m.group(0))
        last = m.end()
    parts.append(latex_readable(text[last:]))
    return md_escape("".join(parts))


def md_url(url: str | None) -> str:
    """A CommonMark autolink ``<url>`` for an http(s) URL, or the empty string."""
    safe = safe_url(url)
    return f"<{safe}>" if safe else ""
