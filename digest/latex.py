"""LaTeX fragments in listing text -> readable Unicode (the only pylatexenc user).

Input: a title or abstract that may hold inline math (``$100\\times$``,
``PixArt-$\\alpha$``), text commands (``\\textbf{UniHOI}``, ``\\%``), macros of the
paper's own (``\\hiformer``), grouping braces (``PIXART-{δ}``) or scripts (``H_2O``).
Output: the same text with only those fragments converted. The rest of the text is
never handed to the LaTeX parser, so a plain ``20%`` is not taken for a comment and
prices such as ``$5 and $10`` stay as they are.

:func:`to_unicode` converts math and commands (the identity and tagging keys use it);
:func:`readable`, the text every output shows, also writes scripts as Unicode
sub- and superscripts where Unicode has them (``H₂O``, ``n²``, ``M³ViT``; ``x_ij``
otherwise) and drops grouping braces, so no brace or backslash command is left.

pylatexenc reports what it cannot convert through its logger (``macro '\\frac' failed
its substitution!``) and leaves ``%s`` placeholders in its text: here its loggers
print nothing (they only tell this module that a conversion failed), and a fragment
that failed is shown as plain text instead (commands by their names, no braces).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

# Inline math: the opening $ is not followed by a space, the closing $ is not
# preceded by one nor followed by a digit (the usual TeX-in-Markdown rule).
MATH = re.compile(r"\$(?=\S)([^$\n]{1,200}?)(?<=\S)\$(?!\d)")
# A command with up to two brace groups, an escaped special character, an accent
# (``\"o``) or a spacing command (``\,``).
COMMAND = re.compile(
    r"\\(?:[A-Za-z]+\*?(?:\{[^{}$\n]{0,200}\}){0,2}|[%&_#${}]|[\"'`^~=.](?:[A-Za-z]|\{[A-Za-z]\}))"
)
# Spacing commands and a line break: a space.
_SPACING = re.compile(r"\s*\\(?:[,;:! ]|\\)\s*")
# An old-style font switch and the brace group it is in: ``{\\em word}``, ``{\\bf B}``.
_SWITCH = re.compile(
    r"\{\\(?:em|bf|it|rm|sc|tt|sf|sl|bfseries|itshape|ttfamily|scshape|sffamily|rmfamily|"
    r"upshape|mdseries|normalfont)\s+([^{}]*)\}"
)
# A script: ``^`` or ``_`` and a brace group, a command or one character.
_SCRIPT = re.compile(r"([_^])(?:\{([^{}$\n]{1,30})\}|(\\[A-Za-z]+)|([^\s{}\\$]))")
# Outside math only digits (or a brace group) after a letter, digit or bracket are
# scripts: ``H_2O``, ``M^3ViT``, ``x^{ij}``; ``snake_case`` and ``a_b`` are left alone.
_TEXT_SCRIPT = re.compile(r"(?<=[A-Za-z0-9)\]])([_^])(?:\{([^{}$\n\s]{1,30})\}|([0-9]))")
# A grouping brace pair left in text (``PIXART-{δ}``, ``{SST}``): one without spaces.
_GROUP = re.compile(r"\{([^{}\s]{0,60})\}")
_NAME = re.compile(r"\\([A-Za-z]+)\*?")
# TeX's \romannumeral and the number after it: "(\romannumeral2)" reads "(ii)".
_ROMAN = re.compile(r"\\romannumeral\s*([0-9]{1,4})")
_ROMAN_DIGITS = (
    (1000, "m"),
    (900, "cm"),
    (500, "d"),
    (400, "cd"),
    (100, "c"),
    (90, "xc"),
    (50, "l"),
    (40, "xl"),
    (10, "x"),
    (9, "ix"),
    (5, "v"),
    (4, "iv"),
    (1, "i"),
)

_SUPER = dict(
    zip(
        "0123456789+-−=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ",
        strict=True,
    )
) | {"\\top": "ᵀ", "\\prime": "′", "\\circ": "°", "\\dagger": "†", "\\ast": "*", "*": "*", "'": "′"}
_SUB = dict(
    zip("0123456789+-−=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True)
)


class _Failures(logging.Handler):
    """Counts what pylatexenc logs at WARNING or above (a conversion it could not do),
    instead of printing it."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


_FAILURES = _Failures()
# pylatexenc's own loggers only: they report to this module and never reach the
# terminal (nor the root logger's handlers, such as a JSON log); other loggers are
# left as they are.
_LOGGER = logging.getLogger("pylatexenc")
_LOGGER.addHandler(_FAILURES)
_LOGGER.propagate = False


def _fraction(node: Any, l2tobj: Any) -> str:
    """``\\frac{a}{b}`` as ``a/b``, whatever number of arguments it was given."""
    args = node.nodeargd.argnlist if node.nodeargd else []
    texts = [l2tobj.nodelist_to_text([arg]).strip() for arg in args if arg is not None]
    return "/".join(text for text in texts if text)


def _name(node: Any, macroname: str) -> str:
    """A macro pylatexenc does not know (the paper's own ``\\hiformer``): its name."""
    return macroname


@lru_cache(maxsize=1)
def _converter() -> LatexNodes2Text:
    db = get_default_latex_context_db()
    fractions = [MacroTextSpec(n, simplify_repl=_fraction) for n in ("frac", "dfrac", "tfrac")]
    db.add_context_category("digest", macros=fractions, prepend=True)
    # A macro pylatexenc does not know (the paper's own \hiformer) reads as its name.
    db.set_unknown_macro_spec(MacroTextSpec("", simplify_repl=_name))
    return LatexNodes2Text(latex_context=db, math_mode="text", strict_latex_spaces=True)


@lru_cache(maxsize=4096)
def _convert(fragment: str) -> str:
    """``fragment`` (math without its dollars, or one command) as Unicode text."""
    before = _FAILURES.count
    try:
        text: str = _converter().latex_to_text(fragment)
    except Exception:  # pylatexenc raises assorted errors on odd input
        return _plain(fragment)
    if _FAILURES.count != before or ("%s" in text and "%s" not in fragment):
        return _plain(fragment)
    return text.strip()  # empty for a macro that shows nothing (\\noindent)


def _plain(fragment: str) -> str:
    """A fragment pylatexenc could not convert, as plain text: commands by their names,
    escaped characters as themselves, no braces."""
    text = re.sub(r"\\([^A-Za-z])", r"\1", _NAME.sub(r"\1", fragment))
    return text.replace("{", "").replace("}", "").strip() or fragment


def to_unicode(text: str) -> str:
    """Replace inline math and LaTeX commands in ``text`` by their Unicode reading."""
    if "$" not in text and "\\" not in text:
        return text
    text = MATH.sub(lambda m: _convert(m.group(1)), text)
    return COMMAND.sub(lambda m: _convert(m.group(0)), text)


def readable(text: str) -> str:
    """``text`` as outputs show it: :func:`to_unicode`, with scripts as Unicode sub- and
    superscripts where it has them, grouping braces dropped outside math and spacing
    commands as spaces: no brace pair without a space in it, no backslash command."""
    if "$" not in text and "\\" not in text and "{" not in text:
        if "^" not in text and "_" not in text:
            return text
        return _TEXT_SCRIPT.sub(_script, text)
    if "$" not in text:
        return _text(text)
    parts: list[str] = []
    last = 0
    for m in MATH.finditer(text):
        parts.append(_text(text[last : m.start()]))
        parts.append(_convert(_SCRIPT.sub(_script, _SPACING.sub(" ", m.group(1)))))
        last = m.end()
    parts.append(_text(text[last:]))
    return "".join(parts)


def _text(text: str) -> str:
    """:func:`readable` of text outside math."""
    if "^" in text or "_" in text:
        text = _TEXT_SCRIPT.sub(_script, text)
    if "\\" in text:
        text = _SPACING.sub(" ", _SWITCH.sub(r"\1", text))
        if "\\romannumeral" in text:
            text = _ROMAN.sub(_roman, text)
        text = COMMAND.sub(lambda m: _convert(m.group(0)), text)
    if "{" in text:
        text = _GROUP.sub(r"\1", text)
    return text


def _roman(m: re.Match[str]) -> str:
    """``\\romannumeral N`` as TeX shows it: N in lower-case Roman numerals."""
    number, out = int(m.group(1)), []
    for value, letters in _ROMAN_DIGITS:
        count, number = divmod(number, value)
        out.append(letters * count)
    return "".join(out)


def _script(m: re.Match[str]) -> str:
    """One script as Unicode when every character of it has a sub- or superscript form,
    else as ``^ab``/``_ab`` (no braces)."""
    mark = m.group(1)
    body = next((group for group in m.groups()[1:] if group), "")
    table = _SUPER if mark == "^" else _SUB
    if body in table:  # one character or one command (\top, \prime)
        return table[body]
    if all(char in table for char in body):
        return "".join(table[char] for char in body)
    return mark + body
