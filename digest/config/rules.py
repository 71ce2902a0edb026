"""The rule sections of feed.yaml -> a compiled :class:`~digest.rules.RuleSet`.

Input: the ``tags``, ``themes`` and ``catch_all`` sections (plain data with their
:class:`~digest.yamlsrc.Source`). Output: the RuleSet, or None and every problem,
each at its key path. The term syntax and what a rule means are described in
:mod:`digest.rules`; this module only reads and checks what was written, with the
option types of :mod:`digest.options`.
"""

from __future__ import annotations

import difflib
from typing import Any

from digest.errors import Problem
from digest.options import (
    Choice,
    Flag,
    Number,
    Problems,
    Section,
    Text,
    unknown_keys,
)
from digest.rules import DEFAULT_CATCH_ALL, LISTS, RuleSet, TagRule, ThemeRule, fingerprint
from digest.terms import FIELDS, Term, make_term
from digest.yamlsrc import Path, Source, describe

TAG_KEYS = {"any", "all", "none", "field", "weight", "min_score", "label"}
THEME_KEYS = {"name", "tags", "priority"}
TERM_KEYS = {"term", "regex", "field", "case", "weight"}
FIELD_CHOICES = {"title": ("title",), "abstract": ("abstract",), "both": FIELDS}
PREFIXES = ("title", "abstract", "case", "re")
WEIGHT = (0.0, 1_000.0)
"""Range of a tag's or a term's ``weight`` (above 0): scores stay exact in a float."""
MIN_SCORE = (0.0, 1_000_000.0)
"""Range of a tag's ``min_score``."""
PRIORITY = (-1_000_000.0, 1_000_000.0)
"""Range of a theme's ``priority``. Every number must be finite: NaN compares false with
everything, so it would make theme ranking depend on list order silently."""

CATCH_ALL = Text(expected="a non-empty section name", nonempty=True)
FIELD = Choice(choices=FIELD_CHOICES, expected="title, abstract or both", optional=True)
_WEIGHT = Number(low=WEIGHT[0], high=WEIGHT[1], above=True, typed=True)
TAG = Section(
    options={
        "field": FIELD,
        "weight": _WEIGHT,
        "min_score": Number(low=MIN_SCORE[0], high=MIN_SCORE[1], typed=True),
    },
    # ``label`` is how pages show the tag, read with the feed settings (digest.config.feed).
    extra=(*LISTS, "label"),
    expected="a mapping with any/all/none",
)
"""A tag's settings; its ``any``/``all``/``none`` lists are read term by term."""
TERM = Section(options={"field": FIELD, "case": Flag(), "weight": _WEIGHT})
"""A term written as a mapping, once its ``term`` or ``regex`` is read."""
THEME_NAME = Text(expected="a non-empty theme name", nonempty=True)
PRIORITY_OPTION = Number(low=PRIORITY[0], high=PRIORITY[1], typed=True)


def parse_rules(data: dict[str, Any], source: Source) -> tuple[RuleSet | None, list[Problem]]:
    """Validate and compile the rule sections of a config; every problem is reported."""
    reader = _Reader(Problems(source))
    ruleset = reader.parse(data)
    found = reader.problems.found
    return (None, found) if found else (ruleset, [])


class _Reader:
    """Reads the rule sections, collecting problems instead of stopping at the first."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.terms: list[Term] = []

    def parse(self, data: dict[str, Any]) -> RuleSet | None:
        bad, bad_key = self.problems.bad, self.problems.bad_key
        catch_all = DEFAULT_CATCH_ALL
        if "catch_all" in data:
            read = CATCH_ALL.check(data["catch_all"], ("catch_all",), self.problems)
            catch_all = read if isinstance(read, str) else DEFAULT_CATCH_ALL
        raw_tags = data.get("tags") or {}
        if not isinstance(raw_tags, dict):
            bad(("tags",), f"expected a mapping of tag names to rules, got {describe(raw_tags)}")
            raw_tags = {}
        tags: list[TagRule] = []
        seen: dict[str, str] = {}
        for name, spec in raw_tags.items():
            path: Path = ("tags", name)
            if not name.strip():
                bad_key(path, "a tag needs a non-empty name")
            elif name.casefold() in seen:
                other = seen[name.casefold()]
                bad_key(path, f"tag name collides with {other!r} (names are compared case-blind)")
            seen.setdefault(name.casefold(), name)
            rule = self.tag(name, spec, path)
            if rule is not None:
                tags.append(rule)
        themes = self.themes(data.get("themes") or [], list(raw_tags), catch_all)
        if self.problems:
            return None
        return RuleSet(tuple(tags), tuple(themes), catch_all, fingerprint(tags, themes, catch_all))

    def tag(self, name: str, spec: Any, path: Path) -> TagRule | None:
        if isinstance(spec, list | str):
            spec = {"any": spec}  # shorthand: a list of terms is an 'any' list
        values = TAG.check(spec, path, self.problems)
        if not isinstance(values, dict):
            return None
        fields: tuple[str, ...] = values.pop("field", FIELDS)
        lists: dict[str, list[Term]] = {}
        where: dict[str, Path] = {}
        # Spelling variants with one meaning ('long context', 'long-context') are
        # accepted (check reports them); the very same text twice is a slip.
        for key in LISTS:
            items = spec.get(key, [])
            if isinstance(items, str | dict):
                items = [items]
            if not isinstance(items, list):
                self.problems.bad((*path, key), f"expected a list of terms, got {describe(items)}")
                items = []
            lists[key] = []
            for i, item in enumerate(items):
                term = self.term(item, (*path, key, i), fields, key == "none")
                if term is None:
                    continue
                same = where.get(str(item).strip()) if isinstance(item, str) else None
                if same is not None:
                    self.problems.bad((*path, key, i), f"the same term as {_at(same)}")
                    continue
                if isinstance(item, str):
                    where[item.strip()] = (*path, key, i)
                self.terms.append(term)
                lists[key].append(term)
        if not spec.get("any") and not spec.get("all"):
            self.problems.bad_key(path, "empty rule: give at least one term in 'any' or 'all'")
        any_, all_, none = (tuple(lists[k]) for k in LISTS)
        return TagRule(name, any_, all_, none, **values)

    def term(self, item: Any, path: Path, fields: tuple[str, ...], negative: bool) -> Term | None:
        if isinstance(item, str):
            parsed = self.prefixed(item, path, fields)
            if parsed is None:
                return None
            body, fields, case, regex = parsed
            display, weight = item.strip(), 1.0
        elif isinstance(item, dict):
            unknown_keys(item, TERM_KEYS, path, self.problems)
            given = [k for k in ("term", "regex") if k in item]
            if len(given) != 1:
                self.problems.bad(path, "give exactly one of 'term' (words) or 'regex'")
                return None
            read = Text().check(item[given[0]], (*path, given[0]), self.problems)
            if not isinstance(read, str):
                return None
            body, regex = read, given[0] == "regex"
            values = TERM.fields(item, path, self.problems)
            fields, case = values.get("field", fields), values.get("case", False)
            weight = values.get("weight", 1.0)
            if negative and "weight" in item:
                self.problems.bad(
                    (*path, "weight"), "a 'none' term has no weight (it only excludes)"
                )
            display = _spelled(body, fields, case, regex)
        else:
            self.problems.bad(path, f"expected a term (text or a mapping), got {describe(item)}")
            return None
        term = make_term(len(self.terms), display, body, fields, case, regex, weight)
        if isinstance(term, str):
            self.problems.bad(path, f"{term} (in: {display})")
            return None
        return term

    def prefixed(
        self, text: str, path: Path, fields: tuple[str, ...]
    ) -> tuple[str, tuple[str, ...], bool, bool] | None:
        """``title:case:MoE`` -> (body, fields, case, regex)."""
        body, case, regex, scoped = text.strip(), False, False, ""
        while not regex:
            head, sep, rest = body.partition(":")
            if not sep:
                break
            if head not in PREFIXES:
                close = difflib.get_close_matches(head, PREFIXES, n=1, cutoff=0.75)
                if close and " " not in head:
                    self.problems.bad(
                        path,
                        f"unknown prefix {head + ':'!r} (did you mean {close[0] + ':'!r}?); to "
                        "match a colon literally write {term: '...'}",
                    )
                    return None
                break
            if head in FIELDS:
                if scoped and scoped != head:
                    message = f"conflicting prefixes 'title:' and 'abstract:' in {text!r}"
                    self.problems.bad(path, message)
                    return None
                scoped, fields = head, (head,)
            elif head == "case":
                case = True
            else:
                regex = True
            body = rest
        return body, fields, case, regex

    def themes(self, raw: Any, tag_names: list[str], catch_all: str) -> list[ThemeRule]:
        bad = self.problems.bad
        if not isinstance(raw, list):
            bad(("themes",), f"expected a list of themes, got {describe(raw)}")
            return []
        out: list[ThemeRule] = []
        names: dict[str, str] = {catch_all.casefold(): catch_all}
        for i, spec in enumerate(raw):
            path: Path = ("themes", i)
            if not isinstance(spec, dict):
                bad(path, f"expected a mapping with name and tags, got {describe(spec)}")
                continue
            unknown_keys(spec, THEME_KEYS, path, self.problems)
            name = THEME_NAME.check(spec.get("name"), (*path, "name"), self.problems)
            if not isinstance(name, str):
                continue
            if name.casefold() in names:
                other = names[name.casefold()]
                what = "the catch_all section" if other == catch_all else "another theme"
                bad((*path, "name"), f"theme name collides with {other!r} ({what})")
            names.setdefault(name.casefold(), name)
            members = spec.get("tags", [])
            if isinstance(members, str):
                members = [members]
            if not isinstance(members, list) or not members:
                bad((*path, "tags"), "expected a non-empty list of tag names")
                members = []
            for j, tag in enumerate(members):
                if tag not in tag_names:
                    close = difflib.get_close_matches(str(tag), tag_names, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    bad((*path, "tags", j), f"unknown tag {tag!r}{hint}")
                elif members.index(tag) != j:
                    bad((*path, "tags", j), f"tag {tag!r} is listed twice")
            priority = PRIORITY_OPTION.get(spec, "priority", path, self.problems)
            unique = tuple(dict.fromkeys(str(t) for t in members))
            out.append(ThemeRule(name, unique, 0.0 if priority is None else priority))
        return out


def _spelled(body: str, fields: tuple[str, ...], case: bool, regex: bool) -> str:
    """A mapping term in the prefix notation, for display."""
    scope = f"{fields[0]}:" if len(fields) == 1 else ""
    return f"{scope}{'case:' if case else ''}{'re:' if regex else ''}{body.strip()}"


def _at(path: Path) -> str:
    return f"{path[-2]}[{path[-1]}]"
