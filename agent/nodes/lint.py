"""lint: certain fixes first (autofix: missing imports with one home added, unused ones
removed), then static findings (syntax, undefined names, imports the sandbox lacks, invented
APIs, demo code) caught before spending a sandbox run; blocking ones go straight to repair."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from agent import knowledge as kb
from agent import lint as linter
from agent.context import RunContext
from agent.nodes import timed
from agent.spec import Spec
from agent.state import State
from sandboxes import api_index


def own_lines(findings: list[linter.Finding], code: str) -> list[linter.Finding]:
    """Blocking findings, and advice on the lines the model wrote: not on linked, verified
    card code (the ECG card's `np.argmax` over a window drew the argmax-peaks warning)."""
    verified = kb.verified_lines(code)
    return [f for f in findings if f.blocking or not 0 < f.line <= verified]


def lint_code(code: str, spec: Spec) -> tuple[str, list[linter.Finding]]:
    """The autofixed program and the findings the agent acts on (the node and the
    fine-tuning data lint here, with the same arguments)."""
    fixed = linter.autofix(code, api_index.get_index(spec.environment))
    fn = spec.function
    findings = linter.lint(fixed, fn.name, [a.name for a in fn.args],
                           requirement=spec.requirement,
                           small_int_args=linter.small_int_args(spec),
                           environment=spec.environment)
    return fixed, own_lines(findings, fixed)


@timed("lint")
def lint(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    out = []
    for cand in state["candidates"]:
        fixed, findings = lint_code(cand["code"], ctx.spec)
        if fixed != cand["code"]:
            Path(cand["path"]).write_text(fixed, encoding="utf-8")
            cand = {**cand, "code": fixed, "autofixed": True}
        blocked = any(f.blocking for f in findings)
        out.append({**cand, "lint": [asdict(f) for f in findings], "blocked": blocked})
    n_blocked = sum(c["blocked"] for c in out)
    ctx.log(f"[lint] {len(out) - n_blocked} runnable, {n_blocked} blocked")
    return {"candidates": out}
