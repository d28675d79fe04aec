"""Graph routing with a scripted model on real traces (hrv-rmssd), in a fake sandbox and the
real one:
each failure class reaches the right node, the controller redrafts after two stalled
rounds, hidden cases never reach a prompt, single-shot is one draft, and resume continues
from the checkpoint."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from agent.configuration import RunConfig
from agent.models.base import ChatModel, Completion
from agent.run import resume_run, start_run
from agent.spec import load_spec


@pytest.fixture(params=["fake", pytest.param("docker-warm", marks=pytest.mark.docker)])
def sandbox(request):
    """Each routing case twice: in seconds without an engine (tests/fake_sandbox.py, the
    real harness in this process, for these scripted programs only), and through the real
    warm Docker sandbox."""
    if request.param == "fake":
        from fake_sandbox import FakeSandbox

        return FakeSandbox()
    return request.getfixturevalue("warm_sandbox")

SPEC = Path(__file__).resolve().parent.parent / "examples/hrv-rmssd/spec.yaml"

CORRECT = "import numpy as np\n\ndef rmssd(nni):\n    d = np.diff(np.asarray(nni, float))\n" \
          "    return float(np.sqrt(np.mean(d ** 2)))\n"
ROLL = "import numpy as np\n\ndef rmssd(nni):\n    d = nni - np.roll(nni, 1)\n" \
       "    return float(np.sqrt(np.mean(d ** 2)))\n"
SYNTAX = "import numpy as np\n\ndef rmssd(nni)\n    return 1.0\n"
RAISES = "import numpy as np\n\ndef rmssd(nni):\n    return float(nni[len(nni)])\n"
# Passes the two visible recordings only (their lengths), fails the hidden ones.
OVERFIT = ("import numpy as np\n\ndef rmssd(nni):\n    if len(nni) in (VISIBLE):\n"
           "        d = np.diff(np.asarray(nni, float))\n"
           "        return float(np.sqrt(np.mean(d ** 2)))\n    return 0.0\n")


def fenced(code: str) -> str:
    return f"Here is the program:\n```python\n{code}```\nIt computes the value."


class ScriptedModel(ChatModel):
    """Replies by role from queues (the last reply of a role repeats); records every call."""

    name = "scripted"
    sha256 = None

    def __init__(self, script: dict[str, list[str]],
                 on_call: Callable[[str], None] | None = None) -> None:
        self.script = {k: list(v) for k, v in script.items()}
        self.calls: list[dict] = []
        self.on_call = on_call

    def generate(self, messages, *, max_new_tokens=512, temperature=0.0, seed=None, stop=None,
                 role=None, deadline=None, node=None):
        user, adapter_role = messages[-1]["content"], role
        # the graph names the node that calls (generate's `node`): no guessing from prompts
        assert node is not None, "every model call of the graph names its node"
        role = node
        if self.on_call:
            self.on_call(role)
        queue = self.script.get(role) or self.script["repair" if role == "rewrite" else role]
        text = queue.pop(0) if len(queue) > 1 else queue[0]
        self.calls.append({"role": role, "messages": messages, "temperature": temperature,
                           "adapter_role": adapter_role})
        return Completion(text, len(user) // 4, len(text) // 4, 0.01)


def _visible_lengths() -> str:
    return ", ".join(str(len(c.args["nni"])) for c in load_spec(SPEC).visible_cases)


def _run(tmp_path: Path, sandbox, script, **cfg) -> tuple[int, Path, ScriptedModel, list[str]]:
    model = ScriptedModel(script)
    lines: list[str] = []
    run_dir = tmp_path / "run"
    code = start_run(SPEC, RunConfig(**cfg), run_dir, model=model, sandbox=sandbox,
                     log=lines.append)
    return code, run_dir, model, lines


def _report(run_dir: Path) -> dict:
    return json.loads((run_dir / "report.json").read_text())


BASE = {"decompose": ["1. take successive differences\n2. root mean square"],
        "specify": ["1. nni (ms) -> diffs (ms)\n2. diffs -> float ms"]}


def test_repair_fixes_wrong_value_and_artifacts_are_complete(tmp_path, sandbox) -> None:
    code, run_dir, model, lines = _run(
        tmp_path, sandbox, {**BASE, "draft": [fenced(ROLL)], "repair": [fenced(CORRECT)]},
        decompose=True, specify=True, retrieve=True)
    assert code == 0
    report = _report(run_dir)
    assert report["solved"] and report["stop_reason"] == "solved"
    assert report["knowledge"] and "hrv-time-domain" in report["knowledge"]
    assert [a["failure"] for a in report["attempts"]] == ["wrong_value", "none"]
    assert len(report["cases"]) == 4 and all(c["passed"] for c in report["cases"])
    assert (run_dir / "solution.py").read_text() == CORRECT
    roles = [json.loads(x).get("role") for x in (run_dir / "trajectory.jsonl").open()]
    assert roles[:3] == ["decompose", "specify", "draft"] and "repair" in roles
    # each call asks for the adapter of its GPIoT role (specify is the decomposer's job)
    assert [(c["role"], c["adapter_role"]) for c in model.calls] == [
        ("decompose", "decompose"), ("specify", "decompose"), ("draft", "code"),
        ("draft", "code"), ("repair", "repair")]
    repair_prompt = [c for c in model.calls if c["role"] == "repair"][0]["messages"][-1]
    assert "np.roll" in repair_prompt["content"] and "wrong_value" in repair_prompt["content"]
    assert {"understand", "decompose", "specify", "retrieve", "draft", "lint", "execute",
            "evaluate", "verify", "repair"} <= set(report["node_seconds"])
    assert any(line.startswith("[verify]") for line in lines)


def test_syntax_error_goes_to_repair_without_a_sandbox_run(tmp_path, sandbox) -> None:
    code, run_dir, model, lines = _run(
        tmp_path, sandbox, {**BASE, "draft": [fenced(SYNTAX)], "repair": [fenced(CORRECT)]},
        candidates=1)
    assert code == 0
    first_round = lines[lines.index(next(x for x in lines if x.startswith("[draft]"))):]
    assert first_round[1].startswith("[lint] 0 runnable, 1 blocked")
    assert "-> repair" in first_round[2] and "syntax" in first_round[2]
    assert _report(run_dir)["attempts"][0]["failure"] == "syntax"


def test_exception_reaches_repair_with_the_traceback(tmp_path, sandbox) -> None:
    code, run_dir, model, _ = _run(
        tmp_path, sandbox, {**BASE, "draft": [fenced(RAISES)], "repair": [fenced(CORRECT)]},
        candidates=1)
    assert code == 0
    prompt = [c for c in model.calls if c["role"] == "repair"][0]["messages"][-1]["content"]
    assert "IndexError" in prompt and "exception" in prompt


def test_hidden_failure_is_reported_without_revealing_the_case(tmp_path, sandbox) -> None:
    overfit = OVERFIT.replace("VISIBLE", _visible_lengths() + ",")
    code, run_dir, model, _ = _run(
        tmp_path, sandbox, {**BASE, "draft": [fenced(overfit)], "repair": [fenced(CORRECT)]},
        candidates=1)
    assert code == 0
    report = _report(run_dir)
    assert [a["failure"] for a in report["attempts"]] == ["none", "none"]
    prompt = [c for c in model.calls if c["role"] == "repair"][0]["messages"][-1]["content"]
    assert "held-out recording fails" in prompt
    _assert_hidden_never_in(model.calls)


def _assert_hidden_never_in(calls: list[dict]) -> None:
    spec = load_spec(SPEC)
    text = "\n".join(m["content"] for c in calls for m in c["messages"])
    for case in spec.hidden_cases:
        assert case.name not in text
        assert f"{case.expect:.4g}" not in text and str(case.expect) not in text
        first = case.args["nni"][:3]
        assert ", ".join(f"{x:.4g}" for x in first) not in text
        assert f"shape ({len(case.args['nni'])},)" not in text


def test_controller_redrafts_hotter_after_two_stalled_rounds(tmp_path, sandbox) -> None:
    code, run_dir, model, _ = _run(
        tmp_path, sandbox,
        {**BASE, "draft": [fenced(ROLL), fenced(CORRECT)], "repair": [fenced(ROLL)]},
        candidates=1, max_attempts=6)
    assert code == 0
    calls = [c for c in model.calls if c["role"] in ("draft", "repair", "rewrite")]
    # each repair handed ROLL back unchanged, then its sample and its rewrite did too
    assert [(c["role"], c["temperature"]) for c in calls[:7]] == [
        ("draft", 0.0), ("repair", 0.0), ("repair", 0.7), ("rewrite", 0.7),
        ("repair", 0.0), ("repair", 0.7), ("rewrite", 0.7)]
    # the fresh draft: told what failed, shown the matching card's helpers to call, and its
    # first candidate greedy (a new prompt, so greedy is a new program)
    assert calls[7]["role"] == "draft" and calls[7]["temperature"] == 0.0
    prompt = calls[7]["messages"][-1]["content"]
    assert "An earlier program for this task failed (wrong_value)" in prompt
    assert "Verified helpers" in prompt and "`hrv_time_domain(nn_ms)`: RMSSD" in prompt
    assert "def hrv_time_domain(" not in prompt  # a call to make, not code to paste
    assert "`from iot_helpers import ...` for the helpers you call" in prompt
    assert "Reply with the complete module" not in prompt
    assert "d = nni - np.roll(nni, 1)" not in prompt  # the failing code itself is not shown
    modes = [a["mode"] for a in _report(run_dir)["attempts"]]
    assert modes == ["draft", "repair", "repair", "draft"]
    _assert_hidden_never_in(model.calls)


RAISES_KEY = "def rmssd(nni):\n    return {}['rmssd']\n"
RAISES_ZERO = "def rmssd(nni):\n    return 1 / 0\n"
WRONG_TYPE = "def rmssd(nni):\n    return 'about 100 ms'\n"


@pytest.mark.parametrize(("first", "repairs", "failures"), [
    # IndexError, then KeyError, then ZeroDivisionError: three signatures, one score
    (RAISES, [RAISES_KEY, RAISES_ZERO], ["exception"] * 3),
    # a wrong value, then an exception (worse), then another: measured against the previous
    # round the fall-back looked like a change of failure and reset the count; against the
    # best so far both rounds are stalls
    (ROLL, [RAISES, RAISES_KEY], ["wrong_value", "exception", "exception"]),
], ids=["different-exceptions", "fall-back-below-best"])
def test_rounds_that_do_not_beat_the_best_count_as_stalled(
        tmp_path, sandbox, first: str, repairs: list[str], failures: list[str]) -> None:
    code, run_dir, model, _ = _run(
        tmp_path, sandbox, {**BASE, "draft": [fenced(first), fenced(CORRECT)],
                            "repair": [fenced(r) for r in repairs]},
        candidates=1, max_attempts=4)
    assert code == 0
    attempts = _report(run_dir)["attempts"]
    assert [a["mode"] for a in attempts] == ["draft", "repair", "repair", "draft"]
    assert [a["failure"] for a in attempts] == [*failures, "none"]


def test_a_change_of_failure_class_with_a_gain_is_progress(tmp_path, sandbox) -> None:
    code, run_dir, model, _ = _run(
        tmp_path, sandbox, {**BASE, "draft": [fenced(RAISES)],
                            "repair": [fenced(WRONG_TYPE), fenced(RAISES_ZERO),
                                       fenced(RAISES_KEY)]},
        candidates=1, max_attempts=4)
    assert code == 1
    attempts = _report(run_dir)["attempts"]
    assert [a["failure"] for a in attempts] == ["exception", "wrong_type", "exception",
                                                "exception"]
    assert [a["mode"] for a in attempts] == ["draft", "repair", "repair", "repair"]


CALLS_HELPER = "def rmssd(nni):\n    return hrv_time_domain(nni)[\"rmssd\"]\n"
IMPORTS_HELPER = "from iot_helpers import hrv_time_domain\n\n" + CALLS_HELPER


@pytest.mark.parametrize("reply", [CALLS_HELPER, IMPORTS_HELPER])
def test_a_fresh_draft_calling_a_shown_helper_runs_with_the_helper_linked_in(
        tmp_path, sandbox, reply: str) -> None:
    code, run_dir, model, _ = _run(
        tmp_path, sandbox,
        {**BASE, "draft": [fenced(ROLL), fenced(reply)], "repair": [fenced(ROLL)]},
        candidates=1, max_attempts=6)
    assert code == 0
    solution = (run_dir / "solution.py").read_text()
    assert solution.count("def hrv_time_domain(") == 1 and solution.endswith(CALLS_HELPER)
    report = _report(run_dir)
    assert report["solved"] and [a["mode"] for a in report["attempts"]][-1] == "draft"


def test_without_recipes_the_fresh_draft_is_the_plain_task_prompt_sampled_hotter(
        tmp_path, sandbox) -> None:
    code, run_dir, model, lines = _run(
        tmp_path, sandbox,
        {**BASE, "draft": [fenced(ROLL), fenced(CORRECT)], "repair": [fenced(ROLL)]},
        candidates=1, max_attempts=6, recipes=False)
    assert code == 0
    calls = [c for c in model.calls if c["role"] in ("draft", "repair", "rewrite")]
    assert calls[7]["role"] == "draft" and calls[7]["temperature"] >= 0.8
    prompt = calls[7]["messages"][-1]["content"]
    assert "An earlier program" not in prompt and "hrv_time_domain" not in prompt
    assert prompt == calls[0]["messages"][-1]["content"]
    assert not any("recipes:" in line for line in lines)


@pytest.mark.parametrize("reply", [CALLS_HELPER, IMPORTS_HELPER])
def test_without_recipes_a_call_to_an_unshown_helper_is_not_linked(
        tmp_path, sandbox, reply: str) -> None:
    code, run_dir, _, _ = _run(
        tmp_path, sandbox,
        {**BASE, "draft": [fenced(ROLL), fenced(reply)], "repair": [fenced(ROLL)]},
        candidates=1, max_attempts=4, recipes=False)
    assert code == 1
    attempts = _report(run_dir)["attempts"]
    assert attempts[-1]["mode"] == "draft" and attempts[-1]["failure"] == "lint"


@pytest.mark.parametrize("reply", [CALLS_HELPER, IMPORTS_HELPER])
def test_first_helpers_give_the_first_draft_the_cards_and_link_the_call(
        tmp_path, sandbox, reply: str) -> None:
    code, run_dir, model, lines = _run(
        tmp_path, sandbox, {**BASE, "draft": [fenced(reply)], "repair": [fenced(ROLL)]},
        candidates=1, max_attempts=2, first_helpers=True)
    assert code == 0
    first = model.calls[0]["messages"][-1]["content"]
    assert "Verified helpers" in first and "An earlier program" not in first
    assert (run_dir / "solution.py").read_text().count("def hrv_time_domain(") == 1
    assert _report(run_dir)["attempts"][0]["mode"] == "draft"
    assert any("helpers at the first draft" in line for line in lines)


def test_a_task_function_named_like_a_helper_survives_linking(tmp_path, sandbox) -> None:
    """The task's own function is never dropped as a reply's version of a helper: a card's
    helper of the same name is shown and linked as `<name>_helper`. The twin: an unrenamed
    card (what link did before) deletes the function and leaves only its imports."""
    import shutil

    from agent import knowledge as kb

    task = tmp_path / "task"
    shutil.copytree(SPEC.parent, task)
    (task / "spec.yaml").write_text((task / "spec.yaml").read_text().replace(
        "name: rmssd", "name: hrv_time_domain"))
    reply = ("from iot_helpers import hrv_time_domain_helper\n\n"
             "def hrv_time_domain(nni):\n    return hrv_time_domain_helper(nni)[\"rmssd\"]\n")
    model = ScriptedModel({**BASE, "draft": [fenced(reply)], "repair": [fenced(ROLL)]})
    code = start_run(task / "spec.yaml", RunConfig(candidates=1, max_attempts=1,
                                                   first_helpers=True),
                     tmp_path / "run", model=model, sandbox=sandbox, log=lambda _: None)
    assert code == 0
    first = model.calls[0]["messages"][-1]["content"]
    assert "`hrv_time_domain_helper(nn_ms)`" in first and "`hrv_time_domain(" not in first
    solution = (tmp_path / "run" / "solution.py").read_text()
    assert "def hrv_time_domain_helper(nn_ms)" in solution and solution.endswith(
        reply.split("\n\n", 1)[1])
    card = next(c for c in kb.load_cards() if c.id == "hrv-time-domain")
    own = "def hrv_time_domain(nni):\n    return 1.0\n"
    assert "def hrv_time_domain(nni)" not in kb.link(own, [card])
    assert kb.link(own, kb.for_entry([card], "hrv_time_domain")) == own


@pytest.mark.parametrize("prefill", [True, False])
def test_prefill_starts_the_reply_of_a_draft_shown_helpers_only(tmp_path, sandbox,
                                                                 prefill) -> None:
    """--prefill: a draft shown helpers ends its chat with the reply's start (the import the
    prompt asks for), which the backends continue; the twin (off) leaves the chat as it was;
    a draft shown none never gets it."""
    from agent.nodes.draft import HELPERS_PREFILL

    code, run_dir, model, _ = _run(
        tmp_path, sandbox,
        {**BASE, "draft": [fenced(ROLL), fenced(IMPORTS_HELPER)], "repair": [fenced(ROLL)]},
        candidates=1, max_attempts=6, prefill=prefill)
    assert code == 0
    drafts = [c["messages"] for c in model.calls if c["role"] == "draft"]
    assert drafts[0][-1]["role"] == "user"  # the first draft was shown no helpers
    last = drafts[-1][-1]
    assert (last == {"role": "assistant", "content": HELPERS_PREFILL}) is prefill
    assert "Verified helpers" in drafts[-1][-2 if prefill else -1]["content"]


@pytest.mark.parametrize("options", [{}, {"first_helpers": True, "helpers_floor": 1e6}])
def test_without_first_helpers_or_above_every_score_the_first_draft_is_plain(
        tmp_path, sandbox, options) -> None:
    """Off by default, and a floor no card reaches leaves the first prompt as it was: a
    call to an unshown helper is an undefined name."""
    code, run_dir, model, _ = _run(
        tmp_path, sandbox, {**BASE, "draft": [fenced(CALLS_HELPER)], "repair": [fenced(ROLL)]},
        candidates=1, max_attempts=1, **options)
    assert code == 1
    assert "Verified helpers" not in model.calls[0]["messages"][-1]["content"]
    assert _report(run_dir)["attempts"][0]["failure"] == "lint"


def test_without_controller_it_keeps_repairing_until_the_budget(tmp_path, sandbox) -> None:
    code, run_dir, model, _ = _run(
        tmp_path, sandbox, {**BASE, "draft": [fenced(ROLL)], "repair": [fenced(ROLL)]},
        candidates=1, max_attempts=3, controller=False)
    assert code == 1
    report = _report(run_dir)
    assert report["stop_reason"] == "attempt budget (3) spent" and not report["solved"]
    assert [c["role"] for c in model.calls] == ["draft", "repair", "repair"]
    assert all(c["temperature"] == 0.0 for c in model.calls)  # no resampling either


def test_unchanged_repair_is_resampled_not_rerun(tmp_path, sandbox) -> None:
    code, run_dir, model, lines = _run(
        tmp_path, sandbox, {**BASE, "draft": [fenced(ROLL)],
                            "repair": [fenced(ROLL), fenced(CORRECT)]},
        candidates=1, max_attempts=2)
    assert code == 0
    assert [(c["role"], c["temperature"]) for c in model.calls] == [
        ("draft", 0.0), ("repair", 0.0), ("repair", 0.7)]  # the sample differs: no rewrite
    report = _report(run_dir)
    assert [a["mode"] for a in report["attempts"]] == ["draft", "repair"]
    assert report["best_candidate"] == "a2-k1"
    assert any("unchanged program" in line for line in lines)


def test_a_copied_sample_is_rewritten_without_the_code(tmp_path, sandbox) -> None:
    code, run_dir, model, lines = _run(
        tmp_path, sandbox, {**BASE, "draft": [fenced(ROLL)], "repair": [fenced(ROLL)],
                            "rewrite": [fenced(CORRECT)]},
        candidates=1, max_attempts=2)
    assert code == 0
    assert [(c["role"], c["temperature"], c["adapter_role"]) for c in model.calls] == [
        ("draft", 0.0, "code"), ("repair", 0.0, "repair"), ("repair", 0.7, "repair"),
        ("rewrite", 0.7, "code")]  # a rewrite is a draft: the code adapter
    assert _report(run_dir)["best_candidate"] == "a2-k2"
    repair_prompt = model.calls[1]["messages"][-1]["content"]
    rewrite_prompt = model.calls[3]["messages"][-1]["content"]
    # the repair showed the failing code; the rewrite says what failed but not the code
    assert "d = nni - np.roll" in repair_prompt and "d = nni - np.roll" not in rewrite_prompt
    feedback_line = next(x for x in repair_prompt.splitlines() if x.startswith("Case "))
    assert feedback_line in rewrite_prompt and "wrong_value" in rewrite_prompt
    assert "Example inputs" in rewrite_prompt  # the task prompt, trace cards included
    assert any("rewriting" in line for line in lines)


def test_single_shot_is_one_draft_and_no_feedback(tmp_path, sandbox) -> None:
    code, run_dir, model, _ = _run(tmp_path, sandbox, {"draft": [fenced(ROLL)]},
                                   mode="single-shot")
    assert code == 1
    assert [c["role"] for c in model.calls] == ["draft"]
    assert model.calls[0]["temperature"] == 0.0


def test_resume_continues_from_the_checkpoint(tmp_path, sandbox) -> None:
    def die_at_repair(role: str) -> None:
        if role == "repair":
            raise KeyboardInterrupt

    first = ScriptedModel({**BASE, "draft": [fenced(ROLL)], "repair": [fenced(CORRECT)]},
                          on_call=die_at_repair)
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        start_run(SPEC, RunConfig(candidates=1), run_dir, model=first, sandbox=sandbox,
                  log=lambda s: None)
    assert not (run_dir / "report.json").exists()
    second = ScriptedModel({**BASE, "draft": [fenced(ROLL)], "repair": [fenced(CORRECT)]})
    assert resume_run(run_dir, model=second, sandbox=sandbox, log=lambda s: None) == 0
    assert [c["role"] for c in second.calls] == ["repair"]  # nothing before it ran again
    report = _report(run_dir)
    assert report["solved"] and [a["attempt"] for a in report["attempts"]] == [1, 2]
    assert resume_run(run_dir, model=second, sandbox=sandbox, log=lambda s: None) == 0


def test_time_limit_stops_the_run(tmp_path, sandbox) -> None:
    start = time.monotonic()
    code, run_dir, model, _ = _run(
        tmp_path, sandbox, {**BASE, "draft": [fenced(ROLL)], "repair": [fenced(ROLL)]},
        candidates=1, max_attempts=50, time_limit_s=0.001)
    assert code == 1 and "time limit" in _report(run_dir)["stop_reason"]
    assert len(_report(run_dir)["attempts"]) == 1
    assert time.monotonic() - start < 120
    assert np.isfinite(_report(run_dir)["wall_s"])


def test_a_prose_only_repair_is_resampled_like_an_unchanged_one(tmp_path, sandbox) -> None:
    """IoTBench daphnet-window-variance: the 1.5B's repair answered in prose with no code;
    it was run as a program (a syntax failure, one attempt lost)."""
    prose = "The program was correctly written and did not have any issues."
    code, run_dir, model, lines = _run(
        tmp_path, sandbox, {**BASE, "draft": [fenced(ROLL)], "repair": [prose, fenced(CORRECT)]},
        candidates=1, max_attempts=2)
    assert code == 0
    assert [(c["role"], c["temperature"]) for c in model.calls] == [
        ("draft", 0.0), ("repair", 0.0), ("repair", 0.7)]
    assert any("no program in the reply" in line for line in lines)
    assert _report(run_dir)["best_candidate"] == "a2-k1"


HUGE = "def rmssd(nni):\n    return [2 ** 200, 10 ** 400]\n"


def test_a_program_returning_integers_beyond_64_bits_does_not_end_the_run(tmp_path,
                                                                          sandbox) -> None:
    """The checkpoint (msgpack) cannot hold such ints: IoTBench's edge-delta-rle run ended in
    "TypeError: Integer exceeds 64-bit range" after its last attempt, losing its record."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    with pytest.raises(TypeError, match="64-bit"):  # why: the serializer's limit
        JsonPlusSerializer().dumps_typed({"value": [2 ** 200]})
    code, run_dir, model, _ = _run(
        tmp_path, sandbox, {**BASE, "draft": [fenced(HUGE)], "repair": [fenced(CORRECT)]},
        candidates=1, max_attempts=2)
    assert code == 0 and _report(run_dir)["solved"]
    assert [a["failure"] for a in _report(run_dir)["attempts"]][0] in ("wrong_type",
                                                                       "wrong_value")
