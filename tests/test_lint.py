"""Lint catches the bare models' observed failures (docs: /work/shared/observed-failures.md)
and stays silent (no blocking finding) on the correct example solutions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent import lint as lint_mod
from agent.lint import Finding, blocking, lint
from agent.spec import load_spec
from sandboxes import api_index

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SOLUTIONS = sorted((EXAMPLES / "solutions").glob("*.py"))

HR = """import numpy as np
from scipy.signal import find_peaks


def heart_rate(ppg, fs):
    peaks, _ = find_peaks(ppg, distance=int(0.3 * fs))
    return float(60 * fs / np.median(np.diff(peaks)))
"""


@pytest.fixture(scope="module")
def index(sandbox):
    """The real API index, listed inside the sandbox image (cached per image tag)."""
    idx = api_index.load_index()
    assert idx is not None
    return idx


def rules(findings: list[Finding], only_blocking: bool | None = None) -> set[str]:
    return {f.rule for f in findings if only_blocking is None or f.blocking == only_blocking}


def run(src: str, requirement: str = "", index=None, fn: str = "heart_rate",
        args: tuple[str, ...] = ("ppg", "fs")) -> list[Finding]:
    return lint(src, fn, list(args), requirement, index=index)


@pytest.mark.docker
@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_reference_solutions_have_no_blocking_findings(index, path) -> None:
    spec = load_spec(EXAMPLES / path.stem / "spec.yaml")
    found = lint(path.read_text(), spec.function.name, [a.name for a in spec.function.args],
                 spec.requirement, index=index)
    assert blocking(found) == []


@pytest.mark.docker
def test_correct_twin_is_clean(index) -> None:
    assert run(HR, index=index) == []


@pytest.mark.docker
def test_invented_scipy_rms_is_blocking_and_names_the_real_idiom(index) -> None:
    src = HR.replace("from scipy.signal import find_peaks",
                     "from scipy.signal import find_peaks, rms")
    found = [f for f in run(src, index=index) if f.rule == "unknown-name"]
    assert len(found) == 1 and found[0].blocking and found[0].line == 2
    assert "scipy.signal has no `rms`" in found[0].message
    assert "np.sqrt(np.mean(x**2))" in found[0].message
    assert "numpy has none either" in found[0].message


@pytest.mark.docker
def test_invented_attribute_and_misplaced_name(index) -> None:
    src = HR.replace("np.median(", "np.rms(")
    msg = [f for f in run(src, index=index) if f.rule == "unknown-name"][0].message
    assert "numpy has no `rms`" in msg
    src = HR.replace("from scipy.signal import find_peaks", "from numpy import find_peaks")
    msg = [f for f in run(src, index=index) if f.rule == "unknown-name"][0].message
    assert "from scipy.signal import find_peaks" in msg
    src = HR.replace("np.diff(", "np.fft.rfftt(")
    msg = [f for f in run(src, index=index) if f.rule == "unknown-name"][0].message
    assert "numpy.fft has no `rfftt`" in msg and "rfft" in msg
    # real names through aliases are fine
    ok = HR.replace("np.diff(", "np.fft.rfft(").replace(
        "import numpy as np", "import numpy as np\nfrom scipy import signal as sps\n"
        "import scipy.signal") + "\n\ndef g(x):\n    return sps.butter, scipy.signal.welch\n"
    assert "unknown-name" not in rules(run(ok, index=index))


@pytest.mark.docker
def test_find_peaks_without_import_suggests_the_import(index) -> None:
    src = HR.replace("from scipy.signal import find_peaks\n", "")
    found = [f for f in run(src, index=index) if f.rule == "undefined-name"]
    assert found and found[0].blocking and found[0].line == 5
    assert "from scipy.signal import find_peaks" in found[0].message


def test_undefined_name_found_without_ruff(monkeypatch) -> None:
    monkeypatch.setattr(lint_mod, "_ruff_command", lambda: None)
    src = HR.replace("from scipy.signal import find_peaks\n", "")
    assert "undefined-name" in rules(run(src, index={}), only_blocking=True)
    assert "undefined-name" not in rules(run(HR, index={}))


def test_syntax_error_is_blocking_with_line() -> None:
    found = run(HR.replace("def heart_rate(ppg, fs):", "def heart_rate(ppg, fs)"), index={})
    assert [f.rule for f in found] == ["syntax"] and found[0].blocking and found[0].line == 5


def test_missing_function_and_wrong_arguments_are_blocking() -> None:
    missing = run(HR.replace("def heart_rate", "def compute_hr"), index={})
    assert "missing-function" in rules(missing, only_blocking=True)
    assert "def heart_rate(ppg, fs)" in missing[0].message and "compute_hr" in missing[0].message
    wrong = run(HR.replace("(ppg, fs)", "(signal, fs)"), index={})
    args = [f for f in wrong if f.rule == "arguments"]
    assert args and args[0].blocking and "missing ppg" in args[0].message
    assert "arguments" not in rules(run(HR.replace("(ppg, fs)", "(ppg, fs, order=2)"),
                                        index={}))


def test_example_usage_at_module_level_is_blocking() -> None:
    src = HR + "\n\nx = np.random.randn(1000)\nprint(heart_rate(x, 100))\n"
    found = [f for f in run(src, index={}) if f.rule == "module-level"]
    assert found and found[0].blocking and found[0].line == 10
    assert "remove example usage at module level" in found[0].message
    ok = HR + '\n\nFS_DEFAULT = 100.0\nBANDS = {"lo": 0.5}\n\nif __name__ == "__main__":\n' \
              '    print(heart_rate([1, 2], 1))\n'
    assert "module-level" not in rules(run(ok, index={}))


@pytest.mark.parametrize("top", ["sklearn", "subprocess", "socket"])
def test_imports_outside_the_allowlist_are_blocking(top) -> None:
    found = [f for f in run(f"import {top}\n" + HR, index={}) if f.rule == "import"]
    assert found and found[0].blocking and "numpy, scipy" in found[0].message
    assert "import" not in rules(run("import math\nimport statistics\n" + HR, index={}))


def test_allowlist_derives_from_packages_txt() -> None:
    allowed = api_index.allowed_imports()
    assert {"numpy", "scipy", "math", "statistics", "collections"} <= allowed
    assert not {"subprocess", "tkinter", "socket", "sklearn", "pandas"} & allowed


def test_list_divided_by_number_warns() -> None:
    src = HR.replace("    peaks, _", "    wn = [0.5, 4] / (fs / 2)\n    print(wn)\n    peaks, _")
    found = [f for f in run(src, index={}) if f.rule == "list-arithmetic"]
    assert found and not found[0].blocking and "np.array([0.5, 4])" in found[0].message
    ok = src.replace("[0.5, 4] / (fs / 2)", "np.array([0.5, 4]) / (fs / 2)")
    assert "list-arithmetic" not in rules(run(ok, index={}))


def test_np_roll_difference_warns() -> None:
    wrong = "import numpy as np\n\ndef rmssd(nni):\n    d = nni - np.roll(nni, 1)\n" \
            "    return float(np.sqrt(np.mean(d**2)))\n"
    found = [f for f in run(wrong, fn="rmssd", args=("nni",), index={})
             if f.rule == "np-roll-diff"]
    assert found and not found[0].blocking and "np.diff" in found[0].message
    ok = wrong.replace("nni - np.roll(nni, 1)", "np.diff(nni)")
    assert run(ok, fn="rmssd", args=("nni",), index={}) == []


def test_missing_abs_on_differences_warns() -> None:
    wrong = "import numpy as np\n\ndef pnn50(nni):\n    d = np.diff(nni)\n" \
            "    return float(np.mean(d > 50))\n"
    assert "missing-abs" in rules(run(wrong, fn="pnn50", args=("nni",), index={}), False)
    ok = wrong.replace("d > 50", "np.abs(d) > 50")
    assert run(ok, fn="pnn50", args=("nni",), index={}) == []


@pytest.mark.parametrize("body", [
    "    gaps = np.diff(t) > 86400\n    return int(gaps.sum())\n",
    "    on = np.where(x > 0)[0]\n    return int(np.sum(np.diff(on) > 1))\n",
    "    peaks, _ = find_peaks(x)\n    d = np.diff(peaks)\n    return int(np.sum(d > 5))\n",
    "    d = np.diff(np.flatnonzero(x))\n    return int(np.sum(d >= 2))\n",
    "    up = np.diff(x) > 0\n    return int(up.sum())\n",  # rising: the sign is the point
    "    return int(np.sum(np.diff(np.sign(x)) > 1))\n",  # upward zero crossings
])
def test_missing_abs_stays_quiet_on_differences_that_cannot_go_down(body) -> None:
    """Times, indices and peak positions only increase: a gap test on them needs no abs()
    (the hint misled repairs of IoTBench's day-gap and window tasks)."""
    src = ("import numpy as np\nfrom scipy.signal import find_peaks\n\n"
           "def gaps(x, t):\n" + body)
    assert "missing-abs" not in rules(run(src, fn="gaps", args=("x", "t"), index={}), False)
    # the same test on the signal's own differences is the mistake the hint is for
    signal = src.replace("np.diff(t)", "np.diff(x)").replace("np.diff(on)", "np.diff(x[on])")
    signal = signal.replace("np.diff(peaks)", "np.diff(x[peaks])").replace(
        "np.diff(np.flatnonzero(x))", "np.diff(x)").replace("> 0\n", "> 0.5\n").replace(
        "np.diff(np.sign(x))", "np.diff(x)")
    assert "missing-abs" in rules(run(signal, fn="gaps", args=("x", "t"), index={}), False)


def test_population_std_warns_when_sample_is_asked() -> None:
    src = "import numpy as np\n\ndef sdnn(nni):\n    return float(np.std(nni))\n"
    req = "Return the sample standard deviation of the NN intervals."
    assert "std-ddof" in rules(run(src, req, fn="sdnn", args=("nni",), index={}), False)
    assert run(src.replace("np.std(nni)", "np.std(nni, ddof=1)"), req, fn="sdnn",
               args=("nni",), index={}) == []
    assert run(src, "Return the standard deviation.", fn="sdnn", args=("nni",), index={}) == []


def test_argmax_for_peaks_warns_but_not_for_a_window() -> None:
    wrong = "import numpy as np\n\ndef rpeaks(ecg, fs):\n    return [int(np.argmax(ecg))]\n"
    req = "Return the sample index of every R peak."
    found = run(wrong, req, fn="rpeaks", args=("ecg", "fs"), index={})
    assert "argmax-peaks" in rules(found, False) and "find_peaks" in found[0].message
    ok = wrong.replace("np.argmax(ecg)", "np.argmax(ecg[0:10])")
    assert run(ok, req, fn="rpeaks", args=("ecg", "fs"), index={}) == []


def test_find_peaks_without_distance_warns() -> None:
    src = HR.replace(", distance=int(0.3 * fs)", "")
    found = [f for f in run(src, index={}) if f.rule == "find-peaks-distance"]
    assert found and not found[0].blocking and "distance=" in found[0].message


def test_inverted_rate_formula_warns() -> None:
    wrong = HR.replace("60 * fs / np.median(np.diff(peaks))", "np.median(np.diff(peaks)) * 60 / fs")
    found = [f for f in run(wrong, index={}) if f.rule == "rate-inverted"]
    assert found and "60 * fs / mean" in found[0].message
    assert "rate-inverted" not in rules(run(HR, index={}))


def test_linear_rms_against_db_threshold_warns() -> None:
    src = ("import numpy as np\n\ndef is_voice(frame):\n"
           "    return bool(np.sqrt(np.mean(frame**2)) > 35)\n")
    req = "Voice is present when the frame level is above -35 dBFS."
    found = run(src, req, fn="is_voice", args=("frame",), index={})
    assert "units-db" in rules(found, False) and "20 * np.log10" in found[0].message
    ok = src.replace("bool(np.sqrt(np.mean(frame**2)) > 35)",
                     "bool(20 * np.log10(np.sqrt(np.mean(frame**2))) > -35)")
    assert run(ok, req, fn="is_voice", args=("frame",), index={}) == []


@pytest.mark.docker
def test_wrong_examples_get_their_warning(index) -> None:
    expect = {"hrv-rmssd": "np-roll-diff", "ecg-rpeaks": "find-peaks-distance",
              "ecg-mean-hr": "rate-inverted"}
    for sid, rule in expect.items():
        spec = load_spec(EXAMPLES / sid / "spec.yaml")
        found = lint((EXAMPLES / "wrong" / f"{sid}.py").read_text(), spec.function.name,
                     [a.name for a in spec.function.args], spec.requirement, index=index)
        assert rule in rules(found, False) and not blocking(found), sid


INT_SQUARE = '''import numpy as np

def rms_dbfs(samples, fs):
    n = int(0.02 * fs)
    out = []
    for i in range(len(samples) // n):
        frame = samples[i * n:(i + 1) * n]
        out.append(float(20 * np.log10(np.sqrt(np.mean(frame ** 2)) / 32768)))
    return out
'''


def test_squaring_16_bit_samples_warns_and_a_converted_twin_does_not() -> None:
    """The 1.5B's framing draft for IoTBench audio-rms-dbfs squared int16 frames."""
    found = [f for f in lint(INT_SQUARE, "rms_dbfs", ["samples", "fs"],
                             small_int_args=["samples"]) if f.rule == "int-overflow"]
    assert len(found) == 1 and found[0].line == 8 and not found[0].blocking
    assert "frame.astype(np.float64)" in found[0].message
    for fixed in (INT_SQUARE.replace("frame ** 2", "frame.astype(float) ** 2"),
                  INT_SQUARE.replace("    n = int", "    samples = samples.astype(np.float64)\n"
                                                    "    n = int")):
        assert not [f for f in lint(fixed, "rms_dbfs", ["samples", "fs"],
                                    small_int_args=["samples"]) if f.rule == "int-overflow"]
    # float recordings: nothing to say
    assert not [f for f in lint(INT_SQUARE, "rms_dbfs", ["samples", "fs"])
                if f.rule == "int-overflow"]
    sq = INT_SQUARE.replace("frame ** 2", "np.square(samples[i * n:(i + 1) * n])")
    assert [f for f in lint(sq, "rms_dbfs", ["samples", "fs"], small_int_args=["samples"])
            if f.rule == "int-overflow"]


def test_the_overflow_is_real_on_the_recorded_pcm() -> None:
    """Why the warning exists: on the real int16 recording the wrapped squares give another
    RMS than the converted ones."""
    spec = load_spec(ROOT / "iotbench" / "tasks" / "audio" / "audio-rms-dbfs" / "spec.yaml")
    x = spec.visible_cases[0].args["samples"]
    assert x.dtype == np.int16
    loud = int(np.argmax(np.abs(x)))
    frame = x[loud: loud + 160]  # a 20 ms frame of speech at 8 kHz
    wrapped = np.sqrt(np.mean(frame ** 2))
    right = np.sqrt(np.mean(frame.astype(np.float64) ** 2))
    assert abs(wrapped - right) > 0.01 * right


def test_small_int_args_come_from_the_visible_recordings() -> None:
    audio = load_spec(ROOT / "iotbench" / "tasks" / "audio" / "audio-rms-dbfs" / "spec.yaml")
    assert lint_mod.small_int_args(audio) == ["samples"]
    hrv = load_spec(ROOT / "examples" / "hrv-rmssd" / "spec.yaml")  # float intervals
    assert lint_mod.small_int_args(hrv) == []


def test_threshold_samples_as_beats_warn_instead_of_missing_abs() -> None:
    """`np.where(np.diff(ecg) > thr)[0]` as beats (the 1.5B on ecg-mean-hr): the advice is
    find_peaks, not abs() (which the 1.5B then added, changing nothing)."""
    wrong = ("import numpy as np\n\ndef mean_heart_rate(ecg, fs):\n"
             "    beats = np.where(np.diff(ecg) > 0.05)[0]\n"
             "    return float(60 * fs / np.mean(np.diff(beats)))\n")
    req = "Detect the heartbeats and return the mean heart rate."
    found = rules(run(wrong, req, fn="mean_heart_rate", args=("ecg", "fs"), index={}), False)
    assert "where-events" in found and "missing-abs" not in found
    ok = wrong.replace("np.where(np.diff(ecg) > 0.05)[0]",
                       "find_peaks(ecg, distance=int(0.3 * fs))[0]").replace(
        "import numpy as np\n", "import numpy as np\nfrom scipy.signal import find_peaks\n")
    assert run(ok, req, fn="mean_heart_rate", args=("ecg", "fs"), index={}) == []
    # a task that is not about events may threshold samples on purpose
    hot = "import numpy as np\n\ndef hot(x, fs):\n    return np.where(x > 30)[0].tolist()\n"
    assert run(hot, "Return the indices of samples above 30 C.", fn="hot", args=("x", "fs"),
               index={}) == []


@pytest.mark.parametrize("expr", ["np.diff(np.arange(len(peaks)))",
                                  "np.diff(list(range(len(peaks))))"])
def test_differences_of_positions_warn(expr) -> None:
    wrong = HR.replace("np.diff(peaks)", expr)
    assert "diff-of-positions" in rules(run(wrong, index={}), False)
    assert "diff-of-positions" not in rules(run(HR, index={}))


@pytest.mark.parametrize("cut", ["[5 / fs, 20 / fs]", "[lowcut, highcut]",
                                 "[5 / (fs / 2), 20 / nyq]"])
def test_cutoffs_divided_by_the_rate_and_given_fs_warn(cut) -> None:
    """The 1.5B's retrieve draft for ecg-mean-hr: `lowcut = 5 / fs` and then fs=fs."""
    src = ("import numpy as np\nfrom scipy.signal import butter, sosfiltfilt\n\n"
           "def clean(ecg, fs):\n    nyq = fs / 2\n    lowcut = 5 / fs\n    highcut = 20 / fs\n"
           f"    sos = butter(2, {cut}, btype='bandpass', output='sos', fs=fs)\n"
           "    return sosfiltfilt(sos, ecg).tolist()\n")
    assert "cutoff-twice" in rules(run(src, fn="clean", args=("ecg", "fs"), index={}), False)
    # the twins: Hz with fs=fs, or normalised cutoffs without fs=, are both right
    hz = src.replace(cut, "[5.0, 20.0]")
    norm = src.replace(", fs=fs)", ")")
    for ok in (hz, norm):
        assert "cutoff-twice" not in rules(run(ok, fn="clean", args=("ecg", "fs"), index={}))
    # without fs=, Hz / fs is half the normalised cutoff (the 1.5B's rpeaks rewrite); the
    # twin divides by the Nyquist rate
    found = rules(run(norm, fn="clean", args=("ecg", "fs"), index={}))
    assert ("cutoff-over-fs" in found) == (cut != "[5 / (fs / 2), 20 / nyq]")


def test_sos_unpacked_as_b_a_and_passed_as_two_arrays_block() -> None:
    """The 1.5B's retrieve repairs for ecg-mean-hr mixed the (b, a) and sos APIs."""
    wrong = ("import numpy as np\nfrom scipy.signal import butter, sosfiltfilt\n\n"
             "def clean(ecg, fs):\n"
             "    b, a = butter(2, [5.0, 20.0], btype='bandpass', output='sos', fs=fs)\n"
             "    return sosfiltfilt(b, a, ecg).tolist()\n")
    found = run(wrong, fn="clean", args=("ecg", "fs"), index={})
    assert {"sos-unpacked", "sos-args"} <= rules(found, True)
    ok = wrong.replace("b, a = butter", "sos = butter").replace("sosfiltfilt(b, a, ecg)",
                                                                  "sosfiltfilt(sos, ecg)")
    assert run(ok, fn="clean", args=("ecg", "fs"), index={}) == []
    # (b, a) from the default output is right
    ba = wrong.replace(", output='sos'", "").replace("sosfiltfilt(b, a, ecg)",
                                                     "filtfilt(b, a, ecg)").replace(
        "butter, sosfiltfilt", "butter, filtfilt")
    assert run(ba, fn="clean", args=("ecg", "fs"), index={}) == []


def test_keyword_in_an_import_line_says_where_options_go() -> None:
    src = ("import numpy as np\nfrom scipy.signal import butter, output=\"sos\"\n\n"
           "def clean(ecg, fs):\n    return ecg\n")
    found = run(src, fn="clean", args=("ecg", "fs"), index={})
    assert found[0].rule == "syntax" and "go into the call" in found[0].message
    other = run("def clean(ecg, fs):\n    return ecg +\n", fn="clean", args=("ecg", "fs"),
                index={})
    assert other[0].rule == "syntax" and "go into the call" not in other[0].message


HAR_ARGS = ("train_windows", "train_labels", "test_windows")
HAR_CALL = ("import numpy as np\n\n\ndef window_features(windows):\n"
            "    return np.asarray(windows).mean(axis=2)\n\n\n"
            "def nearest_centroid(X_train, y_train, X_test):\n"
            "    return list(y_train)[:len(X_test)]\n\n\n"
            "def classify_activity(train_windows, train_labels, test_windows):\n{body}")


@pytest.mark.docker
@pytest.mark.parametrize("body", [
    # the 1.5B's recipe redraft on har-basicmotions: the test features twice
    "    f = window_features(test_windows)\n    return nearest_centroid(f, train_labels, f)\n",
    "    return nearest_centroid(X_train=window_features(test_windows), y_train=train_labels,\n"
    "                            X_test=window_features(test_windows))\n",
    # the assignment nested deeper than the call: found in source order, not breadth-first
    "    for _ in range(1):\n        if len(test_windows):\n"
    "            f = window_features(test_windows)\n"
    "    return nearest_centroid(f, train_labels, f)\n"])
def test_training_data_made_from_the_test_argument_blocks(index, body: str) -> None:
    found = [f for f in run(HAR_CALL.format(body=body), index=index, fn="classify_activity",
                            args=HAR_ARGS) if f.rule == "train-from-test"]
    assert len(found) == 1 and found[0].blocking
    assert "`X_train` of nearest_centroid()" in found[0].message
    assert "(window_features(train_windows))" in found[0].message


@pytest.mark.docker
def test_training_data_from_the_training_argument_is_clean(index) -> None:
    """The twins: the right composition, and the reference solutions of every IoTBench task
    (several train on labelled windows), get no train-from-test finding."""
    body = ("    ftr = window_features(train_windows)\n"
            "    return nearest_centroid(ftr, train_labels, window_features(test_windows))\n")
    assert "train-from-test" not in rules(run(HAR_CALL.format(body=body), index=index,
                                              fn="classify_activity", args=HAR_ARGS))
    # a nested reassignment before the call replaces the test-made value (breadth-first
    # order saw the call first and blamed the stale value)
    body = ("    ftr = window_features(test_windows)\n    for _ in range(1):\n"
            "        if len(train_windows):\n            ftr = window_features(train_windows)\n"
            "    return nearest_centroid(ftr, train_labels, window_features(test_windows))\n")
    assert "train-from-test" not in rules(run(HAR_CALL.format(body=body), index=index,
                                              fn="classify_activity", args=HAR_ARGS))
    refs = sorted((ROOT / "iotbench" / "tasks").rglob("reference*.py"))
    assert len(refs) >= 41
    for ref in refs:
        spec = load_spec(ref.parent / "spec.yaml")
        found = lint(ref.read_text(), spec.function.name, [a.name for a in spec.function.args],
                     spec.requirement, index=index)
        assert "train-from-test" not in rules(found), ref


SHADOWED = '''import numpy as np


def rate_bpm(peaks, fs):
    return float(60.0 * fs / np.mean(np.diff(peaks)))


def solve(peaks, fs):
    rate_bpm = rate_bpm(peaks, fs)  # local from here on: the call raises UnboundLocalError
    return round(rate_bpm, 1)
'''


def _call(source: str, *args):  # noqa: ANN002, ANN202 - our own test program, not a model's
    scope: dict = {}
    exec(compile(source, "solution.py", "exec"), scope)  # noqa: S102
    return scope["solve"](*args)


def test_a_local_named_after_the_function_it_calls_is_renamed() -> None:
    with pytest.raises(UnboundLocalError):
        _call(SHADOWED, [0, 100, 200], 100)
    assert any(f.rule == "F823" for f in lint(SHADOWED, "solve", ["peaks", "fs"]))
    fixed = lint_mod.autofix(SHADOWED)
    assert "rate_bpm_value = rate_bpm(peaks, fs)" in fixed
    assert "return round(rate_bpm_value, 1)" in fixed
    assert _call(fixed, [0, 100, 200], 100) == 60.0
    assert not blocking(lint(fixed, "solve", ["peaks", "fs"]))


@pytest.mark.parametrize("source", [
    # a parameter named like the function: the caller passes it, nothing is shadowed
    SHADOWED.replace("def solve(peaks, fs):", "def solve(peaks, fs, rate_bpm=None):"),
    # `global`: the assignment is meant to rebind the module's name
    SHADOWED.replace("    rate_bpm = rate_bpm", "    global rate_bpm\n    rate_bpm = rate_bpm"),
    # a different name for the result
    SHADOWED.replace("rate_bpm = rate_bpm", "bpm = rate_bpm").replace("round(rate_bpm",
                                                                      "round(bpm"),
    "def solve(x):\n    return x(\n",  # does not parse: left for lint to report
])
def test_what_is_not_shadowing_is_left_alone(source: str) -> None:
    assert lint_mod.unshadow(source) == source


# What the 1.5B wrote when it reused a prompt's code (IoTBench, ecg-rpeaks-1khz): the body
# without its imports. Here a band-pass of our own, with the same omissions.
NO_IMPORTS = '''"""Band-passed PPG."""
from __future__ import annotations


def heart_rate(ppg, fs):
    sos = butter(2, [0.5, 5.0], btype="bandpass", fs=fs, output="sos")
    y = sosfiltfilt(sos, np.asarray(ppg, dtype=float))
    peaks, _ = find_peaks(y, distance=int(0.3 * fs))
    return float(60.0 * fs / np.mean(np.diff(peaks)))
'''


def test_missing_imports_with_one_home_in_the_image_are_added(index) -> None:
    assert "undefined-name" in rules(run(NO_IMPORTS, index=index))
    fixed = lint_mod.autofix(NO_IMPORTS, index)
    assert not blocking(run(fixed, index=index))
    head = fixed.splitlines()[:6]
    assert head[:2] == ['"""Band-passed PPG."""', "from __future__ import annotations"]
    assert set(head[2:]) == {"from scipy.signal import butter", "import numpy as np",
                             "from scipy.signal import sosfiltfilt",
                             "from scipy.signal import find_peaks"}
    t = np.arange(0, 20, 1 / 50)
    scope: dict = {}
    exec(compile(fixed, "solution.py", "exec"), scope)  # noqa: S102 - our own program
    assert abs(scope["heart_rate"](np.sin(2 * np.pi * 1.2 * t), 50.0) - 72.0) < 1.0


@pytest.mark.parametrize("name", ["convolve", "REFRACTORY_S", "deque"])
def test_an_ambiguous_or_unknown_name_is_left_to_the_model(index, name) -> None:
    """convolve is numpy's, scipy.signal's and scipy.ndimage's; a constant of the copied
    program has no home; deque is collections' and re-exported by scipy.cluster."""
    src = NO_IMPORTS.replace("np.mean(", f"{name}(")
    fixed = lint_mod.autofix(src, index)
    assert name in {m.split("`")[1] for f in run(fixed, index=index)
                    if f.rule == "undefined-name" for m in [f.message]}
    assert f"import {name}" not in fixed


def test_future_imports_are_allowed(index) -> None:
    assert "import" not in rules(run("from __future__ import annotations\n" + HR, index=index))
