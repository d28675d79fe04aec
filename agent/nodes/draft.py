"""draft (code generation): one or more complete modules from the task prompt. The first
round's first candidate is greedy; the others, and every fresh draft the controller asks
for, are sampled at the round's temperature."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

import prompts
from agent.context import RunContext
from agent.extract import extract_code
from agent.nodes import timed
from agent.prompting import messages, spec_fields
from agent.state import Candidate, State

SAMPLE_TEMPERATURE = 0.7


def new_candidate(ctx: RunContext, attempt: int, k: int, call: dict[str, Any]) -> Candidate:
    """Extract the program from a reply and save it in the run directory."""
    code = extract_code(call["completion"], ctx.spec.function.name)
    path = ctx.run_dir / "candidates" / f"a{attempt}-k{k}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(code, encoding="utf-8")
    return {"id": f"a{attempt}-k{k}", "code": code, "path": str(path), "call": call}


def draft_prompt(state: State, ctx: RunContext, earlier: str = "") -> str:
    """The task prompt; `earlier` (a rendered prompts/earlier.md) describes a failure
    without showing its code."""
    plan = ""
    if state.get("subtasks") or state.get("io_spec"):
        plan = prompts.render("plan", subtasks=state.get("subtasks", ""),
                              io_spec=state.get("io_spec", ""))
    return prompts.render("draft", trace_cards=state.get("trace_cards", ""), plan=plan,
                          knowledge=state.get("knowledge", ""), earlier=earlier,
                          **spec_fields(ctx.spec))


@timed("draft")
def draft(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    cfg = ctx.config
    attempt = state.get("attempt", 0) + 1
    temperature = state.get("temperature", 0.0)
    msgs = messages(draft_prompt(state, ctx))
    candidates: list[Candidate] = []
    seen: set[str] = set()
    tokens_in = tokens_out = 0
    for k in range(cfg.candidates):
        t = temperature if k == 0 else max(temperature, SAMPLE_TEMPERATURE)
        call = ctx.chat("draft", msgs, temperature=t, seed=cfg.seed * 1000 + attempt * 10 + k)
        tokens_in += call["tokens_in"]
        tokens_out += call["tokens_out"]
        cand = new_candidate(ctx, attempt, k, call)
        if cand["code"] in seen:
            ctx.record({**call, "candidate": cand["id"], "outcome": "duplicate"})
            continue
        seen.add(cand["code"])
        candidates.append(cand)
    ctx.log(f"[draft] attempt {attempt}: {len(candidates)} candidate(s) at temperature "
            f"{temperature:g}, {tokens_out} tokens")
    return {"attempt": attempt, "candidates": candidates, "tokens_in": tokens_in,
            "tokens_out": tokens_out}
