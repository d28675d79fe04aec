"""Fine-tuning datasets: generators are deterministic, every reference passes its own cases in
the real sandbox and a faulty variant fails, examples use the agent's exact prompts, the
manifest matches its files, trajectories keep only solved runs, decontamination flags copies.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import yaml

from agent.models.base import ChatModel, Completion
from finetune import decontaminate
from finetune.data import manifest as mf
from finetune.data import prompts as P
from finetune.data.pipeline import run_program, task_examples
from finetune.data.trajectories import convert_runs
from finetune.generators import GENERATORS, apply_mutant
from finetune.generators.base import Task

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "finetune" / "data" / "sample"
TWO = ("packet-loss", "ntc-thermistor")  # the small sandbox build: 2 generators x 2 variants


def _spec_doc(task: Task) -> str:
    return task.spec_path.read_text(encoding="utf-8")


def _traces(task: Task) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((task.spec_path.parent / "traces").iterdir())}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generator_is_deterministic(name: str, tmp_path: Path) -> None:
    g = GENERATORS[name]
    a, b = g.make(7, 3, tmp_path / "a"), g.make(7, 3, tmp_path / "b")
    assert _spec_doc(a) == _spec_doc(b)
    assert _traces(a) == _traces(b)
    assert a.draft.reference == b.draft.reference
    c = g.make(8, 3, tmp_path / "c")  # another seed: another task
    assert (_spec_doc(c), _traces(c)) != (_spec_doc(a), _traces(a))


def test_at_least_twelve_generators_with_hidden_cases(tmp_path: Path) -> None:
    assert len(GENERATORS) >= 12
    for name, g in GENERATORS.items():
        t = g.make(0, 0, tmp_path)
        assert t.spec.hidden_cases and t.spec.visible_cases, name
        assert len({json.dumps(c.expect) for c in t.spec.cases}) > 1, name
        assert t.draft.mutants, name
        assert P.numbered(t.draft.subtasks).startswith("1. ")


class Scripted(ChatModel):
    """Replies by role: a plan, then the faulty draft, then the reference as the repair."""

    name = "scripted"
    sha256 = None

    def __init__(self, plan: str, draft: str, repair: str) -> None:
        self.replies = {"decompose": plan, "draft": draft, "repair": repair}

    def generate(self, messages, *, max_new_tokens=512, temperature=0.0, seed=None,
                 stop=None, role=None, deadline=None, node=None):  # noqa: ANN001, ANN201
        user = messages[-1]["content"]
        role = "repair" if "failed:" in user else "decompose" if "sub-tasks" in user else "draft"
        text = self.replies[role]
        return Completion(text if role == "decompose" else P.answer("ok", text),
                          len(user) // 4, len(text) // 4, 0.01)


def _visible_fault(t: Task, sandbox) -> tuple[str, object]:  # noqa: ANN001
    """A faulty program that fails a visible case (not lint-blocked), with its result."""
    for m in t.draft.mutants:
        code = apply_mutant(t.draft.reference, m)
        if code and not P.lint_candidate(code, t.spec)["blocked"]:
            res = run_program(t, code, sandbox)
            if any(not c.passed for c in res.cases if not c.hidden):
                return code, res
    raise AssertionError(f"{t.task_id}: no visibly failing fault")


@pytest.mark.docker
def test_examples_use_the_exact_prompts_of_a_real_agent_run(sandbox, tmp_path: Path) -> None:
    """Run the real agent (graph, lint, sandbox, feedback) on a generated task with a
    scripted model: its recorded decompose, draft and repair prompts are exactly the ones the
    dataset builds, and the solved run converts into training examples."""
    from agent.configuration import RunConfig
    from agent.run import start_run

    t = GENERATORS["packet-loss"].make(0, 0, tmp_path / "tasks")
    code, res = _visible_fault(t, sandbox)
    plan = P.numbered(t.draft.subtasks)
    run_dir = tmp_path / "runs" / t.spec.id / "r1"
    rc = start_run(t.spec_path, RunConfig(decompose=True, candidates=1, max_attempts=3),
                   run_dir, model=Scripted(plan, code, t.draft.reference), sandbox=sandbox,
                   log=lambda s: None)
    assert rc == 0
    calls = [json.loads(x) for x in (run_dir / "trajectory.jsonl").read_text().splitlines()]
    by_role = {c["role"]: c for c in calls if "messages" in c}
    assert by_role["decompose"]["messages"] == P.decompose_messages(t.spec)
    assert by_role["draft"]["messages"] == P.code_messages(t.spec, plan)
    cand = P.lint_candidate(code, t.spec)
    failure, feedback = P.judged_failure(cand, t.spec, res)
    assert by_role["repair"]["messages"] == P.repair_messages(t.spec, cand["code"], failure,
                                                              feedback)
    for c in t.spec.hidden_cases:  # no hidden case reaches a prompt
        assert all(c.name not in m["content"] for x in calls if "messages" in x
                   for m in x["messages"])
    conv = convert_runs(tmp_path / "runs")
    assert (conv.seen, conv.kept) == (1, 1)
    assert sorted(e["role"] for e in conv.examples) == ["decompose", "repair"]
    rep = next(e for e in conv.examples if e["role"] == "repair")
    assert decontaminate.programs(rep)[0].strip() == t.draft.reference.strip()
    # the same task where the model never fixes it: the run is not solved, nothing is kept
    stuck = tmp_path / "runs" / t.spec.id / "r2"
    rc = start_run(t.spec_path, RunConfig(candidates=1, max_attempts=2, controller=False),
                   stuck, model=Scripted(plan, code, code), sandbox=sandbox,
                   log=lambda s: None)
    assert rc != 0
    conv = convert_runs(tmp_path / "runs")
    assert (conv.seen, conv.kept, dict(conv.skipped)) == (2, 1, {"not-solved": 1})


@pytest.mark.docker
@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_reference_passes_and_a_mutant_fails(name: str, sandbox, tmp_path: Path) -> None:
    """Every generator's reference passes all of its cases (hidden too) in the real sandbox;
    a realistic fault (not a missing import) fails at least one case: the checks catch it.
    (Faults that survive on a variant's traces are dropped from the dataset, not kept.)"""
    t = GENERATORS[name].make(0, 0, tmp_path)
    ok = run_program(t, t.draft.reference, sandbox)
    assert ok.passed, ok.verdict()
    faulty = [apply_mutant(t.draft.reference, m) for m in t.draft.mutants
              if m.fault != "missing-import"]
    faulty = [c for c in faulty if c]
    assert faulty, f"{name}: no applicable fault"
    assert any(not run_program(t, c, sandbox).passed for c in faulty), \
        f"{name}: every fault passes"


@pytest.mark.docker
def test_small_build_verifies_everything(sandbox, tmp_path: Path) -> None:
    """2 generators x 2 variants through the real sandbox: decompose + code per task, repair
    examples whose failing program really fails and whose target passes; the feedback in the
    prompt is the agent's (evaluate/verify) text for that failure."""
    examples = []
    for name in TWO:
        for i in range(2):
            t = GENERATORS[name].make(0, i, tmp_path)
            out = task_examples(t, sandbox, i, max_mutants=2)
            assert not out.dropped.get("reference-fails")
            examples += out.examples
            for ex in out.examples:
                mf.validate(ex)
                if ex["role"] == "repair":
                    user = ex["messages"][1]["content"]
                    broken = user.split("```python\n")[1].split("```")[0]
                    assert not run_program(t, broken, sandbox).passed
                    fixed = decontaminate.programs(ex)[0]
                    assert run_program(t, fixed, sandbox).passed
                    assert "What went wrong (" in user
    roles = {e["role"] for e in examples}
    assert roles == {"code", "decompose", "repair"}
    files = mf.write_jsonl(tmp_path / "ds", examples)
    mf.write_manifest(tmp_path / "ds", files, examples, {"seed": 0})
    assert mf.check_manifest(tmp_path / "ds") == []


def test_manifest_hashes_match_and_detect_edits(tmp_path: Path) -> None:
    assert mf.check_manifest(SAMPLE) == []
    doc = json.loads((SAMPLE / "manifest.json").read_text())
    assert doc["counts"]["total"] <= 50
    assert {"seed", "builder", "versions", "files"} <= doc.keys()
    copy = tmp_path / "sample"
    shutil.copytree(SAMPLE, copy)
    f = copy / "code.jsonl"
    f.write_text(f.read_text() + "\n")
    assert mf.check_manifest(copy) == ["code.jsonl: sha256 differs"]


def test_sample_follows_the_contract() -> None:
    rows = decontaminate.load_examples(SAMPLE)
    assert rows and {r["role"] for r in rows} == {"code", "decompose", "repair"}
    for r in rows:
        mf.validate(r)
        if r["role"] != "decompose":
            from agent.extract import extract_code

            code = extract_code(r["messages"][-1]["content"], "x")
            assert code.strip() and "def " in code


# ------------------------------------------------------------------ trajectories


def _fake_run(where: Path, spec_path: Path, code: str, result, solved: bool,
              best: str = "a1-k0") -> Path:
    """A run directory in the agent's layout, with a report built from a real check."""
    where.mkdir(parents=True)
    (where / "solution.py").write_text(code)
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    lines = [{"role": "decompose", "messages": msgs, "completion": "1. a\n2. b",
              "outcome": "used as plan"},
             {"role": "draft", "messages": msgs, "completion": "```python\nx\n```",
              "candidate": "a1-k1", "code": "x\n"},
             {"role": "draft", "messages": msgs, "completion": f"```python\n{code}```",
              "candidate": best, "code": code}]
    (where / "trajectory.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    report = {"spec": result.spec_id, "spec_path": str(spec_path), "solved": solved,
              "best_candidate": best, "cases": [asdict(c) for c in result.cases],
              "model": {"name": "qwen2.5-coder-1.5b", "sha256": "cc324af070c2ecbfd324a3"}}
    (where / "report.json").write_text(json.dumps(report, default=str))
    return where


@pytest.mark.docker
def test_trajectory_conversion_keeps_only_solved_runs(sandbox, tmp_path: Path) -> None:
    t = GENERATORS["packet-loss"].make(0, 0, tmp_path / "tasks")
    good = run_program(t, t.draft.reference, sandbox)
    wrong_code = next(c for c in (apply_mutant(t.draft.reference, m) for m in t.draft.mutants)
                      if c and not run_program(t, c, sandbox).passed)
    bad = run_program(t, wrong_code, sandbox)
    runs = tmp_path / "runs"
    _fake_run(runs / "ok" / "s0", t.spec_path, t.draft.reference, good, solved=good.passed)
    _fake_run(runs / "fail" / "s0", t.spec_path, wrong_code, bad, solved=False)
    # claims solved but a hidden case failed: rejected too
    _fake_run(runs / "liar" / "s0", t.spec_path, wrong_code, bad, solved=True)
    bench = yaml.safe_load((ROOT / "examples/hrv-rmssd/spec.yaml").read_text())["id"]
    good_bench = type(good)(bench, str(ROOT / "examples/hrv-rmssd/spec.yaml"), "", good.cases)
    _fake_run(runs / "bench" / "s0", ROOT / "examples/hrv-rmssd/spec.yaml",
              t.draft.reference, good_bench, solved=True)
    conv = convert_runs(runs)
    assert conv.seen == 4 and conv.kept == 1
    assert conv.skipped == {"not-solved": 1, "a-case-fails": 1, "benchmark-task": 1}
    roles = sorted(e["role"] for e in conv.examples)
    assert roles == ["code", "decompose"]  # the non-best draft is left out
    code_ex = next(e for e in conv.examples if e["role"] == "code")
    assert decontaminate.programs(code_ex)[0].strip() == t.draft.reference.strip()
    assert all(e["source"] == "trajectory" and e["verified"] for e in conv.examples)
    # the model that solved it is recorded (the 1.5B teaching the 0.5B), and counted
    assert {e["teacher"] for e in conv.examples} == {"qwen2.5-coder-1.5b@cc324af070c2"}
    assert mf.counts(conv.examples)["by_teacher"] == {"qwen2.5-coder-1.5b@cc324af070c2": 2}


# ------------------------------------------------------------------ decontamination


def test_decontamination_flags_a_copied_reference_not_a_clean_one(tmp_path: Path) -> None:
    ref = (ROOT / "examples/solutions/hrv-rmssd.py").read_text()
    sys_user = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]

    def ex(code: str, user: str = "u") -> dict:
        return {"role": "code", "task": "t/x", "source": "generator", "verified": True,
                "messages": [sys_user[0], {"role": "user", "content": user},
                             {"role": "assistant", "content": P.answer("doc", code)}]}

    renamed = ref.replace("rmssd", "successive_rms").replace("nni", "intervals")
    clean = GENERATORS["packet-loss"].make(0, 0, tmp_path).draft.reference
    spec_req = yaml.safe_load((ROOT / "examples/hrv-rmssd/spec.yaml").read_text())["requirement"]
    rep = decontaminate.report([ex(ref), ex(clean), ex(renamed), ex(clean, spec_req)])
    flagged = {r["index"] for r in rep["flagged"]}
    assert 0 in flagged and 1 not in flagged
    assert 2 in flagged  # renamed function and argument: the rest of the structure stays
    assert rep["flagged"][0]["code_ref"] == "examples/solutions/hrv-rmssd.py"
    assert 3 in flagged  # an IoTBench/example requirement in the prompt
    assert not rep["clean"]
    assert decontaminate.report([ex(clean)])["clean"]


def test_trace_overlap_finds_a_copied_bench_trace(tmp_path: Path) -> None:
    src = next((ROOT / "iotbench" / "tasks").rglob("traces/*.npy"))
    task = tmp_path / "t" / "traces"
    task.mkdir(parents=True)
    x = np.load(src).astype(float).ravel()[:200]
    np.save(task / "copied.npy", x)
    hit = decontaminate.trace_overlap([tmp_path / "t"])
    assert hit["overlapping"] == [str(task / "copied.npy")]
    np.save(task / "copied.npy", np.random.default_rng(0).normal(size=200))
    assert decontaminate.trace_overlap([tmp_path / "t"])["overlapping"] == []
