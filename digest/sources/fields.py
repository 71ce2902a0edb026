"""Record fields every structured reader shares: identifiers, timestamps, URLs, authors.

Input: raw field values as listings give them (strings, lists, mappings) and
the reader's time zone. Output: normalised values -- ``arxiv:<id>`` /
``doi:<doi>`` source ids with their version, calendar days in the configured
zone, http(s) URLs, tuples of clean author names -- and, through
:func:`record_entry`, one :class:`Entry` per title/abstract/date/id/url/authors
record with its problems.

Used by the JSON Lines, CSV, Hugging Face and arXiv readers, so that every
format gives the same ``source_id`` for the same paper.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from digest.errors import Problem
from digest.models import Entry, Listing, Signals
from digest.normalize import clean_text
from digest.sources import bounds

if TYPE_CHECKING:
    from digest.sources import ReadContext

# arXiv's archives before 2007, when ids looked like ``hep-th/9901001``.
_OLD_ARCHIVES = (
    "acc-phys|adap-org|alg-geom|ao-sci|astro-ph|atom-ph|bayes-an|chao-dyn|chem-ph|cmp-lg|"
    "comp-gas|cond-mat|cs|dg-ga|funct-an|gr-qc|hep-ex|hep-lat|hep-ph|hep-th|math-ph|math|"
    "mtrl-th|nlin|nucl-ex|nucl-th|patt-sol|physics|plasm-ph|q-alg|q-bio|q-fin|quant-ph|"
    "solv-int|stat|supr-con"
)
_ARXIV_ID = re.compile(
    r"(?<![\w.])(?i:arxiv:\s*|arxiv\.org/(?:abs|pdf)/|oai:arxiv\.org:)?"
    rf"(?P<id>\d{{4}}\.\d{{4,5}}|(?:{_OLD_ARCHIVES})(?:\.[A-Z]{{2}})?/\d{{7}})"
    r"(?:v(?P<version>\d{1,4}))?(?!\d)",
)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.", re.IGNORECASE)
_DOI = re.compile(r"(?:^|doi:\s*|doi\.org/)(?P<doi>10\.\d{4,9}/\S+)$", re.IGNORECASE)


def arxiv_id(text: str) -> tuple[str, int | None] | None:
    """``arXiv:2403.01234v2``, ``oai:arXiv.org:...``, an abs/pdf URL -> ``("2403.01234", 2)``.

    Old-style ids keep their archive and drop the subject class, which arXiv
    treats as informational: ``math.GT/0309136v1`` -> ``("math/0309136", 1)``.
    """
    m = _ARXIV_ID.search(text.strip())
    if m is None:
        return None
    ident = re.sub(r"\.[A-Z]{2}/", "/", m["id"])
    return ident, int(m["version"]) if m["version"] else None


def source_id(text: str) -> tuple[str | None, int | None]:
    """An identifier as listings write it -> (``arxiv:<id>`` or ``doi:<doi>``, version).

    arXiv's own DOIs (``10.48550/arXiv.2403.01234``) become arXiv ids, so a
    paper meets itself across sources. Anything unrecognised gives ``(None, None)``.
    """
    text = text.strip()
    if not text.isprintable():  # ESC, NUL, bidi controls, lone surrogates: no real id
        return None, None
    doi = _DOI.search(text)
    if doi is not None:
        if not _ARXIV_DOI.match(doi["doi"]):
            return "doi:" + doi["doi"].rstrip(".,;").lower(), None
        text = _ARXIV_DOI.sub("", doi["doi"])
    found = arxiv_id(text)
    if found is None:
        return None, None
    return "arxiv:" + found[0], found[1]


URL_MAX = 2048
"""The longest URL kept. 2,048 characters is the de-facto limit (old browsers, sitemaps,
many servers and CDNs refuse longer); paper links are under 200, and a URL is copied into
every page, feed and email that shows its paper."""

# Characters no plausible URL holds raw (RFC 3986 wants them percent-encoded) and that
# would break out of an attribute or an autolink: the set ``filters.safe_url`` refuses.
_URL_FORBIDDEN = frozenset(" <>\"'`\\{}|^")


def url_fault(value: object) -> str | None:
    """Why ``value`` is not a plausible http(s) URL with a host, or None when it is."""
    if not isinstance(value, str):
        return "is not text"
    url = value.strip()
    if len(url) > URL_MAX:
        return f"is {len(url):,} characters long, over {URL_MAX:,}"
    if not url.isprintable() or not _URL_FORBIDDEN.isdisjoint(url):
        return "holds a control, space, quote or angle bracket"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a port that is not a number
    except ValueError:
        return "is not a URL"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "is not an http(s) URL with a host"
    return None


def http_url(value: object) -> str | None:
    """The value (stripped) when it is a plausible http(s) URL (:func:`url_fault`), else None."""
    if url_fault(value) is not None:
        return None
    assert isinstance(value, str)
    return value.strip()


def url_problem(value: object, name: str, line: int | None) -> Problem | None:
    """The problem of a ``url`` field given but refused (None when fine or absent)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    fault = url_fault(value)
    if fault is None:
        return None
    shown = (
        repr(value[:80]) + ("..." if len(value) > 80 else "")
        if isinstance(value, str)
        else type(value).__name__
    )
    return Problem(name, line, f"url {shown} {fault} (ignored)")


def _person(item: Mapping[str, object]) -> str:
    """``{"name": ...}`` or a Zotero creator ``{"firstName": ..., "lastName": ...}``."""
    name = item.get("name")
    if isinstance(name, str):
        return name
    parts = (item.get("firstName"), item.get("lastName"))
    return " ".join(p for p in parts if isinstance(p, str))


def _first_last(name: str) -> str:
    """``Last, First`` (the reference managers' order) -> ``First Last``; other names as given."""
    last, comma, first = name.partition(",")
    if not comma or "," in first or not first.strip() or not last.strip():
        return name
    return f"{first.strip()} {last.strip()}"


def split_authors(value: object) -> tuple[str, ...]:
    """Authors as listings give them (a list of names, ``{"name": ...}`` or Zotero
    creators, or one string separated by ``;`` -- Zotero's ``Last, First; Last, First``,
    each turned to ``First Last`` --, else by ``,`` and a final ``and``) -> a tuple of
    clean names."""
    names: list[str] = []
    if isinstance(value, str):
        if ";" in value:
            names = [_first_last(n) for n in value.split(";")]
        else:
            names = re.split(r",\s*(?:and\s+)?|\s+and\s+", value)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                item = _person(item)
            if isinstance(item, str):
                names.append(item)
    cleaned = (clean_text(n) for n in names)
    return tuple(n for n in cleaned if n)


def arxiv_links(source: str | None) -> tuple[tuple[str, str], ...]:
    """The abstract and PDF links of an ``arxiv:<id>`` source id (none for other ids)."""
    if not source or not source.startswith("arxiv:"):
        return ()
    ident = source.removeprefix("arxiv:")
    return (("abs", f"https://arxiv.org/abs/{ident}"), ("pdf", f"https://arxiv.org/pdf/{ident}"))


def doi_link(source: str | None) -> tuple[tuple[str, str], ...]:
    """The resolver link of a ``doi:<doi>`` source id (none for other ids); the DOI is
    percent-encoded where a URL may not hold it raw."""
    if not source or not source.startswith("doi:"):
        return ()
    url = "https://doi.org/" + quote(source.removeprefix("doi:"), safe="/:;()._-")
    return (("doi", url),) if http_url(url) else ()


def merge_links(*groups: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Links of several groups, each kind once (the first group that has it wins)."""
    seen: dict[str, str] = {}
    for group in groups:
        for kind, url in group:
            seen.setdefault(kind, url)
    return tuple(seen.items())


def count(value: object) -> int | None:
    """A count as JSON gives it (a whole number, not a boolean, not negative), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def signals(upvotes: object, comments: object, summary: object, keywords: object) -> Signals | None:
    """Reception signals from raw values (each checked; wrong types are left out), or None."""
    words = (
        tuple(w for w in (clean_text(k) for k in keywords if isinstance(k, str)) if w)
        if isinstance(keywords, list)
        else ()
    )
    found = Signals(
        upvotes=count(upvotes),
        comments=count(comments),
        summary=clean_text(summary) if isinstance(summary, str) else "",
        keywords=words,
    )
    return found if found.as_dict() else None


ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "abstract": ("abstract", "abstract note", "abstractnote", "summary", "description"),
    "authors": ("authors", "author", "creators"),
    "date": ("date", "published", "publication date", "year", "publication year"),
    "url": ("url", "link"),
    "doi": ("doi",),
    "id": ("id", "arxiv_id", "arxiv id", "arxiv", "eprint"),
}
"""The columns (CSV) or keys (JSON Lines) each record field is read from, any case, the
first given (not empty) winning: Zotero's ``Abstract Note``, ``Author``, ``Publication
Year``, ``DOI``, ``Url`` and the usual spellings (documented in docs/sources.md)."""

_ALIAS_OF = {alias: canonical for canonical, names in ALIASES.items() for alias in names}


def canonical_record(raw: Mapping[str, object] | Mapping[object, object]) -> dict[str, object]:
    """A record with the keys of :data:`ALIASES` whatever spelling it uses (other keys
    dropped); for each field the first alias given with a value wins -- for the date,
    the first that reads as one (a Zotero ``Date`` of ``Spring 2014`` gives way to its
    ``Publication Year``)."""
    given: dict[str, list[tuple[int, object]]] = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            continue
        name = key.strip().lstrip("\ufeff").lower()
        canonical = _ALIAS_OF.get(name)
        if canonical is None or value in (None, ""):
            continue
        given.setdefault(canonical, []).append((ALIASES[canonical].index(name), value))
    out: dict[str, object] = {}
    for canonical, values in given.items():
        ranked = [value for _, value in sorted(values, key=lambda v: v[0])]
        if canonical == "date":
            ranked.sort(key=lambda v: parse_timestamp(v, dt.UTC) is None)  # stable
        out[canonical] = ranked[0]
    return out


DATINGS = ("published", "listing", "import")
"""How a source's sightings are dated (feed.yaml ``sources[].date``): each entry's own
date, the listing's one date, or the day of import (the run's ``--today``)."""


def dating(ctx: ReadContext, listing: Listing) -> str:
    """The dating in force: the source's ``date`` option, else the reader's default."""
    return listing.dating if ctx.dating == "auto" else ctx.dating


def import_day(ctx: ReadContext, listing: Listing) -> dt.date | None:
    """The run's day when ``listing`` is dated by import (a record without a date is
    then kept), else None. Call once the reader has set ``listing.dating``."""
    return ctx.today if dating(ctx, listing) == "import" else None


def zone(ctx: ReadContext, listing: Listing) -> dt.tzinfo:
    """The zone of ``ctx.timezone``; an unknown name is a problem of ``listing`` and gives UTC."""
    try:
        return zoneinfo.ZoneInfo(ctx.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        msg = f"unknown time zone {ctx.timezone!r}; dates taken in UTC"
        listing.problems.append(Problem(listing.name, None, msg))
        return dt.UTC


def to_date(stamp: dt.datetime, tz: dt.tzinfo) -> dt.date | None:
    """The calendar day of ``stamp`` in ``tz``; a naive stamp is taken as already local."""
    if stamp.tzinfo is None:
        return stamp.date()
    try:
        return stamp.astimezone(tz).date()
    except (OverflowError, ValueError):  # a year 1 or 9999 stamp pushed out of range
        return None


_PARTIAL = re.compile(r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?")


def parse_timestamp(value: object, tz: dt.tzinfo) -> dt.date | None:
    """``2024-03-11`` or an ISO 8601 timestamp (``...T23:30:00Z``) -> its day in ``tz``.

    A partial date (``2014-11``, ``2009``, or Zotero's ``2014-11-00``) is the first day
    of its period; a whole number (a JSON ``year``) is a year."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:04d}" if 0 < value < 10_000 else ""
    if not isinstance(value, str):
        return None
    text = value.strip()
    partial = _PARTIAL.fullmatch(text)
    if partial is not None:
        try:
            return dt.date(
                int(partial["y"]), int(partial["m"] or 1) or 1, int(partial["d"] or 1) or 1
            )
        except ValueError:
            return None
    try:
        return to_date(dt.datetime.fromisoformat(text), tz)
    except ValueError:
        return None


def _text(value: object) -> str:
    return clean_text(value) if isinstance(value, str) else ""


def record_entry(
    record: Mapping[str, object],
    name: str,
    line: int,
    position: int,
    tz: dt.tzinfo,
    undated: dt.date | None = None,
) -> tuple[Entry | None, list[Problem]]:
    """One title/abstract/date/id/doi/url/authors record -> an entry (or None) and its
    problems. ``undated`` is the date of a record without one (the day of import, for
    sources dated by import); without it such a record is skipped."""
    problems: list[Problem] = []
    title = _text(record.get("title"))
    if not title:
        return None, [Problem(name, line, "record without a title (skipped)")]
    raw_date = record.get("date")
    date = parse_timestamp(raw_date, tz)
    if date is None and undated is not None and raw_date in (None, ""):
        date = undated
    if date is None:
        what = "without a date" if raw_date in (None, "") else f"with a bad date {raw_date!r}"
        return None, [Problem(name, line, f"record {what}: {title[:60]!r} (skipped)")]
    if not bounds.in_range(date):  # told here, once, rather than after other checks
        return None, [Problem(name, line, bounds.date_problem(date, title))]
    abstract = _text(record.get("abstract"))
    if not abstract:
        problems.append(Problem(name, line, f"record without an abstract: {title[:60]!r} (kept)"))
    raw_url = record.get("url")
    url = http_url(raw_url)
    if url is None and (bad_url := url_problem(raw_url, name, line)) is not None:
        problems.append(bad_url)
    raw_id = record.get("id")
    sid, version = source_id(raw_id) if isinstance(raw_id, str) else (None, None)
    if isinstance(raw_id, str) and raw_id.strip() and sid is None:
        why = "unrecognised" if raw_id.strip().isprintable() else "non-printable characters in"
        problems.append(Problem(name, line, f"{why} id {raw_id[:80]!r} (ignored)"))
    if sid is None and url is not None and re.search(r"//(?:\w+\.)?(arxiv|doi)\.org/", url):
        sid, version = source_id(url)
    raw_doi = record.get("doi")
    doi = source_id(raw_doi)[0] if isinstance(raw_doi, str) else None
    if isinstance(raw_doi, str) and raw_doi.strip() and doi is None:
        problems.append(Problem(name, line, f"unrecognised doi {raw_doi[:80]!r} (ignored)"))
    ids: tuple[str, ...] = ()
    if sid is None:
        sid, doi = doi, None
    elif doi is not None and doi != sid:
        ids = (doi,)
    links = merge_links(arxiv_links(sid), doi_link(sid), doi_link(doi))
    entry = Entry(
        title=title,
        abstract=abstract,
        listing=name,
        date=date,
        position=position,
        line=line,
        source_id=sid,
        version=version,
        url=url,
        authors=split_authors(record.get("authors")),
        links=links,
        ids=ids,
    )
    return entry, problems
