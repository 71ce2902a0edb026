"""Term matching: one paper's text -> the ids of the terms it holds.

Input: compiled :class:`~digest.terms.Term` objects and paper titles/abstracts.
Output: a :class:`Matcher` that finds every term in a text with one pass of an
Aho-Corasick automaton (words, phrases, prefix wildcards) plus one search per
regular-expression term. The only module that imports pyahocorasick. What a term
matches is defined by :mod:`digest.terms` (:func:`~digest.terms.fold` and each
term's reference pattern).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import ahocorasick

from digest.terms import _EXACT, _VERIFY, FIELDS, Term, _fold_inner


class Matcher:
    """Every term of a rule set, compiled for one scan per paper.

    The scan reads the title and abstract joined (``" title  abstract "``: no key
    holds two spaces, so no hit spans both, and the offset tells the field) in
    the *word text*: the folded text with every character that is not a word
    character turned into a space, offsets kept (:func:`_word_text`). There a
    word's boundaries are spaces, so the automaton holds each key with a space
    in front (and one behind when the term ends on a word boundary): a hit is a
    match as the reference pattern's ``(?<!\\w)``/``(?!\\w)`` decides it, and the
    root of the automaton has one child, which keeps the scan cheap. What the
    word text cannot show is checked at the hit, in the folded (or case-kept)
    text at the same offset: that a phrase's words are apart by exactly one
    space, the case of a case-sensitive term, and a wildcard inside a phrase
    (the term's own pattern).

    Case-sensitive terms are looked for, case-folded, by the same scan when case
    folding keeps the text aligned (every offset and every word boundary: always
    for ASCII), and by a scan of their own in the case-kept word text otherwise.
    Terms whose words hold other characters than word characters (``c++``) have
    a scan of their own: an automaton over the folded text itself with the boundaries
    checked per hit. Regular-expression terms are searched one by one.
    """

    def __init__(self, terms: Sequence[Term]) -> None:
        self.terms = tuple(terms)
        self._regex = tuple(
            (t.id, t.pattern, t.case, FIELDS[0] in t.fields, FIELDS[1] in t.fields)
            for t in self.terms
            if t.regex
        )
        literal = [t for t in self.terms if not t.regex]
        plain = [t for t in literal if _in_words(t.key)]
        odd = [t for t in literal if not _in_words(t.key)]
        # Only terms the automaton cannot decide alone need their pattern.
        self._patterns = tuple(
            t.literal_pattern if t.mode == _VERIFY and t in odd and not t.regex else None
            for t in self.terms
        )
        self.needs_case = any(t.case for t in self.terms)
        folded = [(t, _FOLDED) for t in plain if not t.case]
        # A key that case folding changes in length or makes other than words never
        # matches a text that folding keeps aligned (see _scan_into).
        aligned = [
            (t, _KEPT_IF_ALIGNED)
            for t in plain
            if t.case and _in_words(t.key.casefold()) and len(t.key.casefold()) == len(t.key)
        ]
        self._words = _word_automaton(folded + aligned)
        self._case_words = _word_automaton([(t, _KEPT) for t in plain if t.case])
        self._folded = self._automaton([t for t in odd if not t.case])
        self._kept = self._automaton([t for t in odd if t.case])
        self._rare = bool(odd or self._regex)

    @staticmethod
    def _automaton(terms: Sequence[Term]) -> ahocorasick.Automaton | None:
        """Key -> (its length, then the (title ids, abstract ids) of its terms in mode
        :data:`_EXACT` (maybe empty), :data:`_SIMPLE` and :data:`_VERIFY` (None if none))."""
        if not terms:
            return None
        groups: dict[str, list[tuple[list[int], list[int]] | None]] = {}
        for t in terms:
            modes = groups.setdefault(t.key, [None, None, None])
            per_field = modes[t.mode]
            if per_field is None:
                per_field = modes[t.mode] = ([], [])
            for fi, name in enumerate(FIELDS):
                if name in t.fields:
                    per_field[fi].append(t.id)
        automaton = ahocorasick.Automaton()
        for key, modes in groups.items():
            simple, exact, verify = (
                None if m is None else (tuple(m[0]), tuple(m[1])) for m in modes
            )
            automaton.add_word(key, (len(key), exact or ((), ()), simple, verify))
        automaton.make_automaton()
        return automaton

    def scan(self, title: str, abstract: str) -> tuple[set[int], set[int]]:
        """Ids of the terms found in the title and in the abstract (each term only in
        its own fields)."""
        found: tuple[set[int], set[int]] = (set(), set())
        self._scan_into(title, abstract, found)
        return found

    def find(self, title: str, abstract: str) -> set[int]:
        """Ids of the terms found in either field (each term only in its own fields)."""
        hits: set[int] = set()
        self._scan_into(title, abstract, (hits, hits))
        return hits

    def _scan_into(self, title: str, abstract: str, found: tuple[set[int], set[int]]) -> None:
        """Add the ids of the terms found in each field to ``found[0]`` (title) and
        ``found[1]`` (abstract), which may be one set."""
        inner_title = _fold_inner(title)
        kept = f" {inner_title}  {_fold_inner(abstract)} "  # fold(title) + fold(abstract)
        cut = len(inner_title) + 2
        if kept.isascii():
            # Lower-casing ASCII is case folding; it keeps offsets and word characters.
            folded, folded_cut, aligned = kept.lower(), cut, True
            words = folded.encode("ascii").translate(_ASCII_WORDS).decode("ascii")
        else:
            folded = kept.casefold()
            # Case folding never shortens a character, so equal lengths mean that no
            # character grew and the fields split at the same offset.
            same = len(folded) == len(kept)
            folded_cut = cut if same else len(inner_title.casefold()) + 2
            # Aligned: every character folds to one character, a word character to a
            # word character and any other to another (tests check every code point:
            # U+0345 is the one exception).
            aligned = same and "\u0345" not in kept
            words = _word_text(folded)
        if self._words is not None:
            texts = (folded, kept, kept if aligned else None)
            _scan_words(self._words, words, folded_cut, texts, found)
        if not aligned and self._case_words is not None:
            _scan_words(self._case_words, _word_text(kept), cut, (kept, kept, None), found)
        if self._rare:
            if self._folded is not None:
                self._scan_one(self._folded, folded, folded_cut, found)
            if self._kept is not None:
                self._scan_one(self._kept, kept, cut, found)
            if self._regex:
                self._search(kept, cut, folded, folded_cut, found)

    def _search(
        self, kept: str, cut: int, folded: str, folded_cut: int,
        found: tuple[set[int], set[int]],
    ) -> None:  # fmt: skip
        """The regular-expression terms, one search per term and field."""
        fields = ((kept[:cut], folded[:folded_cut]), (kept[cut:], folded[folded_cut:]))
        in_title, in_abstract = found
        for ident, pattern, case, in_t, in_a in self._regex:
            if in_t and pattern.search(fields[0][not case]):
                in_title.add(ident)
            if in_a and pattern.search(fields[1][not case]):
                in_abstract.add(ident)

    def _scan_one(
        self, automaton: ahocorasick.Automaton, text: str, cut: int,
        found: tuple[set[int], set[int]],
    ) -> None:  # fmt: skip
        """The terms with characters other than word characters in their words, found in
        the folded (or case-kept) text itself."""
        # Each field starts and ends with a space and no key does, so the neighbours
        # text[start - 1] and text[end + 1] always exist and lie in the hit's field.
        # Underscores are folded away, so "word character" is exactly str.isalnum().
        for end, (length, exact, simple, verify) in automaton.iter(text):
            if text[end - length].isalnum():
                continue
            field = end >= cut  # 0: title, 1: abstract
            ids = exact[field]
            if ids and not text[end + 1].isalnum():
                found[field].update(ids)
            if simple is not None:
                found[field].update(simple[field])
            if verify is not None:
                start, patterns = end - length + 1, self._patterns
                found[field].update(i for i in verify[field] if patterns[i].match(text, start))


_FOLDED, _KEPT, _KEPT_IF_ALIGNED = 0, 1, 2
"""Which text a check at a hit of the word automaton reads: the folded text, the
case-kept text, or the case-kept text only when case folding kept it aligned with
the folded text (else the check fails)."""
_ASCII_WORDS = bytes(c if chr(c).isalnum() else 32 for c in range(128)) + bytes(range(128, 256))
"""A bytes.translate table: ASCII word characters kept, every other ASCII byte a space
(bytes of multi-byte UTF-8 sequences, all >= 128, kept)."""
_ASCII_BYTES = bytes(range(128))


def _word_text(text: str) -> str:
    """``text`` with every character that is not a word character (``str.isalnum``) turned
    into a space: same length, same offsets.

    Done on bytes: a bytes.translate is a table lookup per byte, where str.translate
    or re.sub costs several times more. In UTF-8 an ASCII byte is always a whole
    character, and each other character that is not a word character (a handful per
    text: quotes, dashes, symbols) is replaced by one space byte."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_WORDS).decode("ascii")
    data = text.encode("utf-8", "surrogatepass")
    for char in set(data.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")):
        if not char.isalnum():
            data = data.replace(char.encode("utf-8", "surrogatepass"), b" ")
    return data.translate(_ASCII_WORDS).decode("utf-8", "surrogatepass")


_Ids = tuple[tuple[int, ...], tuple[int, ...]]
_Check = tuple[int, str | None, re.Pattern[str] | None, _Ids]
"""At a hit: (:data:`_FOLDED`, :data:`_KEPT` or :data:`_KEPT_IF_ALIGNED`, text that must
start there, pattern that must match there, (title ids, abstract ids) then found)."""


def _in_words(key: str) -> bool:
    """Whether every word of a key is made of word characters (so the word text shows it)."""
    return all(word.isalnum() for word in key.split(" "))


def _word_automaton(terms: Sequence[tuple[Term, int]]) -> ahocorasick.Automaton | None:
    """Key with its boundary spaces -> (its length, title ids and abstract ids of the terms
    a hit decides alone, the :data:`_Check` tuple of the others).

    ``terms`` pairs each term with the text its checks read (:data:`_FOLDED`,
    :data:`_KEPT` or :data:`_KEPT_IF_ALIGNED`; in the last case the key is looked for
    case-folded)."""
    if not terms:
        return None
    plain: dict[str, tuple[list[int], list[int]]] = {}
    checked: dict[str, dict[tuple[int, str | None, int], tuple[list[int], list[int]]]] = {}
    patterns: dict[int, re.Pattern[str]] = {}
    for t, where in terms:
        key = t.key.casefold() if where == _KEPT_IF_ALIGNED else t.key
        anchored = f" {key} " if t.mode == _EXACT else f" {key}"
        plain.setdefault(anchored, ([], []))
        # What the word text cannot show: the case, single spaces between words, and
        # a wildcard before the last word (then the whole pattern decides).
        if t.mode == _VERIFY:
            check: tuple[int, str | None, int] | None = (where, None, t.id)
            patterns[t.id] = t.literal_pattern
        elif where != _FOLDED or " " in key:
            check = (where, t.key, -1)
        else:
            check = None
        if check is None:
            ids = plain[anchored]
        else:
            ids = checked.setdefault(anchored, {}).setdefault(check, ([], []))
        for fi, name in enumerate(FIELDS):
            if name in t.fields:
                ids[fi].append(t.id)
    automaton = ahocorasick.Automaton()
    for anchored, (in_title, in_abstract) in plain.items():
        checks = tuple(
            (where, core, patterns.get(ident), (tuple(ids[0]), tuple(ids[1])))
            for (where, core, ident), ids in checked.get(anchored, {}).items()
        )
        value = (len(anchored), tuple(in_title), tuple(in_abstract), checks)
        automaton.add_word(anchored, value)
    automaton.make_automaton()
    return automaton


def _scan_words(
    automaton: ahocorasick.Automaton, words: str, cut: int,
    texts: tuple[str, str, str | None], found: tuple[set[int], set[int]],
) -> None:  # fmt: skip
    """Add the terms of a word automaton found in ``words`` (the word text of ``texts[0]``,
    fields split at ``cut``) to ``found``; ``texts`` are what checks read, by
    :data:`_FOLDED`, :data:`_KEPT` and :data:`_KEPT_IF_ALIGNED`."""
    in_title, in_abstract = found
    for end, (length, title_ids, abstract_ids, checks) in automaton.iter(words):
        if end < cut:
            in_title.update(title_ids)
        else:
            in_abstract.update(abstract_ids)
        if checks:
            _check(checks, end - length + 2, texts, found, end >= cut)


def _check(
    checks: tuple[_Check, ...], start: int, texts: tuple[str, str, str | None],
    found: tuple[set[int], set[int]], field: bool,
) -> None:  # fmt: skip
    """Add the ids of the checks that pass at ``start`` (where the key's first word
    starts) to ``found[field]``."""
    for where, core, pattern, ids in checks:
        text = texts[where]
        if text is None:
            continue
        if core is not None and not text.startswith(core, start):
            continue
        if pattern is not None and pattern.match(text, start) is None:
            continue
        found[field].update(ids[field])


# -- regular-expression hazards ---------------------------------------------------------
#
# -- what a user's pattern may be -----------------------------------------------------------
