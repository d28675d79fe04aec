"""recall: the nearest proven program of the experience store (agent/experience.py), shown
to the draft as a worked example when it is close enough; never one of this task itself."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent import experience
from agent.context import RunContext
from agent.nodes import timed
from agent.state import State


@timed("recall")
def recall(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    found = experience.recall(ctx.spec, k=ctx.config.experience_k)
    ctx.log("[recall] " + (", ".join(f"{e.task_id} ({s:.2f})" for e, s in found)
                           or "no proven program close enough"))
    block = experience.render(found)
    return {"experience": block + "\n" if block else "",
            "experience_ids": [e.task_id for e, _ in found]}
