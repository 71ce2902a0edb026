"""What every output shows beside a paper's text: Paper -> its :class:`Card`.

Input: a :class:`~digest.models.Paper` (already :func:`~digest.outtext.clean_paper`-ed)
and the feed's :class:`~digest.config.feed.ReadingConfig`. Output: a :class:`Card`:
the links (the paper itself, PDF, code, Hugging Face page), the author line (the first
three and "et al.", all of them on demand), the provenance line ("seen in 3 listings
(11, 12 and 14 March)", the file names in the details) and the tags with readable
labels. Pages, feeds and the email take these from here, so they all agree.

Only http(s) links ever come out: a source URL passes :func:`~digest.outtext.clean_url`,
the fallback link is made from a validated template with the title URL-encoded into
it, and a code link is rebuilt from the owner and name of a GitHub URL found in the
abstract (never copied as it stands).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from digest.config.feed import DEFAULT_LINK_TEMPLATE, ReadingConfig
from digest.latex import readable
from digest.models import Paper, Sighting
from digest.normalize import slugify, stable_hash
from digest.outtext import clean_url

SHOWN_AUTHORS = 3
"""Authors named in the short author line (then "et al.")."""

_ARXIV_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z][a-z.-]{0,30}/\d{7})$", re.IGNORECASE)
# A repository link in an abstract: https only; owner and name as GitHub allows them.
_GITHUB = re.compile(
    r"https://(?:www\.)?github\.com/([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/([A-Za-z0-9._-]{1,100})"
)
_HF_PAPER = re.compile(r"^https://huggingface\.co/papers/[A-Za-z0-9./-]+$")


@dataclass(frozen=True, slots=True)
class Card:
    """A paper's links, author line, provenance and tags, as every output shows them."""

    href: str
    """Where the title links: the source URL, else the configured fallback (never empty)."""
    pdf: str
    """The PDF a source gave, else the arXiv PDF, or empty."""
    code: str
    """The code repository a source gave, else the first GitHub repository named in the
    abstract, or empty."""
    hf: str
    """The paper's Hugging Face page when a source gave it (never guessed), or empty."""
    authors: str
    """The first :data:`SHOWN_AUTHORS` authors, then "et al." (empty when unknown)."""
    all_authors: str
    """Every author, comma-separated (equal to :attr:`authors` when there are few)."""
    seen: str
    """``seen in 3 listings (11, 12 and 14 March)``."""
    listings: tuple[str, ...]
    """One ``NAME (ISO date)`` per listing the paper was seen in, oldest first."""
    tags: tuple[tuple[str, str], ...]
    """(tag, label) per tag, in the paper's order."""

    @property
    def more_authors(self) -> bool:
        """Whether the short author line leaves authors out."""
        return self.authors != self.all_authors


def card(paper: Paper, reading: ReadingConfig) -> Card:
    """The card of ``paper``."""
    arxiv = arxiv_id(paper.source_id)
    url = clean_url(paper.url)
    labels = dict(reading.tag_labels)
    given = {kind: clean_url(link) or "" for kind, link in paper.links.items()}
    return Card(
        href=url or given.get("abs") or fallback_url(paper.title, arxiv, reading.link_template),
        pdf=given.get("pdf") or (f"https://arxiv.org/pdf/{arxiv}" if arxiv else ""),
        code=given.get("code") or code_url(paper.abstract),
        hf=given.get("hf") or (url if url and _HF_PAPER.match(url) else ""),
        authors=short_authors(paper.authors),
        all_authors=readable(", ".join(paper.authors)),
        seen=seen_line(paper.sightings),
        listings=tuple(f"{name} ({date.isoformat()})" for date, name in _listings(paper)),
        tags=tuple((t, labels.get(t) or tag_label(t)) for t in paper.tags),
    )


def arxiv_id(source_id: str | None) -> str:
    """The arXiv id of ``arxiv:ID`` when it is one (else empty)."""
    if not source_id or not source_id.startswith("arxiv:"):
        return ""
    ident = source_id[6:]
    return ident if _ARXIV_ID.match(ident) else ""


# A paper's card is made for its week page, its Markdown page and its feed item: the
# links of the last few thousand are kept (percent-encoding a title is most of a card).
@lru_cache(maxsize=4096)
def fallback_url(title: str, arxiv: str, template: str = DEFAULT_LINK_TEMPLATE) -> str:
    """The link of a paper no source gave one: ``template`` with the title (as read,
    LaTeX as Unicode) URL-encoded for ``{title}`` and the arXiv id for ``{arxiv}``."""
    text = " ".join(readable(title).split())
    filled = template.format(title=quote(text, safe=""), arxiv=quote(arxiv, safe=""))
    # The template is checked when feed.yaml is read and every filled-in character is
    # percent-encoded, so this holds; a link that is not a URL is never printed.
    return clean_url(filled) or clean_url(template.format(title="", arxiv="")) or ""


def code_url(abstract: str) -> str:
    """``https://github.com/OWNER/NAME`` of the first GitHub repository URL in the
    abstract (https only), or empty."""
    if "github.com/" not in abstract:
        return ""
    for m in _GITHUB.finditer(abstract):
        owner, name = m.group(1), m.group(2).rstrip(".")
        name = name.removesuffix(".git")
        if owner.endswith("-") or name in ("", ".", ".."):
            continue
        return f"https://github.com/{owner}/{name}"
    return ""


def short_authors(authors: Sequence[str]) -> str:
    """``A, B, C et al.`` (all of them when there are at most :data:`SHOWN_AUTHORS`)."""
    names = ", ".join(authors[:SHOWN_AUTHORS])
    more = " et al." if len(authors) > SHOWN_AUTHORS else ""
    return readable(names) + more


def _listings(paper: Paper) -> list[tuple[dt.date, str]]:
    return sorted({(s.date, s.listing) for s in paper.sightings})


def seen_line(sightings: Sequence[Sighting]) -> str:
    """``seen in 3 listings (11, 12 and 14 March)``: listings counted once each, their
    dates named once each (with the year only when they span years)."""
    listings = {(s.date, s.listing) for s in sightings}
    dates = sorted({d for d, _ in listings})
    count = len(listings)
    noun = "listing" if count == 1 else "listings"
    return f"seen in {count} {noun} ({_dates(tuple(dates))})" if dates else "seen in no listing"


@lru_cache(maxsize=1024)
def _dates(dates: tuple[dt.date, ...]) -> str:
    """``11, 12 and 14 March``, ``28 February and 1 March``, ``30 December 2025 and
    2 January 2026``: days grouped by month, in order."""
    years = len({d.year for d in dates}) > 1
    groups: list[tuple[str, list[str]]] = []
    for d in dates:
        month = d.strftime("%B") + (f" {d.year}" if years else "")
        if groups and groups[-1][0] == month:
            groups[-1][1].append(str(d.day))
        else:
            groups.append((month, [str(d.day)]))
    parts = [_and(days) + " " + month for month, days in groups]
    # "27 February and 1 March", but "27 February, 1 and 3 March": one "and" a list.
    return _and(parts) if all(len(days) == 1 for _, days in groups) else ", ".join(parts)


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@lru_cache(maxsize=4096)
def tag_slug(tag: str) -> str:
    """A tag's page name (``tags/SLUG.html``), the same for a tag in every run: the tag
    itself when it is already a slug (``long-context``), else its slug and a short hash
    of it (two tags never share a page)."""
    slug = slugify(tag)
    return slug if slug == tag else f"{slug}-{stable_hash(tag, length=6)}"


_ACRONYMS = frozenset(
    ("ai", "asr", "cnn", "cv", "dpo", "gan", "gnn", "gpu", "kv", "llm", "llms", "lora", "ml",
     "moe", "nlp", "ocr", "peft", "qa", "rag", "rl", "rlhf", "sft", "ssm", "tts", "vae", "vit",
     "vlm", "vlms", "vqa")
)  # fmt: skip
_DIMENSIONS = {"one-d": "1D", "two-d": "2D", "three-d": "3D", "four-d": "4D"}


@lru_cache(maxsize=4096)
def tag_label(tag: str) -> str:
    """A tag's default label: hyphens and underscores read as spaces, "two-d"/"three-d"
    as 2D/3D, known acronyms (LLM, PEFT, RL, ...) in capitals, the first word
    capitalised: ``three-d`` -> ``3D``, ``peft`` -> ``PEFT``, ``long-context`` ->
    ``Long context``."""
    text = tag.strip().lower().replace("_", "-")
    for spelled, short in _DIMENSIONS.items():
        text = re.sub(rf"(?<![a-z]){spelled}(?![a-z])", short, text)
    words = [w for w in text.split("-") if w]
    out = []
    for i, word in enumerate(words):
        if word in _ACRONYMS:
            word = word.upper().replace("LLMS", "LLMs").replace("VLMS", "VLMs")
        elif i == 0 and word[:1].isalpha():
            word = word[:1].upper() + word[1:]
        out.append(word)
    return " ".join(out) or tag
