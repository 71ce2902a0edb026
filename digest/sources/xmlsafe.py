"""Safe XML loading shared by the arXiv readers (RSS and API).

Input: the text of an XML document and the listing name used in problems.
Output: the root :class:`xml.etree.ElementTree.Element`, or one
:class:`Problem` saying where the document broke; plus helpers giving the
clean text of a child element, the source lines of elements (ElementTree
keeps no positions) and the loop that reads a feed's items into a listing.

Parsing uses the standard library parser, but any document with a document
type declaration is refused before parsing: a plain text search for
``<!DOCTYPE`` turns it into a problem at that line. Entity declarations (the
"billion laughs" and external-entity attacks) can only live in the DOCTYPE's
internal subset or an external DTD, so refusing the DOCTYPE refuses every
``<!ENTITY``; neither arXiv format uses one.

Characters XML does not allow (controls, U+FFFE/U+FFFF, surrogates), raw or as
character references such as ``&#1;``, would make the whole document not
well-formed and cost every item: they are replaced by U+FFFD before parsing, and
reported once with the line of the first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

from digest.errors import Problem
from digest.models import Entry, Listing
from digest.normalize import clean_text


def line_of(text: str, offset: int) -> int:
    """1-based line of a character offset."""
    return text.count("\n", 0, offset) + 1


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


def _xml_char(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def repair_chars(text: str, name: str) -> tuple[str, Problem | None]:
    """``text`` with every character XML forbids (raw, or as a character reference)
    replaced by U+FFFD, and one problem telling how many and where the first was."""
    refs: list[int] = []  # offsets in text
    raws: list[int] = []  # offsets in the text with references repaired (same lines)

    def ref(m: re.Match[str]) -> str:
        code = int(m[1], 16) if m[1] else int(m[2])
        if _xml_char(code):
            return m[0]
        refs.append(m.start())
        return "&#xFFFD;"

    def raw(m: re.Match[str]) -> str:
        raws.append(m.start())
        return "\ufffd"

    fixed = _CHAR_REF.sub(ref, text) if "&#" in text else text
    unrefd = fixed
    fixed = _NOT_XML.sub(raw, fixed)
    if not refs and not raws:
        return text, None
    lines = [line_of(text, refs[0])] if refs else []
    lines += [line_of(unrefd, raws[0])] if raws else []
    count = len(refs) + len(raws)
    msg = f"{count} character{'s' if count != 1 else ''} that XML forbids, replaced by \ufffd"
    return fixed, Problem(name, min(lines), msg)


def load_xml(text: str, name: str, problems: list[Problem] | None = None) -> ET.Element | Problem:
    """Parse an XML document safely -> its root, or a problem saying where it broke.
    Characters XML forbids are replaced first (see :func:`repair_chars`), reported
    in ``problems``."""
    doctype = text.find("<!DOCTYPE")
    if doctype >= 0:
        msg = "XML with a document type declaration is refused (it could expand entities)"
        return Problem(name, line_of(text, doctype), msg)
    text, repaired = repair_chars(text, name)
    if repaired is not None and problems is not None:
        problems.append(repaired)
    try:
        return ET.fromstring(text)
    except ET.ParseError as err:
        line, column = err.position
        reason = re.sub(r": line \d+, column \d+$", "", err.msg)  # the position is ours to show
        return Problem(name, line, f"not well-formed XML: {reason}", column=column + 1)
    except ValueError as err:  # e.g. lone surrogates that cannot be encoded for expat
        return Problem(name, None, f"not well-formed XML: {err}")


def element_lines(text: str, tag: str, count: int) -> list[int | None]:
    """Lines of the ``count`` elements named ``tag`` in document order.

    ElementTree keeps no positions, so the start tags are found in the text;
    when their number disagrees with the tree (a tag inside a comment or
    CDATA), no line is claimed rather than a wrong one.
    """
    found = [line_of(text, m.start()) for m in re.finditer(rf"<(?:\w+:)?{tag}[\s>/]", text)]
    return list(found) if len(found) == count else [None] * count


ItemReader = Callable[[ET.Element, int | None, int], tuple[Entry | None, list[Problem]]]
"""Turns one XML element (with its line and the next entry position) into an entry."""


def add_items(
    listing: Listing, text: str, elements: list[ET.Element], tag: str, read_item: ItemReader
) -> None:
    """Read every element into ``listing``: entries where they parse, problems for the
    rest (a bad item never costs the others)."""
    lines = element_lines(text, tag, len(elements))
    for element, line in zip(elements, lines, strict=True):
        entry, problems = read_item(element, line, len(listing.entries))
        listing.problems.extend(problems)
        if entry is not None:
            listing.entries.append(entry)


def child_text(element: ET.Element, tag: str) -> str:
    """Clean text of the first child ``tag`` (``""`` when missing)."""
    child = element.find(tag)
    return clean_text(child.text or "") if child is not None else ""
