"""finalize: write the artifacts — solution.py (the best candidate) and report.json with the
best candidate judged on every case, hidden ones included."""

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
from agent.state import State

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


@timed("finalize")
def finalize(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    best = state.get("best") or state.get("current")
    solved = bool(state.get("solved"))
    reason = state.get("stop_reason") or ("solved" if solved else "stopped")
    cases: list[dict[str, Any]] = []
    if best is not None:
        (ctx.run_dir / "solution.py").write_text(best["code"], encoding="utf-8")
        final = check_solution(ctx.spec, ctx.run_dir / "solution.py", ctx.sandbox,
                               run_id=ctx.run_id)
        cases = [asdict(r) for r in final.cases]
        solved = final.passed
    report = {
        "spec": ctx.spec.id, "spec_path": str(ctx.spec.path), "solved": solved,
        "stop_reason": reason, "run_id": ctx.run_id,
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
    }
    atomic_write(ctx.run_dir / "report.json", json.dumps(report, indent=2, default=str) + "\n")
    n_pass = sum(c["passed"] for c in cases)
    ctx.log(f"[finalize] {'SOLVED' if solved else 'NOT SOLVED'} ({reason}); best "
            f"{report['best_candidate']}: {n_pass}/{len(cases)} cases incl. hidden; "
            f"{len(report['attempts'])} attempt(s), {report['tokens_out']} tokens out, "
            f"{report['wall_s']:.0f} s -> {Path(ctx.run_dir)}")
    return {"solved": solved, "stop_reason": reason}
