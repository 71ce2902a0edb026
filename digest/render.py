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
Markdown-escaped), ``md_plain`` (:func:`md_escape`: text that is no listing text,
like a file name, never read as LaTeX), ``md_url`` (a Markdown autolink or nothing), ``safe_url``
(an http(s) URL or empty), ``plural``, ``split_abstract`` (the visible lead
and the collapsed rest), ``card`` (a paper's links, author line, provenance and tag
labels: :class:`digest.cards.Card`), ``picks`` (a digest's top picks, each with its
section) and ``listings`` (a paper's sightings, one row per
listing). The week page templates take a paper's text from one call instead:
``html_fields`` (:class:`PaperHTML`) and ``md_fields`` (:class:`PaperMarkdown`),
the same text those filters give, since a page holds thousands of papers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

from digest.cards import Card, card, tag_slug
from digest.filters import (
    linkify,
    md_escape,
    md_text,
    md_url,
    plural,
    readable,
    safe_url,
    split_abstract,
)
from digest.grouping import picks_in_sections
from digest.paperfields import (
    ListingRow,
    PaperHTML,
    PaperMarkdown,
    html_fields,
    listings,
    md_fields,
)

__all__ = [
    "Card",
    "Environment",
    "ListingRow",
    "PaperHTML",
    "PaperMarkdown",
    "default_template_dir",
    "environment",
    "html_fields",
    "linkify",
    "listings",
    "md_escape",
    "md_fields",
    "md_text",
    "md_url",
    "plural",
    "readable",
    "render",
    "safe_url",
    "split_abstract",
    "week_url",
]


Environment = jinja2.Environment

# The packaged templates: installed, they are digest/templates (the wheel maps the
# top-level templates/ folder there); in a source checkout or an editable install,
# the top-level templates/ folder itself.
_HERE = Path(__file__).resolve().parent
_TEMPLATE_DIRS = (_HERE / "templates", _HERE.parent / "templates")


def week_url(base_url: str, formats: Sequence[str], week: str) -> str:
    """Absolute URL of a week's page (the site root when no HTML is published), as feeds
    and email link to it."""
    return f"{base_url}{week}.html" if "html" in formats else base_url


def default_template_dir() -> Path:
    """Folder of the packaged default templates."""
    for folder in _TEMPLATE_DIRS:
        if (folder / "week.html").is_file():
            return folder
    return _TEMPLATE_DIRS[-1]


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
        md_plain=md_escape,
        md_url=md_url,
        text=readable,
        linkify=linkify,
        safe_url=safe_url,
        plural=plural,
        split_abstract=split_abstract,
        listings=listings,
        html_fields=html_fields,
        md_fields=md_fields,
        card=_card,
        tag_slug=tag_slug,
        picks=picks_in_sections,
    )
    return env


def _card(paper: Any, feed: Any) -> Card:
    """The ``card`` filter: ``paper|card(feed)`` (:func:`digest.cards.card`)."""
    return card(paper, feed.reading)


def macro(env: jinja2.Environment, name: str, macro_name: str, **context: Any) -> Any:
    """Macro ``macro_name`` of template ``name``, its context ``context``: called with
    its arguments, it returns its output as markup (a :class:`~markupsafe.Markup`)."""
    return getattr(env.get_template(name).make_module(context), macro_name)


def render(env: jinja2.Environment, name: str, **context: Any) -> str:
    """Render template ``name`` with ``context``."""
    return env.get_template(name).render(**context)
