"""repair: the failing program, what went wrong, and advice for that failure class."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

import prompts
from agent.context import RunContext
from agent.nodes import timed
from agent.nodes.draft import draft_prompt, new_candidate
from agent.prompting import messages, spec_fields
from agent.state import State

UNCHANGED_TEMPERATURE = 0.7


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
    seed = ctx.config.seed * 1000 + attempt * 10
    call = ctx.chat("repair", messages(user), temperature=0.0, seed=seed)
    cand = new_candidate(ctx, attempt, 0, call)
    tokens_in, tokens_out = call["tokens_in"], call["tokens_out"]
    if ctx.config.controller and _normalised(cand["code"]) == _normalised(
            state["current"]["code"]):
        # Greedy decoding handed back the failing program unchanged: running it again would
        # waste the attempt. Sampling the same prompt did not help (on IoTBench the 0.5B
        # copied the code it was shown at 0.7 too), so ask for a new program from the task
        # prompt, told what went wrong but not shown the code it would copy.
        ctx.log(f"[repair] attempt {attempt}: unchanged program, rewriting at "
                f"{UNCHANGED_TEMPERATURE} without the failing code")
        earlier = prompts.render("earlier", failure=failure,
                                 feedback=state.get("feedback", "").strip(),
                                 advice=advice(failure))
        call = ctx.chat("rewrite", messages(draft_prompt(state, ctx, earlier)),
                        temperature=UNCHANGED_TEMPERATURE, seed=seed + 1)
        cand = new_candidate(ctx, attempt, 1, call)
        tokens_in, tokens_out = tokens_in + call["tokens_in"], tokens_out + call["tokens_out"]
    ctx.log(f"[repair] attempt {attempt}: fixing {failure}, {call['tokens_out']} tokens")
    return {"attempt": attempt, "candidates": [cand], "tokens_in": tokens_in,
            "tokens_out": tokens_out}


def _normalised(code: str) -> str:
    """Code without blank lines, comments-only lines and trailing spaces."""
    lines = (line.rstrip() for line in code.splitlines())
    return "\n".join(x for x in lines if x and not x.lstrip().startswith("#"))
