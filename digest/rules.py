"""Keyword rules: feed.yaml ``tags``/``themes`` -> a compiled :class:`RuleSet`; papers -> tags.

Input: the ``tags``, ``themes`` and ``catch_all`` sections of feed.yaml (plain
data plus positions). Output: a :class:`RuleSet` whose :meth:`RuleSet.tag`
gives a paper's tags and its one primary theme.

Term syntax (a string in an ``any``/``all``/``none`` list):

- ``diffusion``, ``language model``: a word or phrase, case-insensitive, on
  word boundaries; spaces and hyphens in a phrase match any run of spaces or
  hyphens (``text-to-image`` matches ``text to image``).
- ``quantiz*``: ``*`` at a word's end matches any word continuation.
- ``title:`` or ``abstract:`` in front scopes a term to one field.
- ``case:`` in front makes it case-sensitive (for acronyms: ``case:MoE``).
- ``re:`` in front makes the rest a regular expression (case-insensitive).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from digest.errors import Problem
from digest.normalize import stable_hash
from digest.yamlsrc import Path, Source
from digest.yamlsrc import describe as _kind

FIELDS = ("title", "abstract")
TAG_KEYS = {"any", "all", "none", "field", "weight", "min_score"}
THEME_KEYS = {"name", "tags", "priority"}
DEFAULT_CATCH_ALL = "Other papers"


@dataclass(frozen=True, slots=True)
class Term:
    """One compiled term."""

    source: str
    """The term as written in feed.yaml."""
    fields: tuple[str, ...]
    """Fields it is matched in."""
    pattern: re.Pattern[str]
    """Compiled matcher over the folded field text."""
    case: bool = False
    """Matched against the text with its case kept."""


@dataclass(frozen=True, slots=True)
class TagRule:
    """A tag and the terms that decide it."""

    name: str
    any: tuple[Term, ...]
    all: tuple[Term, ...]
    none: tuple[Term, ...]
    weight: float = 1.0
    min_score: float = 0.0


@dataclass(frozen=True, slots=True)
class ThemeRule:
    """A theme: a named group of tags, with a priority for picking the primary theme."""

    name: str
    tags: tuple[str, ...]
    priority: float = 0.0


@dataclass(frozen=True, slots=True)
class Tagging:
    """The outcome of tagging one paper."""

    tags: tuple[str, ...]
    """Matched tags in configuration order."""
    theme: str
    """Primary theme, or the catch-all name."""
    matches: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Tag -> the ``any``/``all`` terms that matched it (for explain)."""


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Compiled rules of one feed."""

    tags: tuple[TagRule, ...]
    themes: tuple[ThemeRule, ...]
    catch_all: str = DEFAULT_CATCH_ALL
    fingerprint: str = ""
    """Changes whenever the rules change (decides re-tagging)."""

    @property
    def section_names(self) -> list[str]:
        """Theme names in display order, catch-all last."""
        return [t.name for t in self.themes] + [self.catch_all]

    def tag(self, title: str, abstract: str) -> Tagging:
        """Tags and primary theme of one paper."""
        texts = {"title": fold(title), "abstract": fold(abstract)}
        raw = {"title": fold(title, keep_case=True), "abstract": fold(abstract, keep_case=True)}
        matched: dict[str, tuple[str, ...]] = {}
        scores: dict[str, float] = {}
        for rule in self.tags:
            hits = tuple(t.source for t in rule.any if _hit(t, texts, raw))
            if rule.any and not hits:
                continue
            if not all(_hit(t, texts, raw) for t in rule.all):
                continue
            if any(_hit(t, texts, raw) for t in rule.none):
                continue
            score = rule.weight * (len(hits) + len(rule.all))
            if score < rule.min_score:
                continue
            matched[rule.name] = hits + tuple(t.source for t in rule.all)
            scores[rule.name] = score
        theme = self.catch_all
        best: tuple[float, float, int] | None = None
        for order, th in enumerate(self.themes):
            got = [scores[t] for t in th.tags if t in scores]
            if not got:
                continue
            key = (th.priority, sum(got), -order)
            if best is None or key > best:
                best, theme = key, th.name
        return Tagging(tags=tuple(matched), theme=theme, matches=matched)


def fold(text: str, *, keep_case: bool = False) -> str:
    """Case- and width-folded text with runs of separators turned into one space."""
    text = unicodedata.normalize("NFKC", text)
    if not keep_case:
        text = text.casefold()
    return " " + re.sub(r"[\s\-‐‑‒–—―_/]+", " ", text) + " "


def _hit(term: Term, texts: dict[str, str], raw: dict[str, str]) -> bool:
    source = raw if term.case else texts
    return any(term.pattern.search(source[f]) for f in term.fields)


def compile_term(text: str) -> tuple[Term | None, str | None]:
    """One term string -> (Term, None) or (None, why it is invalid)."""
    body, case, regex = text.strip(), False, False
    fields: tuple[str, ...] = FIELDS
    while True:
        head, sep, rest = body.partition(":")
        if not sep or head not in ("title", "abstract", "case", "re"):
            break
        if head in FIELDS:
            fields = (head,)
        elif head == "case":
            case = True
        else:
            regex = True
        body = rest
    if not body.strip():
        return None, "empty term"
    if regex:
        try:
            pattern = re.compile(body, 0 if case else re.IGNORECASE)
        except re.error as err:
            return None, f"invalid regular expression: {err}"
    else:
        words = re.split(r"[\s\-‐‑‒–—―_/]+", body.strip())
        parts = []
        for i, word in enumerate(words):
            star = word.endswith("*")
            word = word.rstrip("*")
            if not word:
                return None, "a wildcard needs a word before '*'"
            w = word if case else unicodedata.normalize("NFKC", word).casefold()
            piece = re.escape(w) + (r"\w*" if star else "")
            parts.append(piece)
            if i < len(words) - 1:
                parts.append(" ")
        pattern = re.compile(r"(?<!\w)" + "".join(parts) + r"(?!\w)")
    return Term(text, fields, pattern, case), None


def parse_rules(data: dict[str, Any], source: Source) -> tuple[RuleSet | None, list[Problem]]:
    """Validate and compile the rule sections of a config; every problem is reported."""
    problems: list[Problem] = []

    def bad(path: Path, msg: str) -> None:
        problems.append(source.problem(path, msg))

    catch_all = data.get("catch_all", DEFAULT_CATCH_ALL)
    if not isinstance(catch_all, str) or not catch_all.strip():
        bad(("catch_all",), "expected a non-empty section name")
        catch_all = DEFAULT_CATCH_ALL

    tags: list[TagRule] = []
    raw_tags = data.get("tags", {})
    if not isinstance(raw_tags, dict):
        bad(("tags",), f"expected a mapping of tag names to rules, got {_kind(raw_tags)}")
        raw_tags = {}
    seen: dict[str, str] = {}
    for name, spec in raw_tags.items():
        path: Path = ("tags", name)
        if name.casefold() in seen:
            bad(path, f"tag name collides with {seen[name.casefold()]!r} (names are case-blind)")
        seen[name.casefold()] = name
        if not isinstance(spec, dict):
            bad(path, f"expected a mapping with any/all/none, got {_kind(spec)}")
            continue
        for key in spec:
            if key not in TAG_KEYS:
                bad((*path, key), f"unknown key (expected one of {', '.join(sorted(TAG_KEYS))})")
        lists: dict[str, list[Term]] = {}
        for key in ("any", "all", "none"):
            items = spec.get(key, [])
            if isinstance(items, str):
                items = [items]
            if not isinstance(items, list):
                bad((*path, key), f"expected a list of terms, got {_kind(items)}")
                items = []
            lists[key] = []
            for i, item in enumerate(items):
                if not isinstance(item, str):
                    bad((*path, key, i), f"expected a term string, got {_kind(item)}")
                    continue
                term, why = compile_term(item)
                if term is None:
                    bad((*path, key, i), f"{why} in {item!r}")
                else:
                    lists[key].append(term)
        if not spec.get("any") and not spec.get("all"):
            bad(path, "empty rule: give at least one term in 'any' or 'all'")
        weight = _number(spec, "weight", 1.0, path, bad)
        min_score = _number(spec, "min_score", 0.0, path, bad)
        tags.append(
            TagRule(
                name,
                tuple(lists["any"]),
                tuple(lists["all"]),
                tuple(lists["none"]),
                weight,
                min_score,
            )
        )

    themes: list[ThemeRule] = []
    raw_themes = data.get("themes", [])
    if not isinstance(raw_themes, list):
        bad(("themes",), f"expected a list of themes, got {_kind(raw_themes)}")
        raw_themes = []
    names: dict[str, str] = {catch_all.casefold(): catch_all}
    for i, spec in enumerate(raw_themes):
        path = ("themes", i)
        if not isinstance(spec, dict):
            bad(path, f"expected a mapping with name and tags, got {_kind(spec)}")
            continue
        for key in spec:
            if key not in THEME_KEYS:
                bad((*path, key), f"unknown key (expected one of {', '.join(sorted(THEME_KEYS))})")
        name = spec.get("name")
        if not isinstance(name, str) or not name.strip():
            bad((*path, "name"), "expected a non-empty theme name")
            continue
        if name.casefold() in names:
            bad((*path, "name"), f"theme name collides with {names[name.casefold()]!r}")
        names[name.casefold()] = name
        theme_tags = spec.get("tags", [])
        if isinstance(theme_tags, str):
            theme_tags = [theme_tags]
        if not isinstance(theme_tags, list) or not theme_tags:
            bad((*path, "tags"), "expected a non-empty list of tag names")
            theme_tags = []
        for j, tag in enumerate(theme_tags):
            if tag not in raw_tags:
                bad((*path, "tags", j), f"unknown tag {tag!r} (not defined under 'tags')")
        priority = _number(spec, "priority", 0.0, path, bad)
        themes.append(ThemeRule(name, tuple(str(t) for t in theme_tags), priority))

    if problems:
        return None, problems
    fingerprint = stable_hash(repr(sorted(raw_tags.items())), repr(raw_themes), catch_all)
    return RuleSet(tuple(tags), tuple(themes), catch_all, fingerprint), []


def _number(spec: dict[str, Any], key: str, default: float, path: Path, bad: Any) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        bad((*path, key), f"expected a number, got {_kind(value)}")
        return default
    return float(value)
