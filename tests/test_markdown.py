"""Markdown pages: CommonMark that renders (markdown-it-py) to the same structure as the
HTML page, with listing text escaped so that nothing in it becomes markup."""

from __future__ import annotations

import re
from collections.abc import Callable

import lxml.html
import pytest
from conftest import BuiltFeed, FeedMaker, paper
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from digest.latex import MATH, readable
from digest.render import md_escape, md_text

COMMONMARK = MarkdownIt("commonmark")
# What GitHub and most sites add on top: tables and strikethrough must not appear either.
GFM_ISH = MarkdownIt("commonmark").enable(["table", "strikethrough"])

# Arbitrary text, weighted towards the characters that mean something in Markdown.
SPECIAL = list("\\`*_[]()<>&|~#$!-+=.:;{}\"' \t\n\u00a0\u2028\u3000")
SPECIAL += ["1.", "1)", "&amp;", "&#42;", "$x$", "$\\alpha$", "$a_b$", "https://x.org", "    "]
# Listing text never holds control characters (the readers drop them).
texts = st.lists(
    st.one_of(
        st.text(st.characters(blacklist_categories=("Cc", "Cs"))),
        st.sampled_from(SPECIAL),
    ),
    max_size=12,
).map("".join)


def inline_text(tokens: list[Token]) -> str:
    kinds = {t.type for t in tokens}
    assert kinds <= {"text"}, f"markup in escaped text: {kinds}"
    return "".join(t.content for t in tokens)


def collapsed(text: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", text).strip(" ")


@settings(max_examples=1500)
@given(texts)
def test_md_escape_renders_back_to_exactly_the_text(raw: str) -> None:
    """Rendered as an inline, ``md_escape(s)`` is plain text equal to ``s`` (whitespace
    runs collapsed; math included, since CommonMark knows no math)."""
    escaped = md_escape(raw)
    assert inline_text(COMMONMARK.parseInline(escaped)[0].children or []) == collapsed(raw)


@settings(max_examples=800)
@given(texts)
def test_md_escape_never_changes_the_block_structure(raw: str) -> None:
    escaped = md_escape(raw)
    if not escaped:
        return
    shapes = {
        escaped: ["paragraph_open", "inline", "paragraph_close"],
        "### " + escaped: ["heading_open", "inline", "heading_close"],
        "- " + escaped: [
            "bullet_list_open",
            "list_item_open",
            "paragraph_open",
            "inline",
            "paragraph_close",
            "list_item_close",
            "bullet_list_close",
        ],
    }
    for source, shape in shapes.items():
        assert [t.type for t in GFM_ISH.parse(source)] == shape, source


# md_escape as plain regex substitutions: its definition, which the fast version (str
# methods, fast paths) must equal character for character.
_PUNCT = r"!-/:-@\[-`{-~"
_REF_INLINE = re.compile(rf"([`*_\[\]<>&|~#$]|\\(?=[{_PUNCT}]|$))")
_REF_MATH = re.compile(rf"([`*_\[\]<>&|~#]|\\(?=[{_PUNCT}]|$))")
_REF_START = re.compile(r"^(?:([-+=])|(\d{1,9})([.)]))")


def reference_md_escape(text: str) -> str:
    text = re.sub(r"[ \t\r\n]+", " ", text).strip(" ")
    out, last = [], 0
    for m in MATH.finditer(text):
        out.append(_REF_INLINE.sub(r"\\\1", text[last : m.start()]))
        out.append("$" + _REF_MATH.sub(r"\\\1", m.group(1)) + "$")
        last = m.end()
    out.append(_REF_INLINE.sub(r"\\\1", text[last:]))
    joined = "".join(out)
    return _REF_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", joined)


@settings(max_examples=1500)
@given(texts)
def test_md_escape_equals_its_regex_definition(raw: str) -> None:
    assert md_escape(raw) == reference_md_escape(raw)
    assert md_escape(raw + "\\") == reference_md_escape(raw + "\\")


def test_math_stays_math_and_text_commands_become_text() -> None:
    assert md_escape("PixArt-$\\alpha$") == "PixArt-$\\alpha$"
    assert md_escape("$100\\times$ faster") == "$100\\times$ faster"
    assert md_escape("$x_i * y_j$") == "$x\\_i \\* y\\_j$"
    assert md_text("dubbed \\textbf{UniHOI}, 5\\% better, $\\alpha$") == (
        "dubbed UniHOI, 5% better, $\\alpha$"
    )
    assert md_escape("# [a](b) <b> | c |") == "\\# \\[a\\](b) \\<b\\> \\| c \\|"
    assert md_escape("1. not a list") == "1\\. not a list"
    assert md_escape("- not a list") == "\\- not a list"


# --- whole pages ------------------------------------------------------------------------------


def html_outline(html: str) -> list[tuple[int, str]]:
    main = lxml.html.fromstring(html).xpath("//main")[0]
    return [
        (int(h.tag[1]), " ".join(h.text_content().split()))
        for h in main.iter("h1", "h2", "h3", "h4", "h5", "h6")
    ]


def md_outline(md: str) -> list[tuple[int, str]]:
    tokens = COMMONMARK.parse(md)
    out = []
    for i, t in enumerate(tokens):
        if t.type == "heading_open":
            text = "".join(c.content for c in tokens[i + 1].children or [] if c.type == "text")
            # Markdown keeps LaTeX as math; the HTML shows it as Unicode.
            out.append((int(t.tag[1]), " ".join(readable(text).split())))
    return out


@pytest.mark.parametrize("week", ["2026-W11", "2026-W18"])
def test_markdown_has_the_structure_of_the_html(built_example: BuiltFeed, week: str) -> None:
    html = (built_example.site / f"{week}.html").read_text(encoding="utf-8")
    md = (built_example.site / f"{week}.md").read_text(encoding="utf-8")
    assert md_outline(md) == html_outline(html)
    # The Markdown table of contents points at the HTML page's section ids, in order.
    doc = lxml.html.fromstring(html)
    section_ids = doc.xpath("//main/section/@id")
    toc = [
        str(c.attrs["href"])[1:]
        for t in COMMONMARK.parse(md)
        if t.type == "inline"
        for c in t.children or []
        if c.type == "link_open" and str(c.attrs["href"]).startswith("#")
    ]
    assert toc == section_ids


@pytest.mark.parametrize("week", ["2026-W11", "2026-W18"])
def test_markdown_holds_no_html_and_no_stray_links(built_example: BuiltFeed, week: str) -> None:
    md = (built_example.site / f"{week}.md").read_text(encoding="utf-8")
    tokens = GFM_ISH.parse(md)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or []}
    assert not kinds & {"html_block", "html_inline", "table_open", "code_block", "fence", "hr"}
    for t in tokens:
        for c in t.children or []:
            if c.type == "link_open":
                href = str(c.attrs["href"])
                assert href.startswith(("#", "https://", "http://")), href


def test_hostile_titles_stay_titles(make_feed: Callable[..., FeedMaker]) -> None:
    titles = [
        "# Not a heading",
        "[A link](https://evil.example) to nowhere",
        "| a | b | table |",
        "<b>Bold</b> <script>alert(1)</script>",
        "1. Not a list item",
        "*Not* _emphasis_ `code` ~~gone~~",
        "PixArt-$\\alpha$: diffusion",
    ]
    feed = make_feed().listing("a.jsonl", [paper(t, "2026-03-09") for t in titles])
    built = feed.run()
    md = (built.site / "2026-W11.md").read_text(encoding="utf-8")
    # Each title once among the theme sections (the top picks before them repeat some).
    outline = md_outline(md)
    themes = outline.index((2, "Themes"))
    headings = [text for level, text in outline[themes:] if level == 3]
    want = [" ".join(readable(t).split()) for t in titles]
    assert sorted(headings) == sorted(want)
    tokens = GFM_ISH.parse(md)
    links = [c for t in tokens for c in t.children or [] if c.type == "link_open"]
    assert all(not str(c.attrs["href"]).startswith("https://evil") for c in links)
    html = (built.site / "2026-W11.html").read_text(encoding="utf-8")
    assert md_outline(md) == html_outline(html)
