"""Errors that end a command, each carrying the exit code the CLI returns.

Exit codes are part of the user contract (scripts and CI branch on them):
0 success, 1 the checked program fails, 2 bad input, 3 infrastructure.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_BAD_INPUT = 2
EXIT_INFRA = 3


class GpiotError(Exception):
    """Base error: one line for the user, and the exit code to leave with."""

    exit_code = EXIT_BAD_INPUT

    def line(self) -> str:
        return str(self)


class BadInputError(GpiotError):
    """The user's input (arguments, paths, files) is wrong; exit 2."""

    exit_code = EXIT_BAD_INPUT


class SpecError(BadInputError):
    """A spec file is invalid: names the file, the field path and what was expected."""

    def __init__(self, file: str, path: str, message: str) -> None:
        self.file, self.path, self.message = file, path, message
        where = f"{file}: {path}" if path else file
        super().__init__(f"spec error: {where}: {message}")


class InfraError(GpiotError):
    """The machine cannot do the work (no Docker engine, image missing...); exit 3.

    The message must say how to fix it.
    """

    exit_code = EXIT_INFRA
