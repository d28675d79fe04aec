"""repair: the failing program, what went wrong, and advice for that failure class. A round
makes up to three model calls (greedy, a sample, a rewrite); none starts after the run's
deadline, and a round the deadline left with nothing new to run goes to finalize."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

import prompts
from agent.context import RunContext
from agent.extract import defines
from agent.nodes import timed
from agent.nodes.draft import draft_prompt, earlier_failure, new_candidate
from agent.prompting import advice, messages, spec_fields
from agent.spec import Spec
from agent.state import State

UNCHANGED_TEMPERATURE = 0.7


def repair_prompt(spec: Spec, code: str, failure: str, feedback: str,
                  knowledge: str = "") -> str:
    """The repair prompt for a failing program and the feedback on it (the node and the
    fine-tuning data build it here, so the two cannot drift)."""
    return prompts.render("repair", code=code.rstrip(), failure=failure,
                          feedback=feedback.strip(), advice=advice(failure, spec.environment),
                          knowledge=knowledge, **spec_fields(spec))


@timed("repair")
def repair(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    attempt = state.get("attempt", 0) + 1
    failure = state.get("failure", "")
    user = repair_prompt(ctx.spec, state["current"]["code"], failure,
                         state.get("feedback", ""), state.get("knowledge_notes", ""))
    seed = ctx.config.seed * 1000 + attempt * 10
    call = ctx.chat("repair", messages(user, ctx.spec.environment), temperature=0.0,
                    seed=seed)
    cand = new_candidate(ctx, attempt, 0, call)
    calls = [call]
    fn = ctx.spec.function.name
    # The first call goes out (past the deadline a backend returns at once); each further
    # one only while the run's deadline has not passed.
    if ctx.config.controller and _wasted(cand, state, fn) and not ctx.time_up():
        # Greedy decoding handed back the failing program unchanged (or only prose, "the
        # program is correct"): running it again would waste the attempt, so sample the same
        # prompt once: a near-miss often needs only a small change greedy decoding will not
        # make (BENCHMARKS.md).
        what = "unchanged program" if _same(cand, state) else "no program in the reply"
        ctx.log(f"[repair] attempt {attempt}: {what}, sampling at {UNCHANGED_TEMPERATURE}")
        calls.append(ctx.chat("repair", messages(user, ctx.spec.environment),
                              temperature=UNCHANGED_TEMPERATURE,
                              seed=seed + 1))
        cand = new_candidate(ctx, attempt, 1, calls[-1])
    if ctx.config.controller and _wasted(cand, state, fn) and not ctx.time_up():
        # The sample copied it too: ask for a new program from the task prompt, told what
        # went wrong but not shown the code it would copy. Rewriting at once, before
        # sampling, loses near-misses the sample would fix (BENCHMARKS.md), so it comes
        # only now.
        ctx.log(f"[repair] attempt {attempt}: the sample is unchanged too, rewriting at "
                f"{UNCHANGED_TEMPERATURE} without the failing code")
        earlier = earlier_failure(state, ctx.spec.environment)
        calls.append(ctx.chat("rewrite", messages(draft_prompt(state, ctx.spec, earlier),
                                                  ctx.spec.environment),
                              temperature=UNCHANGED_TEMPERATURE, seed=seed + 2))
        cand = new_candidate(ctx, attempt, 2, calls[-1])
    call = calls[-1]
    tokens_in = sum(c["tokens_in"] for c in calls)
    tokens_out = sum(c["tokens_out"] for c in calls)
    if (reason := ctx.time_up()) and _wasted(cand, state, fn):
        # The deadline ended the round with nothing new to run: the run ends with its best.
        for c in calls:
            ctx.record({**c, "outcome": f"{reason}: nothing new to run"})
        ctx.log(f"[repair] attempt {attempt}: {reason}, nothing new to run")
        return {"candidates": [], "stop_reason": reason, "tokens_in": tokens_in,
                "tokens_out": tokens_out}
    ctx.log(f"[repair] attempt {attempt}: fixing {failure}, {call['tokens_out']} tokens")
    return {"attempt": attempt, "mode": "repair", "candidates": [cand], "tokens_in": tokens_in,
            "tokens_out": tokens_out}


def _wasted(cand: dict[str, Any], state: State, function: str) -> bool:
    """The reply gives nothing new to run: the same program, or no definition of the
    function at all (prose only, such as "the program was correctly written")."""
    return _same(cand, state) or not defines(cand["code"], function)


def _same(cand: dict[str, Any], state: State) -> bool:
    return _normalised(cand["code"]) == _normalised(state["current"]["code"])


def _normalised(code: str) -> str:
    """Code without blank lines, comments-only lines and trailing spaces."""
    lines = (line.rstrip() for line in code.splitlines())
    return "\n".join(x for x in lines if x and not x.lstrip().startswith("#"))
