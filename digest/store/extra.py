"""What a sighting carries besides its text: links, reception signals, further ids.

Input: an :class:`~digest.models.Entry` (to store) or the ``version`` and ``extra``
columns of a paper's sightings, oldest first (to read). Output: the JSON text of the
``sighting.extra`` column (``''`` when there is nothing), and a paper's links (the
latest sighting giving a kind wins), signals (the latest sighting having any wins)
and versions seen. Kept per sighting, never per paper, so that nothing is lost when
sightings are resolved again and the latest value always wins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from digest.models import Entry, Signals


def encode(entry: Entry) -> str:
    """The ``extra`` column of a sighting of ``entry``."""
    data: dict[str, Any] = {}
    if entry.links:
        data["links"] = dict(entry.links)
    if entry.signals is not None and (signals := entry.signals.as_dict()):
        data["signals"] = signals
    if entry.ids:
        data["ids"] = list(entry.ids)
    return json.dumps(data, ensure_ascii=False, sort_keys=True) if data else ""


def decode(text: str) -> dict[str, Any]:
    """The ``extra`` column as a mapping (empty for ``''`` or anything unreadable)."""
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def entry_fields(text: str) -> dict[str, Any]:
    """The :class:`Entry` keyword arguments the ``extra`` column holds (links, signals,
    ids), for an entry rebuilt from its sighting."""
    data = decode(text)
    links = data.get("links")
    ids = data.get("ids")
    signals = data.get("signals")
    return {
        "links": tuple(
            (k, v) for k, v in links.items() if isinstance(k, str) and isinstance(v, str)
        )
        if isinstance(links, dict)
        else (),
        "signals": Signals.from_dict(signals) if isinstance(signals, dict) else None,
        "ids": tuple(i for i in ids if isinstance(i, str)) if isinstance(ids, list) else (),
    }


@dataclass(slots=True)
class PaperExtras:
    """A paper's links, signals and versions, gathered from its sightings oldest first."""

    links: dict[str, str] = field(default_factory=dict)
    signals: Signals | None = None
    versions: set[int] = field(default_factory=set)

    def add(self, version: int | None, text: str) -> None:
        """Take in one sighting (later calls are later sightings: their values win)."""
        if version is not None:
            self.versions.add(version)
        if not text:
            return
        found = entry_fields(text)
        self.links.update(found["links"])
        if found["signals"] is not None:
            self.signals = found["signals"]

    def paper_fields(self) -> dict[str, Any]:
        """The :class:`~digest.models.Paper` keyword arguments (links, signals, versions)."""
        return {
            "links": dict(sorted(self.links.items())),
            "signals": self.signals,
            "versions": tuple(sorted(self.versions)),
        }
