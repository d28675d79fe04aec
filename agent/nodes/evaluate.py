"""evaluate: turn each candidate's lint findings or visible-case results into a typed
failure, a score and feedback; keep the best; and decide (the controller) what comes next:
verify, repair, a fresh draft at a higher temperature after two stalled rounds, or stop."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent import feedback as fb
from agent.checker import CaseResult
from agent.context import RunContext
from agent.nodes import timed
from agent.spec import Spec
from agent.state import Candidate, Next, State

REDRAFT_TEMPERATURES = (0.8, 1.0)
BLOCKED_SCORE = -1.0  # below any program that ran


def out_of_budget(state: State, ctx: RunContext) -> str:
    """Why the run must stop now, or "" while budget remains."""
    if state.get("attempt", 0) >= ctx.config.max_attempts:
        return f"attempt budget ({ctx.config.max_attempts}) spent"
    return ctx.time_up()


def judge(cand: Candidate, spec: Spec) -> Candidate:
    """A linted, executed candidate with its score, failure class and feedback text (the
    node and the fine-tuning data judge here)."""
    warnings = [f for f in cand.get("lint", []) if not f["blocking"]]
    hints = "".join(f"\n- hint: {w['message']}" for w in warnings)
    if cand.get("blocked"):
        blocking = [f for f in cand["lint"] if f["blocking"]]
        text = "\n".join(f"- line {f['line']}: {f['message']}" if f.get("line")
                         else f"- {f['message']}" for f in blocking)
        rules = sorted({f["rule"] for f in blocking})
        failure = "syntax" if rules == ["syntax"] else "lint"
        return {**cand, "score": BLOCKED_SCORE, "failure": failure, "feedback": text + hints}
    results = [CaseResult(**r) for r in cand["results"]]
    failing = [r for r in results if not r.passed]
    by_name = {c.name: c for c in spec.visible_cases}
    text = "\n\n".join(fb.feedback_for_case(r, by_name[r.case], spec) for r in failing[:2])
    return {**cand, "score": fb.score(results),
            "failure": failing[0].status if failing else "", "feedback": text + hints}


@timed("evaluate")
def evaluate(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    cfg = ctx.config
    judged = [judge(c, ctx.spec) for c in state["candidates"]]
    for c in judged:
        ctx.record({**c["call"], "candidate": c["id"], "code": c["code"],
                    "outcome": {"failure": c["failure"] or "visible cases pass",
                                "score": c["score"], "lint": [f["rule"] for f in c["lint"]]
                                if c.get("lint") else []}})
    current = max(judged, key=lambda c: c["score"])
    best = state.get("best")
    # Progress is a new best score. Measured against the previous round instead, a repair
    # that fell back (scores 0.10, 0.56, 0.56, then a program lint blocked) looked like a
    # new failure and reset the count, so the recipe redraft came rounds later
    # or, under the time limit, never; a new failure class or error text at the same score
    # (an AxisError on axis 2, then on axis 1) is no progress either.
    improved = best is None or current["score"] > best.get("score", BLOCKED_SCORE)
    stalls = 0 if improved else state.get("stalls", 0) + 1
    if improved:
        best = current
    update: dict[str, Any] = {
        "candidates": judged, "current": current, "best": best, "stalls": stalls,
        "feedback": current["feedback"], "failure": current["failure"],
        "history": [{"attempt": state["attempt"], "mode": state.get("mode", "draft"),
                     "candidate": current["id"], "failure": current["failure"] or "none",
                     "score": round(current["score"], 4), "n_candidates": len(judged)}],
    }
    if not current["failure"]:
        update["next"] = "verify"
    elif reason := out_of_budget(state, ctx):
        update.update(next="finalize", stop_reason=reason)
    elif cfg.controller and stalls >= 2:
        n_redrafts = sum(h["mode"] == "draft" for h in state.get("history", []))
        temp = REDRAFT_TEMPERATURES[min(n_redrafts - 1, len(REDRAFT_TEMPERATURES) - 1)] \
            if n_redrafts else REDRAFT_TEMPERATURES[0]
        update.update(next="draft", temperature=temp, stalls=0)
    else:
        update["next"] = "repair"
    ctx.log(f"[evaluate] attempt {state['attempt']}: {current['failure'] or 'visible pass'} "
            f"(score {current['score']:.2f}, best {best['score']:.2f}) -> {update['next']}")
    return update


def route(state: State) -> Next:
    """The controller's decision, taken in evaluate/verify and stored in the state (a
    checkpoint written before `next` existed kept it in `mode`)."""
    return state.get("next") or state["mode"]  # type: ignore[return-value]
