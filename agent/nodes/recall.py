"""recall: the nearest proven program of the experience store (agent/experience.py), shown
to the draft as a worked example when it is close enough; never one of this task itself."""

from __future__ import annotations

import sqlite3
from typing import Any

from langgraph.runtime import Runtime

from agent import experience
from agent.context import RunContext
from agent.nodes import timed
from agent.state import State


@timed("recall")
def recall(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    try:
        found = experience.recall(ctx.spec, k=ctx.config.experience_k,
                                  own=ctx.config.own_experience)
    except (OSError, sqlite3.Error, TypeError, ValueError) as exc:  # never the run's end
        ctx.log(f"[recall] experience store unreadable ({type(exc).__name__}: {exc}); "
                "drafting without an example")
        return {"experience": "", "experience_ids": []}
    ctx.log("[recall] " + (", ".join(f"{e.task_id} ({s:.2f})" for e, s in found)
                           or "no proven program close enough"))
    block = experience.render(found)
    return {"experience": block + "\n" if block else "",
            "experience_ids": [e.task_id for e, _ in found]}
