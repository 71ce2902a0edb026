"""Editor's notes: ``notes/YYYY-Www.md`` in the feed folder -> each week's rendered note.

Input: the feed folder. Output: each week's note rendered three ways (HTML for the page,
email and feed item; plain text for the email's text part; Markdown for ``W.md``),
keyed by week, plus a :class:`~digest.errors.Problem` for every file that could not be
used (not UTF-8, unreadable, too large, misnamed). The only module that imports
markdown-it-py.

A note is the curator's text, trusted more than a listing but not as markup: raw HTML
is off (it shows as text), and a link or image is kept only when its URL is http(s)
(markdown-it-py's ``validateLink``; anything else, ``javascript:``, ``data:``, stays
the literal text it was written as). The Markdown form is made again from the parsed
tokens (every text escaped, only checked URLs), never copied from the file, so a
renderer of ``W.md`` downstream meets no raw HTML and no other link scheme either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from digest.errors import Problem
from digest.filters import md_escape, safe_url
from digest.models import Note

NOTES_DIR = "notes"
"""The folder of the feed folder that holds the notes."""

MAX_NOTE_BYTES = 100_000
"""Largest note file read (a note opens an email: a page of text, not a book)."""

NOTE_NAME = re.compile(r"^(\d{4})-W(\d{2})\.md$")
"""A note's file name: its ISO week, like ``2026-W11.md``."""

_TIGHT = "\x00"
"""Ends a block that the next item of a tight list joins (NUL never survives parsing)."""

HEADING_SHIFT = 2
"""A note's ``# heading`` becomes ``<h3>``: the page's own title and sections keep h1/h2."""


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False})
    md.validateLink = lambda url: bool(safe_url(url))  # type: ignore[method-assign]  # the documented hook
    return md


_MD = _parser()


def render_note(source: str) -> Note:
    """The three forms of one note's Markdown ``source``."""
    tokens = _MD.parse(source)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + HEADING_SHIFT, 6)}"
        if token.children:
            token.children = _without_empty_links(token.children)
    html = _MD.renderer.render(tokens, _MD.options, {})
    text, markdown = _blocks(tokens, markdown=False), _blocks(tokens, markdown=True)
    return Note(html=html, text=text, markdown=markdown)


def _without_empty_links(children: list[Token]) -> list[Token]:
    """``children`` without the links and images to no URL (``[text]()``: CommonMark
    allows an empty destination, which would link the page to itself); their text stays."""
    out: list[Token] = []
    dropped: list[bool] = []
    for child in children:
        if child.type == "link_open":
            dropped.append(not child.attrs.get("href"))
            if dropped[-1]:
                continue
        elif child.type == "link_close" and (dropped.pop() if dropped else False):
            continue
        elif child.type == "image" and not child.attrs.get("src"):
            out.extend(_without_empty_links(child.children or []))
            continue
        out.append(child)
    return out


def read_notes(root: Path) -> tuple[dict[str, Note], dict[str, str], list[Problem]]:
    """The notes in ``root/notes``: week -> note, week -> file name (for ``check``), and the
    problems of the files that could not be used (each skipped, the others still count)."""
    folder = root / NOTES_DIR
    notes: dict[str, Note] = {}
    files: dict[str, str] = {}
    problems: list[Problem] = []
    try:
        paths = sorted(p for p in folder.iterdir() if p.suffix == ".md")
    except FileNotFoundError:
        return notes, files, problems
    except OSError as err:
        return notes, files, [Problem(str(folder), None, f"cannot read: {err.strerror}")]
    for path in paths:
        match = NOTE_NAME.match(path.name)
        if match is None or not 1 <= int(match[2]) <= 53:
            problems.append(Problem(str(path), None, "not a week's note: name it like 2026-W11.md"))
            continue
        week = path.name[:-3]
        text = read_utf8(path, MAX_NOTE_BYTES, "note skipped")
        if isinstance(text, Problem):
            problems.append(text)
        elif text and text.strip():
            notes[week] = render_note(text)
            files[week] = path.name
    return notes, files, problems


def read_utf8(path: Path, limit: int, skipped: str) -> str | Problem | None:
    """The text of a curator's file (None when there is none), or the problem that keeps
    it from being used, ending with ``skipped`` (what is done without it)."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(limit + 1)
    except FileNotFoundError:
        return None
    except OSError as err:
        return Problem(str(path), None, f"cannot read: {err.strerror}; {skipped}")
    if len(raw) > limit:
        return Problem(str(path), None, f"larger than {limit // 1000} kB; {skipped}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        byte = raw[err.start : err.start + 1].hex()
        return Problem(str(path), line, f"not UTF-8 text (byte 0x{byte}); {skipped}")


def _blocks(tokens: Sequence[Token], *, markdown: bool) -> str:
    """The note as text (``markdown``: as escaped Markdown), one block per paragraph."""
    blocks: list[str] = []
    prefix: list[str] = []  # list item and quote markers of the open blocks
    numbers: list[int] = []
    heading = ""
    tight = False  # the paragraph joins the block before it (items of one tight list)
    joins = False  # the paragraph is an item of a tight list
    for token in tokens:
        kind = token.type
        if kind == "paragraph_open":
            tight = token.hidden and bool(blocks) and blocks[-1].endswith(_TIGHT)
            joins = token.hidden
        elif kind == "blockquote_open":
            prefix.append("> ")
        elif kind in ("bullet_list_open", "ordered_list_open"):
            if not numbers and blocks:  # a new list: its first item starts a block
                blocks[-1] = blocks[-1].removesuffix(_TIGHT)
            numbers.append(int(str(token.attrs.get("start", 1))) if kind[0] == "o" else 0)
        elif kind in ("blockquote_close", "bullet_list_close", "ordered_list_close"):
            (prefix if kind == "blockquote_close" else numbers).pop()
        elif kind == "list_item_open":
            number = numbers[-1] if numbers else 0
            prefix.append(f"{number}. " if number else "- ")
            if numbers and number:
                numbers[-1] += 1
        elif kind == "list_item_close":
            prefix.pop()
        elif kind == "heading_open":
            heading = "#" * int(token.tag[1]) + " " if markdown else ""
        elif kind == "inline":
            # Outer list markers become indentation: only the innermost is written.
            marks = [" " * len(m) if m[0] != ">" else m for m in prefix[:-1]] + prefix[-1:]
            line = "".join(marks) + heading + _inline(token.children or [], markdown)
            if tight:
                blocks[-1] = blocks[-1].removesuffix(_TIGHT) + "\n" + line + _TIGHT
            else:
                blocks.append(line + (_TIGHT if joins else ""))
            heading = ""
        elif kind in ("fence", "code_block"):
            code = token.content.rstrip("\n")
            shown = "\n".join("    " + line for line in code.split("\n")) if markdown else code
            blocks.append(shown)
        elif kind == "hr":
            blocks.append("* * *" if markdown else "-" * 8)
    return "\n\n".join(b.removesuffix(_TIGHT) for b in blocks)


def _inline(children: Sequence[Token], markdown: bool) -> str:
    out: list[str] = []
    href: list[str] = []
    for child in children:
        kind = child.type
        if kind == "text":
            out.append(_md(child.content) if markdown else child.content)
        elif kind == "code_inline":
            content = child.content.replace("`", "'")
            out.append(f"`{content}`" if markdown else content)
        elif kind in ("softbreak", "hardbreak"):
            out.append(" ")
        elif kind in ("em_open", "em_close"):
            out.append("*" if markdown else "")
        elif kind in ("strong_open", "strong_close"):
            out.append("**" if markdown else "")
        elif kind == "link_open":
            href.append(safe_url(str(child.attrs.get("href", ""))))
            out.append("[" if markdown else "")
        elif kind == "link_close":
            url = href.pop() if href else ""
            out.append(f"](<{url}>)" if markdown else f" <{url}>")
        elif kind == "image":
            url = safe_url(str(child.attrs.get("src", "")))
            alt = _md(child.content) if markdown else child.content
            out.append(f"[{alt}](<{url}>)" if markdown else f"{alt} <{url}>")
    return "".join(out)


def _md(text: str) -> str:
    """:func:`~digest.filters.md_escape` of a piece of a line, keeping the spaces at its
    ends (it is joined to the pieces around it)."""
    core = md_escape(text)
    if not core:
        return " " if text else ""
    lead = " " if text[:1].isspace() else ""
    return lead + core + (" " if text[-1:].isspace() else "")
