"""The whole pipeline on generated hostile listings (issue 15): no traceback, valid outputs,
nothing valid lost.

Hypothesis writes a real feed folder: listings in three formats (JSON Lines, CSV, the
Hugging Face text dump) whose text is *any* Unicode (noncharacters, C0/C1 controls,
U+2028/U+2029, VT/FF/NEL, lone surrogates -- escaped as ``\\ud800`` in JSON, raw and so
undecodable in the other formats --, astral characters, RTL marks, NUL), extreme sizes
and dates, and odd file names (spaces, Unicode, a leading dash, bytes that are not UTF-8).
The real CLI then runs on it, against a real SQLite store: ``ingest``, ``run`` twice, a
listing changes, ``run`` again, ``export`` and ``send --dry-run``.

What must hold, whatever the input (README "Exit codes", issue 15 "What must be true"):

- every command ends with exit 0 or 3 and never with an exception;
- every XML output parses and holds no character XML forbids; RSS descriptions are
  HTML-escaped text (no raw markup); HTML pages parse; the email parses;
- every *valid* record survives into the export: a valid record has a title we can find
  again (an ASCII marker ``Paper N word`` inside arbitrary text), a date any output can
  express (``VALID_DATES``) and sits in a file the readers must read (not binary);
  its sighting (listing, date) is exported and its marker is in a paper's title;
- a listing whose content changed keeps what it held: old and new records are exported.

Records without a marker are noise (any title, any date string): they may be kept or
skipped with a warning, but must not break anything. Sightings are compared as
multisets of (listing, date) per file, so merges of look-alike papers, positions and
records the readers accept beyond our notion of valid do not matter.

``DIGEST_HYPOTHESIS_EXAMPLES`` sets the number of generated cases (default 12: under a
minute on a loaded machine, so CI runs it always).
"""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import io
import json
import os
import random
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from digest.cli import cli
from digest.sources import textdump

TODAY = dt.date(2026, 11, 25)
EXAMPLES = int(os.environ.get("DIGEST_HYPOTHESIS_EXAMPLES", "12"))
VALID_DATES = (dt.date(1970, 1, 1), dt.date(2099, 12, 31))
"""Dates every output can express (RFC 822 feeds, ISO weeks, e-mail): a record dated
inside must survive. Outside (year 1, year 9999) a record may be rejected with a message."""

FEED_YAML = """\
title: Hostile digest
base_url: https://example.org/d/
timezone: UTC
sources:
  - path: listings/jsonl/*
    format: jsonl
  - path: listings/csv/*
    format: csv
  - path: listings/text/*
    format: textdump
store: digest.sqlite
output:
  dir: site
catch_all: Other papers
tags:
  paper:
    any: ["paper"]
    none: ["forged"]
themes:
  - name: Papers
    tags: [paper]
email:
  from: "Digest <digest@example.org>"
  to: ["reader@example.org"]
  list_id: "hostile.digest.example.org"
  unsubscribe: "https://example.org/unsubscribe"
  smtp:
    host: localhost
    security: none
"""

# XML 1.0 Char production, as a pattern of what is *not* allowed.
XML_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
CHAR_REF = re.compile(r"&#(x[0-9a-fA-F]+|[0-9]+);")

# --- what the listings are made of ----------------------------------------------------------

HOSTILE = st.sampled_from(
    [
        "\ufffe",
        "\uffff",
        "\x00",
        "\x01",
        "\x0b",
        "\x0c",
        "\x1c",
        "\x85",
        "\x9f",
        "\u2028",
        "\u2029",
        "\u200f",
        "\u202e",
        "\ufeff",
        "\ud800",
        "\udfff",
        "\U0001f600",
        "\U0010ffff",
        "]]>",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "&amp;",
        "&#1;",
        "$x$",
        "\\",
        "\r\n",
        "\u2028\u2028Mar 11\u2028\u2028",
    ]
)
TEXT = st.lists(st.text(max_size=12) | HOSTILE, max_size=6).map("".join)
"""Any Unicode (no category left out), with the hostile characters made likely."""
LONG = st.integers(1, 30_000)
"""The length of a long abstract: record-specific words (:func:`marker_sentence`)."""
EDGE_DATES = st.sampled_from(
    [
        dt.date(1, 1, 1),
        dt.date(9999, 12, 31),
        dt.date(1970, 1, 1),
        dt.date(2099, 12, 31),
        dt.date(2024, 2, 29),
        dt.date(2000, 2, 29),
        dt.date(2020, 12, 31),  # 2020-W53
        dt.date(2021, 1, 3),  # 2020-W53 too
        dt.date(2021, 1, 4),  # 2021-W01
        dt.date(2026, 12, 31),  # 2026-W53
        dt.date(2027, 1, 1),
        TODAY,
        TODAY + dt.timedelta(days=1),
    ]
)
DATES = EDGE_DATES | st.dates()
WORDS = ("amber", "basil", "cedar", "delta", "ember", "fjord", "grove", "heron", "ivory", "jasper")


def marker(k: int) -> str:
    """An ASCII phrase that finds record ``k`` again in any output."""
    return f"Paper {k} {WORDS[k % len(WORDS)]}{WORDS[k // len(WORDS) % len(WORDS)]}"


VOCABULARY = tuple(
    f"{a}{b}" for a in ("ka", "lo", "mi", "nu", "po", "ra", "se", "ti") for b in WORDS
)


def marker_sentence(k: int, length: int = 0) -> str:
    """Words that keep record ``k``'s abstract apart from every other (no near-duplicates),
    about ``length`` characters of them (at least one sentence)."""
    rng = random.Random(k)
    words = [f"Study {k} of"]
    size = 0
    while size < max(length, 80):
        words.append(rng.choice(VOCABULARY))
        size += len(words[-1]) + 1
    return f"{' '.join(words)} number {k * 7919}."


@dataclass
class Rec:
    """One listing record."""

    title: str
    abstract: str
    date: dt.date | str
    """A date (written ISO), or a raw hostile date string."""
    k: int | None = None
    """The marker number when the title carries ``marker(k)``."""
    id: str | None = None
    url: str | None = None
    authors: str | None = None


@dataclass
class Spec:
    """One listing file."""

    fmt: str
    """``jsonl``, ``csv`` or ``text``."""
    name: bytes
    """File name (any bytes the file system takes); the ``_L{n}_`` tag is added to it."""
    records: list[Rec]
    date: dt.date = TODAY
    """The text dump's date line."""
    ascii_json: bool = True
    """JSON written with ``\\uXXXX`` escapes (lone surrogates too) or raw (surrogatepass)."""


@dataclass
class Scenario:
    specs: list[Spec]
    changed: list[Rec] = field(default_factory=list)
    """Records that replace the second half of the first listing before the third run."""


@st.composite
def recs(draw: st.DrawFn, fmt: str, first: int) -> list[Rec]:
    out: list[Rec] = []
    for k in range(first, first + draw(st.integers(0, 4))):
        if draw(st.booleans()):
            # A marked record: arbitrary text around a phrase we can find again.
            title = f"{draw(TEXT)} {marker(k)} {draw(TEXT)}"
            number = k
        else:
            title, number = draw(TEXT), None
        # Record-specific words keep every two records' abstracts apart, long ones too
        # (abstracts that are alike make one paper, as they should: not what this tests).
        if draw(st.integers(0, 9)):
            abstract = f"{marker_sentence(k)} {draw(TEXT)}"
        else:
            abstract = marker_sentence(k, draw(LONG))
        date: dt.date | str = draw(DATES | TEXT) if number is None else draw(DATES)
        out.append(
            Rec(
                title=title,
                abstract=abstract,
                date=date,
                k=number,
                # An arXiv id of its own (a shared one would rightly make one paper of two).
                id=draw(st.none() | TEXT | st.just(f"2401.{k:05d}") | st.just("\ud800")),
                url=draw(st.none() | TEXT.map(lambda t: "https://example.org/" + t)),
                authors=draw(st.none() | TEXT),
            )
        )
    if fmt == "text":
        # The text dump has no record structure beyond paragraphs: the format's one line
        # separator is "\n" (CR and CRLF normalised); any other character is text.
        for rec in out:
            rec.title = rec.title.replace("\r", " ").replace("\n", " ")
            rec.abstract = rec.abstract.replace("\r", " ").replace("\n", " ")
            rec.abstract += " It has sentences. Several of them. Quite a few."
            if textdump.DATE_LINE.match(rec.title.strip()):  # a date line starts a section
                rec.title = "x " + rec.title
    return out


NAMES = st.sampled_from(
    [
        b"listing",
        b"with space",
        b"-leading-dash",
        b"--help",
        "caf\u00e9 \u202e\u05d0".encode(),
        "\U0001f600".encode(),
        b"latin1-\xe9\xff",
        b"a\x01control",
        b".hidden.tmp",
    ]
) | st.binary(min_size=1, max_size=12).map(lambda b: b.replace(b"/", b"_").replace(b"\0", b"_"))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    specs = []
    first = 0
    for fmt in draw(st.lists(st.sampled_from(["jsonl", "csv", "text"]), min_size=1, max_size=3)):
        records = draw(recs(fmt, first))
        first += len(records)
        date = draw(st.dates(dt.date(1000, 1, 1)) | EDGE_DATES.filter(lambda d: d.year >= 1000))
        specs.append(Spec(fmt, draw(NAMES), records, date, draw(st.booleans())))
    changed = draw(recs(specs[0].fmt, first))
    return Scenario(specs, changed)


# --- writing the feed --------------------------------------------------------------------

FOLDER = {"jsonl": "jsonl", "csv": "csv", "text": "text"}


def date_text(date: dt.date | str) -> str:
    return date.isoformat() if isinstance(date, dt.date) else date


def render(spec: Spec, records: list[Rec]) -> bytes:
    """The listing's bytes (lone surrogates kept as the format allows)."""
    if spec.fmt == "jsonl":
        lines = []
        for r in records:
            obj = {"title": r.title, "abstract": r.abstract, "date": date_text(r.date)}
            for key in ("id", "url", "authors"):
                if getattr(r, key) is not None:
                    obj[key] = getattr(r, key)
            lines.append(json.dumps(obj, ensure_ascii=spec.ascii_json))
        return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    if spec.fmt == "csv":
        buf = io.StringIO(newline="")
        writer = csv.writer(buf)
        writer.writerow(["title", "abstract", "date", "id", "url", "authors"])
        for r in records:
            writer.writerow(
                [r.title, r.abstract, date_text(r.date), r.id or "", r.url or "", r.authors or ""]
            )
        return buf.getvalue().encode("utf-8", "surrogatepass")
    when = spec.date
    parts = ["Daily Papers", f"{when:%b} {when.day}, {when.year:04d}"]
    for r in records:
        parts += [r.title, r.abstract]
    return "\n\n".join(parts).encode("utf-8", "surrogatepass")


def file_name(spec: Spec, n: int) -> bytes:
    return spec.name + f"_L{n}_".encode()


def write_listing(root: Path, spec: Spec, n: int, records: list[Rec]) -> Path:
    folder = root / "listings" / FOLDER[spec.fmt]
    folder.mkdir(parents=True, exist_ok=True)
    name = file_name(spec, n)
    try:
        path = Path(os.fsdecode(os.fsencode(folder) + b"/" + name))
        path.write_bytes(render(spec, records))
    except (OSError, UnicodeError):  # a file system that refuses such a name
        path = folder / f"plain_L{n}_"
        path.write_bytes(render(spec, records))
    return path


# --- what must survive ---------------------------------------------------------------------


def expected(spec: Spec, records: list[Rec], data: bytes) -> list[Rec]:
    """The records of ``spec`` that every correct reader keeps (see the module docstring)."""
    if b"\x00" in data[:8192]:
        return []  # documented: looks like a binary file, skipped with a message
    out = []
    for r in records:
        if r.k is None:
            continue
        date = spec.date if spec.fmt == "text" else r.date
        if not isinstance(date, dt.date) or not VALID_DATES[0] <= date <= VALID_DATES[1]:
            continue
        if spec.fmt == "text" and not text_title_ok(r.title):
            continue
        out.append(replace(r, date=date))
    return out


def text_title_ok(title: str) -> bool:
    """A text-dump title the documented format can carry: one paragraph, title-like."""
    joined = " ".join(title.split("\n"))
    text = joined.encode("utf-8", "replace").decode("utf-8", "replace").strip()
    return (
        bool(text)
        and textdump.DATE_LINE.match(text) is None
        and len(text) <= 250
        and (len(re.findall(r"[.!?] +[A-Z]", text)) < 2)
    )


def tag_of(listing: str) -> str | None:
    m = re.search(r"_L(\d+)_", listing)
    return m[1] if m else None


def check_export(out: str, want: dict[str, list[Rec]], step: str) -> None:
    # JSON Lines: only "\n" ends a record (a title may hold U+2028 or NEL raw).
    papers = [json.loads(line) for line in out.split("\n") if line.strip()]
    seen: dict[str, Counter[str]] = {}
    for p in papers:
        for s in p["sightings"]:
            tag = tag_of(s["listing"])
            if tag is not None:
                seen.setdefault(tag, Counter())[s["date"]] += 1
    titles = "\n".join(re.sub(r"\s+", " ", p["title"]) for p in papers)
    for tag, records in want.items():
        dates = Counter(r.date.isoformat() for r in records if isinstance(r.date, dt.date))
        missing = dates - seen.get(tag, Counter())
        assert not missing, f"{step}: listing _L{tag}_ lost sightings dated {dict(missing)}"
        for r in records:
            assert marker(r.k or 0) in titles, f"{step}: no exported paper titled {r.title!r}"


# --- checking the outputs ------------------------------------------------------------------


def check_xml(path: Path) -> None:
    data = path.read_bytes()
    text = data.decode("utf-8")
    bad = XML_FORBIDDEN.search(text)
    assert bad is None, f"{path.name}: XML-forbidden character {bad[0]!r}"
    for ref in CHAR_REF.findall(text):
        code = int(ref[1:], 16) if ref[0] == "x" else int(ref)
        assert code <= 0x10FFFF and not XML_FORBIDDEN.match(chr(code)), f"{path.name}: &#{ref};"
    root = ET.fromstring(data)
    parsed = feedparser.parse(data)
    assert not parsed.bozo, f"{path.name}: {parsed.bozo_exception}"
    if root.tag == "rss":
        for desc in root.iter("description"):
            assert not re.search(r"<(script|img|iframe)", desc.text or "", re.I), (
                f"{path.name}: raw markup in an RSS description: {desc.text!r}"
            )


class _Checked(HTMLParser):
    def error(self, message: str) -> None:  # pragma: no cover - old Python only
        raise AssertionError(message)


def check_html(path: Path) -> str:
    text = path.read_text("utf-8")
    parser = _Checked(convert_charrefs=True)
    parser.feed(text)
    parser.close()
    assert "<script>alert" not in text, f"{path.name}: listing text became markup"
    return text


def check_site(site: Path, step: str) -> None:
    assert site.is_dir(), f"{step}: no site written"
    for path in sorted(site.rglob("*")):
        if path.suffix in (".xml", ".atom"):
            check_xml(path)
        elif path.suffix == ".html":
            check_html(path)


def invoke(runner: CliRunner, args: list[str], step: str) -> Result:
    result = runner.invoke(cli, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # Raised as it is, so that hypothesis tells distinct crashes apart by their origin.
        result.exception.add_note(f"digest {step}: an exception (a traceback for the user)")
        raise result.exception
    out = result.output
    assert "Traceback" not in out, f"{step}: traceback printed\n{out}"
    assert result.exit_code in (0, 3), f"{step}: exit {result.exit_code}\n{out}"
    return result


# --- the test --------------------------------------------------------------------------------

R = Rec
KNOWN = [
    # A title with U+FFFE: feed writing raised "All strings must be XML compatible".
    Scenario([Spec("jsonl", b"fffe", [R(f"A \ufffe title {marker(0)}", "Text.", TODAY, 0)])]),
    # Dates that the outputs cannot express, next to a valid record.
    Scenario(
        [
            Spec(
                "jsonl",
                b"extreme",
                [
                    R(f"Early {marker(0)}", "Old.", dt.date(1, 1, 1), 0),
                    R(f"Late {marker(1)}", "New.", dt.date(9999, 12, 31), 1),
                    R(f"Fine {marker(2)}", "Fine.", TODAY, 2),
                ],
            )
        ]
    ),
    # A lone surrogate in a JSONL url (escaped as \ud800): the whole listing was dropped.
    Scenario(
        [
            Spec(
                "jsonl",
                b"surrogate",
                [
                    R(f"Kept {marker(0)}", "One.", TODAY, 0, url="https://example.org/\ud800"),
                    R(f"Also kept {marker(1)}", "Two.", TODAY, 1, id="2401.00001\ud800"),
                    R(f"Third {marker(2)}", "Three.", TODAY, 2, url="\ud800"),
                ],
            )
        ]
    ),
    # U+2028 in an abstract forging a new date line and a paper.
    Scenario(
        [
            Spec(
                "text",
                b"forged",
                [
                    R(
                        f"Honest {marker(0)}",
                        "An abstract.\u2028\u2028Jan 1, 1999\u2028\u2028Forged paper\u2028\u2028"
                        "Forged abstract. It has sentences. Several of them.",
                        TODAY,
                        0,
                    ),
                    R(f"Next {marker(1)}", "Its own. It has sentences. Several of them.", TODAY, 1),
                ],
                date=dt.date(2026, 3, 11),
            )
        ]
    ),
    # A file name that is not UTF-8.
    Scenario([Spec("jsonl", b"latin1-\xe9\xff", [R(f"Named {marker(0)}", "Text.", TODAY, 0)])]),
    # A listing that changes: the old content's papers must stay.
    Scenario(
        [Spec("jsonl", b"changing", [R(f"Old {marker(0)}", "Old.", TODAY, 0)])],
        changed=[R(f"New {marker(1)}", "New.", TODAY, 1)],
    ),
]


@example(scenario=KNOWN[0])
@example(scenario=KNOWN[1])
@example(scenario=KNOWN[2])
@example(scenario=KNOWN[3])
@example(scenario=KNOWN[4])
@example(scenario=KNOWN[5])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario=scenarios())
def test_hostile_listings_through_the_whole_pipeline(
    scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("hostile")
    (root / "feed.yaml").write_text(FEED_YAML, encoding="utf-8")
    runner = CliRunner()
    feed = str(root)
    today = ["--today", TODAY.isoformat()]
    want: dict[str, list[Rec]] = {}
    paths = []
    for n, spec in enumerate(scenario.specs):
        path = write_listing(root, spec, n, spec.records)
        paths.append(path)
        want[str(n)] = expected(spec, spec.records, path.read_bytes())

    # ingest first (one file per call, with its format), then the cron command, twice.
    for spec, path in zip(scenario.specs, paths, strict=True):
        fmt = "textdump" if spec.fmt == "text" else spec.fmt
        invoke(
            runner, ["ingest", feed, str(path), "--format", fmt, *today, "--jobs", "1"], "ingest"
        )
    for step in ("run 1", "run 2"):
        invoke(runner, ["run", feed, *today, "--jobs", "1"], step)
        check_site(root / "site", step)
    check_export(
        invoke(runner, ["export", feed, "--format", "jsonl"], "export").stdout, want, "run 2"
    )

    # send the week of the first valid record (or today's), to one address, dry.
    valid = [r for records in want.values() for r in records]
    day = valid[0].date if valid and isinstance(valid[0].date, dt.date) else TODAY
    year, week, _ = day.isocalendar()
    args = ["send", feed, "--week", f"{year}-W{week:02d}", "--to", "a@example.org", "--dry-run"]
    sent = invoke(runner, [*args, *today], "send --dry-run")
    if sent.exit_code == 0 and sent.stdout_bytes.strip():
        msg = email.message_from_bytes(sent.stdout_bytes, policy=email.policy.default)
        assert not msg.defects, f"send: {msg.defects}"
        for part in msg.walk():
            if part.get_content_type() == "text/html":
                _Checked().feed(part.get_content())

    # the first listing changes (its second half replaced): what it held stays, what is
    # new is added.
    first = scenario.specs[0]
    records = first.records[: len(first.records) // 2] + scenario.changed
    paths[0].write_bytes(render(first, records))
    want["0"] = want["0"] + [
        r for r in expected(first, records, paths[0].read_bytes()) if r not in want["0"]
    ]
    if b"\x00" in paths[0].read_bytes()[:8192]:  # now binary: only the old content stays
        want["0"] = expected(first, first.records, render(first, first.records))
    invoke(runner, ["run", feed, *today, "--jobs", "1"], "run 3")
    check_site(root / "site", "run 3")
    out = invoke(runner, ["export", feed, "--format", "jsonl"], "export").stdout
    check_export(out, want, "run 3 (a listing changed)")


def test_known_cases_are_valid_scenarios() -> None:
    """The regression examples say what they mean: each has records that must survive."""
    for scenario in KNOWN:
        spec = scenario.specs[0]
        assert expected(spec, spec.records, render(spec, spec.records)), spec.name
    assert sys.maxunicode == 0x10FFFF
