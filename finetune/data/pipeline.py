"""Generated task -> verified training examples (code, decompose, repair).

Nothing is kept that the real sandbox did not confirm: the reference must pass every case
(hidden ones included) or the task is dropped; a mutant must fail at least one case, and
its repair example is built from the real failure with the agent's own feedback code.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.checker import SpecResult, check_solution
from finetune.data import prompts as P
from finetune.generators.base import Task, apply_mutant
from sandboxes.base import Sandbox

IMPORT_SHARE = 0.15
PLAN_EVERY = 3  # every third code example carries the decomposition as its plan


@dataclass
class TaskOutcome:
    """What one task contributed, and why anything was dropped."""

    task: str
    examples: list[dict[str, Any]] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)  # repair examples per fault kind
    failures: Counter = field(default_factory=Counter)  # repair examples per failure class
    executions: int = 0


def example(role: str, messages: list[dict[str, str]], reply: str, task: str,
            source: str = "generator", teacher: str | None = None) -> dict[str, Any]:
    """One JSONL line of the dataset contract; `teacher`: the model whose verified
    trajectory it comes from (ReST-style self-improvement: the 1.5B teaching the 0.5B)."""
    line = {"role": role, "messages": [*messages, {"role": "assistant", "content": reply}],
            "task": task, "source": source, "verified": True}
    if teacher:
        line["teacher"] = teacher
    return line


def run_program(task: Task, code: str, sandbox: Sandbox) -> SpecResult:
    """Judge `code` on every case of the task (hidden included) in the sandbox."""
    with tempfile.TemporaryDirectory(prefix="gpiot-ft-") as tmp:
        path = Path(tmp) / "solution.py"
        path.write_text(code, encoding="utf-8")
        return check_solution(task.spec, path, sandbox, run_id=f"ft-{task.spec.id}")


def task_examples(task: Task, sandbox: Sandbox, index: int, max_mutants: int = 2
                  ) -> TaskOutcome:
    """All verified examples of one generated task."""
    d, spec = task.draft, task.spec
    out = TaskOutcome(task.task_id)
    ref = run_program(task, d.reference, sandbox)
    out.executions += len(ref.cases)
    if not ref.passed:
        out.dropped["reference-fails"] += 1
        return out
    plan = P.numbered(d.subtasks)
    out.examples.append(example("decompose", P.decompose_messages(spec), plan, task.task_id))
    out.examples.append(example(
        "code", P.code_messages(spec, plan if index % PLAN_EVERY == PLAN_EVERY - 1 else ""),
        P.answer(d.doc, d.reference), task.task_id))
    rng = task_generator_rng(task, index)
    order = [int(i) for i in rng.permutation(len(d.mutants))]
    # A missing import is the easiest fault (lint names it); keep it to about one repair
    # example in IMPORT_SHARE so the semantic faults dominate.
    late = [i for i in order if d.mutants[i].fault == "missing-import"]
    if rng.random() >= IMPORT_SHARE:
        order = [i for i in order if i not in late] + late
    kept = 0
    for i in order:
        if kept >= max_mutants:
            break
        m = d.mutants[i]
        code = apply_mutant(d.reference, m)
        if code is None:
            out.dropped["mutant-not-applicable"] += 1
            continue
        cand = P.lint_candidate(code, spec)
        res = run_program(task, cand["code"], sandbox)
        out.executions += len(res.cases)
        if res.passed:
            out.dropped["mutant-survives"] += 1  # the fault does not show on these traces
            continue
        judged = P.judged_failure(cand, spec, res)
        if judged is None:  # cannot happen when res failed; kept as a guard
            out.dropped["mutant-unjudged"] += 1
            continue
        failure, feedback = judged
        msgs = P.repair_messages(spec, cand["code"], failure, feedback)
        out.examples.append(example("repair", msgs, P.answer(m.note, d.reference),
                                    task.task_id))
        out.faults[m.fault] += 1
        out.failures[failure] += 1
        kept += 1
    return out


def task_generator_rng(task: Task, index: int):  # noqa: ANN201 - numpy Generator
    """Which mutants a task uses: reproducible per (variant, generator)."""
    import zlib

    import numpy as np

    return np.random.default_rng([zlib.crc32(task.task_id.encode()), index])
