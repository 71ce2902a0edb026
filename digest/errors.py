"""Error types a user can cause, each with a sentence they can act on.

Input: nothing. Output: exception classes and the documented exit codes.
A :class:`DigestError` is turned into one clear line by the CLI, never a
traceback; anything else escaping is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Exit codes, documented in the README ("Exit codes").
EXIT_OK = 0
EXIT_FAILURE = 1  # a user mistake or an input that could not be used at all
EXIT_USAGE = 2  # click's own code for a bad command line
EXIT_WARNINGS = 3  # success, but some input was skipped or only partly read
EXIT_LOCKED = 4  # another run holds the feed's lock


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
