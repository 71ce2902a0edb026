"""Error types a user can cause, each with a sentence they can act on.

Input: nothing. Output: exception classes and the documented exit codes.
A :class:`DigestError` is turned into one clear line by the CLI, never a
traceback; anything else escaping is a bug.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

# Exit codes, documented in the README ("Exit codes").
EXIT_OK = 0
EXIT_FAILURE = 1  # a user mistake or an input that could not be used at all
EXIT_USAGE = 2  # click's own code for a bad command line
EXIT_WARNINGS = 3  # success, but some input was skipped or only partly read
EXIT_LOCKED = 4  # another run holds the feed's lock


_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"  # a byte of a non-UTF-8 file name (surrogateescape)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` safe to print on a terminal, on one line: control characters (ESC, CR, LF,
    ...), Unicode line breaks, bidi overrides and lone surrogates become ``\\x1b``-style
    escapes. Every message printer applies it to what it prints."""
    return _UNPRINTABLE.sub(_escape, text)


Severity = Literal["notice", "warning"]
"""How much a problem matters. A ``notice`` is worth saying and changes nothing (a source
pattern that matches no file yet); a ``warning`` means input was skipped or only partly
read: the run exits 3 (1 under ``--strict``)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in an input file, located as precisely as we can."""

    file: str
    """The file name (or config path) the problem is in."""
    line: int | None
    """1-based line number, when known."""
    message: str
    """What is wrong, as a sentence fragment a user can act on."""
    column: int | None = None
    """1-based column, when known."""
    severity: Severity = "warning"
    """Set where the problem is found; the CLI turns it into a log level and an exit code."""

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


class DigestError(Exception):
    """Base class for errors caused by the user's input or environment."""

    exit_code = EXIT_FAILURE
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class ConfigError(DigestError):
    """feed.yaml is missing or invalid; carries every problem found at once."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the configuration"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))


class LockedError(DigestError):
    """Another digest process is working on the same feed."""

    exit_code = EXIT_LOCKED
    hint = "wait for the other run to finish, or raise --lock-timeout"


class StoreError(DigestError):
    """The SQLite store cannot be opened or is from an unknown schema version."""


class StoreDamagedError(StoreError):
    """The store file is damaged: not a database, malformed pages, an unreadable schema
    version. Nothing digest can repair by itself."""

    hint = (
        "restore the store from a backup, or move it away: the next run reads every "
        "listing again, but the record of which weeks were mailed is lost"
    )


class MailError(DigestError):
    """Building or delivering an email failed."""


class OutputError(DigestError):
    """The output folder cannot be used (it holds the feed's own files) or written (read
    only, full disk); names the path."""


class EnvironmentProblem(DigestError):
    """The disk, a permission or the store file failed under a run (not the input's fault
    nor digest's): a full disk, a read-only folder, a damaged or unwritable store."""


_OS_HINTS = {
    errno.ENOSPC: "free some space on that disk, then run again",
    errno.EDQUOT: "the disk quota is used up: free some space, then run again",
    errno.EROFS: "that file system is read-only: choose another folder or remount it",
    errno.EACCES: "check that the user running digest may read and write there",
    errno.EPERM: "check that the user running digest may read and write there",
}
_OS_VERBS = {
    errno.ENOSPC: "write",
    errno.EDQUOT: "write",
    errno.EROFS: "write",
    errno.ENOENT: "find",
}


def os_hint(err: OSError) -> str | None:
    """What a user can do about ``err`` (a full disk, a read-only folder, ...), if we know."""
    return _OS_HINTS.get(err.errno or 0)


def environment_error(err: Exception, action: str) -> EnvironmentProblem | None:
    """The message for an OSError or SQLite error that escaped ``action`` (``'digest run'``);
    None when ``err`` is a bug in digest, whose traceback must stay visible.

    The boundary: an OSError comes from the world (disk, permissions, network), and so
    do SQLite's OperationalError (disk full, I/O error, read-only or locked file) and
    plain DatabaseError (a damaged file). IntegrityError, ProgrammingError, DataError
    and InterfaceError mean digest's own SQL is wrong, so they are left to surface."""
    if isinstance(err, OSError):
        code = err.errno or 0
        where = " -> ".join(
            os.fsdecode(name) if isinstance(name, bytes) else str(name)
            for name in (err.filename, err.filename2)
            if name is not None
        )
        reason = err.strerror or str(err) or type(err).__name__
        verb = _OS_VERBS.get(code, "use")
        text = f"cannot {verb} {where}: {reason}" if where else reason
        text += f" (during {action})"
        return EnvironmentProblem(text, hint=os_hint(err))
    bugs = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.DataError)
    if isinstance(err, sqlite3.DatabaseError) and not isinstance(err, bugs):
        return EnvironmentProblem(
            f"the store failed: {err} (during {action})",
            hint="if the disk is full or read-only, fix that and run again; "
            "if the store file is damaged, restore it from a backup",
        )
    return None
