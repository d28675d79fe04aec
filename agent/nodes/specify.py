"""specify (requirement transformation): input/output spec per sub-task, in the spec's
terms."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

import prompts
from agent.context import RunContext
from agent.nodes import timed
from agent.prompting import messages, spec_fields
from agent.state import State


@timed("specify")
def specify(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    user = prompts.render("specify", subtasks=state.get("subtasks") or "(none)",
                          **spec_fields(ctx.spec))
    call = ctx.chat("specify", messages(user, ctx.spec.environment), seed=ctx.config.seed,
                    max_new_tokens=ctx.config.plan_tokens)
    ctx.record({**call, "outcome": "used as plan"})
    ctx.log(f"[specify] {call['tokens_out']} tokens")
    return {"io_spec": call["completion"].strip(), "tokens_in": call["tokens_in"],
            "tokens_out": call["tokens_out"]}
