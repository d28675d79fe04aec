"""finalize: write the artifacts — solution.py (the best candidate), report.json with the
best candidate judged on every case, hidden ones included, and report.html (agent.run_report)
to read it in a browser. A run stopped by a signal writes them through the same function
(agent.run), from its last checkpoint."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from agent.checker import atomic_write, check_solution
from agent.context import RunContext
from agent.nodes import timed
from agent.state import Candidate, State

PACKAGES = ("gpiot", "numpy", "scipy", "langgraph", "llama_cpp_python", "transformers", "peft",
            "docker")


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def best_so_far(state: State) -> Candidate | None:
    """The program the run stands by: the best judged candidate, else the latest drafted one
    (a run stopped before anything was judged still leaves the code it got)."""
    drafted = state.get("candidates") or [None]
    return state.get("best") or state.get("current") or drafted[0]


def measured_cases(state: State, cand: Candidate) -> list[dict[str, Any]]:
    """What the run already measured of `cand`: its visible cases, and the hidden ones when
    verify passed it (hidden_results then belong to it)."""
    cases = list(cand.get("results", []))
    if cand.get("hidden_passed"):
        cases += state.get("hidden_results", [])
    return cases


def write_artifacts(state: State, ctx: RunContext, reason: str, *,
                    judge: bool = True) -> dict[str, Any]:
    """Write solution.py (the best program so far), report.json and report.html; return the
    report.

    judge: run the program on every case, hidden ones included, so the verdict is measured
    on what is on disk. A run stopped by a signal reports only what it already measured:
    the signal asks for an exit now, and the sandbox may be mid-execution."""
    best = best_so_far(state)
    solved = bool(state.get("solved"))
    cases: list[dict[str, Any]] = []
    if best is not None:
        (ctx.run_dir / "solution.py").write_text(best["code"], encoding="utf-8")
        if judge:
            final = check_solution(ctx.spec, ctx.run_dir / "solution.py", ctx.sandbox,
                                   run_id=ctx.run_id)
            cases = [asdict(r) for r in final.cases]
            solved = final.passed
        else:
            cases = measured_cases(state, best)
    report = {
        "spec": ctx.spec.id, "spec_path": str(ctx.spec.path), "solved": solved,
        "stop_reason": reason, "final_check": judge and best is not None,
        "run_id": ctx.run_id,
        "model": {"name": ctx.model.name, "sha256": ctx.model.sha256,
                  "backend": type(ctx.model).__name__},
        "config": ctx.config.to_dict(), "sandbox": ctx.sandbox.describe(),
        "best_candidate": best["id"] if best else None,
        "cases": [{k: c[k] for k in ("case", "hidden", "passed", "status", "metric", "figure",
                                     "summary", "duration_s")} for c in cases],
        "attempts": state.get("history", []),
        "knowledge": state.get("knowledge_ids", []),
        "tokens_in": state.get("tokens_in", 0), "tokens_out": state.get("tokens_out", 0),
        "wall_s": round(time.time() - state.get("started_at", time.time()), 2),
        "node_seconds": state.get("node_seconds", {}),
        "packages": package_versions(),
        "experience": state.get("experience_ids", []),
        "learnt": judge and solved and best is not None and learn(ctx, best, state),
    }
    atomic_write(ctx.run_dir / "report.json", json.dumps(report, indent=2, default=str) + "\n")
    write_html(ctx, report, [c for c in cases if not c["hidden"]])
    n_pass = sum(c["passed"] for c in cases)
    ctx.log(f"[finalize] {'SOLVED' if solved else 'NOT SOLVED'} ({reason}); best "
            f"{report['best_candidate']}: {n_pass}/{len(cases)} cases"
            f"{' incl. hidden' if judge else ' measured before the stop'}; "
            f"{len(report['attempts'])} attempt(s), {report['tokens_out']} tokens out, "
            f"{report['wall_s']:.0f} s -> {Path(ctx.run_dir)}")
    return report


def learn(ctx: RunContext, best: Candidate, state: State) -> bool:
    """Add a program proven on every case, hidden ones included, to the user's experience
    store (unless the run was started with --no-learn, or is part of a bench); True when
    it is a new entry. A store that cannot be written is logged, never the run's end."""
    from agent import experience

    if not ctx.config.learn or not experience.learnable(ctx.spec):
        return False
    import sqlite3

    try:
        entry = experience.from_spec(ctx.spec, best["code"], f"run:{ctx.spec.path}",
                                     state.get("trace_cards", ""))
        added = experience.Store().add(entry)
    except (OSError, sqlite3.Error) as exc:
        ctx.log(f"[finalize] experience store not written: {exc}")
        return False
    if added:
        ctx.log(f"[finalize] learnt: the program joins {experience.Store().path}")
    return added


def write_html(ctx: RunContext, report: dict[str, Any], visible: list[dict[str, Any]]) -> None:
    """report.html from the values the run measured on the visible cases (no new sandbox
    run: a stopped run must exit now). It is a view of report.json, written after it: an
    error here is logged and the run goes on with its record intact."""
    try:
        from agent.run_report import write_run_html

        write_run_html(ctx.run_dir, report, ctx.spec, visible)
    except Exception as exc:  # noqa: BLE001 - never lose the run to its page
        ctx.log(f"[finalize] report.html not written: {type(exc).__name__}: {exc}")


@timed("finalize")
def finalize(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    solved = bool(state.get("solved"))
    reason = state.get("stop_reason") or ("solved" if solved else "stopped")
    report = write_artifacts(state, runtime.context, reason)
    return {"solved": report["solved"], "stop_reason": reason}
