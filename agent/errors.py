"""Errors that end a command, each carrying the exit code the CLI returns (see
sandboxes/errors.py, where they are defined: the sandboxes raise them too, and sandboxes/
does not import agent/). Exit codes: 0 success, 1 the checked program fails, 2 bad input,
3 infrastructure, 130 Ctrl-C, 143 SIGTERM.
"""

from __future__ import annotations

from sandboxes.errors import (
    EXIT_BAD_INPUT,
    EXIT_FAIL,
    EXIT_INFRA,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    BadInputError,
    GpiotError,
    InfraError,
    Interrupted,
    SpecError,
    exit_code_of,
    interrupt_exit_code,
    interrupt_signal,
)

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAIL", "EXIT_INFRA", "EXIT_INTERRUPTED", "EXIT_OK",
           "EXIT_TERMINATED", "BadInputError", "GpiotError", "InfraError", "Interrupted",
           "SpecError", "exit_code_of", "interrupt_exit_code", "interrupt_signal"]
