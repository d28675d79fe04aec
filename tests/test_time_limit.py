"""The time limit holds inside model calls, and a run stopped by it, by SIGTERM or by Ctrl-C
still leaves its best program and a report (issue 17): a scripted slow model on hrv-rmssd
with the real sandbox."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from agent.cli import main as cli_main
from agent.configuration import RunConfig
from agent.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, Interrupted
from agent.models.base import Completion
from agent.run import StopSignals, resume_run, start_run
from sandboxes.docker_sandbox import LABEL, LABEL_PID

sys.path.insert(0, str(Path(__file__).resolve().parent))
from slow_model import CORRECT, RAISES, ROLL, ROOT, SPEC, SlowModel, fenced  # noqa: E402

LIMIT = 60.0
# two drafts end at ~40 s, leaving 20 s for lint, sandbox and evaluation on a loaded machine
# (CI once needed more than the 10 s that 25 s drafts left); the repair would cross the limit
DRAFT_S, REPAIR_S = 20.0, 35.0


def _report(run_dir: Path) -> dict:
    return json.loads((run_dir / "report.json").read_text())


def _trajectory(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "trajectory.jsonl").open()]


@pytest.mark.docker
@pytest.mark.parametrize("honour", [True, False], ids=["deadline", "deadline-ignored"])
def test_a_60_s_limit_holds_inside_a_model_call(tmp_path, sandbox, honour: bool) -> None:
    """Drafts take 40 s, the repair (handing ROLL back) starts at ~41 s and would take 35 s:
    cut at the deadline, the run ends within seconds of 60 s with the best draft on disk. A
    backend that ignores the deadline (the twin) overruns by the rest of the call."""
    model = SlowModel({"code": [fenced(RAISES), fenced(ROLL)], "repair": [fenced(ROLL)]},
                      {"code": DRAFT_S, "repair": REPAIR_S}, honour_deadline=honour)
    run_dir = tmp_path / "run"
    start = time.time()
    code = start_run(SPEC, RunConfig(time_limit_s=LIMIT, max_attempts=8), run_dir,
                     model=model, sandbox=sandbox, log=lambda s: None)
    took = time.time() - start
    assert code == 1
    report = _report(run_dir)
    assert report["stop_reason"] == "time limit (60 s) reached" and not report["solved"]
    # the best candidate so far (ROLL: wrong value beats an exception), judged on every case
    assert report["best_candidate"] == "a1-k1" and report["final_check"]
    assert (run_dir / "solution.py").read_text() == ROLL
    assert len(report["cases"]) == 4
    # no call starts after the deadline: the repair's sample and rewrite never went out
    assert [c["role"] for c in model.calls] == ["code", "code", "repair"]
    deadlines = {c["deadline"] for c in model.calls}
    assert len(deadlines) == 1 and abs(deadlines.pop() - (start + LIMIT)) < 2
    repair = [r for r in _trajectory(run_dir) if r.get("role") == "repair"]
    if honour:
        assert LIMIT <= took < LIMIT + 8
        assert [r["finish_reason"] for r in repair] == ["deadline"]
    else:
        assert took >= model.calls[-1]["start"] - start + REPAIR_S > LIMIT + 10
        assert [r["finish_reason"] for r in repair] == ["stop"]


class BatchModel(SlowModel):
    """Records each generate_many request (the llama.cpp backend decodes them as a batch)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.batches: list[tuple[list[float], list[int | None]]] = []

    def generate_many(self, messages: list[dict], temperatures: Any, seeds: Any,
                      **kw: Any) -> list[Completion]:
        self.batches.append((list(temperatures), list(seeds)))
        return super().generate_many(messages, temperatures, seeds, **kw)


@pytest.mark.docker
def test_draft_asks_for_its_candidates_in_one_request(tmp_path, sandbox) -> None:
    model = BatchModel({"code": [fenced(ROLL), fenced(RAISES)], "repair": [fenced(CORRECT)]},
                       {})
    code = start_run(SPEC, RunConfig(seed=3), tmp_path / "run", model=model, sandbox=sandbox,
                     log=lambda s: None)
    assert code == 0
    # one request for both candidates: greedy first, then sampled; seeds as the loop had them;
    # the repair is a call of its own
    assert model.batches == [([0.0, 0.7], [3010, 3011])]
    assert [(c["role"], c["temperature"]) for c in model.calls] == [
        ("code", 0.0), ("code", 0.7), ("repair", 0.0)]
    drafts = [r for r in _trajectory(tmp_path / "run") if r.get("role") == "draft"]
    assert [(r["seed"], r["finish_reason"], r["tokens_cached"]) for r in drafts] == [
        (3010, "stop", 0), (3011, "stop", 0)]


def _mine(sandbox: Any, pid: int) -> list:
    return sandbox.client.containers.list(all=True,
                                          filters={"label": [LABEL, f"{LABEL_PID}={pid}"]})


@pytest.mark.docker
def test_sigterm_leaves_the_best_program_a_report_and_no_container(tmp_path, sandbox) -> None:
    run_dir, mark = tmp_path / "run", tmp_path / "repairing"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    child = subprocess.Popen([sys.executable, str(ROOT / "tests/slow_model.py"), str(run_dir),
                              str(mark)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        until = time.monotonic() + 60
        while not mark.exists() and child.poll() is None and time.monotonic() < until:
            time.sleep(0.2)
        assert mark.exists(), child.communicate()[0] if child.poll() is not None else "late"
        assert _mine(sandbox, child.pid)  # its warm container, while it runs
        assert not (run_dir / "report.json").exists()
        sent = time.monotonic()
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == EXIT_TERMINATED, out
    assert time.monotonic() - sent < 10  # what `docker stop` waits before SIGKILL
    assert _mine(sandbox, child.pid) == []
    assert (run_dir / "solution.py").read_text() == ROLL
    report = _report(run_dir)
    assert report["stop_reason"] == "interrupted (SIGTERM)" and not report["solved"]
    assert report["best_candidate"] == "a1-k0" and not report["final_check"]
    # what the run had measured: the visible cases, never a hidden one it did not run
    assert [(c["hidden"], c["status"]) for c in report["cases"]] == [(False, "wrong_value")] * 2
    assert "continue with `gpiot run --resume" in out
    # and it stays resumable: the repair runs again, nothing before it
    again = SlowModel({"code": [fenced(ROLL)], "repair": [fenced(CORRECT)]}, {})
    assert resume_run(run_dir, model=again, sandbox=sandbox, log=lambda s: None) == 0
    assert [c["role"] for c in again.calls] == ["repair"]
    assert _report(run_dir)["solved"] and _report(run_dir)["stop_reason"] == "solved"


@pytest.mark.docker
@pytest.mark.parametrize("keep", [True, False], ids=["run", "bench"])
def test_ctrl_c_keeps_the_artifacts_only_when_asked_and_resume_continues(
        tmp_path, sandbox, keep: bool) -> None:
    class CtrlC(SlowModel):
        def generate(self, messages: list[dict], **kw: Any) -> Completion:
            if kw.get("role") == "repair":
                raise KeyboardInterrupt
            return super().generate(messages, **kw)

    run_dir = tmp_path / "run"
    first = CtrlC({"code": [fenced(ROLL)], "repair": [fenced(CORRECT)]}, {})
    with pytest.raises(KeyboardInterrupt):
        start_run(SPEC, RunConfig(candidates=1), run_dir, model=first, sandbox=sandbox,
                  log=lambda s: None, keep_stopped=keep)
    if keep:
        assert _report(run_dir)["stop_reason"] == "interrupted (SIGINT)"
        assert (run_dir / "solution.py").read_text() == ROLL
    else:  # a bench restarts an unfinished attempt and takes a report.json as finished
        assert not (run_dir / "report.json").exists()
    second = SlowModel({"code": [fenced(ROLL)], "repair": [fenced(CORRECT)]}, {})
    assert resume_run(run_dir, model=second, sandbox=sandbox, log=lambda s: None) == 0
    assert [c["role"] for c in second.calls] == ["repair"]
    assert _report(run_dir)["solved"]
    # a finished run is not run again
    assert resume_run(run_dir, model=second, sandbox=sandbox, log=lambda s: None) == 0
    assert len(second.calls) == 1


def _self_signal(signum: int) -> None:
    # Only while StopSignals holds the handler: a default one would end the test process.
    assert signal.getsignal(signum) not in (signal.SIG_DFL, signal.default_int_handler)
    os.kill(os.getpid(), signum)


def test_sigterm_is_raised_as_an_interrupt_and_the_handler_restored() -> None:
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    with pytest.raises(Interrupted) as caught, StopSignals():
        _self_signal(signal.SIGTERM)
        time.sleep(5)  # the handler raises in the main thread before this ends
    assert caught.value.exit_code == EXIT_TERMINATED and caught.value.signal_name == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


@pytest.mark.parametrize("held", [True, False], ids=["during-cleanup", "while-running"])
def test_a_signal_during_cleanup_waits_until_it_is_done(held: bool) -> None:
    done = []
    with pytest.raises(Interrupted), StopSignals() as stops:
        with stops.deferred() if held else contextlib.nullcontext():
            _self_signal(signal.SIGTERM)
            time.sleep(0.2)
            done.append(True)
    assert done == ([True] if held else [])


@pytest.mark.parametrize(("exc", "code"), [(Interrupted(signal.SIGTERM), EXIT_TERMINATED),
                                           (KeyboardInterrupt(), EXIT_INTERRUPTED)])
def test_the_exit_code_names_the_signal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                        exc: KeyboardInterrupt, code: int) -> None:
    def stopped(*args: Any, **kw: Any) -> int:
        raise exc

    monkeypatch.setattr("agent.run.resume_run", stopped)
    assert cli_main(["run", "--resume", str(tmp_path)]) == code


@pytest.mark.docker
@pytest.mark.parametrize("draft_s", [30.0, 0.5], ids=["cut-by-the-deadline", "in-time"])
def test_a_draft_cut_before_its_function_is_no_candidate(tmp_path, sandbox, draft_s) -> None:
    """A reply the deadline cut before it defined the function is not run: the round ends
    in finalize with the time limit as the reason (the twin: a draft in time is run)."""
    model = SlowModel({"code": [fenced(ROLL)], "repair": [fenced(CORRECT)]},
                      {"code": draft_s, "repair": 30.0})
    run_dir = tmp_path / "run"
    start_run(SPEC, RunConfig(time_limit_s=5.0, candidates=1), run_dir, model=model,
              sandbox=sandbox, log=lambda s: None)
    report = _report(run_dir)
    assert report["stop_reason"] == "time limit (5 s) reached"
    ran = "execute" in report["node_seconds"]
    assert ran == (draft_s < 5.0)
    assert (report["best_candidate"] is None) == (draft_s > 5.0)
