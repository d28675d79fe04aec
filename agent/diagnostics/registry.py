"""The catalogue: every known mistake in one table, asked by lint (static) and by feedback
(runtime). Adding a mistake is adding one entry, with its examples, to a module of entries;
nothing else changes (README, "Known mistakes are data")."""

from __future__ import annotations

from agent.diagnostics import code_rules, errors, values
from agent.diagnostics.catalogue import Diagnostic, Finding, Observation
from agent.diagnostics.program import Program

CATALOGUE: dict[str, Diagnostic] = {}
for _entry in (*code_rules.ENTRIES, *values.ENTRIES, *errors.ENTRIES):
    if _entry.id in CATALOGUE:
        raise ValueError(f"diagnostic {_entry.id!r} is registered twice")
    CATALOGUE[_entry.id] = _entry

# runtime groups: in these the first entry that matches speaks, in the others every one
FIRST_ONLY = ("value", "error")


def static_findings(prog: Program) -> list[Finding]:
    """Every static entry's findings on a parsed draft."""
    return [Finding(d.id, line, message, d.blocking)
            for d in CATALOGUE.values() if d.static for line, message in d.static(prog)]


def explain(obs: Observation, group: str) -> list[tuple[str, str]]:
    """(id, message) of the runtime entries of `group` that recognise the observation."""
    out = []
    for d in CATALOGUE.values():
        if d.group != group or d.runtime is None:
            continue
        message = d.runtime(obs)
        if message:
            out.append((d.id, message))
            if group in FIRST_ONLY:
                break
    return out


def hints(obs: Observation, group: str) -> list[str]:
    """The messages of explain(), for feedback."""
    return [message for _id, message in explain(obs, group)]
