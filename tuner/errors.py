"""tuner's exceptions: one hierarchy, each carrying the exit code the CLI returns for it."""

from __future__ import annotations


class TunerError(Exception):
    """Base of every error tuner reports to a user as a message rather than a traceback."""

    exit_code = 1

    def lines(self) -> list[str]:
        """The message, one problem a line."""
        return str(self).splitlines() or [type(self).__name__]


class RunError(TunerError):
    """A run could not be completed (exit 1)."""

    exit_code = 1


class UsageError(TunerError):
    """Bad input: a command-line argument or a value given to the API (exit 2)."""

    exit_code = 2


class SpecError(UsageError):
    """A study spec with one or more defects; ``problems`` holds one line per defect (exit 2)."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def lines(self) -> list[str]:
        return self.problems


class StorageError(TunerError):
    """The database cannot be reached, or refused the credentials (exit 3)."""

    exit_code = 3


class UnknownStudyError(TunerError):
    """No study of that name in the storage (exit 4)."""

    exit_code = 4
