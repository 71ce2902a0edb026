"""ISO weeks: dates -> week labels and back, and timestamps -> dates in a zone.

Input: dates, timestamps, IANA zone names. Output: week labels like
``2025-W11`` (ISO 8601: weeks start on Monday; week 1 holds the first
Thursday of the year) and their Monday..Sunday bounds.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def iso_week(date: dt.date) -> str:
    """The ISO week of a date: ``2025-03-11`` -> ``2025-W11``."""
    year, week, _ = date.isocalendar()
    return f"{year:04d}-W{week:02d}"


def week_bounds(week: str) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of an ISO week label; ValueError for a malformed label."""
    m = WEEK.match(week)
    if not m:
        raise ValueError(f"not an ISO week like 2025-W11: {week!r}")
    monday = dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
    return monday, monday + dt.timedelta(days=6)


def is_week(text: str) -> bool:
    """True for a valid ISO week label."""
    try:
        week_bounds(text)
    except ValueError:
        return False
    return True


def zone(name: str) -> ZoneInfo | None:
    """The IANA zone called ``name``, or None if there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def midnight(date: dt.date, tz: str) -> dt.datetime:
    """Start of ``date`` in zone ``tz``, as an aware datetime (used for feed timestamps)."""
    return dt.datetime.combine(date, dt.time(0), tzinfo=zone(tz) or dt.UTC)
