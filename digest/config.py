"""feed.yaml -> a frozen :class:`FeedConfig`, with every problem reported at once.

Input: a feed folder (holding ``feed.yaml``). Output: :class:`FeedConfig`, or
a :class:`~digest.errors.ConfigError` listing every problem with file, line,
column and key (``feed.yaml:12:7: output.feed_items: expected a whole number
>= 1, got the text 'many'``). Relative paths resolve against the feed folder.
Nothing is written while loading.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest import rules
from digest.errors import ConfigError, DigestError, Problem
from digest.identity import overrides as identity_overrides
from digest.sources import formats
from digest.weeks import zone
from digest.yamlsrc import Path as KeyPath
from digest.yamlsrc import Source, load
from digest.yamlsrc import describe as _kind
from digest.yamlsrc import shown as _shown

if TYPE_CHECKING:
    from digest import mail

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
}
OUTPUT_KEYS = {"dir", "formats", "feed_items", "theme_feed_items", "empty_weeks"}
SOURCE_KEYS = {"path", "url", "format"}
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
    email: mail.EmailConfig | None = None
    """The ``email`` section (validated by :mod:`digest.mail`), None when absent."""

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
    data, source, problems = load(text, display)
    if data is None and not problems:
        problems.append(Problem(display, None, "the file is empty"))
    if problems:
        raise ConfigError(problems)
    if not isinstance(data, dict):
        raise ConfigError([source.problem((), "expected a mapping of settings at the top level")])
    v = _Validator(source)
    for key in data:
        if key not in TOP_KEYS:
            close = difflib.get_close_matches(key, TOP_KEYS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            v.bad_key((key,), f"unknown key ({hint}known: {', '.join(sorted(TOP_KEYS))})")

    title = v.string(data, ("title",), "Reading digest")
    base_url = v.string(data, ("base_url",), "http://localhost:8000/")
    if not re.match(r"^https?://[^\s/]+\S*$", base_url):
        v.bad(("base_url",), f"expected an absolute http(s) URL, got {base_url!r}")
    if not base_url.endswith("/"):
        base_url += "/"
    tz = v.string(data, ("timezone",), "UTC")
    if zone(tz) is None:
        v.bad(("timezone",), f"unknown time zone {tz!r} (use an IANA name like Europe/Paris)")
    year = data.get("year")
    if year is not None and (
        isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2999
    ):
        v.bad(("year",), f"expected a year like 2025, got {_kind(year)}")
        year = None

    sources = _sources(data.get("sources", []), v)
    output = _output(data.get("output", {}), root, v)
    templates = None
    if "templates" in data:
        tpl = v.string(data, ("templates",), "")
        templates = (root / tpl).resolve() if tpl else None
        if templates is not None and not templates.is_dir():
            v.bad(("templates",), f"template folder {tpl!r} does not exist")
    store = root / v.string(data, ("store",), DEFAULT_STORE)

    ruleset, rule_problems = rules.parse_rules(data, source)
    v.problems.extend(rule_problems)
    overrides, override_problems = identity_overrides.parse(data.get("identity"), source)
    v.problems.extend(override_problems)
    email: mail.EmailConfig | None = None
    if data.get("email") is not None:
        from digest import mail  # feeds without email need no mail headers module

        email, email_problems = mail.parse_email_config(data["email"], source)
        v.problems.extend(email_problems)
    if v.problems or ruleset is None:
        raise ConfigError(v.problems)
    return FeedConfig(
        root=root,
        title=title,
        description=v.string(data, ("description",), f"Weekly digest: {title}"),
        base_url=base_url,
        language=v.string(data, ("language",), "en"),
        author=v.string(data, ("author",), "digest"),
        timezone=tz,
        year=year,
        sources=sources,
        store=store,
        output=output,
        templates=templates,
        rules=ruleset,
        identity=overrides,
        email=email,
    )


class _Validator:
    """Collects problems instead of stopping at the first."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def bad(self, path: KeyPath, message: str) -> None:
        self.problems.append(self.source.problem(path, message))

    def bad_key(self, path: KeyPath, message: str) -> None:
        self.problems.append(self.source.key_problem(path, message))

    def string(self, data: dict[str, Any], path: KeyPath, default: str) -> str:
        value = data.get(str(path[-1]), default)
        if value is None:
            return default
        if not isinstance(value, str):
            self.bad(path, f"expected text, got {_kind(value)}")
            return default
        return value

    def integer(
        self, data: dict[str, Any], path: KeyPath, default: int, low: int, high: int
    ) -> int:
        value = data.get(str(path[-1]), default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.bad(path, f"expected a whole number from {low} to {high:,}, got {_shown(value)}")
            return default
        return value


def _sources(raw: Any, v: _Validator) -> tuple[SourceConfig, ...]:
    if isinstance(raw, str | dict):
        raw = [raw]
    if not isinstance(raw, list):
        v.bad(("sources",), f"expected a list of sources, got {_kind(raw)}")
        return ()
    out = []
    known = ["auto", *formats()]
    for i, item in enumerate(raw):
        path: KeyPath = ("sources", i)
        if isinstance(item, str):
            item = {"url": item} if re.match(r"^https?://", item) else {"path": item}
        if not isinstance(item, dict):
            v.bad(path, f"expected a path, a URL or a mapping, got {_kind(item)}")
            continue
        for key in item:
            if key not in SOURCE_KEYS:
                v.bad_key((*path, key), f"unknown key (known: {', '.join(sorted(SOURCE_KEYS))})")
        fmt = item.get("format", "auto")
        if fmt not in known:
            v.bad((*path, "format"), f"unknown format {fmt!r} (known: {', '.join(known)})")
        has_path, has_url = isinstance(item.get("path"), str), isinstance(item.get("url"), str)
        if has_path == has_url:
            v.bad(path, "give exactly one of 'path' (a file glob) or 'url'")
            continue
        url = item.get("url")
        if has_url and not re.match(r"^https?://\S+$", url or ""):
            v.bad((*path, "url"), f"expected an http(s) URL, got {url!r}")
            continue
        out.append(SourceConfig(path=item.get("path"), url=url, format=str(fmt)))
    return tuple(out)


def _output(raw: Any, root: Path, v: _Validator) -> OutputConfig:
    if not isinstance(raw, dict):
        v.bad(("output",), f"expected a mapping, got {_kind(raw)}")
        raw = {}
    for key in raw:
        if key not in OUTPUT_KEYS:
            v.bad_key(("output", key), f"unknown key (known: {', '.join(sorted(OUTPUT_KEYS))})")
    kinds = raw.get("formats", list(OUTPUT_KINDS))
    if not isinstance(kinds, list) or any(k not in OUTPUT_KINDS for k in kinds):
        v.bad(("output", "formats"), f"expected a list drawn from {', '.join(OUTPUT_KINDS)}")
        kinds = list(OUTPUT_KINDS)
    empty = raw.get("empty_weeks", False)
    if not isinstance(empty, bool):
        v.bad(("output", "empty_weeks"), f"expected true or false, got {_kind(empty)}")
        empty = False
    return OutputConfig(
        dir=root / v.string(raw, ("output", "dir"), DEFAULT_OUTPUT),
        formats=tuple(kinds),
        feed_items=v.integer(raw, ("output", "feed_items"), 12, *FEED_ITEMS),
        theme_feed_items=v.integer(raw, ("output", "theme_feed_items"), 200, *THEME_FEED_ITEMS),
        empty_weeks=empty,
    )
