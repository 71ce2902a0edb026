"""The keys a paper is known by, and the text analysis behind them (pure functions).

Input: an entry's title and abstract (listing text, raw or cleaned: entities, LaTeX,
case, dashes, quotes and whitespace are normalised here). Output: its
:class:`~digest.models.EntryKeys` (title key, near-duplicate blocking keys, text
hash), the id a new paper gets, and the title and abstract analyses that
:mod:`digest.identity.matching` compares.

A text is analysed once: its sentences (and which are boilerplate) pass from
:func:`block_keys` to the matcher; sentence keys, word tuples and title analyses stay
in bounded LRU caches keyed by the text.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from itertools import filterfalse

from digest.latex import to_unicode
from digest.models import Entry, EntryKeys
from digest.normalize import stable_hash, text_hash, title_key

SENTENCE_KEYS = 5
"""Abstract sentences hashed into blocking keys (the longest ones: the most specific).
A lookup skips keys that too many papers share (stock phrasing), so five leave rare ones
when the longest sentences are all stock phrasing. Papers stored when this was 3 are
indexed under their first three, which are the first three of the five: they are found
as before."""
MIN_SENTENCE_WORDS = 6
MIN_HEAD_WORDS = 2
"""A title part before a colon or spaced dash gets a key of its own only with this many
content words: a bare name (``Mamba:``, ``FlashLM-2:``) is shared by sequels and
namesakes, and what it alone would find (a retitled version with a near-identical
abstract) the sentence keys find."""
KEYED_ABSTRACTS = 2048
"""Abstracts whose sentence keys (~0.5 kB) are kept."""
COMPARED_ABSTRACTS = 1024
"""Abstracts whose word tuples (~13 kB each) are kept: a stored paper compared once is
compared again without parsing it again."""
COMPARED_TEXTS = 32768
"""Stored texts whose abstract word ids (~1 kB each) are kept, by text hash: a stored
paper judged again is not parsed again."""
VOCABULARY = 1 << 20
"""Distinct words given ids before the ids start over."""
_vocabulary: dict[str, int] = {}
_stored_ids: OrderedDict[str, array[int]] = OrderedDict()
FUNCTION_WORDS = frozenset((
    "a", "an", "the", "of", "for", "in", "on", "at", "to", "with", "and", "or", "via", "by",
    "from", "into", "onto", "towards", "toward", "using", "through", "its", "their", "our",
    "is", "are", "as",
))  # fmt: skip
"""Words whose presence or absence never makes a title another paper's."""
_KIND_WORDS = frozenset((
    "survey", "surveys", "review", "overview", "tutorial", "primer", "benchmark", "benchmarks",
    "benchmarking", "dataset", "datasets", "corpus", "challenge", "competition", "report",
    "reproduction", "reproducibility", "replication", "revisited", "revisiting", "extended",
    "extension", "erratum", "corrigendum", "comment", "reply", "response", "position",
    "perspective", "roadmap", "retrospective", "lessons", "workshop", "thesis", "appendix",
    "supplementary", "demo", "demonstration",
))  # fmt: skip
_SIZE_WORDS = frozenset((
    "plus", "pro", "max", "ultra", "lite", "mini", "nano", "micro", "tiny", "small", "base",
    "medium", "large", "huge", "giant", "xl", "xxl", "turbo", "next",
))  # fmt: skip
_GREEK_NAMES = (
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi",
    "psi", "omega",
)  # fmt: skip
_GREEK = frozenset(_GREEK_NAMES)
_ROMAN = {"ii": 2, "iii": 3, "iv": 4, "vi": 6, "vii": 7, "viii": 8, "ix": 9}
_ROMAN_AFTER = {"i": 1, "v": 5, "x": 10}
"""Ambiguous numerals (the pronoun ``I``, ``v``, ``x``), read as numbers only after these:"""
_PART_WORDS = frozenset(("part", "phase", "stage", "volume", "vol", "chapter", "book", "step"))
_NOT_CONTENT = FUNCTION_WORDS | _GREEK | frozenset(_ROMAN)
_MARKERS = _GREEK | frozenset(_ROMAN) | frozenset(_ROMAN_AFTER)
"""Letter-only words that _title reads as numbers or Greek letters."""

_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_NON_WORD = re.compile(r"[^\w+]+|_+")  # the split normalize.title_key uses
_DIGITS = re.compile(r"\d+")
_PU = re.compile(r"^[a-z]pus$")  # GPUs, TPUs, NPUs: plurals, unlike corpus or status
_WORD = re.compile(r"[^\W_]+")
_TITLE_SEPARATOR = re.compile(r":|\s[-‐‑‒–—―]{1,2}\s")
# A sentence ends at . ! ? before a space, or before a capitalised word when a listing
# lost the space ("instructions.Although").
_SENTENCE_END = re.compile(r"[.!?](?:\s+|(?=[A-Z][a-z]))")
_GREEK_CHARS = str.maketrans(
    {ch: f" {name} " for ch, name in zip("αβγδεζηθικλμνξοπρστυφχψω", _GREEK_NAMES, strict=True)}
    | {"ϵ": " epsilon ", "ς": " sigma ", "ϕ": " phi "}
)
_ASCII_PUNCTUATION = bytes(c for c in range(128) if not chr(c).isalnum())
_PUNCTUATION_TO_SPACE = bytes.maketrans(_ASCII_PUNCTUATION, b" " * len(_ASCII_PUNCTUATION))
# _title_words of ASCII titles in one bytes.translate: controls deleted, case folded,
# _NON_WORD characters turned into spaces.
_ASCII_CONTROLS = bytes(c for c in range(128) if _ASCII_CONTROL.match(chr(c)))
_TITLE_TABLE = bytes(
    c if c > 127 else ord(" " if _NON_WORD.match(chr(c)) else chr(c).casefold()) for c in range(256)
)
_ASCII_WHITESPACE = bytes(c for c in range(128) if chr(c).isspace())
_WHITESPACE_TO_SPACE = bytes.maketrans(_ASCII_WHITESPACE, b" " * len(_ASCII_WHITESPACE))

# Sentences that come and go between versions or are shared by sibling papers: a link,
# or something (code, data, a demo) being available (see _boilerplate).
_THINGS = (
    "code", "project", "website", "demo", "implementation", "checkpoint", "weight", "model",
    "data", "benchmark", "source", "tool", "librar", "package", "page",
)  # fmt: skip
_SPELLING_ENDINGS = (
    "ise", "ises", "ised", "ising", "isation", "isations", "iser", "isers", "our", "elling",
    "elled", "eller", "ellers", "tre", "ogue",
)  # fmt: skip
_SPELLING = (
    (re.compile(r"is(e|es|ed|ing|ation|ations|er|ers)$"), r"iz\1"),
    (re.compile(r"^(\w{3,})our$"), r"\1or"),
    (re.compile(r"ell(ing|ed|er|ers)$"), r"el\1"),
    (re.compile(r"^(\w{3,})tre$"), r"\1ter"),
    (re.compile(r"^(\w{3,})ogue$"), r"\1og"),
)


@dataclass(frozen=True, slots=True)
class _Title:
    numbers: tuple[str, ...]
    """Digit runs and part numerals (``II`` -> ``2``), in title order."""
    pluses: int
    greek: tuple[str, ...]
    content: tuple[str, ...]
    """Content words: function words, numbers, Greek letters and ``+`` taken out, one
    spelling per word."""
    title: str
    """The title itself, for :func:`_plain` (needed only when content words differ)."""


def _key_bytes(kind: str, data: bytes) -> str:
    return kind + hashlib.blake2b(data, digest_size=6).hexdigest()


def _key(kind: str, text: str) -> str:
    return _key_bytes(kind, text.encode())


def _title_words(title: str) -> list[str]:
    """``title_key(title).split()``, with a fast path for plain ASCII titles."""
    if title.isascii() and "&" not in title and "$" not in title and "\\" not in title:
        # One translation does what _NON_WORD.sub(" ", ...casefold()) does (three times
        # faster than the two regular expressions).
        return title.encode().translate(_TITLE_TABLE, _ASCII_CONTROLS).decode().split()
    return title_key(title).split()


def _raw_words(title: str) -> list[str]:
    """``_WORD.findall(title)``: runs of letters and digits, case kept."""
    if title.isascii():
        return title.encode().translate(_PUNCTUATION_TO_SPACE).decode().split()
    return _WORD.findall(title)


@lru_cache(maxsize=65536)
def _canon(word: str) -> str:
    """One spelling per word: singular, American spelling."""
    if len(word) < 4 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and (not word.endswith(("ss", "us", "is")) or _PU.match(word)):
        word = word[:-1]
    if word.endswith(_SPELLING_ENDINGS):
        for pattern, repl in _SPELLING:
            word = pattern.sub(repl, word)
    return word


def _is_part_numeral(words: list[str], i: int) -> bool:
    return words[i] in _ROMAN_AFTER and i > 0 and words[i - 1] in _PART_WORDS


def _content_of(words: list[str]) -> tuple[str, ...]:
    if "".join(words).isalpha() and _ROMAN_AFTER.keys().isdisjoint(words):
        # Most titles: no numbers, '+' or part numerals (_content_general, in C).
        return tuple(map(_canon, filterfalse(_NOT_CONTENT.__contains__, words)))
    return _content_general(words)


def _content_general(words: list[str]) -> tuple[str, ...]:
    """:func:`_content_of` for any words."""
    content = []
    for i, w in enumerate(words):
        if w in _NOT_CONTENT or (w in _ROMAN_AFTER and _is_part_numeral(words, i)):
            continue
        # Numbers and '+' are compared on their own; ``Sub-1-Bit`` and ``Sub1-Bit`` are
        # then one spelling.
        if not w.isalpha():
            w = _DIGITS.sub("", w.replace("+", ""))
        if w:
            content.append(_canon(w))
    return tuple(content)


@lru_cache(maxsize=8192)
def _content(title: str) -> tuple[str, ...]:
    return _content_of(_title_words(title))


@lru_cache(maxsize=8192)
def _title(title: str) -> _Title:
    words = _title_words(title)
    numbers: list[str] = []
    greek: list[str] = []
    letters_only = "".join(words).isalpha() and _MARKERS.isdisjoint(words)
    for i, w in enumerate(() if letters_only else words):
        if w in _ROMAN:
            numbers.append(str(_ROMAN[w]))
        elif w in _GREEK:
            greek.append(w)
        elif _is_part_numeral(words, i):
            numbers.append(str(_ROMAN_AFTER[w]))
        elif not w.isalpha():
            numbers.extend(m.lstrip("0") or "0" for m in _DIGITS.findall(w))
    greek.sort()
    return _Title(
        numbers=tuple(numbers),
        pluses="".join(words).count("+"),
        greek=tuple(greek),
        content=_content(title),
        title=title,
    )


@lru_cache(maxsize=8192)
def _plain(title: str) -> frozenset[str]:
    """Content words written in lower or Title case somewhere (not names like ``LLaMA``)."""
    return frozenset(
        _canon(t.casefold()) for t in _raw_words(title) if t[1:].islower() or len(t) == 1
    )


def _sentences(text: str) -> tuple[str, ...]:
    """Case-folded sentences, entities, LaTeX, Unicode variants and whitespace runs resolved."""
    if "&" in text:
        text = html.unescape(text)
    if "$" in text or "\\" in text:
        text = to_unicode(text)
    if text.isascii():
        return _ascii_sentences(text)
    text = unicodedata.normalize("NFKC", text)
    if "  " in text or "\n" in text or "\t" in text or "\r" in text or "\xa0" in text:
        text = " ".join(text.split())
    # Case is folded after splitting: the split looks for capitals.
    if text.isascii():
        return tuple(s.casefold() for s in _SENTENCE_END.split(text) if s)
    return tuple(_fold(s) for s in _SENTENCE_END.split(text) if s)


def _ascii_sentences(text: str) -> tuple[str, ...]:
    """_sentences of ASCII text."""
    # One-character tests first: they are ten times faster than the search for "  ".
    if "\n" in text or "\t" in text or "\r" in text or "  " in text:
        # " ".join(text.split()) without a string per word (five times faster).
        text = text.encode().translate(_WHITESPACE_TO_SPACE).decode()
        while "  " in text:
            text = text.replace("  ", " ")
        text = text.strip(" ")
    # Case is folded after splitting: the split looks for capitals.
    return tuple(s.casefold() for s in _SENTENCE_END.split(text) if s)


def _fold(sentence: str) -> str:
    sentence = sentence.casefold()
    return sentence if sentence.isascii() else sentence.translate(_GREEK_CHARS)


def _boilerplate(s: str) -> bool:
    """A link, or an availability statement ("code is available at ...")."""
    # Spelled out rather than any() over tuples or one regular expression (alternatives or
    # one pass over the whole text): substring tests are two to three times faster.
    if "http" in s or "github" in s or "www." in s or "huggingface.co" in s:
        return True
    if not (
        "availab" in s
        or "releas" in s
        or "public" in s
        or "open-source" in s
        or "open source" in s
        or "accessib" in s
    ):
        return False
    return any(t in s for t in _THINGS)


@lru_cache(maxsize=256)  # from block_keys to decide, for the same new sighting
def _parse(abstract: str) -> tuple[tuple[str, ...], dict[str, bool]]:
    """The folded sentences, and which are boilerplate as far as _abstract_keys looked
    (the longest ones): _abstract_words then tests only the others."""
    return _sentences(abstract), {}


def _sentence_key(sentence: str) -> str:
    """Key of a folded sentence: letters and digits only (spaces and punctuation out)."""
    if sentence.isascii():
        return _key_bytes("a", sentence.encode().translate(None, _ASCII_PUNCTUATION))
    return _key("a", "".join(_WORD.findall(sentence)))


@lru_cache(maxsize=KEYED_ABSTRACTS)
def _abstract_keys(abstract: str) -> tuple[str, ...]:
    """Keys of the longest sentences, boilerplate excluded (length in characters after
    whitespace collapsing, so line breaks, entities and LaTeX do not change the choice)."""
    sentences, known = _parse(abstract)
    keys = set()
    for sentence in sorted(sentences, key=len, reverse=True)[: SENTENCE_KEYS + 2]:
        if sentence.count(" ") + 1 >= MIN_SENTENCE_WORDS:
            known[sentence] = boilerplate = _boilerplate(sentence)
            if not boilerplate:
                keys.add(_sentence_key(sentence))
                if len(keys) == SENTENCE_KEYS:
                    break
    return tuple(sorted(keys))


def _maybe_boilerplate(text: str) -> bool:
    """False only when no sentence of ``text`` (ASCII, case folded) is
    :func:`_boilerplate`: the same substring tests on the whole text, with ``open`` for the
    spaced ``open source`` (sentences have their whitespace collapsed, the text not)."""
    if "http" in text or "github" in text or "www." in text or "huggingface.co" in text:
        return True
    if not (
        "availab" in text
        or "releas" in text
        or "public" in text
        or "open" in text
        or "accessib" in text
    ):
        return False
    return any(t in text for t in _THINGS)


@lru_cache(maxsize=COMPARED_ABSTRACTS)
def _abstract_words(abstract: str) -> tuple[str, ...]:
    """Folded words of the abstract, boilerplate sentences left out."""
    return _words(abstract)


def _words(abstract: str) -> tuple[str, ...]:
    """:func:`_abstract_words`, not cached."""
    plain = abstract.isascii() and "&" not in abstract and "$" not in abstract
    if plain and "\\" not in abstract and not _maybe_boilerplate(folded := abstract.lower()):
        # No sentence to leave out: the words of the whole text are those of its
        # sentences (what splits them is punctuation or space), without the split.
        return tuple(folded.encode().translate(_PUNCTUATION_TO_SPACE).decode().split())
    sentences, known = _parse(abstract)
    body = " ".join(
        s for s in sentences if not (_boilerplate(s) if (b := known.get(s)) is None else b)
    )
    if body.isascii():  # the same words as _WORD.findall, three times faster
        return tuple(body.encode().translate(_PUNCTUATION_TO_SPACE).decode().split())
    return tuple(_WORD.findall(body))


def fresh_vocabulary() -> None:
    """Start the word ids over when the vocabulary outgrows :data:`VOCABULARY` (hostile
    text); called between comparisons, never within one (ids compare only within one
    vocabulary)."""
    if len(_vocabulary) > VOCABULARY:
        _vocabulary.clear()
        _stored_ids.clear()


def _ids(words: tuple[str, ...]) -> array[int]:
    vocabulary = _vocabulary
    try:  # most texts have no new word
        return array("I", map(vocabulary.__getitem__, words))
    except KeyError:
        for word in set(words).difference(vocabulary):
            vocabulary[word] = len(vocabulary)
        return array("I", map(vocabulary.__getitem__, words))


def abstract_ids(abstract: str) -> array[int]:
    """:func:`_abstract_words` as word ids (a comparison of ids is one of words, and
    faster; the ids take a quarter of the memory)."""
    return _ids(_abstract_words(abstract))


def stored_ids(text_hash: str, abstract: str) -> array[int]:
    """:func:`abstract_ids` of a stored text, kept by its hash for the
    :data:`COMPARED_TEXTS` texts used last (a stored text never changes)."""
    ids = _stored_ids.get(text_hash)
    if ids is not None:
        _stored_ids.move_to_end(text_hash)
        return ids
    ids = _stored_ids[text_hash] = _ids(_words(abstract))
    if len(_stored_ids) > COMPARED_TEXTS:
        _stored_ids.popitem(last=False)
    return ids


def block_keys(title: str, abstract: str) -> list[str]:
    """At most ``3 + SENTENCE_KEYS`` short keys (``t``/``a`` + 12 hex digits); versions of
    one paper share at least one, unrelated papers rarely do.

    ``t`` keys hash the title skeleton (content words without numbers, markers, Greek
    letters or hyphenation) of the whole title and of its parts around the first colon
    or spaced dash (or of its halves; a head needs ``MIN_HEAD_WORDS``); ``a`` keys hash
    the longest abstract sentences, boilerplate excluded.
    """
    keys = set(_abstract_keys(abstract))
    parts = _TITLE_SEPARATOR.split(html.unescape(title) if "&" in title else title, maxsplit=1)
    if len(parts) == 2:
        head, tail = _content(parts[0]), _content(parts[1])
        whole = head + tail
    else:
        # Halves stand in for head and tail: a typo or a changed word in one half
        # leaves the other.
        whole = _content(title)
        half = len(whole) // 2
        head, tail = (whole[:half], whole[half:]) if len(whole) >= 5 else ((), ())
    if whole:
        keys.add(_key("t", "".join(whole)))
    if len(head) >= MIN_HEAD_WORDS and len("".join(head)) >= 4:
        keys.add(_key("t", "".join(head)))
    if len(tail) >= 3:
        keys.add(_key("t", "".join(tail)))
    return sorted(keys)


def entry_keys(entry: Entry, fuzzy: bool = True) -> EntryKeys:
    """The keys an entry is resolved by (pure: a worker may compute them)."""
    blocks = block_keys(entry.title, entry.abstract) if fuzzy else []
    return EntryKeys(title_key(entry.title), tuple(blocks), text_hash(entry.title, entry.abstract))


def new_paper_id(entry: Entry, keys: EntryKeys) -> str:
    """The id of a paper first seen in ``entry`` (derived from its title; the store adds a
    suffix when a forced split made two papers of one title)."""
    return "p" + stable_hash(keys.title or entry.title)
