"""Agent trajectories -> training examples, by rejection sampling.

Only runs that report `solved` with every case passing, hidden ones included (at least one
hidden case), are used, and from them only the model calls that led to the accepted
program: the draft or repair call that produced the best candidate (its target is the
program that passed, solution.py) and the decompose call whose plan it was written from.
Runs on IoTBench or examples/ specs are never used: those tasks must stay out of training.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.models.base import CALL_ROLE, split_prefill
from finetune.data.pipeline import example
from finetune.data.prompts import answer

# a rewrite is the task prompt plus what failed earlier: a code-generation example
# specify replies are free-form I/O notes nothing verifies, so they train no role
ROLE = {call: role for call, role in CALL_ROLE.items() if call != "specify"}
BENCH_PARTS = ("iotbench", "examples")
DOC = "A program that passed every check, hidden recordings included."


@dataclass
class Conversion:
    examples: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    seen: int = 0
    kept: int = 0

    def stats(self) -> dict[str, Any]:
        return {"runs_seen": self.seen, "runs_kept": self.kept,
                "skipped": dict(self.skipped), "examples": len(self.examples)}


def _bench_spec(report: dict[str, Any], root: Path) -> bool:
    """Whether the run's spec is an IoTBench/examples task (by path or id)."""
    path = Path(str(report.get("spec_path", "")))
    if any(part in BENCH_PARTS for part in path.parts):
        return True
    from finetune.decontaminate import ROOT

    ids = {p.parent.name for p in (ROOT / "iotbench" / "tasks").rglob("spec.yaml")}
    ids |= {p.parent.name for p in (ROOT / "examples").glob("*/spec.yaml")}
    return report.get("spec") in ids


def solved(report: dict[str, Any]) -> str:
    """'' when the run is usable, else why not."""
    if not report.get("solved"):
        return "not-solved"
    cases = report.get("cases") or []
    if not cases or not all(c.get("passed") for c in cases):
        return "a-case-fails"
    if not any(c.get("hidden") for c in cases):
        return "no-hidden-case"
    return ""


def convert_run(run_dir: Path, out: Conversion) -> None:
    out.seen += 1
    try:
        report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
        lines = (run_dir / "trajectory.jsonl").read_text(encoding="utf-8").splitlines()
        solution = (run_dir / "solution.py").read_text(encoding="utf-8")
    except (OSError, json.JSONDecodeError):
        out.skipped["unreadable"] += 1
        return
    why = solved(report) or ("benchmark-task" if _bench_spec(report, run_dir) else "")
    if why:
        out.skipped[why] += 1
        return
    best = report.get("best_candidate")
    model = report.get("model") or {}
    teacher = model.get("name", "unknown") + (f"@{model['sha256'][:12]}"
                                              if model.get("sha256") else "")
    task = f"trajectory/{report.get('spec', run_dir.parent.name)}-{run_dir.name}"
    added = 0
    for line in lines:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        role = ROLE.get(rec.get("role", ""))
        if role is None or "messages" not in rec:
            continue
        if role == "decompose":
            reply = rec["completion"].strip()
        elif rec.get("candidate") == best and rec.get("code", "").strip() == solution.strip():
            reply = answer(DOC, solution)
        else:
            continue
        # a prefill (the reply's start, --prefill) is part of the whole reply trained on
        chat = split_prefill(rec["messages"])[0]
        out.examples.append(example(role, chat, reply, task, source="trajectory",
                                    teacher=teacher))
        added += 1
    if added:
        out.kept += 1
    else:
        out.skipped["no-matching-call"] += 1


def convert_runs(root: Path) -> Conversion:
    """Every run directory (one holding report.json and trajectory.jsonl) under root."""
    out = Conversion()
    for rep in sorted(Path(root).rglob("report.json")):
        if (rep.parent / "trajectory.jsonl").is_file():
            convert_run(rep.parent, out)
    return out
