"""Errors that end a command, each carrying the exit code the CLI returns.

A leaf (stdlib only) at the bottom of the layers, so the sandboxes raise the same classes
the agent catches without importing agent/; agent.errors re-exports every name, so
`agent.errors.InfraError is sandboxes.errors.InfraError`.

Exit codes are part of the user contract (scripts and CI branch on them):
0 success, 1 the checked program fails, 2 bad input, 3 infrastructure, and the shell's
128 + signal for a run stopped by Ctrl-C (130) or SIGTERM (143).
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_BAD_INPUT = 2
EXIT_INFRA = 3
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143


class Interrupted(KeyboardInterrupt):
    """A stop signal turned into an exception in the main thread, so the code it interrupts
    unwinds (finally blocks remove containers) as it does on Ctrl-C; a KeyboardInterrupt, so
    every handler of Ctrl-C treats SIGTERM the same way."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        self.signal_name = signal.Signals(signum).name
        self.exit_code = 128 + signum
        super().__init__(self.signal_name)


def interrupt_signal(exc: KeyboardInterrupt) -> str:
    """The signal that stopped the command: a plain KeyboardInterrupt is Ctrl-C (SIGINT)."""
    return exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"


def interrupt_exit_code(exc: KeyboardInterrupt) -> int:
    """128 + the signal's number, as a shell reports a process that signal ended."""
    return exc.exit_code if isinstance(exc, Interrupted) else EXIT_INTERRUPTED


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


def exit_code_of(command: Callable[[], int | None]) -> int:
    """Run a command line's body as every gpiot entry point does: a GpiotError becomes one
    line `error: ...` on stderr and its exit code (never a traceback for bad input); a body
    that returns None succeeded."""
    try:
        code = command()
    except GpiotError as exc:
        print(f"error: {exc.line()}", file=sys.stderr)
        return exc.exit_code
    return EXIT_OK if code is None else int(code)
