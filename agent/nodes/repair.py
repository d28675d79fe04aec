"""repair: the failing program, what went wrong, and advice for that failure class."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

import prompts
from agent.context import RunContext
from agent.nodes import timed
from agent.nodes.draft import new_candidate
from agent.prompting import messages, spec_fields
from agent.state import State


def advice(failure: str) -> str:
    name = f"repair/{failure}"
    return prompts.render(name) if prompts.exists(name) else ""


@timed("repair")
def repair(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    attempt = state.get("attempt", 0) + 1
    failure = state.get("failure", "")
    user = prompts.render("repair", code=state["current"]["code"].rstrip(), failure=failure,
                          feedback=state.get("feedback", "").strip(), advice=advice(failure),
                          knowledge=state.get("knowledge_notes", ""), **spec_fields(ctx.spec))
    call = ctx.chat("repair", messages(user), temperature=0.0,
                    seed=ctx.config.seed * 1000 + attempt * 10)
    cand = new_candidate(ctx, attempt, 0, call)
    ctx.log(f"[repair] attempt {attempt}: fixing {failure}, {call['tokens_out']} tokens")
    return {"attempt": attempt, "candidates": [cand], "tokens_in": call["tokens_in"],
            "tokens_out": call["tokens_out"]}
