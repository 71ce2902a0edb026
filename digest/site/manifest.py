"""Fingerprints and the manifest: what was rendered into an output folder.

Input: the config (templates, presentation settings), a week's digest, a folder.
Output: fingerprints (of the rendering, of a week's content, of any parts) and the
manifest read from ``out``, by which a build judges what ``out`` already holds.

The manifest stays in the output folder, not in the store, on purpose: it describes
what THAT folder holds (a folder copied, emptied or edited by hand is judged by what
is in it), while the store keeps what holds for every folder built from it (feed
items' dates and drafts, ``feed_item``; week states).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from digest import __version__, render, search
from digest.config import FeedConfig
from digest.models import Sighting, WeekDigest

MANIFEST = ".digest-manifest.json"
"""What was rendered into an output folder: the render fingerprint, each week's hash and
each feed document's entries (:meth:`~digest.site.feedset.FeedDocument.manifest`)."""

OUTPUT_FORMAT = 3
"""Version of how pages are made from the store beyond what the templates say (2: text
passes through :func:`~digest.outtext.clean_paper`; 3: relevance order, top picks,
cards): a new one renders every page again."""


def fingerprint(parts: Iterable[str]) -> str:
    """SHA-256 (32 hex digits) of the parts, each one followed by U+001F (joined and
    hashed in one piece)."""
    return hashlib.sha256("\x1f".join([*parts, ""]).encode("utf-8")).hexdigest()[:32]


def sha256(data: bytes) -> str:
    """The SHA-256 of ``data`` (64 hex digits), as the manifest records a document's."""
    return hashlib.sha256(data).hexdigest()


def render_fingerprint(cfg: FeedConfig) -> str:
    """Changes whenever anything that shapes the rendered files does: the templates
    (defaults and overrides), the presentation settings and the theme list."""
    parts = [
        __version__,
        str(OUTPUT_FORMAT),
        cfg.title,
        cfg.description,
        cfg.base_url,
        cfg.language,
        cfg.author,
        cfg.timezone,
        repr(cfg.output.formats),
        str(cfg.output.feed_items),
        str(cfg.output.theme_feed_items),
        str(cfg.output.empty_weeks),
        repr(cfg.reading),
        str(search.enabled(cfg)),
        repr(cfg.rules.section_names),
    ]
    for folder in (render.default_template_dir(), cfg.templates):
        if folder is None:
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                parts.append(str(path.relative_to(folder)))
                parts.append(path.read_text(encoding="utf-8", errors="replace"))
    return fingerprint(parts)


def manifest_bytes(out: Path) -> bytes:
    """The manifest file of ``out`` as it is (b'' when missing or unreadable)."""
    try:
        return (out / MANIFEST).read_bytes()
    except OSError:
        return b""


def parse_manifest(data: bytes) -> dict[str, Any]:
    """A manifest's content ({} when empty or not a JSON object: then nothing is
    trusted)."""
    try:
        parsed = json.loads(data.decode("utf-8")) if data else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


BUILT_META = "built_manifests"
"""Store meta key: JSON list, the SHA-256 of each manifest this store's builds wrote last
(the newest :data:`MANIFESTS_KEPT`, one per output folder built recently; see
:func:`known`). Hashes, not folder names: the store stays the same wherever the feed
folder moves."""

MANIFESTS_KEPT = 16
"""Manifests :data:`BUILT_META` remembers."""


def manifest_hash(data: bytes) -> str:
    """The hash :data:`BUILT_META` keeps of manifest ``data`` ('' for none)."""
    return sha256(data) if data else ""


def known(recorded: str, digest: str) -> bool:
    """True when the store whose :data:`BUILT_META` value is ``recorded`` wrote the
    manifest of hash ``digest`` (:func:`manifest_hash`). The manifest's theme and tag
    record names versions and change numbers of that store: another store (the feed's
    store replaced, or restored from an older backup) may reach the same numbers with
    other papers."""
    return bool(digest) and digest in _hashes(recorded)


def remember(recorded: str, digest: str) -> str:
    """The :data:`BUILT_META` value once this store has written (or kept) the manifest
    of hash ``digest``: it last, the oldest beyond :data:`MANIFESTS_KEPT` dropped."""
    hashes = [h for h in _hashes(recorded) if h != digest] + [digest]
    return json.dumps(hashes[-MANIFESTS_KEPT:])


def _hashes(recorded: str) -> list[str]:
    try:
        value = json.loads(recorded) if recorded else []
    except ValueError:
        return []
    return [str(h) for h in value] if isinstance(value, list) else []


def manifest_feeds(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest's record of each feed document (path -> record)."""
    feeds_ = manifest.get("feeds")
    return dict(feeds_) if isinstance(feeds_, dict) else {}


def digest_hash(digest: WeekDigest) -> str:
    """Fingerprint of everything a week's pages show: the top picks, the sections (papers
    in relevance order), and per paper its text, tags, links, authors, first date and
    sightings.

    What :func:`fingerprint` gives of all these parts, hashed a paper at a time (the
    same bytes, without joining and encoding the whole week in one piece)."""
    sha = hashlib.sha256()
    if digest.picks:
        sha.update(("picks\x1f" + "".join(f"{p.id}\x1f" for p in digest.picks)).encode())
    if digest.editor_note is not None:  # absent: the hash of a week without one is as before
        sha.update(f"note\x1f{digest.editor_note.html}\x1f".encode())
    for section in digest.sections:
        sha.update(f"{section.name}\x1f".encode())
        for p in section.papers:
            parts = (
                p.id,
                p.title,
                p.abstract,
                repr(p.tags),
                p.url or "",
                p.source_id or "",
                repr(p.authors),
                p.first_seen.isoformat(),
                _sightings_repr(p.sightings),
                "",  # each part is followed by U+001F
            )
            sha.update("\x1f".join(parts).encode("utf-8"))
            if p.comment or p.pinned:  # the curator's (absent: as before)
                sha.update(f"curated\x1f{p.comment}\x1f{p.pinned}\x1f".encode())
    return sha.hexdigest()[:32]


def _sightings_repr(sightings: Sequence[Sighting]) -> str:
    """``repr([(s.listing, s.date.isoformat(), s.position) for s in sightings])``, with
    the part of each listing name and date made once (they repeat across papers)."""
    if len(sightings) == 1:  # the usual case
        only = sightings[0]
        return f"[{_listing_repr(only.listing, only.date)}{only.position!r})]"
    shown = ", ".join(f"{_listing_repr(s.listing, s.date)}{s.position!r})" for s in sightings)
    return f"[{shown}]"


@lru_cache(maxsize=4096)
def _listing_repr(listing: str, date: dt.date) -> str:
    """``(LISTING, DATE, `` as ``repr`` of a ``(listing, ISO date, position)`` tuple begins."""
    return f"({listing!r}, {date.isoformat()!r}, "
