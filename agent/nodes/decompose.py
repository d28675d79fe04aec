"""decompose (GPIoT's task-decomposition role): requirement -> numbered sub-tasks."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

import prompts
from agent.context import RunContext
from agent.nodes import timed
from agent.prompting import messages, spec_fields
from agent.state import State


@timed("decompose")
def decompose(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    call = ctx.chat("decompose", messages(prompts.render("decompose", **spec_fields(ctx.spec)),
                                          ctx.spec.environment),
                    seed=ctx.config.seed,
                    max_new_tokens=ctx.config.plan_tokens)
    ctx.record({**call, "outcome": "used as plan"})
    text = call["completion"].strip()
    ctx.log(f"[decompose] {text.count(chr(10)) + 1} line(s), {call['tokens_out']} tokens")
    return {"subtasks": text, "tokens_in": call["tokens_in"], "tokens_out": call["tokens_out"]}
