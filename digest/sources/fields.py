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
from urllib.parse import urlsplit

from digest.errors import Problem
from digest.models import Entry, Listing
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


def split_authors(value: object) -> tuple[str, ...]:
    """Authors as listings give them (a list of names or ``{"name": ...}``, or one string
    separated by ``;``, else by ``,``) -> a tuple of clean names."""
    names: list[str] = []
    if isinstance(value, str):
        sep = ";" if ";" in value else ","
        names = value.split(sep)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                item = item.get("name")
            if isinstance(item, str):
                names.append(item)
    cleaned = (clean_text(n) for n in names)
    return tuple(n for n in cleaned if n)


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


def parse_timestamp(value: object, tz: dt.tzinfo) -> dt.date | None:
    """``2024-03-11`` or an ISO 8601 timestamp (``...T23:30:00Z``) -> its day in ``tz``."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return dt.date.fromisoformat(text)
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
) -> tuple[Entry | None, list[Problem]]:
    """One title/abstract/date/id/url/authors record -> an entry (or None) and its problems."""
    problems: list[Problem] = []
    title = _text(record.get("title"))
    if not title:
        return None, [Problem(name, line, "record without a title (skipped)")]
    raw_date = record.get("date")
    date = parse_timestamp(raw_date, tz)
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
    )
    return entry, problems
