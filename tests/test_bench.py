"""`python -m agent bench`: pass@k against hand-computed values, summaries, atomic result
lines, resume after a SIGKILL, Ctrl-C, a refused configuration change, the reports' plots;
all through the real loop, the real Docker sandbox and the examples' real traces, with a
scripted model (tests/bench_fake.py) — and once with the real 0.5B model. Also the CI
validation recipe (scripts/validate-generated-code.sh) and its workflow."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest
import yaml

from agent.bench import BenchConfig, append_result, discover, load_results, pin_config, run_bench
from agent.errors import BadInputError
from agent.report import confusion, event_excerpt, pass_at_k, summarise

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FAKE = Path(__file__).resolve().parent / "bench_fake.py"
sys.path.insert(0, str(FAKE.parent))
from bench_fake import FakeModel  # noqa: E402


def _cfg(tasks: str, **kw) -> BenchConfig:
    return BenchConfig(tasks_dir=str(EXAMPLES), tasks=tasks, mode="single-shot", **kw)


def _lines(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]


# -- pure parts ------------------------------------------------------------------------------

def test_pass_at_k_matches_hand_computed_values() -> None:
    # n=5 samples, c=2 solved: pass@1 = 2/5; pass@2 = 1 - C(3,2)/C(5,2) = 1 - 3/10;
    # pass@3 = 1 - C(3,3)/C(5,3) = 1 - 1/10; pass@4: every 4-subset holds a solved one.
    assert pass_at_k(5, 2, 1) == pytest.approx(0.4)
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    assert pass_at_k(5, 2, 3) == pytest.approx(0.9)
    assert pass_at_k(5, 2, 4) == 1.0
    # n=10, c=3, k=5: 1 - C(7,5)/C(10,5) = 1 - 21/252
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - 21 / 252)
    assert pass_at_k(4, 0, 2) == 0.0 and pass_at_k(4, 4, 1) == 1.0
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)


def _rec(task: str, sample: int, solved: bool, cat: str, diff: str, tok: int, wall: float,
         error: str = "") -> dict:
    return {"task": task, "sample": sample, "solved": solved, "category": cat,
            "difficulty": diff, "tokens_in": 10 * tok, "tokens_out": tok, "wall_s": wall,
            "error": error}


def test_summary_per_category_and_difficulty() -> None:
    recs = [_rec("a", 0, True, "ecg", "easy", 100, 1.0),
            _rec("a", 1, False, "ecg", "easy", 300, 3.0),
            _rec("b", 0, False, "ecg", "hard", 200, 2.0),
            _rec("b", 1, False, "ecg", "hard", 200, 2.0),
            _rec("c", 0, True, "imu", "easy", 50, 5.0),
            _rec("c", 1, False, "imu", "easy", 50, 7.0, error="RuntimeError: boom")]
    s = summarise(recs)
    o = s["overall"]
    assert (o["tasks"], o["attempts"]) == (3, 6)
    assert o["solved_pct"] == pytest.approx(200 / 3)  # a and c solved by some sample
    assert o["pass_at"][1] == pytest.approx((0.5 + 0 + 0.5) / 3)
    assert o["pass_at"][2] == pytest.approx((1 + 0 + 1) / 3)
    assert o["tokens_out"] == {"mean": pytest.approx(150), "median": 150}
    assert o["wall_s"]["median"] == 2.5
    assert s["category"]["ecg"]["pass_at"][1] == pytest.approx(0.25)
    assert s["category"]["imu"]["solved_pct"] == 100.0
    assert list(s["difficulty"]) == ["easy", "hard"]
    assert s["difficulty"]["hard"]["solved_pct"] == 0.0
    assert s["errors"] == ["c s1: RuntimeError: boom"]


def _append_many(path: str, worker: int, n: int) -> None:
    for i in range(n):
        append_result(Path(path), {"task": f"w{worker}", "sample": i, "error": "",
                                   "pad": "x" * 5000})


def test_result_lines_stay_whole_under_concurrent_writers(tmp_path) -> None:
    path = tmp_path / "results.jsonl"
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(path), w, 40)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    lines = path.read_text().splitlines()
    assert len(lines) == 160 and all(json.loads(x)["pad"] == "x" * 5000 for x in lines)
    # a kill in the middle of a write leaves a torn last line: it is not a result
    with open(path, "a") as f:
        f.write('{"task": "w9", "sample": 0, "err')
    assert len(load_results(tmp_path)) == 160


def test_discover_reads_tags_globs_and_refuses_bad_input(tmp_path) -> None:
    tasks = discover(EXAMPLES)
    assert [t.id for t in tasks] == sorted(t.id for t in tasks) and len(tasks) == 6
    assert {(t.category, t.difficulty) for t in tasks} == {("uncategorised", "unrated")}
    assert [t.id for t in discover(EXAMPLES, "temp-*")] == ["temp-daily-mean", "temp-hot-days"]
    tagged = tmp_path / "tasks" / "weather" / "temp-daily-mean"
    tagged.mkdir(parents=True)
    (tagged / "traces").symlink_to(EXAMPLES / "temp-daily-mean" / "traces")
    doc = yaml.safe_load((EXAMPLES / "temp-daily-mean" / "spec.yaml").read_text())
    doc["tags"] = ["category:weather", "difficulty:easy", "modality:environmental"]
    (tagged / "spec.yaml").write_text(yaml.safe_dump(doc))
    [t] = discover(tmp_path / "tasks")
    assert (t.category, t.difficulty) == ("weather", "easy")
    with pytest.raises(BadInputError, match="no spec.yaml"):
        discover(EXAMPLES, "no-such-task")
    with pytest.raises(BadInputError, match="no such directory"):
        discover(tmp_path / "missing")


def test_a_different_configuration_into_the_same_out_is_refused(tmp_path) -> None:
    tasks = discover(EXAMPLES, "hrv-*")
    pin_config(tmp_path, _cfg("hrv-*", model="typo"), tasks)
    pin_config(tmp_path, _cfg("hrv-*"), tasks)  # nothing measured yet: the new one is taken
    assert json.loads((tmp_path / "bench.json").read_text())["config"]["model"] != "typo"
    append_result(tmp_path / "results.jsonl", {"task": "hrv-rmssd", "sample": 0, "error": ""})
    pin_config(tmp_path, _cfg("hrv-*"), tasks)  # the same one resumes
    with pytest.raises(BadInputError, match="mode 'single-shot' -> 'agent'"):
        pin_config(tmp_path, BenchConfig(tasks_dir=str(EXAMPLES), tasks="hrv-*"), tasks)
    # through the command line: one line, exit 2, before any model is loaded
    proc = subprocess.run([sys.executable, "-m", "agent", "bench", str(EXAMPLES), "--tasks",
                           "hrv-*", "--mode", "single-shot", "--samples", "2", "--out",
                           str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "another configuration" in proc.stderr
    assert "samples 1 -> 2" in proc.stderr


def test_stage_switches_reach_every_run_and_label_the_bench(tmp_path, sandbox) -> None:
    """Ablations on IoTBench: a bench's stage switches are pinned, applied to each run, and
    name its column in bench-compare; a bench.json from before the switches resumes as the
    defaults it ran with and refuses other switches."""
    from agent.report import bench_label

    ablated = BenchConfig(tasks_dir=str(EXAMPLES), tasks="hrv-*", stages={"lint": False,
                                                                          "candidates": 1})
    out, base = tmp_path / "ablated", tmp_path / "base"
    assert run_bench(ablated, out, load=lambda c: FakeModel()) == 0
    assert run_bench(BenchConfig(tasks_dir=str(EXAMPLES), tasks="hrv-*"), base,
                     load=lambda c: FakeModel()) == 0
    run_cfg = json.loads((out / _lines(out)[0]["run_dir"] / "report.json").read_text())["config"]
    twin = json.loads((base / _lines(base)[0]["run_dir"] / "report.json").read_text())["config"]
    assert (run_cfg["lint"], run_cfg["candidates"]) == (False, 1)
    assert (twin["lint"], twin["candidates"]) == (True, 2)
    pinned = json.loads((out / "bench.json").read_text())["config"]
    assert bench_label(pinned).endswith("agent candidates=1 -lint")
    # an older bench.json has no "stages": it is the defaults, so it resumes as such ...
    old = json.loads((base / "bench.json").read_text())
    del old["config"]["stages"]
    (base / "bench.json").write_text(json.dumps(old))
    tasks = discover(EXAMPLES, "hrv-*")
    pin_config(base, BenchConfig(tasks_dir=str(EXAMPLES), tasks="hrv-*"), tasks)
    with pytest.raises(BadInputError, match=re.escape("stages {} -> {'retrieve': True}")):
        pin_config(base, BenchConfig(tasks_dir=str(EXAMPLES), tasks="hrv-*",
                                     stages={"retrieve": True}), tasks)


def test_bad_arguments_exit_2(tmp_path) -> None:
    for args in (["--samples", "0"], ["--jobs", "0"], [str(tmp_path / "nope")]):
        proc = subprocess.run([sys.executable, "-m", "agent", "bench", *args, "--out",
                               str(tmp_path / "o")], cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 2 and proc.stderr.startswith("error: bench:"), proc.stderr


def _bench_dir(path: Path, model: str, mode: str, recs: list[dict], planned: list[str]) -> Path:
    path.mkdir(parents=True)
    (path / "bench.json").write_text(json.dumps(
        {"config": {"model": model, "mode": mode, "adapter": None}, "tasks": planned}))
    for r in recs:
        append_result(path / "results.jsonl", r)
    return path


def test_bench_compare_puts_partial_runs_side_by_side(tmp_path, capsys) -> None:
    from agent.cli import main

    planned = ["a", "b", "c"]
    full = _bench_dir(tmp_path / "full", "/m/q-0.5b.gguf", "single-shot",
                      [_rec("a", 0, True, "ecg", "easy", 100, 1.0),
                       _rec("b", 0, False, "ecg", "hard", 100, 1.0),
                       _rec("c", 0, True, "imu", "easy", 100, 1.0)], planned)
    part = _bench_dir(tmp_path / "part", "q-0.5b", "agent",
                      [_rec("a", 0, False, "ecg", "easy", 300, 9.0),
                       _rec("b", 0, True, "ecg", "hard", 300, 9.0)], planned)
    assert main(["bench-compare", str(full), str(part)]) == 0
    md = capsys.readouterr().out
    assert "| | q-0.5b.gguf single-shot | q-0.5b agent |" in md.replace("|  |", "| |")
    assert "| tasks finished / planned | 3/3 | 2/3 |" in md
    assert "| solved (all finished) | 2/3 (66.7%) | 1/2 (50.0%) |" in md
    # on the two tasks both finished they are even, which the overall row hides
    assert "| solved (the 2 tasks all finished) | 1/2 (50.0%) | 1/2 (50.0%) |" in md
    assert "| imu | 1/1 (100.0%) | - |" in md
    assert "| c | solved | - |" in md and "| b | no | solved |" in md
    again = _bench_dir(tmp_path / "again", "q-0.5b", "agent", [], planned)
    assert main(["bench-compare", str(part), str(again)]) == 0
    assert "| | q-0.5b agent (part) | q-0.5b agent (again) |" in capsys.readouterr().out.replace(
        "|  |", "| |")
    assert main(["bench-compare", str(tmp_path)]) == 2
    assert "no bench.json" in capsys.readouterr().err


def test_plot_data_shows_where_a_program_errs() -> None:
    ref = [100, 200, 300, 400]
    good = event_excerpt({"x": np.zeros(1000)}, ref, ref, tolerance=5, n_events=2)
    assert good["detected"] == good["reference"] and good["signal"] is not None
    # a program that misses the last two beats: the excerpt goes where they are missed
    bad = event_excerpt({"x": np.zeros(1000)}, [100, 200], ref, tolerance=5, n_events=2)
    assert bad["reference"] == [300.0, 400.0] and bad["detected"] == []
    # onsets in seconds with a sampling rate: the signal is placed in seconds, and a long
    # one is cut to min/max pairs that keep its peaks
    tone = np.zeros(48000)
    tone[24000] = 5.0
    sec = event_excerpt({"samples": tone, "fs": 48000.0}, [0.2, 0.5], [0.2, 0.5],
                        tolerance=0.05)
    assert sec["unit"] == "s" and sec["start"] == pytest.approx(0.05)
    xs, ys = zip(*sec["signal"], strict=True)
    assert len(xs) <= 1500 and max(ys) == 5.0 and xs[ys.index(5.0)] == 0.5
    right = confusion(["a", "b", "b"], ["a", "b", "b"])
    assert right == {"labels": ["a", "b"], "matrix": [[1, 0], [0, 2]]}
    wrong = confusion(["b", "b", "z"], ["a", "b", "b"])
    assert wrong == {"labels": ["a", "b", "z"], "matrix": [[0, 1, 0], [0, 1, 1], [0, 0, 0]]}


# -- the real loop and sandbox, scripted model ------------------------------------------------

@pytest.mark.docker
def test_bench_routes_records_reports_and_resumes(tmp_path, sandbox) -> None:
    out = tmp_path / "out"
    fake = FakeModel(wrong={"ecg-rpeaks"})
    cfg = _cfg("*[sd]")  # ecg-rpeaks, har-basicmotions, hrv-rmssd, temp-hot-days
    assert run_bench(cfg, out, load=lambda c: fake) == 0
    recs = {r["task"]: r for r in _lines(out)}
    assert sorted(recs) == ["ecg-rpeaks", "har-basicmotions", "hrv-rmssd", "temp-hot-days"]
    assert {t: r["solved"] for t, r in recs.items()} == {
        "ecg-rpeaks": False, "har-basicmotions": True, "hrv-rmssd": True,
        "temp-hot-days": True}
    for r in recs.values():
        report = json.loads((out / r["run_dir"] / "report.json").read_text())
        assert r["tokens_out"] == report["tokens_out"] > 0 and r["cases"] == report["cases"]
        assert report["config"]["mode"] == "single-shot" and r["error"] == ""
    assert (out / "logs" / "hrv-rmssd.s0.log").read_text().count("[finalize] SOLVED") == 1
    md = (out / "report.md").read_text()
    assert "solved 75.0%; pass@1 75.0%" in md
    assert re.search(r"\| ecg-rpeaks \| uncategorised \| unrated \| 1 \| 0\.0% \|", md)
    page = (out / "report.html").read_text()
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no links out
    events, = re.findall(r'<svg[^>]*class="events".*?</svg>', page, re.S)
    conf, = re.findall(r'<svg[^>]*class="confusion".*?</svg>', page, re.S)
    # the wrong R-peak detector reports extra beats: more red dots than green ticks
    assert events.count('class="det"') > events.count('class="ref"') > 0
    cells = [int(n) for n in re.findall(r'text-anchor="middle">(\d+)<', conf)]
    k = int(len(cells) ** 0.5)
    assert sum(cells[i * k + i] for i in range(k)) == sum(cells) == 40  # all on the diagonal
    # a second run into the same OUT has nothing left to do: no model call at all
    calls = len(fake.temperatures)
    assert run_bench(cfg, out, load=lambda c: fake) == 0
    assert len(fake.temperatures) == calls and len(_lines(out)) == 4
    # the report can be redrawn from results.jsonl alone
    (out / "report.md").unlink()
    proc = subprocess.run([sys.executable, "-m", "agent", "bench-report", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and (out / "report.md").read_text() == md


@pytest.mark.docker
def test_samples_give_pass_at_k_with_distinct_seeds(tmp_path, sandbox) -> None:
    fake = FakeModel(wrong_if=lambda task, seed: seed % 2 == 1)  # seeds 1, 3: wrong
    out = tmp_path / "out"
    cfg = _cfg("hrv-rmssd", samples=4, seed=0, temperature=0.8)
    assert run_bench(cfg, out, load=lambda c: fake) == 0
    recs = sorted(_lines(out), key=lambda r: r["sample"])
    assert [(r["sample"], r["seed"], r["solved"]) for r in recs] == [
        (0, 0, True), (1, 1, False), (2, 2, True), (3, 3, False)]
    assert min(fake.temperatures) == 0.8  # the first draft is sampled, not greedy
    md = (out / "report.md").read_text()
    # n=4, c=2: pass@2 = 1 - C(2,2)/C(4,2) = 5/6; pass@3 = pass@4 = 1
    assert "pass@1 50.0%, pass@2 83.3%, pass@3 100.0%, pass@4 100.0%" in md


@pytest.mark.docker
def test_a_run_that_raises_is_recorded_and_retried_on_the_next_run(tmp_path, sandbox) -> None:
    out = tmp_path / "out"
    cfg = _cfg("temp-*")
    assert run_bench(cfg, out, load=lambda c: FakeModel(raises="temp-daily-mean")) == 0
    recs = {r["task"]: r for r in _lines(out)}
    assert recs["temp-daily-mean"]["error"] == "RuntimeError: backend fell over on " \
                                               "temp-daily-mean"
    assert recs["temp-hot-days"]["solved"] and not recs["temp-daily-mean"]["solved"]
    assert "temp-daily-mean s0: RuntimeError" in (out / "report.md").read_text()
    fake = FakeModel()
    assert run_bench(cfg, out, load=lambda c: fake) == 0
    assert [r["task"] for r in _lines(out)] == ["temp-daily-mean", "temp-hot-days",
                                                "temp-daily-mean"]
    assert {r["task"] for r in load_results(out) if r["solved"]} == {"temp-daily-mean",
                                                                      "temp-hot-days"}
    assert "## Errors" not in (out / "report.md").read_text()


@pytest.mark.parametrize(("how", "code", "says"), [
    ("bad", 2, "error: fake: no such model"),
    ("crash", 3, "error: bench: the workers died with 2 attempt(s) to go")])
def test_workers_that_cannot_load_end_the_bench_with_one_line(tmp_path, how, code,
                                                              says) -> None:
    proc = _fake_bench(tmp_path / "out", {"BENCH_FAKE_LOAD": how}, "--tasks", "temp-*",
                       "--jobs", "2")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == code and err.splitlines()[-1].startswith(says), err


def _fake_bench(out: Path, env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(FAKE), str(EXAMPLES), "--mode", "single-shot",
                             "--out", str(out), *args], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _wait_for(what, proc: subprocess.Popen, limit: float = 600) -> None:  # noqa: ANN001
    deadline = time.monotonic() + limit
    while not what():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the bench never got there"
        time.sleep(0.2)


@pytest.mark.docker
def test_a_killed_bench_loses_nothing_and_the_rerun_does_only_the_rest(tmp_path,
                                                                        sandbox) -> None:
    out, mark, calls = tmp_path / "out", tmp_path / "hung", tmp_path / "calls"
    tasks = ["--tasks", "*[rdn]"]  # ecg-mean-hr, hrv-rmssd, temp-daily-mean (sorted)
    proc = _fake_bench(out, {"BENCH_FAKE_HANG": "temp-daily-mean",
                             "BENCH_FAKE_MARK": str(mark)}, *tasks)
    _wait_for(mark.exists, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = (out / "results.jsonl").read_text()
    assert [json.loads(x)["task"] for x in before.splitlines()] == ["ecg-mean-hr", "hrv-rmssd"]
    assert (out / "runs" / "temp-daily-mean" / "s0" / "run.json").is_file()  # half done
    again = _fake_bench(out, {"BENCH_FAKE_CALLS": str(calls)}, *tasks)
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    assert "resuming: 2/3" in err
    assert calls.read_text().split() == ["temp-daily-mean"]  # only the missing task ran
    after = (out / "results.jsonl").read_text()
    assert after.startswith(before) and len(after.splitlines()) == 3
    assert json.loads(after.splitlines()[-1])["solved"] is True


@pytest.mark.docker
def test_ctrl_c_stops_workers_keeps_results_and_reports(tmp_path, sandbox) -> None:
    out, mark = tmp_path / "out", tmp_path / "hung"
    proc = _fake_bench(out, {"BENCH_FAKE_HANG": "temp-daily-mean", "BENCH_FAKE_MARK": str(mark)},
                       "--tasks", "*[rdn]", "--jobs", "2")
    results = out / "results.jsonl"
    _wait_for(lambda: mark.exists() and results.is_file()
              and len(results.read_text().splitlines()) == 2, proc)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "pass@1 100.0%" in stdout  # the 2 finished, both solved
    assert (out / "report.md").is_file() and (out / "report.html").is_file()
    assert sorted(r["task"] for r in _lines(out)) == ["ecg-mean-hr", "hrv-rmssd"]


# -- the real model -----------------------------------------------------------------------------

@pytest.mark.docker
def test_real_05b_single_shot_bench_agrees_with_the_checker(tmp_path, sandbox) -> None:
    from agent.checker import check_solution
    from agent.spec import load_spec

    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "agent", "bench", str(EXAMPLES), "--tasks",
                           "temp-daily-mean", "--model", "qwen2.5-coder-0.5b", "--mode",
                           "single-shot", "--out", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [rec] = _lines(out)
    assert rec["task"] == "temp-daily-mean" and rec["error"] == ""
    assert rec["tokens_in"] > 0 and rec["tokens_out"] > 0 and rec["wall_s"] > 0
    assert rec["model_sha256"] and len(rec["cases"]) == 3
    spec = load_spec(EXAMPLES / "temp-daily-mean" / "spec.yaml")
    again = check_solution(spec, out / rec["run_dir"] / "solution.py", sandbox)
    assert again.passed == rec["solved"]
    assert [c.passed for c in again.cases] == [c["passed"] for c in rec["cases"]]
    assert "# IoTBench report" in (out / "report.md").read_text()
    assert (out / "report.html").read_text().rstrip().endswith("</html>")
    assert json.loads((out / "bench.json").read_text())["config"]["model"] == \
        "qwen2.5-coder-0.5b"


# -- the CI validation recipe -------------------------------------------------------------------

def _validate(solutions: str, junit: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "scripts/validate-generated-code.sh", "examples", solutions,
                           str(junit)], cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.mark.docker
def test_validation_recipe_passes_right_programs_and_fails_wrong_ones(tmp_path,
                                                                      sandbox) -> None:
    good = _validate("examples/solutions", tmp_path / "good.xml")
    assert good.returncode == 0, good.stdout[-2000:] + good.stderr
    suites = ET.parse(tmp_path / "good.xml").getroot()
    assert len(suites) == 6 and all(s.get("failures") == "0" for s in suites)
    bad = _validate("examples/wrong", tmp_path / "bad.xml")
    assert bad.returncode == 1, bad.stdout[-2000:] + bad.stderr
    failures = ET.parse(tmp_path / "bad.xml").getroot().iter("failure")
    assert {f.get("type") for f in failures} >= {"wrong_value"}


def test_validation_recipe_refuses_bad_usage() -> None:
    proc = subprocess.run(["bash", "scripts/validate-generated-code.sh", "examples"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("usage:")


def test_workflow_runs_the_recipe_and_keeps_the_junit_report() -> None:
    wf = yaml.safe_load((ROOT / ".github/workflows/validate-generated-code.yml").read_text())
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request"} <= set(triggers)
    [job] = wf["jobs"].values()
    steps = job["steps"]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"]
    runs = [s.get("run", "") for s in steps]
    assert any("pip install ." in r for r in runs)
    [validate] = [r for r in runs if "validate-generated-code.sh" in r]
    assert "junit.xml" in validate and "agent check" not in validate  # the script does it
    upload = steps[uses.index("actions/upload-artifact")]
    assert upload["if"] == "always()" and upload["with"]["path"] == "junit.xml"
    assert uses.index("actions/upload-artifact") > runs.index(validate)


def test_every_ablation_variant_is_a_valid_bench_with_its_own_switches(tmp_path) -> None:
    """benchmarks/iotbench_ablations.py: each variant's flags parse as `bench` options and
    change exactly what the variant names (no two variants pin the same configuration)."""
    from agent.bench import config_from_args
    from agent.cli import build_parser

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import iotbench_ablations as abl

    variants = [v for v in abl.VARIANTS if v != "single-shot"]
    *runs, compare = abl.commands(tmp_path, "qwen2.5-coder-1.5b", variants, ["--seed", "3"])
    pinned = {}
    for variant, cmd in zip(variants, runs, strict=True):
        cfg = config_from_args(build_parser().parse_args(cmd[3:]))
        assert cfg.seed == 3 and cfg.model == "qwen2.5-coder-1.5b"
        pinned[variant] = json.dumps(cfg.stages, sort_keys=True)
    assert pinned["agent"] == "{}" and json.loads(pinned["no-lint"]) == {"lint": False}
    assert json.loads(pinned["decompose"]) == {"decompose": True, "specify": True}
    assert len(set(pinned.values())) == len(variants)
    assert compare[3:] == ["bench-compare", *[str(tmp_path / v) for v in variants]]


# --- splits: a seeded sample of a benchmark, and the generators' dev split (issue 19) --------

def test_sample_is_a_seeded_draw_of_the_matching_tasks() -> None:
    every = [t.id for t in discover(EXAMPLES)]
    one = [t.id for t in discover(EXAMPLES, sample=3, seed=1)]
    assert one == [t.id for t in discover(EXAMPLES, sample=3, seed=1)]  # repeatable
    assert len(one) == 3 and set(one) <= set(every) and one == sorted(one)
    draws = {tuple(t.id for t in discover(EXAMPLES, sample=3, seed=s)) for s in range(8)}
    assert len(draws) > 1  # the seed decides the draw
    assert [t.id for t in discover(EXAMPLES, sample=6, seed=5)] == every
    with pytest.raises(BadInputError, match="--sample 7 but only 6 task"):
        discover(EXAMPLES, sample=7)


def test_dev_split_tasks_are_repeatable_spread_and_never_training_data(tmp_path) -> None:
    from finetune.build_dataset import main as build_main
    from finetune.generators import DEV_SEED_BASE, GENERATORS, dev_tasks

    a = dev_tasks(4, 0, tmp_path / "a")
    b = dev_tasks(4, 0, tmp_path / "b")
    assert [t.task_id for t in a] == [t.task_id for t in b]
    assert [t.spec_path.read_text() for t in a] == [t.spec_path.read_text() for t in b]
    assert len({t.generator for t in a}) == 4  # families in turn, not four of one
    assert all(t.variant.startswith(f"s{DEV_SEED_BASE}-") for t in a)
    # the training variant of the same family and index is another task
    train = GENERATORS[a[0].generator].make(0, 0, tmp_path / "train")
    assert train.spec_path.read_text() != a[0].spec_path.read_text()
    assert build_main(["--out", str(tmp_path / "ds"), "--seed", str(DEV_SEED_BASE)]) == 2


def test_bench_dev_needs_a_sample_size(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "agent", "bench", "dev", "--out",
                           str(tmp_path / "o")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "give --sample N" in proc.stderr, proc.stderr


@pytest.mark.docker
def test_bench_dev_benches_the_drawn_generator_tasks(tmp_path, sandbox) -> None:
    """`bench dev --sample N` writes the dev tasks into OUT and benches exactly those (a model
    that answers nothing solves none; the point is which tasks ran)."""
    from agent.bench import cmd_bench, register
    from agent.models.base import Completion
    from finetune.generators import dev_tasks

    class Silent(FakeModel):
        def generate(self, messages, **kw):  # noqa: ANN001, ANN003, ANN201
            return Completion("I cannot write this one.", 10, 5, 0.01)

    import argparse

    p = argparse.ArgumentParser()
    register(p.add_subparsers(dest="command"))
    out = tmp_path / "dev"
    args = p.parse_args(["bench", "dev", "--sample", "2", "--seed", "3", "--mode", "single-shot",
                         "--out", str(out)])
    cmd_bench(args, load=lambda c: Silent())
    want = [t.spec.id for t in dev_tasks(2, 3, tmp_path / "again")]
    assert sorted(r["task"] for r in _lines(out)) == sorted(want)
    assert json.loads((out / "bench.json").read_text())["config"]["tasks_dir"] == str(
        (out / "dev-tasks").resolve())
