"""The types of the catalogue of known mistakes: one `Diagnostic` per mistake, with its
triggers and the examples that test it.

A diagnostic states a rule of signal processing or of Python/numpy, never a task: its
message is general, and its examples are programs of our own (a wrong one that must trigger
it, a right one that must not), run by tests/test_diagnostics.py. An entry no example
triggers is deleted, not kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.checker import CaseResult
    from agent.diagnostics.program import Program
    from agent.spec import Case

# what a static detector reports: (line, message) per place it fires
Hit = tuple[int, str]


@dataclass
class Finding:
    """One static finding on a draft: blocking ones send it back to repair unrun."""

    rule: str
    line: int
    message: str
    blocking: bool

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class Observation:
    """What a runtime matcher sees of one failed visible case: the scalar returned and
    expected where the check compares numbers, the error text of a raised exception, and the
    whole judged result (its value, metric and detail)."""

    case: Case | None = None
    result: CaseResult | None = None
    requirement: str = ""
    returned: float | None = None
    expected: float | None = None
    error: str = ""
    environment: str | None = None

    @property
    def ratio(self) -> float | None:
        """returned / expected, None where it is undefined."""
        if self.returned is None or not self.expected or not math.isfinite(self.returned):
            return None
        return self.returned / self.expected


@dataclass(frozen=True)
class Example:
    """A test of a diagnostic: `wrong` must trigger it, `right` must not.

    Static entries are tested by linting both programs with `requirement`; runtime entries
    by running both in the sandbox on a recording of kind `case` ("ecg", "nn-intervals",
    ...; the tests map each kind to a real recording) and reading the feedback."""

    wrong: str
    right: str
    requirement: str = ""
    case: str = ""
    small_int_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Diagnostic:
    """One known mistake: an id, a short general message, and its triggers.

    static: finds the mistake in a draft's code (lint); runtime: recognises it in a failed
    case's numbers or error text (feedback). group orders the runtime entries: in "api"
    every one that matches speaks, in every other group only the first."""

    id: str
    message: str
    examples: tuple[Example, ...]
    static: Callable[[Program], Iterable[Hit]] | None = None
    runtime: Callable[[Observation], str] | None = None
    group: str = "code"
    blocking: bool = False


# Every entry in the order its module registered it (agent/diagnostics/registry.py imports the
# modules of entries and gives each its examples from examples.yaml).
REGISTERED: list[Diagnostic] = []
# the runtime groups, in the order feedback asks them ("code" is lint's)
GROUPS = ("code", "value", "api", "error", "length", "rate", "series", "events",
          "events-offset", "events-unit", "labels", "count", "count-type")


def static(id: str, message: str, *, blocking: bool = False
           ) -> Callable[[Callable[[Program], Iterable[Hit]]], Callable[[Program], Iterable[Hit]]]:
    """Register the decorated detector as entry `id`, found in a draft's code by lint."""

    def register(fn: Callable[[Program], Iterable[Hit]]) -> Callable[[Program], Iterable[Hit]]:
        REGISTERED.append(Diagnostic(id, message, (), static=fn, blocking=blocking))
        return fn

    return register


def runtime(id: str, message: str, group: str
            ) -> Callable[[Callable[[Observation], str]], Callable[[Observation], str]]:
    """Register the decorated matcher as entry `id` of `group`, asked by feedback."""

    if group not in GROUPS:
        raise ValueError(f"diagnostic {id!r}: unknown group {group!r}")

    def register(fn: Callable[[Observation], str]) -> Callable[[Observation], str]:
        REGISTERED.append(Diagnostic(id, message, (), runtime=fn, group=group))
        return fn

    return register
