"""The graph's typed state: only plain data, so every step can be checkpointed and resumed.

Live objects (model, sandbox, spec) live in the run context (agent.context), not here.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

# How a round writes its code: a fresh draft from the task prompt, or a repair of the last one.
Mode = Literal["draft", "repair"]
# What the controller decided comes next (evaluate and verify set it; graph.py routes on it).
Next = Literal["verify", "draft", "repair", "finalize"]


def _add_seconds(a: dict[str, float] | None, b: dict[str, float] | None) -> dict[str, float]:
    out = dict(a or {})
    for k, v in (b or {}).items():
        out[k] = round(out.get(k, 0.0) + v, 3)
    return out


class Candidate(TypedDict, total=False):
    """One program drafted or repaired in a round, and what became of it. Every key a node
    writes is declared here (draft/repair: id..call; lint; execute; evaluate; verify)."""

    id: str  # "a3-k1": attempt 3, candidate 1
    code: str
    path: str  # where it is saved in the run directory
    call: dict[str, Any]  # the model call that produced it (role, prompt, completion, tokens)
    autofixed: bool  # lint rewrote the code (agent.lint.autofix) before judging it
    lint: list[dict[str, Any]]  # Finding dicts
    blocked: bool  # a blocking lint finding: not worth a sandbox run
    results: list[dict[str, Any]]  # CaseResult dicts on the visible cases (execute)
    score: float  # evaluate: agent.feedback.score, BLOCKED_SCORE when lint blocked it
    failure: str  # failure class of the first failing case, "" when all visible pass
    feedback: str  # what repair is told about this candidate
    hidden_passed: bool  # verify: every hidden case passes


class State(TypedDict, total=False):
    spec_path: str
    run_dir: str
    started_at: float  # wall-clock (time.time) so a resumed run keeps its budget
    trace_cards: str
    subtasks: str
    io_spec: str
    knowledge: str  # for draft prompts
    knowledge_notes: str  # the same cards without code, for repair prompts
    knowledge_ids: list[str]
    experience: str  # the recall node's worked example for draft prompts ('' when none)
    experience_ids: list[str]
    attempt: int
    mode: Mode  # how the current round wrote its code (set by the node that wrote it)
    next: Next  # the controller's decision after evaluate or verify
    temperature: float
    candidates: list[Candidate]
    current: Candidate  # the round's chosen candidate
    feedback: str
    failure: str
    stalls: int
    best: Candidate
    history: Annotated[list[dict[str, Any]], operator.add]  # one entry per round
    hidden_results: list[dict[str, Any]]
    solved: bool
    stop_reason: str
    tokens_in: Annotated[int, operator.add]  # nodes return increments
    tokens_out: Annotated[int, operator.add]
    node_seconds: Annotated[dict[str, float], _add_seconds]
