"""Option types for feed.yaml: each reads one value at a key path and records what is wrong.

Input: plain data from :mod:`digest.yamlsrc` with its :class:`~digest.yamlsrc.Source`.
Output: the typed value, or :data:`WRONG` after recording one problem located
``feed.yaml:LINE:COL: key.path: problem`` in a :class:`Problems`. A section declares
its options once (:class:`Section`: key -> option, in the order problems are reported);
defaults live in the dataclass the section fills, so a missing or wrong value takes
the dataclass default. Reading never stops at the first problem: the user sees every
one at once.

Imports nothing of digest but :mod:`digest.yamlsrc` and :mod:`digest.errors`, so every
section (feed, rules, identity, email) can use it without an import cycle.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final, Generic, TypeVar

from digest.errors import Problem
from digest.yamlsrc import Path, Source, describe, shown

T = TypeVar("T")


class _Wrong:
    """The type of :data:`WRONG`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "WRONG"


WRONG: Final = _Wrong()
"""What an option gives for a wrong value (its problem is already recorded)."""


class Problems:
    """Every problem found while reading one document, in the order found."""

    __slots__ = ("found", "source")

    def __init__(self, source: Source) -> None:
        self.source = source
        self.found: list[Problem] = []

    def bad(self, path: Path, message: str) -> None:
        """A problem with the value at ``path``."""
        self.found.append(self.source.problem(path, message))

    def bad_key(self, path: Path, message: str) -> None:
        """A problem with the key naming ``path`` (unknown, colliding, naming an empty rule)."""
        self.found.append(self.source.key_problem(path, message))

    def __bool__(self) -> bool:
        return bool(self.found)


def unknown_keys(
    spec: Mapping[str, Any],
    known: Collection[str],
    path: Path,
    problems: Problems,
    special: Mapping[str, str] | None = None,
) -> None:
    """Record each key of ``spec`` not in ``known``, with the closest known key as a hint
    (``special`` gives a message of its own for a key people are known to try)."""
    listed = ", ".join(sorted(known))
    for key in spec:
        if key in known:
            continue
        if special and key in special:
            problems.bad_key((*path, key), special[key])
            continue
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        problems.bad_key((*path, key), f"unknown key ({hint}known: {listed})")


class Option(Generic[T]):
    """One value of feed.yaml. ``optional``: an explicit null counts as absent;
    ``required``: absence is a problem (told as ``got nothing``).

    Options are plain slotted classes, not dataclasses: they are built at import time
    of every run, and a frozen dataclass costs a few milliseconds to create."""

    __slots__ = ("optional", "required")

    def __init__(self, *, optional: bool = False, required: bool = False) -> None:
        self.optional = optional
        self.required = required

    def check(self, value: Any, path: Path, problems: Problems) -> T | _Wrong:
        """``value`` as the option's type, or WRONG with its problem recorded."""
        raise NotImplementedError

    def get(self, raw: Mapping[str, Any], key: str, path: Path, problems: Problems) -> T | None:
        """The value of ``key`` in ``raw``; None when absent (or null when optional) or wrong."""
        if key not in raw or (self.optional and raw[key] is None):
            return None
        value = self.check(raw[key], (*path, key), problems)
        return None if isinstance(value, _Wrong) else value


class Text(Option[str]):
    """A string (also the base of :func:`url` and :func:`address`); ``test`` says what is
    wrong with a given string (None when it is fine)."""

    __slots__ = ("expected", "nonempty", "test")
    expected: str
    """Named in the problem when the value is not text: ``expected {expected}, got ...``."""
    test: Callable[[str], str | None] | None
    """The problem with a given text, as a full message, or None."""
    nonempty: bool
    """Blank text is wrong too."""

    def __init__(
        self,
        *,
        expected: str = "text",
        test: Callable[[str], str | None] | None = None,
        nonempty: bool = False,
        optional: bool = False,
        required: bool = False,
    ) -> None:
        super().__init__(optional=optional, required=required)
        self.expected = expected
        self.test = test
        self.nonempty = nonempty

    def check(self, value: Any, path: Path, problems: Problems) -> str | _Wrong:
        if not isinstance(value, str) or (self.nonempty and not value.strip()):
            problems.bad(path, f"expected {self.expected}, got {describe(value)}")
            return WRONG
        if self.test is not None and (why := self.test(value)) is not None:
            problems.bad(path, why)
            return WRONG
        return value


def url(
    expected: str,
    pattern: str,
    *,
    shown_as: Callable[[str], str] = repr,
    optional: bool = False,
    required: bool = False,
) -> Text:
    """Text matching ``pattern``: ``expected {expected}, got 'ftp://...'``."""
    compiled = re.compile(pattern)

    def test(text: str) -> str | None:
        return None if compiled.match(text) else f"expected {expected}, got {shown_as(text)}"

    return Text(expected=expected, test=test, optional=optional, required=required)


def address(expected: str, why: Callable[[str], str | None], *, required: bool = False) -> Text:
    """One email address; ``why`` says what is wrong with a given one (None: valid)."""

    def test(text: str) -> str | None:
        problem = why(text)
        return None if problem is None else f"not one valid email address ({problem})"

    return Text(expected=expected, test=test, required=required)


class Flag(Option[bool]):
    """``true`` or ``false``."""

    __slots__ = ()

    def check(self, value: Any, path: Path, problems: Problems) -> bool | _Wrong:
        if not isinstance(value, bool):
            problems.bad(path, f"expected true or false, got {describe(value)}")
            return WRONG
        return value


class Whole(Option[int]):
    """A whole number from ``low`` to ``high``."""

    __slots__ = ("expected", "high", "low")
    low: int
    high: int
    expected: str
    """The whole ``expected ...`` phrase; default ``a whole number from {low} to {high}``."""

    def __init__(
        self,
        *,
        low: int = 0,
        high: int = 0,
        expected: str = "",
        optional: bool = False,
        required: bool = False,
    ) -> None:
        super().__init__(optional=optional, required=required)
        self.low = low
        self.high = high
        self.expected = expected

    def check(self, value: Any, path: Path, problems: Problems) -> int | _Wrong:
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not self.low <= value <= self.high
        ):
            expected = self.expected or f"a whole number from {self.low} to {self.high:,}"
            problems.bad(path, f"expected {expected}, got {shown(value)}")
            return WRONG
        return value


class Number(Option[float]):
    """A finite number from ``low`` (above it with ``above``) to ``high``, as a float.

    NaN fails every comparison, so it is refused with ``.inf`` and ``10**50``: a NaN
    weight or priority would make scores and theme ranking depend on list order."""

    __slots__ = ("above", "high", "low", "typed", "what")
    low: float
    high: float
    above: bool
    what: str
    typed: bool
    """A value that is no number at all is told ``expected {what}`` without the range."""

    def __init__(
        self,
        *,
        low: float = 0.0,
        high: float = 0.0,
        above: bool = False,
        what: str = "a number",
        typed: bool = False,
        optional: bool = False,
        required: bool = False,
    ) -> None:
        super().__init__(optional=optional, required=required)
        self.low = low
        self.high = high
        self.above = above
        self.what = what
        self.typed = typed

    def check(self, value: Any, path: Path, problems: Problems) -> float | _Wrong:
        relation = f"above {self.low:g}" if self.above else f"from {self.low:g}"
        expected = f"{self.what} {relation} to {self.high:g}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.bad(
                path, f"expected {self.what if self.typed else expected}, got {describe(value)}"
            )
            return WRONG
        low_ok = self.low < value if self.above else self.low <= value
        if not low_ok or not value <= self.high:
            problems.bad(path, f"expected {expected}, got {shown(value)}")
            return WRONG
        return float(value)


class Choice(Option[T]):
    """One of a fixed set of texts, mapped to a value (``{"both": ("title", "abstract")}``)."""

    __slots__ = ("choices", "expected", "noun")
    choices: Mapping[str, T]
    expected: str
    """``expected {expected}, got ...``; when empty: ``unknown {noun} 'x' (known: ...)``."""
    noun: str

    def __init__(
        self,
        choices: Mapping[str, T],
        *,
        expected: str = "",
        noun: str = "",
        optional: bool = False,
        required: bool = False,
    ) -> None:
        super().__init__(optional=optional, required=required)
        self.choices = choices
        self.expected = expected
        self.noun = noun

    def check(self, value: Any, path: Path, problems: Problems) -> T | _Wrong:
        if isinstance(value, str) and value in self.choices:
            return self.choices[value]
        if self.expected:
            problems.bad(path, f"expected {self.expected}, got {describe(value)}")
        else:
            known = ", ".join(self.choices)
            problems.bad(path, f"unknown {self.noun} {value!r} (known: {known})")
        return WRONG


def choice(*names: str, expected: str = "", noun: str = "") -> Choice[str]:
    """A choice among ``names``, each standing for itself."""
    return Choice(choices={n: n for n in names}, expected=expected, noun=noun)


class ListOf(Option[tuple[T, ...]]):
    """A list of ``item``; a single item stands for a list of one (reported at the key)."""

    __slots__ = ("empty", "expected", "item", "single")
    item: Option[T]
    expected: str
    """``expected {expected}, got ...`` when the value is neither a list nor one item."""
    single: tuple[type, ...]
    """Types that are one item rather than a list."""
    empty: str
    """The problem with an empty list, when it must not be empty."""

    def __init__(
        self,
        item: Option[T],
        *,
        expected: str = "a list",
        single: tuple[type, ...] = (str,),
        empty: str = "",
        optional: bool = False,
        required: bool = False,
    ) -> None:
        super().__init__(optional=optional, required=required)
        self.item = item
        self.expected = expected
        self.single = single
        self.empty = empty

    def check(self, value: Any, path: Path, problems: Problems) -> tuple[T, ...] | _Wrong:
        if isinstance(value, self.single):
            one = self.item.check(value, path, problems)
            return WRONG if isinstance(one, _Wrong) else (one,)
        if not isinstance(value, list):
            problems.bad(path, self.empty or f"expected {self.expected}, got {describe(value)}")
            return WRONG
        if not value and self.empty:
            problems.bad(path, self.empty)
            return WRONG
        out = [self.item.check(item, (*path, i), problems) for i, item in enumerate(value)]
        return tuple(v for v in out if not isinstance(v, _Wrong))


class Shape(Option[T]):
    """A value of some shape ``convert`` knows (a pair, a date...): it gives the value,
    or None when ``value`` is not of that shape and ``message`` is the problem."""

    __slots__ = ("convert", "message")
    convert: Callable[[Any], T | None]
    message: str

    def __init__(
        self,
        convert: Callable[[Any], T | None],
        *,
        message: str,
        optional: bool = False,
        required: bool = False,
    ) -> None:
        super().__init__(optional=optional, required=required)
        self.convert = convert
        self.message = message

    def check(self, value: Any, path: Path, problems: Problems) -> T | _Wrong:
        converted = self.convert(value)
        if converted is None:
            problems.bad(path, self.message)
            return WRONG
        return converted


class Subset(Option[tuple[str, ...]]):
    """A list drawn from fixed names (``formats: [html, rss]``), judged as a whole."""

    __slots__ = ("choices",)
    choices: tuple[str, ...]

    def __init__(
        self, *, choices: tuple[str, ...] = (), optional: bool = False, required: bool = False
    ) -> None:
        super().__init__(optional=optional, required=required)
        self.choices = choices

    def check(self, value: Any, path: Path, problems: Problems) -> tuple[str, ...] | _Wrong:
        if not isinstance(value, list) or any(v not in self.choices for v in value):
            problems.bad(path, f"expected a list drawn from {', '.join(self.choices)}")
            return WRONG
        return tuple(value)


class Section(Option[dict[str, Any]]):
    """A mapping with known keys, each read by its option, in declaration order.

    Gives only the keys present and right, ready for ``SomeConfig(**values)``: absent
    and wrong ones take the dataclass defaults, which are thus written once."""

    __slots__ = ("expected", "extra", "names", "options", "special")
    options: Mapping[str, Option[Any]]
    extra: Collection[str]
    """Keys also allowed, read by the caller (cross-key rules)."""
    special: Mapping[str, str]
    """Unknown keys with a message of their own."""
    names: Mapping[str, str]
    """feed.yaml key -> field name, where they differ (``from`` -> ``sender``)."""
    expected: str

    def __init__(
        self,
        options: Mapping[str, Option[Any]],
        *,
        extra: Collection[str] = (),
        special: Mapping[str, str] | None = None,
        names: Mapping[str, str] | None = None,
        expected: str = "a mapping",
        optional: bool = False,
        required: bool = False,
    ) -> None:
        super().__init__(optional=optional, required=required)
        self.options = options
        self.extra = extra
        self.special = special or {}
        self.names = names or {}
        self.expected = expected

    def check(self, value: Any, path: Path, problems: Problems) -> dict[str, Any] | _Wrong:
        if not isinstance(value, dict):
            problems.bad(path, f"expected {self.expected}, got {describe(value)}")
            return WRONG
        unknown_keys(value, {*self.options, *self.extra}, path, problems, self.special)
        return self.fields(value, path, problems)

    def fields(self, value: Mapping[str, Any], path: Path, problems: Problems) -> dict[str, Any]:
        """The declared options of the mapping ``value`` (its keys checked elsewhere)."""
        out: dict[str, Any] = {}
        for key, option in self.options.items():
            if option.required and key not in value:
                option.check(None, (*path, key), problems)
                continue
            got = option.get(value, key, path, problems)
            if got is not None:
                out[self.names.get(key, key)] = got
        return out
