"""User regular expressions (``re:`` terms, ``{regex: ...}``) compiled for a linear-time engine.

Input: a term's pattern as written in feed.yaml (Python ``re`` syntax) and whether it
is case-sensitive. Output: a compiled :class:`UserPattern` (google-re2), or the reason
it is refused. The only module that imports re2.

Why re2: Python's ``re`` backtracks, so a pattern such as ``(a|a)*b`` takes time
exponential in the text. re2 runs in time linear in the text for every
pattern it accepts, and refuses what it cannot run that way (backreferences,
lookaround, atomic groups and possessive repeats): those are refused here, at
config time, with re2's reason.

The pattern is rewritten so that it keeps the meaning it has in Python on the
folded text: ``\\w``/``\\W``/``\\d``/``\\D`` mean Unicode letters, digits and ``_``
(re2's own classes are ASCII-only), ``\\Z`` is re2's ``\\z``, ``\\uXXXX`` and
``\\UXXXXXXXX`` become ``\\x{...}`` and ``{,n}`` becomes ``{0,n}``. ``\\b`` and ``\\B``
stay re2's: a boundary between an ASCII letter, digit or ``_`` and anything else
(re2 has no Unicode word boundary).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any, Protocol

# google-re2 ships no type stubs; the two calls used are wrapped by UserPattern below.
_re2: Any = importlib.import_module("re2")

ENGINE = "re2"
"""The engine every user pattern is compiled with (tests assert it)."""

_WORD = r"\p{L}\p{N}_"
"""Python's Unicode ``\\w`` (``str.isalnum()`` or ``_``) as re2 class items."""
_OUTSIDE = {"w": f"[{_WORD}]", "W": f"[^{_WORD}]", "d": r"\p{Nd}", "D": r"\P{Nd}", "Z": r"\z"}
_INSIDE = {"w": _WORD, "d": r"\p{Nd}"}


class Match(Protocol):
    """What a search returns (the part of ``re.Match`` digest reads)."""

    def start(self) -> int: ...
    def end(self) -> int: ...
    def group(self, index: int = 0, /) -> str: ...


@dataclass(frozen=True, slots=True)
class UserPattern:
    """One user pattern compiled by re2."""

    source: str
    """The pattern as written in feed.yaml."""
    translated: str
    """The pattern given to re2 (see the module docstring)."""
    compiled: Any
    """re2's compiled pattern."""
    engine: str = ENGINE
    """The engine that runs it."""

    def search(self, text: str) -> Match | None:
        """The first match in ``text``, or None; time linear in ``len(text)``."""
        found: Match | None = self.compiled.search(text)
        return found


def compile_user(body: str, case: bool) -> UserPattern | str:
    """``body`` compiled (case-insensitive unless ``case``), or why it is refused."""
    try:
        # Python's syntax is the documented one: its parser names a mistake best.
        # Compiling never matches, so no pattern can make this slow.
        re.compile(body, 0 if case else re.IGNORECASE)
    except re.error as err:
        return f"invalid regular expression: {err}"
    except (RecursionError, OverflowError):
        return "the regular expression is nested too deeply"
    translated = translate(body)
    if not isinstance(translated, tuple):
        return translated
    options = _re2.Options()
    options.case_sensitive = case
    options.log_errors = False  # re2 would print each refused pattern on stderr
    try:
        compiled = _re2.compile(translated[0], options)
    except _re2.error as err:
        why = err.args[0] if err.args else err
        why = why.decode("utf-8", "replace") if isinstance(why, bytes) else str(why)
        return (
            f"re2, the linear-time engine user patterns run in, cannot run this "
            f"pattern ({why}): backreferences, lookahead, lookbehind, atomic groups "
            "and possessive repeats cannot be used"
        )
    return UserPattern(body, translated[0], compiled)


def translate(body: str) -> tuple[str] | str:
    """``body`` with Python's Unicode classes and spellings in re2 syntax (one tuple), or
    why it cannot be translated."""
    out: list[str] = []
    i, n, in_class = 0, len(body), False
    while i < n:
        char = body[i]
        if char == "\\" and i + 1 < n:
            nxt = body[i + 1]
            if nxt in "uU":
                width = 4 if nxt == "u" else 8
                digits = body[i + 2 : i + 2 + width]
                if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                    return f"invalid regular expression: bad escape \\{nxt}{digits}"
                out.append(f"\\x{{{digits}}}")
                i += 2 + width
                continue
            if in_class and nxt in "WD":
                return (
                    f"'\\{nxt}' inside [...] cannot be run by re2, the linear-time engine "
                    f"used; write it outside the brackets"
                )
            table = _INSIDE if in_class else _OUTSIDE
            out.append(table.get(nxt, char + nxt))
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            out.append(char)
            i += 1
            # A ']' right after '[' or '[^' is a literal in both engines.
            if body.startswith("^", i):
                out.append("^")
                i += 1
            if body.startswith("]", i):
                out.append("]")
                i += 1
            continue
        elif char == "{" and body.startswith("{,", i):
            out.append("{0,")
            i += 2
            continue
        out.append(char)
        i += 1
    return ("".join(out),)
