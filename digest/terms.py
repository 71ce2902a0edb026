"""Term compilation: one term of feed.yaml -> a :class:`Term`; text -> what terms read.

Input: a term's body and options (split out of feed.yaml by :mod:`digest.config.rules`).
Output: :class:`Term` objects, each with a reference regular expression that defines
what it matches, or a sentence saying why the term is invalid (:func:`make_term`,
:func:`hazard`). :mod:`digest.matcher` builds the automaton that finds them.

What the text looks like to a term (:func:`fold`): LaTeX fragments are read as
Unicode (``$\\alpha$`` -> ``α``), the text is NFKC-normalised, every run of
whitespace, hyphens, dashes, underscores and slashes becomes one space, and it
is case-folded unless the term is case-sensitive. A word or phrase matches on
word boundaries in that text; ``quantiz*`` matches ``quantiz`` at the start of
a word.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

from digest.latex import to_unicode
from digest.regex import UserPattern, compile_user

FIELDS = ("title", "abstract")
SEPARATOR_CHARS = "\t\n\v\f\r -_/‐‑‒–—―−"
_SEPARATORS = "-_/‐‑‒–—―−"
"""Characters read as a space (besides whitespace)."""
_ASCII_SEPARATORS = "-_/"
"""The ASCII ones among them."""
SCORE_SLACK = 1e-9
"""How far below ``min_score`` a sum of term weights may fall and still reach it
(float sums of weights are inexact)."""
_SIMPLE, _EXACT, _VERIFY = 0, 1, 2
"""How an automaton hit decides a term: left boundary only (``word*``), both
boundaries (a word or phrase), or the term's own regex checked at the hit
(a wildcard inside a phrase)."""


def fold(text: str, *, keep_case: bool = False) -> str:
    """The text terms are matched in: LaTeX read as Unicode, NFKC, case-folded unless
    ``keep_case``, every run of whitespace, hyphens, dashes, underscores and slashes
    turned into one space, trimmed, then one space added at both ends."""
    kept = f" {_fold_inner(text)} "
    # Case folding maps no character to or from a separator (tests check every code
    # point), so folding the case last gives the same text as folding it first.
    return kept if keep_case else kept.casefold()


def _fold_inner(text: str) -> str:
    """:func:`fold` with the case kept and without the outer spaces (the hot path)."""
    if "$" in text or "\\" in text:
        text = to_unicode(text)
    # One str.replace per separator: a C loop each, where str.translate would look
    # every character of a non-ASCII text up in a dict (thirty times slower).
    if text.isascii():
        for char in _ASCII_SEPARATORS:
            text = text.replace(char, " ")
        spaces_only = not (
            "\n" in text or "\t" in text or "\r" in text or "\v" in text or "\f" in text
            or "\x1c" in text or "\x1d" in text or "\x1e" in text or "\x1f" in text
        )  # fmt: skip
    else:
        text = unicodedata.normalize("NFKC", text)
        for char in _SEPARATORS:
            text = text.replace(char, " ")
        # ' ' is the only whitespace character str.isprintable accepts (tests check
        # every code point).
        spaces_only = text.isprintable()
    if spaces_only:  # then collapsing runs of spaces is all splitting would do
        while "  " in text:
            text = text.replace("  ", " ")
        return text.strip(" ")
    # str.split() splits on exactly the characters re's \s matches (str.isspace).
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Term:
    """One compiled term of one tag."""

    id: int
    """Index in :attr:`digest.rules.RuleSet.terms`."""
    source: str
    """The term as written (a string term with its prefixes, or the mapping's text)."""
    fields: tuple[str, ...]
    """Fields it is matched in (``title``, ``abstract`` or both)."""
    case: bool
    """Matched against the text with its case kept."""
    regex: bool
    """The body is a regular expression."""
    weight: float
    """What a match adds to the tag's score."""
    body: str
    """The reference matcher's regular expression (see :attr:`pattern`)."""
    key: str
    """Literal the automaton looks for (empty for regex terms)."""
    mode: int
    """:data:`_SIMPLE`, :data:`_EXACT` or :data:`_VERIFY` (ignored for regex terms)."""

    @property
    def pattern(self) -> re.Pattern[str] | UserPattern:
        """The reference matcher over :func:`fold` of a field (defines the semantics):
        re2 for a regular-expression term (:mod:`digest.regex`), Python's ``re`` for the
        patterns digest writes itself. Compiled when first asked for: the automaton
        decides most literal terms without it, and compiling thousands of patterns would
        cost every run ~0.1 s."""
        if self.regex:
            return _compile_user(self.body, self.case)
        return self.literal_pattern

    @property
    def literal_pattern(self) -> re.Pattern[str]:
        """:attr:`pattern` of a word or phrase term (never of a regular-expression term)."""
        assert not self.regex, "a user's regular expression is run by re2 only"
        return _compile(self.body, 0)

    @property
    def canonical(self) -> str:
        """What the term means, independent of how it was spelled (for fingerprints
        and duplicate detection)."""
        kind = "re" if self.regex else "lit"
        return f"{kind}|{int(self.case)}|{'+'.join(self.fields)}|{self.weight!r}|{self.body}"


@cache
def _compile(body: str, flags: int) -> re.Pattern[str]:
    return re.compile(body, flags)


@cache
def _compile_user(body: str, case: bool) -> UserPattern:
    compiled = compile_user(body, case)
    assert not isinstance(compiled, str), "make_term refused this pattern"
    return compiled


def make_term(
    ident: int, source: str, body: str, fields: tuple[str, ...], case: bool, regex: bool,
    weight: float,
) -> Term | str:  # fmt: skip
    """Compile one term; a string result says why it is invalid."""
    if not body.strip():
        return "empty term"
    if regex:
        why = hazard(body, case)
        if why:
            return why
        pattern = _compile_user(body, case)
        if pattern.search(fold("")) or pattern.search(fold("", keep_case=True)):
            return "the regular expression matches an empty text, so it would tag every paper"
        return Term(ident, source, fields, case, True, weight, body, "", _EXACT)
    words = fold(body, keep_case=case).split()
    if not words:
        return "the term has no word to match (only separators)"
    for word in words:
        if "*" in word.rstrip("*") or word.endswith("**"):
            return "'*' may only end a word, once (as in 'quantiz*')"
        if word == "*":
            return "a wildcard needs a word before '*'"
    stems = [w.rstrip("*") for w in words]
    parts = [re.escape(s) + (r"\w*" if s != w else "") for s, w in zip(stems, words, strict=True)]
    starred = [i for i, w in enumerate(words) if w.endswith("*")]
    if not starred:
        key, mode = " ".join(words), _EXACT
    else:
        key = " ".join(stems[: starred[0] + 1])
        mode = _SIMPLE if starred == [len(words) - 1] else _VERIFY
    body = r"(?<!\w)" + " ".join(parts) + r"(?!\w)"
    return Term(ident, source, fields, case, False, weight, body, key, mode)


# Backtracking cannot happen: re2 runs every pattern it accepts in linear time. What is
# still checked here is a mistake re2 cannot see: looking for a character the folded
# text never holds. Python's parser reads the pattern's tree for that; matching never
# uses it.

# re's parser has no type stubs; we only read its parse tree, so Any is honest here.
_sre: Any = importlib.import_module("re._parser")


def hazard(body: str, case: bool) -> str | None:
    """Why a regular expression is unusable (re2 cannot run it, or it looks for
    characters the folded text never has), or None."""
    compiled = compile_user(body, case)
    if isinstance(compiled, str):
        return compiled
    try:
        tree = _sre.parse(body, 0 if case else re.IGNORECASE)
    except (re.error, RecursionError, OverflowError):  # pragma: no cover - compile_user parsed it
        return None
    char = _separator_literal(tree.data)
    if char is None:
        return None
    return (
        f"the regular expression looks for {char!r}, which the matched text never holds "
        "(whitespace, hyphens, underscores and slashes all read as one space); write ' ' "
        "or \\s instead"
    )


def _separator_literal(node: Any) -> str | None:
    """A literal separator (other than the space) matched outside a character class."""
    node = getattr(node, "data", node)
    if isinstance(node, tuple) and len(node) == 2 and hasattr(node[0], "name"):
        name, av = node[0].name, node[1]
        if name == "LITERAL":
            char = chr(av)
            return char if char in SEPARATOR_CHARS and char != " " else None
        if name in ("IN", "NOT_LITERAL", "ANY", "RANGE", "CATEGORY"):
            return None
        return _separator_literal(av)
    if isinstance(node, tuple | list):
        for part in node:
            found = _separator_literal(part)
            if found is not None:
                return found
    return None
