"""Jinja2 rendering of week pages, the archive and plain text: WeekDigest -> text.

Input: :class:`~digest.models.WeekDigest` values and the feed config. Output:
strings (Markdown, HTML). The environment searches the user's template
folder first, then the packaged defaults; ``!default/week.html`` always names
the packaged one, so an override can ``{% extends "!default/week.html" %}``.
HTML and XML templates are autoescaped; Markdown and text templates are not,
and listing text goes through :func:`md_escape` there instead. Undefined
variables are errors (StrictUndefined), never silent blanks.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from digest.latex import MATH, to_unicode

# The packaged templates: inside the wheel as digest/templates, in a source
# checkout as the top-level templates/ folder.
Environment = jinja2.Environment

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
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        md=md_escape,
        text=readable,
        linkify=linkify,
        plural=plural,
    )
    return env


def readable(text: str) -> str:
    """Listing text for HTML, feeds and email: LaTeX shown as Unicode."""
    return to_unicode(text)


_MD_ANYWHERE = re.compile(r"([\\`*_\[\]<>&!|~#])")
_MD_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+(?=[.)]))")


def md_escape(text: str) -> str:
    """Listing text for Markdown: nothing in it can become markup.

    Inline math (``$\\alpha$``) is kept as math, with the characters that could
    still start markup inside it escaped; everything else has every
    Markdown-significant character backslash-escaped.
    """
    out: list[str] = []
    last = 0
    for m in MATH.finditer(text):
        out.append(_md_plain(text[last : m.start()]))
        out.append("$" + _MD_ANYWHERE.sub(r"\\\1", m.group(1)) + "$")
        last = m.end()
    out.append(_md_plain(text[last:]))
    joined = "".join(out)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), joined)


def _md_plain(text: str) -> str:
    return _MD_ANYWHERE.sub(r"\\\1", text).replace("$", "\\$")


_URL = re.compile(r"\bhttps?://[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]}]")


def linkify(text: str) -> Markup:
    """Escaped HTML of ``text`` (LaTeX as Unicode) with http(s) URLs as links; no other
    scheme ever becomes a link."""
    text = readable(text)
    parts: list[str] = []
    last = 0
    for m in _URL.finditer(text):
        parts.append(str(escape(text[last : m.start()])))
        url = escape(m.group(0))
        parts.append(f'<a href="{url}" rel="nofollow noopener">{url}</a>')
        last = m.end()
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))


def plural(count: int, word: str, many: str | None = None) -> str:
    """``3, "paper"`` -> ``3 papers``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def render(env: jinja2.Environment, name: str, **context: Any) -> str:
    """Render template ``name`` with ``context``."""
    return env.get_template(name).render(**context)
