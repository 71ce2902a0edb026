"""LaTeX fragments in listing text -> readable Unicode (the only pylatexenc user).

Input: a title or abstract that may hold inline math (``$100\\times$``,
``PixArt-$\\alpha$``) or text commands (``\\textbf{UniHOI}``, ``\\%``).
Output: the same text with only those fragments converted. The rest of the
text is never handed to the LaTeX parser, so a plain ``20%`` is not taken
for a comment and prices such as ``$5 and $10`` stay as they are.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pylatexenc.latex2text import LatexNodes2Text

# Inline math: the opening $ is not followed by a space, the closing $ is not
# preceded by one nor followed by a digit (the usual TeX-in-Markdown rule).
MATH = re.compile(r"\$(?=\S)([^$\n]{1,200}?)(?<=\S)\$(?!\d)")
# A command with up to two brace groups, or an escaped special character.
COMMAND = re.compile(r"\\(?:[A-Za-z]+\*?(?:\{[^{}$\n]{0,200}\}){0,2}|[%&_#${}])")


@lru_cache(maxsize=1)
def _converter() -> LatexNodes2Text:
    return LatexNodes2Text(math_mode="text", strict_latex_spaces=True)


@lru_cache(maxsize=4096)
def _convert(fragment: str) -> str:
    try:
        text: str = _converter().latex_to_text(fragment)
    except Exception:  # pylatexenc raises assorted errors on odd input; keep the source text
        return fragment
    return text.strip() or fragment


def to_unicode(text: str) -> str:
    """Replace inline math and LaTeX commands in ``text`` by their Unicode reading."""
    if "$" not in text and "\\" not in text:
        return text
    text = MATH.sub(lambda m: _convert(m.group(0)), text)
    return COMMAND.sub(lambda m: _convert(m.group(0)), text)
