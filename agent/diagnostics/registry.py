"""The catalogue: every known mistake in one table, asked by lint (static) and by feedback
(runtime). Adding a mistake is adding one entry, with its examples, to a module of entries;
nothing else changes (README, "Known mistakes are data")."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from agent.diagnostics import (  # noqa: F401 - importing them registers their entries
    code_rules,
    errors,
    results,
    values,
)
from agent.diagnostics.catalogue import REGISTERED, Diagnostic, Example, Finding, Observation
from agent.diagnostics.program import Program

EXAMPLES = Path(__file__).with_name("examples.yaml")


def _catalogue() -> dict[str, Diagnostic]:
    """The registered entries by id, each with its examples from examples.yaml."""
    examples = yaml.safe_load(EXAMPLES.read_text(encoding="utf-8"))
    out: dict[str, Diagnostic] = {}
    for entry in REGISTERED:
        if entry.id in out:
            raise ValueError(f"diagnostic {entry.id!r} is registered twice")
        rows = examples.get(entry.id, [])
        out[entry.id] = replace(entry, examples=tuple(
            Example(**{**row, "small_int_args": tuple(row.get("small_int_args", ()))})
            for row in rows))
    orphans = set(examples) - set(out)
    if orphans:
        raise ValueError(f"examples.yaml has examples of no entry: {', '.join(sorted(orphans))}")
    return out


CATALOGUE: dict[str, Diagnostic] = _catalogue()

# the runtime group in which every entry that matches speaks; in the others only the first
ALL_SPEAK = ("api",)


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
            if group not in ALL_SPEAK:
                break
    return out


def hints(obs: Observation, group: str) -> list[str]:
    """The messages of explain(), for feedback."""
    return [message for _id, message in explain(obs, group)]
