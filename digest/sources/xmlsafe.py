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


def load_xml(text: str, name: str) -> ET.Element | Problem:
    """Parse an XML document safely -> its root, or a problem saying where it broke."""
    doctype = text.find("<!DOCTYPE")
    if doctype >= 0:
        msg = "XML with a document type declaration is refused (it could expand entities)"
        return Problem(name, line_of(text, doctype), msg)
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
