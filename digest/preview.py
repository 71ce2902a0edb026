"""An abstract -> its preview (the sentence that says what the paper does) and the rest.

Input: an abstract as the store keeps it (LaTeX not yet converted), and the spans no
split may fall inside (inline math, URLs). Output: ``(preview, rest)``: the preview is
one contiguous stretch of the abstract, usually its contribution sentence ("In this
paper, we propose ...", "Here we show ...", "This work introduces ..."), picked by cue
phrases, not by a model, so the same abstract always gives the same preview; the rest
is the abstract without the preview, in order (what comes before it, then what comes
after), so nothing is invented and nothing is lost between the two.

When no sentence says what the paper does, the preview is the first sentence, as it
always was. Sentences are found by sentencex (the only sentencex user): it knows
abbreviations ("e.g.", "et al.", "Fig. 2") and decimal numbers, which a split at every
full stop does not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from sentencex import segment

Spans = Sequence[tuple[int, int]]
"""``(start, end)`` spans of a text."""

LEAD = 240
"""About how many characters of an abstract a page shows: a preview sentence shorter
than half of it takes the sentences after it, up to one and a half times it in all."""
SLACK = 120
"""How much longer than ``LEAD`` an abstract must be for a page to collapse part of it;
and the least the rest must hold (half of it) to be worth collapsing."""
LONGEST = 3 * LEAD
"""A longer preview is no sentence but a text the splitter found no end in: it is cut
at a space near ``LEAD`` instead."""

# --- What the paper does -----------------------------------------------------------------
# A sentence's score is the sum of the weights of the cues it holds, less the weights of
# the background marks it holds (searched only when it holds a cue). Each pattern is
# searched only in a sentence that holds its key word (``in`` tests on the short sentence
# are many times faster than a search, and most sentences hold none of them): a week page
# scores thousands of abstracts.

_ADVERB = (
    r"(?:(?:\w+ly|also|further|first|then|thus|hence|therefore|here|now|instead|in turn|"
    r"have|hereby|will|can|next|are able to|were able to),? ){0,2}"
)


# "this paper", "in the present study", "our work": the paper itself speaking.
def _after(head: str, rest: str, not_after: str = "") -> re.Pattern[str]:
    """``head`` as a word (not the end of a longer one), then ``rest``. The literal comes
    first so that a search looks for it as a string (ten times faster than a pattern
    starting with ``\\b``); the boundary is checked behind it."""
    behind = "" if head[0] == " " else rf"(?<!\w{re.escape(head)})"
    if not_after:
        behind += f"(?<!{re.escape(not_after + head)})"
    return re.compile(re.escape(head) + behind + rest)


def _any(patterns: tuple[re.Pattern[str], ...], low: str) -> bool:
    return any(pattern.search(low) for pattern in patterns)


_PAPER_NOUNS = (
    r"(?:paper|work|study|article|letter|manuscript|thesis|report|note|survey|review|"
    r"contribution|submission)s?\b"
)
_PAPER = tuple(
    _after(head, _PAPER_NOUNS) for head in ("this ", "the present ", "the current ", "our ")
)
# "This paper presents", "our work introduces": the paper says what it does.
_PAPER_DOES = re.compile(
    r"\b(?:paper|work|study|article|letter|survey|review)s? (?:\w+ly )?(?:presents|proposes|"
    r"introduces|develops|describes|shows|demonstrates|investigates|studies|explores|examines|"
    r"reports|provides|offers|establishes|argues|aims|seeks|addresses|tackles|focuses)\b"
)
_HERE = _after("here", r",? we\b")
# "we propose", "we further introduce": what the paper makes.
_WE_MAKE = _after(
    "we ",
    rf"{_ADVERB}(?:propose|present|introduce|develop|design|devise|put forward|describe|"
    r"formulate|build|construct|create|release|curate|offer|provide|contribute|establish|"
    r"derive|prove|unveil|pioneer)",
)
# "we show", "we study": what the paper finds or examines.
_WE_FIND = _after(
    "we ",
    rf"{_ADVERB}(?:show|find|demonstrate|report|study|investigate|explore|examine|"
    r"analy[sz]e|address|tackle|consider|focus|aim|seek|argue|identify|reveal|extend|"
    r"leverage|overcome|deliver|optimi[sz]e|improve|perform|conduct|carry out|revisit|"
    r"benchmark|characteri[sz]e|quantify|assess|evaluate|measure|compare|frame|cast|"
    r"reformulate|generali[sz]e|bridge|fill|take|make|train|fine-tune|learn|obtain|"
    r"achieve|observe|discover|uncover)",
)
# "A new method is proposed".
_PASSIVE = tuple(
    _after(
        head,
        r"(?:hereby |thus |therefore )?(?:proposed|presented|introduced|developed|described)\b",
    )
    for head in (" is ", " are ")
)
_TO = re.compile(
    r"to (?:this end|that end|address|tackle|overcome|solve|bridge|fill|mitigate|alleviate|"
    r"remedy|resolve|close|handle|fix|meet|answer)\b"
)
_OURS = _after(
    "our ",
    r"(?:\w+ )?(?:method|approach|framework|model|system|algorithm|technique|pipeline|"
    r"architecture|benchmark|dataset|solution|idea|key insight|proposal)s?\b",
)
_NEW = _after("our ", r"(?:proposed|new|novel)\b")
_A_NEW = tuple(_after(head, r"(?:novel|new)\b") for head in ("a ", "an "))

# What sets the scene, states a limitation, reports numbers or points at the code,
# rather than saying what the paper does.
_OPENERS = re.compile(
    r"(?:recent(?:ly)?|in recent years|over the (?:past|last)|with the|despite|"
    r"however|although|though|while|whereas|yet|but|existing|current(?:ly)?|"
    r"traditional(?:ly)?|conventional(?:ly)?|most|many|previous(?:ly)?|prior|"
    r"nowadays|today|as|since|unlike|in contrast|on the other hand|nevertheless|"
    r"moreover|furthermore|additionally|specifically|finally|overall|notably|"
    r"(?:extensive |experimental |comprehensive |empirical |numerical |our )?"
    r"(?:experiments?|results?|evaluations?|simulations?|findings|ablations?))\b"
)
_HAS_BECOME = tuple(
    _after(
        head,
        r"(?:\w+ly )?(?:become|emerged|gained|attracted|achieved|shown|demonstrated|been|"
        r"made|seen|received|drawn|revolutioni[sz]ed|enabled)\b",
        not_after="we",
    )
    for head in (" has ", " have ")
)
_LIMITS = re.compile(
    r"\bremain(?:s|ed)? (?:\w+ )?(?:challenging|a challenge|an open|unclear|difficult|"
    r"limited|underexplored|unexplored|elusive|unknown)|\bsuffer|\bstruggle|"
    r"\bfail(?:s|ed)? to\b|\blacks?\b|\blimitations?\b|\bbottleneck"
)
_CODE = re.compile(
    r"\b(?:code|data|models?|datasets?|weights|implementation)s? (?:\w+ )?(?:is|are|will be) "
    r"(?:\w+ly )?(?:available|released)|\bavailable (?:at|on|online)\b|github|https?://|"
    r"\bproject page\b"
)

THRESHOLD = 3
"""The least score of a preview sentence: below it no sentence says what the paper
does, and the preview is the first sentence."""


def bound(low: str) -> int:
    """The most :func:`score` can give the lower-cased sentence ``low``: the weights of the
    cues whose key words it holds (a few ``in`` tests, no search)."""
    total = 0
    if "this " in low or "our " in low or "the present " in low or "the current " in low:
        total += 10  # _PAPER (with _PAPER_DOES), _OURS, and "our" itself
    if "here" in low:
        total += 5
    if "we " in low:
        total += 6
    if "proposed" in low or "new " in low or "novel" in low:
        total += 3  # _NEW, _A_NEW
    if "posed" in low or "sented" in low or "duced" in low or "oped" in low or "ribed" in low:
        total += 3
    if low.startswith("to "):
        total += 2
    return total


def _limited(low: str) -> bool:
    """Whether the lower-cased sentence ``low`` states a limitation."""
    return (
        "remain" in low
        or "suffer" in low
        or "struggl" in low
        or "fail" in low
        or "lack" in low
        or "limitation" in low
        or "bottleneck" in low
    ) and bool(_LIMITS.search(low))


def score(sentence: str) -> int:
    """How clearly ``sentence`` says what the paper does (0 or less: not at all)."""
    low = sentence.lower()
    we, our = "we " in low, "our " in low
    total = 0
    if (our or "this " in low or "the present " in low or "the current " in low) and _any(
        _PAPER, low
    ):
        total += 8 if _PAPER_DOES.search(low) else 5
    if "here" in low and _HERE.search(low):
        total += 5
    if we:
        total += 1 + (5 if _WE_MAKE.search(low) else 3 if _WE_FIND.search(low) else 0)
    elif our:
        total += 1
    # A sentence that says what the paper makes or is about may well name the limitation
    # it overcomes ("..., we propose X to mitigate the bottleneck of Y").
    strong = total >= 5
    if our and _OURS.search(low):
        total += 1
    if ("proposed" in low or "new " in low or "novel" in low) and _NEW.search(low):
        total += 2
    if ("new " in low or "novel" in low) and _any(_A_NEW, low):
        total += 1
    if (
        "posed" in low or "sented" in low or "duced" in low or "oped" in low or "ribed" in low
    ) and _any(_PASSIVE, low):
        total += 3
    if low.startswith("to ") and _TO.match(low):
        total += 2
    if total <= 0:
        return 0
    if _OPENERS.match(low):
        total -= 2
    if not strong and (" has " in low or " have " in low) and _any(_HAS_BECOME, low):
        total -= 2
    if not strong and _limited(low):
        total -= 2
    if (
        "availab" in low or "releas" in low or "github" in low or "http" in low or "project" in low
    ) and (_CODE.search(low)):
        total -= 4
    return total


# --- Sentences -----------------------------------------------------------------------------


def sentences(text: str, unsplittable: Spans = ()) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, in order, without the whitespace
    around it; never ending inside one of the ``unsplittable`` spans."""
    spans: list[tuple[int, int]] = []
    at = 0
    for piece in _segments(text):
        size = len(piece)
        stripped = piece.strip()
        if not stripped:
            at += size
            continue
        start = at + (size - len(piece.lstrip()))
        end = start + len(stripped)
        at += size
        if spans and (_inside(unsplittable, spans[-1][1]) or _continues(text, start)):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    if at != len(text):  # the splitter lost or added text: take it as one sentence
        stripped = text.strip()
        return [(text.index(stripped), text.index(stripped) + len(stripped))] if stripped else []
    return spans


# Enumerators of a list in running text: "(1)", "(ii)", "(a)", "2)". sentencex takes
# two or more of them for a list and splits only between the items, so an item's
# sentences would be one; it is given them masked (same length, so the pieces it
# returns still cover the text character for character).
_ENUMERATOR = re.compile(r"[0-9]{1,2}|[ivx]{1,4}|[a-h]")
_ENUMERATOR_ENDS = frozenset("0123456789ivxabcdefgh")


def _masked(text: str) -> str:
    """``text`` with the brackets of its enumerators as ``_``."""
    chars: list[str] | None = None
    at = text.find(")")
    while at >= 0:
        if at and text[at - 1] in _ENUMERATOR_ENDS:  # most brackets close a word: "(LLMs)"
            start = at - 1
            while start > 0 and at - start < 4 and text[start - 1].isalnum():
                start -= 1
            before = text[start - 1] if start else " "
            if _ENUMERATOR.fullmatch(text, start, at) and before in "( \n:;,":
                chars = chars or list(text)
                chars[at] = "_"
                if before == "(":
                    chars[start - 1] = "_"
        at = text.find(")", at + 1)
    return "".join(chars) if chars else text


def _segments(text: str) -> tuple[str, ...]:
    """The lengths of sentencex's sentences of ``text`` (consecutive pieces that make up
    the text, whitespace included) as pieces of ``text``."""
    masked = _masked(text) if ")" in text else text
    try:
        pieces = segment("en", masked)
    except Exception:  # a native library: whatever it raises, the text is one sentence
        return (text,)
    out, at = [], 0
    for piece in pieces:
        out.append(text[at : at + len(piece)])
        at += len(piece)
    return tuple(out) if at == len(text) else (text,)


def _inside(spans: Spans, at: int) -> bool:
    return bool(spans) and any(start < at < end for start, end in spans)


def _continues(text: str, start: int) -> bool:
    """A "sentence" starting in lower case or with a closing bracket continues the last
    one (the splitter took an abbreviation it does not know for an end)."""
    first = text[start]
    return first.islower() or first in ")]},;:"


# --- The split -----------------------------------------------------------------------------


def split(
    text: str, unsplittable: Spans = (), lead: int = LEAD, slack: int = SLACK
) -> tuple[str, str]:
    """``(preview, rest)`` of an abstract: see the module docstring. Abstracts of at most
    ``lead + slack`` characters, or whose rest would be under ``slack // 2``, are not
    split (``(text, "")``)."""
    if len(text) <= lead + slack:
        return text, ""
    return _split(text, tuple(unsplittable), lead, slack)


# A paper's abstract is split for its week page and again for the summary of each theme
# feed it is in: the last few thousand splits are kept.
@lru_cache(maxsize=4096)
def _split(
    text: str, unsplittable: tuple[tuple[int, int], ...], lead: int, slack: int
) -> tuple[str, str]:
    start, end = preview_span(text, unsplittable, lead)
    before, after = text[:start].rstrip(), text[end:].lstrip()
    rest = f"{before} {after}" if before and after else before or after
    if start == end or len(rest) < slack // 2:
        return text, ""
    return text[start:end], rest


def preview_span(text: str, unsplittable: Spans = (), lead: int = LEAD) -> tuple[int, int]:
    """``(start, end)`` of the preview of ``text``."""
    spans = sentences(text, unsplittable)
    if not spans:
        return 0, 0
    # The sentence of the highest score (the first of equals), at least THRESHOLD: scored
    # in the order of their bounds, until no bound left can beat the best score.
    bounds = sorted(
        ((bound(text[start:end].lower()), -i) for i, (start, end) in enumerate(spans)),
        reverse=True,
    )
    best, best_score = 0, THRESHOLD - 1
    late = max(3, len(spans) - len(spans) // 4)
    for most, minus_i in bounds:
        i = -minus_i
        if most < best_score or (most == best_score and i > best):
            break
        value = score(text[spans[i][0] : spans[i][1]])
        if i >= late:  # the closing sentences sum up ("Our work shows ...")
            value -= 2
        if value > best_score or (value == best_score and i < best and value >= THRESHOLD):
            best, best_score = i, value
    start, end = spans[best]
    # A short preview takes the sentences after it (see LEAD).
    following = best + 1
    while end - start < lead // 2 and following < len(spans):
        if spans[following][1] - start > lead + lead // 2:
            break
        end = spans[following][1]
        following += 1
    if end - start > LONGEST:
        end = _cut(text, start, lead, unsplittable) or end
    return start, end


def _cut(text: str, start: int, lead: int, unsplittable: Spans) -> int:
    """The end of the last word that ends before ``start + lead`` and outside the
    ``unsplittable`` spans (0 if there is none)."""
    i = text.rfind(" ", start + 1, start + lead + 1)
    while i > start:
        if not _inside(unsplittable, i + 1):
            return len(text[:i].rstrip())
        i = text.rfind(" ", start + 1, i)
    return 0
