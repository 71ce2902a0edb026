"""Reader for JSON Lines listings.

Input: one JSON object per line with ``title``, ``abstract`` and ``date`` and
optionally ``id`` (an arXiv id or a DOI), ``doi``, ``url`` and ``authors`` (a list,
or one string separated by ``;``, else by ``,``), each under any spelling of
:data:`~digest.sources.fields.ALIASES` (``summary``, ``published``, ``year``,
``link``, ``eprint``...). Output: a :class:`Listing` whose date is the latest
entry date.

A broken line, a line that is not an object or a record without title or
date is a problem at its line; the other lines still count. A record without
abstract is kept with an empty one (a sighting is never silently lost). The
record fields are parsed by :mod:`digest.sources.fields`, shared with the
other structured readers.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from digest.errors import Problem
from digest.models import Listing
from digest.sources.fields import canonical_record, import_day, record_entry, zone

if TYPE_CHECKING:
    from digest.sources import ReadContext

FORMAT = "jsonl"


def detect(text: str) -> bool:
    """True when the first non-blank line is a JSON object with a ``title`` key."""
    for line in re.split(r"\r\n|\r|\n", text[:8192]):  # not splitlines: see read
        line = line.strip()
        if line:
            return line.startswith("{") and '"title"' in line[:8192].lower()
    return False


def read(text: str, name: str, ctx: ReadContext) -> Listing:
    """Parse JSON Lines; each bad line is a problem at its line, the rest still counts."""
    listing = Listing(name=name, format=FORMAT, date=None)
    tz = zone(ctx, listing)
    undated = import_day(ctx, listing)
    # splitlines would also split on U+2028 and friends, which JSON strings may hold raw.
    for number, raw in enumerate(re.split(r"\r\n|\r|\n", text), 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (ValueError, RecursionError) as err:
            reason = err.msg if isinstance(err, json.JSONDecodeError) else "nested too deeply"
            listing.problems.append(Problem(name, number, f"not valid JSON: {reason} (skipped)"))
            continue
        if not isinstance(record, dict):
            kind = type(record).__name__
            listing.problems.append(
                Problem(name, number, f"expected a JSON object, got {kind} (skipped)")
            )
            continue
        entry, problems = record_entry(
            canonical_record(record), name, number, len(listing.entries), tz, undated
        )
        listing.problems.extend(problems)
        if entry is not None:
            listing.entries.append(entry)
    listing.date = max((e.date for e in listing.entries), default=None)
    return listing
