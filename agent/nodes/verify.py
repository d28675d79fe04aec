"""verify: the visible cases pass, so run the hidden ones. A failure counts as a failed
attempt; the feedback says only that a held-out recording fails and how."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from agent import feedback as fb
from agent.checker import check_solution
from agent.context import RunContext
from agent.nodes import timed
from agent.nodes.evaluate import out_of_budget
from agent.state import State


@timed("verify")
def verify(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    cand = state["current"]
    res = check_solution(ctx.spec, Path(cand["path"]), ctx.sandbox,
                         cases=ctx.spec.hidden_cases, run_id=ctx.run_id)
    failing = [r for r in res.cases if not r.passed]
    ctx.record({"event": "verify", "candidate": cand["id"], "hidden_passed": not failing,
                "classes": [r.status for r in failing]})
    hidden = [asdict(r) for r in res.cases]
    if not failing:
        ctx.log(f"[verify] {cand['id']}: all {len(res.cases)} hidden case(s) pass")
        best = {**cand, "hidden_passed": True, "score": cand["score"] + 1.0}
        return {"solved": True, "next": "finalize", "stop_reason": "solved",
                "hidden_results": hidden, "best": best, "current": best}
    ctx.log(f"[verify] {cand['id']}: {len(failing)}/{len(res.cases)} hidden case(s) fail")
    feedback = "\n".join(sorted({fb.feedback_for_hidden(r) for r in failing}))
    update: dict[str, Any] = {"hidden_results": hidden, "feedback": feedback,
                              "failure": "hidden", "current": {**cand, "hidden_passed": False}}
    if reason := out_of_budget(state, ctx):
        update.update(next="finalize", stop_reason=reason)
    else:
        update["next"] = "repair"
    return update
