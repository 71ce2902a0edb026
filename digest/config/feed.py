"""feed.yaml -> a frozen :class:`FeedConfig`, with every problem reported at once.

Input: a feed folder (holding ``feed.yaml``). Output: :class:`FeedConfig`, or
a :class:`~digest.errors.ConfigError` listing every problem with file, line,
column and key (``feed.yaml:12:7: output.feed_items: expected a whole number
from 1 to 1,000, got the text 'many'``). Relative paths resolve against the feed folder.
Nothing is written while loading. Each section is declared once with the option
types of :mod:`digest.options`; the rules, identity and email sections are read by
their own modules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest import rules
from digest.config.rules import parse_rules
from digest.errors import ConfigError, DigestError, Problem
from digest.identity import overrides as identity_overrides
from digest.options import (
    Choice,
    Flag,
    Problems,
    Section,
    Subset,
    Text,
    Whole,
    choice,
    unknown_keys,
    url,
)
from digest.sources import formats
from digest.sources.fields import DATINGS
from digest.weeks import zone
from digest.yamlsrc import describe, load

if TYPE_CHECKING:
    from digest.config.email import EmailConfig

CONFIG_NAME = "feed.yaml"
DEFAULT_STORE = "digest.sqlite"
DEFAULT_OUTPUT = "site"
OUTPUT_KINDS = ("markdown", "html", "rss", "atom", "theme_feeds")
TOP_KEYS = {
    "title",
    "description",
    "base_url",
    "language",
    "author",
    "timezone",
    "year",
    "sources",
    "store",
    "output",
    "templates",
    "catch_all",
    "tags",
    "themes",
    "identity",
    "email",
    "reading",
}
MAX_CONFIG_BYTES = 10_000_000
"""A feed.yaml with a thousand tags is ~100 kB; past 10 MB it is not a config."""
FEED_ITEMS = (1, 1_000)
"""Range of ``output.feed_items``: weekly issues in rss.xml/atom.xml (20 years of weeks)."""
THEME_FEED_ITEMS = (1, 10_000)
"""Range of ``output.theme_feed_items``: a theme feed past 10,000 papers is megabytes that
every feed reader downloads on every poll."""


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One entry of ``sources``: a glob of files or a URL."""

    path: str | None = None
    """Glob relative to the feed folder (``listings/*.txt``)."""
    url: str | None = None
    """An http(s) URL fetched on every run."""
    format: str = "auto"
    """Reader name, or ``auto`` to detect from content."""
    date: str = "auto"
    """How its sightings are dated: ``published`` (each entry's own date), ``listing``
    (the listing's date), ``import`` (the run's day), or ``auto``: the format's default
    (``import`` for arXiv API results, BibTeX and Zotero CSV exports)."""
    min_interval: int = 3600  # DEFAULT_MIN_INTERVAL
    """A URL: seconds after the server's last answer (real time) during which the
    kept body is read again instead of asking the server (0: ask on every run)."""


@dataclass(frozen=True, slots=True)
class OutputConfig:
    """The ``output`` section."""

    dir: Path
    """Where pages and feeds are written (``--out`` overrides)."""
    formats: tuple[str, ...] = OUTPUT_KINDS
    """Which outputs to write."""
    feed_items: int = 12
    """Weekly issues kept in rss.xml/atom.xml."""
    theme_feed_items: int = 200
    """Papers kept in each per-theme feed."""
    empty_weeks: bool = False
    """Publish an explicit 'no new papers' issue for weeks without papers."""
    search: bool = True
    """Give the HTML site an offline search (Pagefind, the ``search`` extra): one index per
    week, merged in the browser, so a run indexes only the weeks it rendered."""


DEFAULT_LINK_TEMPLATE = "https://arxiv.org/search/?query={title}&searchtype=title"
"""Where a paper's title links when no source gave it a URL: an arXiv title search."""
TOP_PICKS = (0, 50)
"""Range of ``reading.top_picks`` (0: no top-picks section)."""


@dataclass(frozen=True, slots=True)
class ReadingConfig:
    """The ``reading`` section (what a reader is shown beside the papers) and the tags'
    ``label`` settings."""

    link_template: str = DEFAULT_LINK_TEMPLATE
    """URL of a paper without a source link: ``{title}`` is replaced by the URL-encoded
    title (``{arxiv}``, by its arXiv id when it has one)."""
    top_picks: int = 5
    """Papers in the "Top picks" section that opens each week page, email and issue."""
    tag_labels: tuple[tuple[str, str], ...] = ()
    """Tag -> label, as written under ``tags.NAME.label`` (other tags: a default label,
    see :func:`digest.cards.tag_label`)."""


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """A validated feed definition."""

    root: Path
    """The feed folder."""
    title: str
    description: str
    base_url: str
    """Absolute site URL ending in '/', used for every link in feeds and email."""
    language: str
    author: str
    timezone: str
    """IANA zone for turning timestamps into dates and weeks (default UTC)."""
    year: int | None
    """Year for listing dates that have none; None = infer from --today."""
    sources: tuple[SourceConfig, ...]
    store: Path
    output: OutputConfig
    templates: Path | None
    """User template folder searched before the defaults."""
    rules: rules.RuleSet
    identity: identity_overrides.Overrides
    email: EmailConfig | None = None
    """The ``email`` section (see :mod:`digest.config.email`), None when absent."""
    reading: ReadingConfig = ReadingConfig()
    """The ``reading`` section and the tags' labels."""

    @property
    def file(self) -> Path:
        """Path of feed.yaml."""
        return self.root / CONFIG_NAME


def load_config(root: Path) -> FeedConfig:
    """Read and validate ``root/feed.yaml``; raise ConfigError with every problem."""
    file = root / CONFIG_NAME
    if not root.is_dir():
        what = "is a file, not a folder" if root.exists() else "does not exist"
        raise DigestError(f"feed folder {root} {what}")
    try:
        with file.open("rb") as stream:
            raw = stream.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            [Problem(str(file), None, "no feed.yaml here (create one with 'digest init')")]
        ) from None
    except OSError as err:
        raise ConfigError([Problem(str(file), None, f"cannot read: {err.strerror}")]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        limit = f"{MAX_CONFIG_BYTES // 1_000_000} MB"
        raise ConfigError([Problem(str(file), None, f"larger than {limit}: not a feed.yaml")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        byte = raw[err.start : err.start + 1].hex()
        message = f"not UTF-8 text (byte 0x{byte}); save feed.yaml as UTF-8"
        raise ConfigError([Problem(str(file), line, message)]) from None
    return parse_config(text, root, display=str(file))


def parse_config(text: str, root: Path, display: str = CONFIG_NAME) -> FeedConfig:
    """Validate feed.yaml text (paths relative to ``root``)."""
    data, source, found = load(text, display)
    if data is None and not found:
        found.append(Problem(display, None, "the file is empty"))
    if found:
        raise ConfigError(found)
    if not isinstance(data, dict):
        raise ConfigError([source.problem((), "expected a mapping of settings at the top level")])
    problems = Problems(source)
    unknown_keys(data, TOP_KEYS, (), problems)
    top = HEAD.fields(data, (), problems)
    title = top.get("title", "Reading digest")
    base_url = top.get("base_url", "http://localhost:8000/")
    if not base_url.endswith("/"):
        base_url += "/"
    sources = _sources(data.get("sources", []), problems)
    output_values = OUTPUT.get(data, "output", (), problems) or {}
    output = OutputConfig(
        **{**output_values, "dir": root / output_values.get("dir", DEFAULT_OUTPUT)}
    )
    top |= TAIL.fields(data, (), problems)
    templates = None
    if tpl := top.get("templates"):
        templates = (root / tpl).resolve()
        if not templates.is_dir():
            problems.bad(("templates",), f"template folder {tpl!r} does not exist")
    store = root / top.get("store", DEFAULT_STORE)

    ruleset, rule_problems = parse_rules(data, source)
    problems.found.extend(rule_problems)
    overrides, override_problems = identity_overrides.parse(data.get("identity"), source)
    problems.found.extend(override_problems)
    email: EmailConfig | None = None
    if data.get("email") is not None:
        # Read only when present: feeds without email skip the address parser and the
        # section's dataclasses at start-up.
        from digest.config.email import parse_email_config

        email, email_problems = parse_email_config(data["email"], source)
        problems.found.extend(email_problems)
    reading_values = READING.get(data, "reading", (), problems) or {}
    reading = ReadingConfig(**reading_values, tag_labels=_tag_labels(data.get("tags"), problems))
    if problems or ruleset is None:
        raise ConfigError(problems.found)
    return FeedConfig(
        root=root,
        title=title,
        description=top.get("description", f"Weekly digest: {title}"),
        base_url=base_url,
        language=top.get("language", "en"),
        author=top.get("author", "digest"),
        timezone=top.get("timezone", "UTC"),
        year=top.get("year"),
        sources=sources,
        store=store,
        output=output,
        templates=templates,
        rules=ruleset,
        identity=overrides,
        email=email,
        reading=reading,
    )


def _zone_problem(name: str) -> str | None:
    if zone(name) is None:
        return f"unknown time zone {name!r} (use an IANA name like Europe/Paris)"
    return None


_TEXT = Text(optional=True)
HEAD = Section(
    options={
        "title": _TEXT,
        "base_url": url("an absolute http(s) URL", r"^https?://[^\s/]+\S*$", optional=True),
        "timezone": Text(optional=True, test=_zone_problem),
        "year": Whole(low=1900, high=2999, expected="a year like 2025", optional=True),
    },
)
"""The top-level settings read before ``sources`` and ``output``."""
TAIL = Section(
    options={
        "templates": _TEXT,
        "store": _TEXT,
        "description": _TEXT,
        "language": _TEXT,
        "author": _TEXT,
    },
)
"""The top-level settings read after them (the order problems are listed in)."""

OUTPUT = Section(
    options={
        "dir": _TEXT,
        "formats": Subset(choices=OUTPUT_KINDS),
        "feed_items": Whole(low=FEED_ITEMS[0], high=FEED_ITEMS[1]),
        "theme_feed_items": Whole(low=THEME_FEED_ITEMS[0], high=THEME_FEED_ITEMS[1]),
        "empty_weeks": Flag(),
        "search": Flag(),
    },
)
"""The ``output`` section, filling :class:`OutputConfig`."""


def _link_template_problem(text: str) -> str | None:
    if not re.match(r"^https?://[^\s/]+\S*$", text):
        return f"expected an absolute http(s) URL with {{title}} in it, got {text!r}"
    try:
        text.format(title="t", arxiv="a")
    except (KeyError, IndexError, ValueError):
        return f"only {{title}} and {{arxiv}} may stand in braces, got {text!r}"
    return None


READING = Section(
    options={
        "link_template": Text(test=_link_template_problem),
        "top_picks": Whole(low=TOP_PICKS[0], high=TOP_PICKS[1]),
    },
)
"""The ``reading`` section, filling :class:`ReadingConfig`."""
TAG_LABEL = Text(expected="a non-empty label", nonempty=True)


def _tag_labels(raw: Any, problems: Problems) -> tuple[tuple[str, str], ...]:
    """``label`` of each tag that has one (the rest of ``tags`` is read by the rules)."""
    if not isinstance(raw, dict):
        return ()
    out = []
    for name, spec in raw.items():
        if isinstance(spec, dict) and "label" in spec:
            label = TAG_LABEL.get(spec, "label", ("tags", name), problems)
            if label is not None:
                out.append((str(name), " ".join(label.split())))
    return tuple(out)


SOURCE_KEYS = {"path", "url", "format", "date", "min_interval"}
DEFAULT_MIN_INTERVAL = 3600
"""An hour: a run every few minutes asks a source's server at most once an hour."""
MIN_INTERVAL = Whole(low=0, high=7 * 86400, expected="a number of seconds from 0 to 604,800")
SOURCE_URL = url("an http(s) URL", r"^https?://\S+$")


def _sources(raw: Any, problems: Problems) -> tuple[SourceConfig, ...]:
    if isinstance(raw, str | dict):
        raw = [raw]
    if not isinstance(raw, list):
        problems.bad(("sources",), f"expected a list of sources, got {describe(raw)}")
        return ()
    out = []
    reader: Choice[str] = choice("auto", *formats(), noun="format")
    dating: Choice[str] = choice("auto", *DATINGS, noun="date")
    for i, item in enumerate(raw):
        path = ("sources", i)
        if isinstance(item, str):
            item = {"url": item} if re.match(r"^https?://", item) else {"path": item}
        if not isinstance(item, dict):
            problems.bad(path, f"expected a path, a URL or a mapping, got {describe(item)}")
            continue
        unknown_keys(item, SOURCE_KEYS, path, problems)
        fmt = reader.get(item, "format", path, problems) or "auto"
        date = dating.get(item, "date", path, problems) or "auto"
        interval = MIN_INTERVAL.get(item, "min_interval", path, problems)
        has_path, has_url = isinstance(item.get("path"), str), isinstance(item.get("url"), str)
        if has_path == has_url:
            problems.bad(path, "give exactly one of 'path' (a file glob) or 'url'")
            continue
        if has_url:
            link = SOURCE_URL.get(item, "url", path, problems)
            if link is None:
                continue
            wait = DEFAULT_MIN_INTERVAL if interval is None else interval
            out.append(SourceConfig(url=link, format=fmt, date=date, min_interval=wait))
        else:
            if interval is not None:
                problems.bad((*path, "min_interval"), "only a 'url' source is fetched")
            out.append(SourceConfig(path=item["path"], format=fmt, date=date))
    return tuple(out)
