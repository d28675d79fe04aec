"""execute: run each runnable candidate on the visible cases in the sandbox (never the
hidden ones: those are for verify, and their results never reach a prompt)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from agent.checker import check_solution
from agent.context import RunContext
from agent.nodes import timed
from agent.state import State


@timed("execute")
def execute(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    out = []
    for cand in state["candidates"]:
        if cand.get("blocked"):
            out.append(cand)
            continue
        res = check_solution(ctx.spec, Path(cand["path"]), ctx.sandbox,
                             cases=ctx.spec.visible_cases, run_id=ctx.run_id)
        out.append({**cand, "results": [asdict(r) for r in res.cases]})
        ok = sum(r.passed for r in res.cases)
        ctx.log(f"[execute] {cand['id']}: {ok}/{len(res.cases)} visible case(s) pass")
    return {"candidates": out}
