"""Feedback for the small model: real wrong example solutions run through the real checker
must get the hint that names their mistake; hand-made results pin the ratio heuristics;
hidden cases leak nothing."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from agent import feedback
from agent.checker import CaseResult, check_solution
from agent.diagnostics import Observation
from agent.diagnostics.results import features_how
from agent.feedback import (
    feedback_for_case,
    feedback_for_hidden,
    ratio_hint,
    score,
)
from agent.spec import Case, Check, load_spec
from sandboxes import api_index

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _run(sandbox, spec_id: str, solution: Path | None = None):
    spec = load_spec(EXAMPLES / spec_id / "spec.yaml")
    sol = solution or EXAMPLES / "wrong" / f"{spec_id}.py"
    res = check_solution(spec, sol, sandbox, cases=spec.visible_cases[:1] + spec.hidden_cases[:1])
    by_name = {c.name: c for c in spec.cases}
    return spec, [(r, by_name[r.case]) for r in res.cases]


def _hinted_and_followed(sandbox, tmp_path, spec, bad: str, good: str, n: int | None = None
                         ) -> tuple[list[tuple[CaseResult, str]], bool]:
    """(result, feedback) for `bad` on the first n visible cases, and whether `good`, the
    program that does what the hint says, passes every case, hidden ones included."""
    cases = spec.visible_cases[:n]
    (tmp_path / "bad.py").write_text(bad)
    (tmp_path / "good.py").write_text(good)
    res = check_solution(spec, tmp_path / "bad.py", sandbox, cases=cases)
    pairs = [(r, feedback_for_case(r, c, spec)) for r, c in zip(res.cases, cases, strict=True)]
    return pairs, all(c.passed for c in check_solution(spec, tmp_path / "good.py",
                                                       sandbox).cases)


def _visible_text(sandbox, spec_id: str) -> str:
    spec, pairs = _run(sandbox, spec_id)
    r, case = pairs[0]
    assert not r.hidden and not r.passed
    return feedback_for_case(r, case, spec)


@pytest.mark.docker
def test_double_counted_rpeaks_mention_precision_and_double_counting(sandbox) -> None:
    text = _visible_text(sandbox, "ecg-rpeaks")
    assert "precision 0.4" in text and "double-counted" in text and "distance=" in text
    assert "recall 1.00" in text


@pytest.mark.docker
def test_inverted_heart_rate_formula_is_named(sandbox) -> None:
    text = _visible_text(sandbox, "ecg-mean-hr")
    assert "looks inverted" in text and "60 * fs / mean" in text
    assert "expected 77.7" in text  # a visible case may show its expected value


@pytest.mark.docker
def test_np_roll_rmssd_points_at_n_terms(sandbox) -> None:
    text = _visible_text(sandbox, "hrv-rmssd")
    assert "np.roll wraps around" in text and "N-1" in text
    assert "expected 101.301" in text


@pytest.mark.docker
def test_swapped_axes_and_threshold_off_by_a_few(sandbox) -> None:
    assert "grouped wrongly" in _visible_text(sandbox, "temp-daily-mean")
    assert "> vs >=" in _visible_text(sandbox, "temp-hot-days")
    text = _visible_text(sandbox, "har-basicmotions")
    assert "accuracy 0.7" in text and "labels returned:" in text


@pytest.mark.docker
def test_correct_solution_scores_one_and_wrong_less(sandbox) -> None:
    spec, good = _run(sandbox, "hrv-rmssd", EXAMPLES / "solutions" / "hrv-rmssd.py")
    _, bad = _run(sandbox, "hrv-rmssd")
    assert score([r for r, _ in good]) == 1.0
    assert 0 < score([r for r, _ in bad]) < 0.6


@pytest.mark.docker
def test_invented_api_and_missing_import_at_runtime(sandbox, tmp_path) -> None:
    sol = tmp_path / "s.py"
    sol.write_text("import numpy as np\nimport scipy.signal\n\n\ndef rmssd(nni):\n"
                   "    return float(scipy.signal.rms(np.diff(nni)))\n")
    spec, pairs = _run(sandbox, "hrv-rmssd", sol)
    text = feedback_for_case(pairs[0][0], pairs[0][1], spec)
    assert "scipy.signal has no `rms`" in text and "np.sqrt(np.mean(x**2))" in text
    assert 'line 6, in rmssd' in text
    sol.write_text("import numpy as np\n\n\ndef detect_rpeaks(ecg, fs):\n"
                   "    p, _ = find_peaks(ecg, distance=int(0.3 * fs))\n    return p.tolist()\n")
    spec, pairs = _run(sandbox, "ecg-rpeaks", sol)
    text = feedback_for_case(pairs[0][0], pairs[0][1], spec)
    assert "NameError" in text and "from scipy.signal import find_peaks" in text
    sol.write_text("import numpy as np\nfrom scipy.signal import butter\n\n\n"
                   "def detect_rpeaks(ecg, fs):\n    wn = [0.5, 4] / (fs / 2)\n    return wn\n")
    spec, pairs = _run(sandbox, "ecg-rpeaks", sol)
    text = feedback_for_case(pairs[0][0], pairs[0][1], spec)
    assert "np.asarray" in text


@pytest.mark.docker
def test_hidden_feedback_leaks_no_value_and_no_name(sandbox) -> None:
    for spec_id in ("ecg-mean-hr", "hrv-rmssd", "temp-hot-days"):
        _, pairs = _run(sandbox, spec_id)
        r, case = pairs[-1]
        assert r.hidden and not r.passed
        text = feedback_for_hidden(r)
        assert text.startswith("A held-out recording fails: wrong_value")
        assert case.name not in text and not re.search(r"\d", text)


@pytest.mark.docker
def test_api_index_from_the_real_sandbox(sandbox) -> None:
    idx = api_index.load_index()
    assert "find_peaks" in idx["modules"]["scipy.signal"]
    assert "rms" not in idx["modules"]["scipy.signal"] and "rms" not in idx["modules"]["numpy"]
    assert api_index.cache_path().is_file()
    assert "numpy" in api_index.where("mean", idx)
    assert api_index.suggest("scipy.signal", "findpeaks", index=idx)[0] == "find_peaks"


# ---- pure unit tests: hand-made results -------------------------------------------------

def _case(expect, metric="abs_error", fs=360.0, n=1000, **params) -> Case:
    params = params or {"max": 1.0}
    return Case("c", False, {"x": np.zeros(n), "fs": fs}, expect, Check(metric, params))


def _scalar(got: float, want: float, metric="abs_error", bound=1.0) -> CaseResult:
    fig = abs(got - want)
    return CaseResult("c", False, False, "wrong_value", metric, params={"max": bound}, figure=fig,
                      summary=f"{metric} {fig:.4g} > {bound}", value=got,
                      detail={"returned": got, "expected": want, "ratio": got / want})


@pytest.mark.parametrize(("got", "want", "needle"), [
    (144.2, 72.1, "double-counted"),
    (36.0, 72.0, "half the expected"),
    (72.0 * 60, 72.0, "seconds vs minutes"),
    (0.8, 800.0, "ms vs seconds"),
    (72.0 * 360, 72.0, "samples vs seconds"),
    (-5.0, 5.0, "sign is inverted"),
    (3600 / 72.0, 72.0, "looks inverted"),
    (72.5, 72.0, "close but not within"),
    (72.0 * np.sqrt(999 / 1000), 72.0, "sqrt((N-1)/N)"),
])
def test_ratio_heuristics(got, want, needle) -> None:
    case = _case(want)
    assert needle in ratio_hint(got, want, case)
    text = feedback_for_case(_scalar(got, want), case, load_spec(
        EXAMPLES / "hrv-rmssd" / "spec.yaml"))
    assert needle in text and "returned" in text and "expected" in text


def test_ratio_heuristics_stay_quiet_when_nothing_fits() -> None:
    assert ratio_hint(123.0, 37.0, _case(37.0)) == ""


def test_events_feedback_low_recall_and_offset() -> None:
    case = _case([10, 20], metric="events_f1", tolerance=18, min=0.9)
    r = CaseResult("c", False, False, "wrong_value", "events_f1", figure=0.5,
                   summary="F1 0.5 < 0.9", value=[12],
                   detail={"precision": 1.0, "recall": 0.3, "found": 30, "expected": 100,
                           "matched": 30, "mean_offset": 12.0})
    text = feedback_for_case(r, case, load_spec(EXAMPLES / "ecg-rpeaks" / "spec.yaml"))
    assert "too few events" in text and "12.0 samples late" in text
    assert "double-counted" not in text


@pytest.mark.parametrize(("fs", "n", "want", "gap", "distance"), [
    (360.0, 3600, 12, "about 0.833 s (300 samples) apart", "int(0.417 * fs)"),  # heartbeats
    (1.0, 86400, 6, "about 14400 samples apart", "7200"),  # switch-ons, no usable fs
])
def test_too_many_events_hint_fits_the_task_spacing(fs, n, want, gap, distance) -> None:
    """The distance advice comes from the expected events' spacing on this trace, so a task
    whose events are hours apart is not told to keep peaks 0.3 s apart (a heartbeat's)."""
    case = _case(list(range(want)), metric="events_f1", fs=fs, n=n, tolerance=5, min=0.9)
    r = CaseResult("c", False, False, "wrong_value", "events_f1", figure=0.2,
                   summary="F1 0.2 < 0.9", value=[1, 2],
                   detail={"precision": 0.1, "recall": 0.9, "found": 10 * want,
                           "expected": want, "matched": want})
    text = feedback_for_case(r, case, load_spec(EXAMPLES / "ecg-rpeaks" / "spec.yaml"))
    hint = next(x for x in text.splitlines() if "too many events" in x)
    assert gap in hint and f"find_peaks(x, distance=about half that gap, {distance})" in hint
    assert "0.3 * fs" not in hint


def test_accuracy_single_label() -> None:
    case = Case("c", False, {}, ["a", "b", "a"], Check("accuracy", {"min": 0.9}))
    r = CaseResult("c", False, False, "wrong_value", "accuracy", figure=0.67,
                   summary="accuracy 0.667 < 0.9 (2/3)", value=["a", "a", "a"],
                   detail={"hits": 2, "n": 3, "labels_returned": ["a"]})
    text = feedback_for_case(r, case, load_spec(EXAMPLES / "har-basicmotions" / "spec.yaml"))
    assert "same label 'a'" in text


def test_allclose_constant_offset() -> None:
    want = [1.0, 2.0, 3.0]
    case = Case("c", False, {}, want, Check("allclose", {"rtol": 0.0, "atol": 0.01}))
    r = CaseResult("c", False, False, "wrong_value", "allclose", figure=0.5,
                   summary="allclose max|diff| 0.5 (rtol 0, atol 0.01)", value=[1.5, 2.5, 3.5],
                   detail={"shape": [3], "worst_index": 0, "returned_at": 1.5,
                           "expected_at": 1.0})
    text = feedback_for_case(r, case, load_spec(EXAMPLES / "temp-daily-mean" / "spec.yaml"))
    assert "worst at index 0" in text and "off by the same +0.5" in text


def test_score_orders_progress() -> None:
    def exc(line: int) -> CaseResult:
        return CaseResult("c", False, False, "exception", "abs_error",
                          error="TypeError: bad operand", traceback=f"line {line}")
    far, near = _scalar(200.0, 72.0), _scalar(73.5, 72.0)
    ok = CaseResult("c", False, True, "ok", "abs_error", figure=0.1, summary="abs_error 0.1 <= 1")
    syntax = CaseResult("c", False, False, "syntax", "abs_error", error="line 3: bad")
    assert score([syntax]) < score([exc(1)]) < score([far]) < score([near]) < score([ok]) == 1
    assert score([exc(3)]) == score([exc(9)])  # a moved line is no progress
    hidden = CaseResult("h", True, False, "exception", "abs_error")
    assert score([ok, hidden]) == 1.0


def _wrong_len(value, expect, n=24000, fs=8000.0, metric="allclose") -> str:
    case = Case("c", False, {"samples": np.zeros(n, dtype=np.int16), "fs": fs}, expect,
                Check(metric, {"atol": 0.01}))
    res = CaseResult("c", False, False, "wrong_type", metric, value=value,
                     summary=f"{metric}: the result has the wrong shape")
    return feedback.length_hint(res, case)


def test_length_hint_names_the_window_in_samples_and_seconds() -> None:
    # audio-zcr as the 0.5B got it: 960 values for 120 frames of 25 ms at 8 kHz.
    hint = _wrong_len([0.1] * 960, [0.1] * 120)
    assert "one per about 200 samples (0.025 s at 8000 Hz)" in hint
    assert "you returned one per 25 samples (0.003125 s)" in hint
    assert "one per input sample" in _wrong_len([0.0] * 24000, [0.1] * 120)
    assert "you returned none" in _wrong_len([], [0.1] * 120)
    assert "close to 366" in _wrong_len([0.0] * 360, [0.1] * 366, n=8784, fs=None)
    assert "ONE number" in _wrong_len([1.0, 2.0], 3.0, metric="abs_error")
    assert "combine the columns" in _wrong_len(np.zeros((55, 3)).tolist(), [0.0] * 55)


def test_length_hint_puts_intervals_on_their_time_axis() -> None:
    """hrv-hr-per-minute as the 1.5B got it: 1446 values for 20 minutes. NN intervals are not
    samples at a rate: their sum is the time, so the hint counts seconds, not samples."""
    nni = np.full(1600, 750, dtype=np.int64)  # 1200 s of beats at 80 bpm
    case = Case("c", False, {"nni": nni}, [80.0] * 20, Check("allclose", {"atol": 0.5}))
    res = CaseResult("c", False, False, "wrong_type", "allclose", value=[80.0] * 1446)
    hint = feedback.length_hint(res, case)
    assert "1600 intervals of `nni`, which add up to 1200 s" in hint
    assert "np.cumsum(nni) / 1000" in hint and "one per about 60 s of recording" in hint
    assert "you returned one per 0.8299 s" in hint and "samples" not in hint
    seconds = Case("c", False, {"rr_s": nni / 1000}, [80.0] * 20, Check("allclose", {}))
    assert "(beat times: np.cumsum(rr_s)):" in feedback.length_hint(res, seconds)
    # the same numbers under a signal's name are samples, as before
    signal = Case("c", False, {"ppg": nni}, [80.0] * 20, Check("allclose", {"atol": 0.5}))
    assert "1600 samples of `ppg`" in feedback.length_hint(res, signal)


def test_length_hint_quiet_when_the_shape_is_right_or_events() -> None:
    assert _wrong_len([0.1] * 120, [0.2] * 120) == ""
    assert _wrong_len([1, 2, 3], [5, 9], metric="events_f1") == ""
    assert _wrong_len([[1, 2], [3]], [0.1] * 120) == ""  # ragged: nothing to say


def test_unexpected_keyword_fs_hint() -> None:
    text = "TypeError: find_peaks() got an unexpected keyword argument 'fs'"
    assert any("distance=int(0.3 * fs)" in h for h in feedback._error_hints(text))


def test_ragged_windows_hint_is_not_the_input_shape_hint() -> None:
    """np.array over frames whose last one is short: the input is fine, the windows are not
    (the generic shape hint sent IoTBench's audio-rms-dbfs repairs after the input)."""
    text = ("ValueError: setting an array element with a sequence. The requested array has an "
            "inhomogeneous shape after 1 dimensions. The detected shape was (72,) + "
            "inhomogeneous part.")
    hints = feedback._error_hints(text)
    assert len(hints) == 1 and hints[0].startswith("windows of unequal length")
    assert "range(0, len(x) - n + 1, hop)" in hints[0] and "ravel" not in hints[0]
    nested = "ValueError: setting an array element with a sequence."
    assert "ravel()" in feedback._error_hints(nested)[0]


def test_axis_error_on_one_channel_says_how_to_make_frames() -> None:
    """np.mean(x**2, axis=1) on 1-D samples (IoTBench audio-rms-dbfs, 1.5B: the repairs
    tried axis=(0, 1) and reshape(-1, 1) under the generic exception advice)."""
    text = "numpy.AxisError: axis 1 is out of bounds for array of dimension 1"
    hints = feedback._error_hints(text)
    assert len(hints) == 1 and "reshape(-1, n)" in hints[0] and "axis=1" in hints[0]
    # the twin: a 2-D array's axis error is not this mistake
    assert feedback._error_hints("numpy.AxisError: axis 2 is out of bounds for array of "
                                 "dimension 2") == []


def test_scalar_where_an_array_was_meant_hint() -> None:
    for text in ("TypeError: 'numpy.float64' object does not support item assignment",
                 "TypeError: 'float' object is not subscriptable",
                 "TypeError: object of type 'numpy.float64' has no len()"):
        hints = feedback._error_hints(text)
        assert len(hints) == 1 and hints[0].startswith("a single number"), text
    assert feedback._error_hints("TypeError: 'list' object does not support item "
                                 "assignment") == []


def test_length_hint_tells_ceil_from_floor_in_a_rate_change() -> None:
    """48 -> 16 kHz of 71042 samples: 23681 expected (resample_poly, x[::3]); the 1.5B's
    int(n * 16000 / fs) gave 23680 and four repairs kept it under the generic 'close' hint."""
    hint = _wrong_len([0.0] * 23680, [0.0] * 23681, n=71042, fs=48000.0)
    assert "ceil(71042 / 3)" in hint and "resample_poly(x, 1, 3)" in hint
    down = _wrong_len([0.0] * 23681, [0.0] * 23680, n=71042, fs=48000.0)
    assert "71042 // 3" in down and "drop the partial last step" in down
    # the twins: an exact multiple, or off by more than one, get the general hint
    assert "ceil" not in _wrong_len([0.0] * 23679, [0.0] * 23681, n=71042, fs=48000.0)
    assert "ceil" not in _wrong_len([0.0] * 23999, [0.0] * 24000, n=72000, fs=48000.0)


def test_events_in_seconds_are_reported_in_seconds_and_indices_are_called_out() -> None:
    """audio-word-onsets wants start times in seconds (tolerance 0.05): the feedback said
    'within 0.05 samples', and returning seconds would have been told to return indices."""
    fs, n = 48000.0, 68545
    secs = _case([0.31, 1.02], metric="events_f1", fs=fs, n=n, tolerance=0.05, min=0.99)
    spec = load_spec(EXAMPLES / "ecg-rpeaks" / "spec.yaml")

    def text(value, case):
        r = CaseResult("c", False, False, "wrong_value", "events_f1", figure=0.0,
                       summary="F1 0 < 0.99", value=value,
                       detail={"precision": 0.0, "recall": 0.0, "found": len(value),
                               "expected": 2, "matched": 0})
        return feedback_for_case(r, case, spec)

    as_indices = text([14880, 48960], secs)
    assert "within 0.05 s;" in as_indices and "index / fs" in as_indices
    assert "return sample indices" not in as_indices
    assert "index / fs" not in text([0.5, 0.9], secs)  # seconds, just wrong ones
    # the twin: a sample-index task keeps its unit and its seconds hint
    idx = _case([14880, 48960], metric="events_f1", fs=fs, n=n, tolerance=50, min=0.99)
    got = text([0.31, 1.02], idx)
    assert "within 50 samples;" in got and "return sample indices" in got


INTERP_50HZ = '''import numpy as np

def resample_50hz(acc, fs):
    num_samples = int(len(acc) * 50.0 / fs)
    return np.interp(np.linspace(0, len(acc) - 1, num_samples), np.arange(len(acc)), acc)
'''

HINTED_50HZ = '''import numpy as np
from scipy.signal import resample_poly

def resample_50hz(acc, fs):
    x = np.asarray(acc, dtype=float)
    m = x.mean()
    return (resample_poly(x - m, 25, 32) + m).tolist()
'''


@pytest.mark.docker
def test_rate_change_hint_names_the_factors_and_following_it_passes(sandbox, tmp_path) -> None:
    """The 1.5B's np.interp draft for IoTBench daphnet-resample-50hz was told 'the values are
    grouped wrongly'; now it gets the up/down factors and the filtering call, and a program
    that does what the hint says passes every case, hidden ones included."""
    spec = load_spec(ROOT / "iotbench" / "tasks" / "motion" / "daphnet-resample-50hz"
                     / "spec.yaml")
    [(r, text)], passes = _hinted_and_followed(sandbox, tmp_path, spec, INTERP_50HZ,
                                               HINTED_50HZ, n=1)
    assert r.status == "wrong_value"
    assert "resample_poly(np.asarray(x, dtype=float), 25, 32)" in text
    assert "64 Hz -> 50 Hz" in text
    assert "grouped wrongly" not in text
    assert passes
    # the twin: a windowed task with the same kind of length change gets no rate advice
    zcr = load_spec(ROOT / "iotbench" / "tasks" / "audio" / "audio-zcr" / "spec.yaml")
    assert feedback.rate_change_hint(zcr.visible_cases[0], zcr.requirement) == ""


def _allclose_result(got, want) -> tuple[CaseResult, Case]:
    case = Case("c", False, {"samples": np.zeros(24000), "fs": 8000.0}, want,
                Check("allclose", {"atol": 0.01}))
    r = CaseResult("c", False, False, "wrong_value", "allclose", value=got,
                   summary="allclose max|diff| 0.38 (rtol 0, atol 0.01)",
                   detail={"shape": [len(got)]})
    return r, case


def test_mostly_half_the_expected_names_one_direction_counting() -> None:
    """audio-zcr: rising crossings only give about half the rate in most frames (not all:
    silent frames are 0 either way)."""
    rng = np.random.default_rng(0)
    want = rng.uniform(0.1, 0.8, 120)
    got = want * rng.uniform(0.46, 0.54, 120)
    got[:10] = want[:10]  # some frames agree
    r, case = _allclose_result(got.tolist(), want.tolist())
    text = "\n".join(feedback._allclose(r, case))
    assert re.search(r"about 0\.5\d?x the expected", text) and "one direction" in text
    # the twin: scattered errors get no ratio story
    r, case = _allclose_result((want + rng.normal(0, 0.2, 120)).tolist(), want.tolist())
    assert "x the expected" not in "\n".join(feedback._allclose(r, case))


def test_float_window_hint_quotes_the_expression_from_the_failing_line() -> None:
    text = ('File "solution.py", line 22, in hr_per_window\n'
            '    window = ecg[i * (fs * 10):(i + 1) * (fs * 10)]\n'
            "TypeError: slice indices must be integers or None or have an __index__ method")
    hints = feedback._error_hints(text)
    assert hints == [next(h for h in hints if "`fs * 10`" in h)]
    assert "n = int(round(fs * 10))" in hints[0]
    # the twin: no fs in the failing line keeps the general advice
    plain = ('File "solution.py", line 5, in f\n    for i in range(len(x) / 2):\n'
             "TypeError: 'float' object cannot be interpreted as an integer")
    assert feedback._error_hints(plain) == ["indices and window sizes must be ints: "
                                            "int(0.3 * fs)"]


def test_length_hint_for_a_diff_of_the_raw_signal_points_at_events() -> None:
    """ecg-rr-intervals: np.diff over all 22350 ECG samples instead of over R-peak indices."""
    hint = _wrong_len([1.0] * 22349, [800.0] * 28, n=22350, fs=1000.0)
    assert "np.diff of the raw signal" in hint and "find_peaks" in hint
    assert "one per input sample" in _wrong_len([1.0] * 22350, [800.0] * 28, n=22350,
                                                 fs=1000.0)


def test_abs_error_over_a_short_list_shows_the_values_and_the_ratio() -> None:
    """imu-cadence expects 4 per-window cadences under abs_error: the feedback was only
    'abs_error 1.588 > 0.15'. Steps counted as strides come out at half."""
    want = [1.588, 1.225, 1.513, 1.538]
    got = [w / 2 for w in want]
    case = Case("c", False, {"windows": np.zeros((4, 100)), "fs": 10.0}, want,
                Check("abs_error", {"max": 0.15}))
    r = CaseResult("c", False, False, "wrong_value", "abs_error", figure=0.79,
                   summary="abs_error 0.794 > 0.15", value=got,
                   detail={"returned": got, "expected": want})
    lines = feedback._wrong_value(r, case)
    assert "expected [1.588, 1.225, 1.513, 1.538]" in lines[1]
    assert any("about 0.5x the expected" in x for x in lines)
    r.detail = {"returned": [0.1, 3.0, 1.5, 0.2], "expected": want}  # the twin: no pattern
    assert not any("x the expected" in x for x in feedback._wrong_value(r, case))


def test_a_nested_list_under_abs_error_is_compared_value_by_value() -> None:
    """Rows of values (one row per window) are scaled the same way as a flat list."""
    want = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    got = [[2 * v for v in row] for row in want]
    case = Case("c", False, {"x": np.zeros(60)}, want, Check("abs_error", {"max": 0.1}))
    r = CaseResult("c", False, False, "wrong_value", "abs_error", figure=6.0,
                   summary="abs_error 6 > 0.1", value=got,
                   detail={"returned": got, "expected": want})
    assert any("about 2x the expected" in x for x in feedback._wrong_value(r, case))


def test_one_class_expected_is_not_taken_for_a_true_false_rule() -> None:
    """Every visible window False: the labels advice applies, not the flag counts (which need
    both True and False expected)."""
    want = ["False"] * 4
    got = ["True", "False", "True", "False"]
    case = Case("c", False, {"w": np.zeros((4, 10))}, want, Check("accuracy", {"min": 0.9}))
    r = CaseResult("c", False, False, "wrong_value", "accuracy", figure=0.5,
                   summary="accuracy 0.5 < 0.9", value=got,
                   detail={"labels_returned": ["False", "True"]})
    text = "\n".join(feedback._accuracy(r, case))
    assert "every label occurs" in text and "flagged True" not in text


def test_same_offset_hint_only_when_the_offset_explains_every_value() -> None:
    """hrv-time-domain: errors of -0.72..+0.3 on values up to 800 were called 'off by the
    same -0.216' (1e-3 of the largest value is looser than the case's atol of 0.02)."""
    want = [812.0, 43.1, 21.7, 68.22]
    vary = [812.3, 42.9, 21.5, 67.5]
    case = Case("c", False, {"nni": np.zeros(300)}, want, Check("allclose", {"atol": 0.02}))

    def hint(got):
        r = CaseResult("c", False, False, "wrong_value", "allclose", value=got,
                       summary="allclose", detail={"shape": [4]})
        return "\n".join(feedback._allclose(r, case))

    assert "off by the same" not in hint(vary)
    assert "off by the same +0.5" in hint([w + 0.5 for w in want])


def test_true_false_flags_say_which_way_the_rule_errs() -> None:
    want = [True] * 10 + [False] * 70
    case = Case("c", False, {"ppg": np.zeros(8000)}, want, Check("accuracy", {"min": 0.98}))

    def text(got):
        r = CaseResult("c", False, False, "wrong_value", "accuracy", figure=0.7,
                       summary="accuracy 0.7 < 0.98", value=got,
                       detail={"labels_returned": sorted({str(x) for x in got})})
        return "\n".join(feedback._accuracy(r, case))

    loose = text([True] * 35 + [False] * 45)
    assert "25 window(s) flagged True that should be False, 0" in loose and "too loose" in loose
    assert "k-NN" not in loose
    assert "too strict" in text([True] * 4 + [False] * 76)
    assert "too strict" in text([False] * 80)  # never flagged: strict, not 'features'
    # the twin: class labels keep the classifier advice
    labels = Case("c", False, {}, ["a", "b"] * 10, Check("accuracy", {"min": 0.9}))
    r = CaseResult("c", False, False, "wrong_value", "accuracy", figure=0.5, summary="acc",
                   value=["b", "a"] * 10, detail={"labels_returned": ["a", "b"]})
    assert "k-NN" in "\n".join(feedback._accuracy(r, labels))


@pytest.mark.docker
def test_resample_poly_on_int16_returns_zeros_in_the_sandbox(sandbox, tmp_path) -> None:
    """Why the rate hint says to convert int16 first: the 1.5B followed it literally on
    IoTBench audio-resample-16k and got all zeros from the image's scipy; converted, the same
    call passes every case."""
    spec = load_spec(ROOT / "iotbench" / "tasks" / "audio" / "audio-resample-16k" / "spec.yaml")
    body = ("import numpy as np\nfrom scipy.signal import resample_poly\n\n"
            "def to_16k(samples, fs):\n    return resample_poly({x}, 1, 3).tolist()\n")
    raw, conv = tmp_path / "raw.py", tmp_path / "conv.py"
    raw.write_text(body.format(x="samples"))
    conv.write_text(body.format(x="np.asarray(samples, dtype=float)"))
    r = check_solution(spec, raw, sandbox, cases=spec.visible_cases[:1]).cases[0]
    assert r.status == "wrong_value"
    assert "every value returned is 0" in feedback_for_case(r, spec.visible_cases[0], spec)
    assert all(c.passed for c in check_solution(spec, conv, sandbox).cases)


# The 1.5B's first ecg-mean-hr draft on the examples (trajectory of the 2026-12-02 run): every
# sample past a slope threshold is a 'beat' and the intervals are positions, so 60 * fs.
SAMPLES_AS_BEATS = '''import numpy as np


def mean_heart_rate(ecg, fs):
    ecg = np.array(ecg, dtype=float)
    threshold = 0.05
    heartbeats = np.where(np.diff(ecg) > threshold)[0]
    time_between_beats = np.diff(np.arange(len(heartbeats)), axis=0) / fs
    return float(60 / np.mean(time_between_beats))
'''

# What the hint says to do, and nothing else: find_peaks with a refractory distance on the
# band-passed signal, intervals from the peak indices.
HINTED_HR = '''import numpy as np
from scipy import signal


def mean_heart_rate(ecg, fs):
    sos = signal.butter(2, [5.0, 20.0], btype="bandpass", fs=fs, output="sos")
    x = signal.sosfiltfilt(sos, np.asarray(ecg, dtype=float))
    x = np.abs(x)
    peaks, _ = signal.find_peaks(x, height=0.3 * np.percentile(x, 99), distance=int(0.3 * fs))
    return float(60 / np.mean(np.diff(peaks) / fs))
'''


@pytest.mark.docker
def test_one_sample_intervals_are_named_and_following_the_hint_passes(sandbox, tmp_path) -> None:
    """60 * fs means the 'beats' are consecutive samples; the hint names both causes seen
    (np.where over a threshold, np.diff of positions) and the fix, which passes every case."""
    spec = load_spec(EXAMPLES / "ecg-mean-hr" / "spec.yaml")
    pairs, passes = _hinted_and_followed(sandbox, tmp_path, spec, SAMPLES_AS_BEATS, HINTED_HR)
    assert len(pairs) == len(spec.visible_cases)
    for r, text in pairs:
        assert r.status == "wrong_value"
        assert "= 60 * fs" in text and "ONE sample" in text and "find_peaks" in text
    assert passes


def test_one_sample_and_far_too_high_hints_need_an_event_task() -> None:
    case = _case(77.7, fs=1000.0)
    req = "Detect the heartbeats and return the mean heart rate in bpm."
    assert "ONE sample" in ratio_hint(60000.0, 77.7, case, req)
    assert "ONE sample" in ratio_hint(1000.0, 77.7, case, req)  # a rate in Hz, same cause
    assert "far more events" in ratio_hint(400.0, 77.7, case, req)
    # the twins: a task that counts nothing gets neither
    for got in (60000.0, 400.0):
        assert ratio_hint(got, 77.7, case, "Return the mean temperature in kelvin.") == ""


# The 1.5B's first har-basicmotions draft (2026-12-02), repeated by two repairs that were
# told only that every window got the same label.
PLACEHOLDER_HAR = '''def classify_activity(train_windows, train_labels, test_windows):
    # Placeholder for the actual activity recognition logic
    return [train_labels[0]] * len(test_windows)
'''

# The hint's recipe, written out as it reads.
HINTED_HAR = '''import numpy as np


def classify_activity(train_windows, train_labels, test_windows):
    ftr = np.concatenate([train_windows.mean(axis=2), train_windows.std(axis=2)], axis=1)
    fte = np.concatenate([test_windows.mean(axis=2), test_windows.std(axis=2)], axis=1)
    labels = np.array([str(x) for x in train_labels])
    classes = sorted(set(labels.tolist()))
    means = np.stack([ftr[labels == c].mean(axis=0) for c in classes])
    d = ((fte[:, None, :] - means[None, :, :]) ** 2).sum(axis=2)
    return [classes[i] for i in np.argmin(d, axis=1)]
'''


@pytest.mark.docker
def test_constant_labels_get_a_classifier_recipe_that_passes(sandbox, tmp_path) -> None:
    spec = load_spec(EXAMPLES / "har-basicmotions" / "spec.yaml")
    [(_, text)], passes = _hinted_and_followed(sandbox, tmp_path, spec, PLACEHOLDER_HAR,
                                               HINTED_HAR, n=1)
    assert "train_windows.mean(axis=2), train_windows.std(axis=2)" in text
    assert "test_windows.mean(axis=2)" in text and "nearest class mean" in text
    assert passes


def test_classifier_recipe_needs_stacked_windows() -> None:
    """A 1-D signal task whose every output is one label gets no windows recipe."""
    case = Case("c", False, {"x": np.zeros(100), "fs": 10.0}, ["a", "b"], Check("accuracy",
                                                                              {"min": 0.9}))
    assert features_how(Observation(case=case)) == ""
    two_d = Case("c", False, {"train": np.zeros((5, 50)), "test": np.zeros((3, 50))}, ["a"],
                 Check("accuracy", {"min": 0.9}))
    assert "np.stack([test.mean(axis=1), test.std(axis=1)], axis=1)" in features_how(
        Observation(case=two_d))


def test_broadcast_of_a_dropped_axis_suggests_keepdims() -> None:
    text = ("ValueError: operands could not be broadcast together with shapes (40,6,100) (40,)")
    assert "keepdims=True" in feedback._error_hints(text)[0]
    middle = text.replace("(40,)", "(6,)")  # axis=(0, 2), the retrieve run's standardising
    assert "keepdims=True" in feedback._error_hints(middle)[0]
    # the twin: same rank, one shorter -> the np.diff advice
    diff = "ValueError: operands could not be broadcast together with shapes (99,) (100,)"
    hints = feedback._error_hints(diff)
    assert "keepdims" not in hints[0] and "np.diff(x) is one shorter" in hints[0]


def test_arithmetic_on_label_strings_is_named() -> None:
    text = ("numpy.core._exceptions._UFuncNoLoopError: ufunc 'subtract' did not contain a loop "
            "with signature matching types (dtype('<U9'), dtype('float32')) -> None")
    assert "arithmetic on strings" in feedback._error_hints(text)[0]
    assert not any("strings" in h for h in feedback._error_hints("TypeError: bad operand"))


# The 1.5B's temp-daily-mean draft (2026-12-02): segments between changes of value, not days.
SEGMENTS_AS_DAYS = '''import numpy as np


def daily_means(temps):
    change = np.where(np.diff(temps) != 0)[0] + 1
    bounds = [0, *change.tolist(), len(temps)]
    return [float(np.mean(temps[a:b])) for a, b in zip(bounds[:-1], bounds[1:])]
'''

HINTED_DAYS = '''import numpy as np


def daily_means(temps):
    x = np.asarray(temps, dtype=float)
    blocks = x[:len(x) // 24 * 24].reshape(-1, 24)
    return blocks.mean(axis=1).tolist()
'''


@pytest.mark.docker
def test_whole_blocks_hint_takes_the_block_from_the_task_and_passes(sandbox, tmp_path) -> None:
    """Hourly readings have no fs: the block length comes from the task's own '24 readings'
    (jul's 245 samples hold 10 whole days and 5 hours) or from an exact n / m (jan)."""
    spec = load_spec(EXAMPLES / "temp-daily-mean" / "spec.yaml")
    pairs, passes = _hinted_and_followed(sandbox, tmp_path, spec, SEGMENTS_AS_DAYS, HINTED_DAYS)
    assert len(pairs) == len(spec.visible_cases)
    for r, text in pairs:
        assert r.status == "wrong_type"
        assert "whole blocks of 24 samples" in text
    assert passes


def test_whole_blocks_hint_stays_quiet_without_a_fitting_block() -> None:
    case = Case("c", False, {"x": np.zeros(245)}, [0.0] * 10, Check("allclose", {"atol": 0.1}))
    res = CaseResult("c", False, False, "wrong_type", "allclose", value=[0.0] * 30,
                     summary="shape (30,); expected (10,)", detail={})
    assert "whole blocks of 24" in feedback.length_hint(res, case, "24 readings a day")
    assert "whole blocks" not in feedback.length_hint(res, case, "readings every hour")


@pytest.mark.docker
def test_an_error_inside_a_linked_helper_blames_the_call(sandbox, tmp_path) -> None:
    """The 1.5B's recipe redraft on har-basicmotions passed the raw test windows to
    nearest_centroid next to training features: the broadcast error is raised inside the
    verified helper, so the hint names the helper and the call; following it (features made
    the same way for both) passes every case. The twin: the same error in the program's own
    code gets no helper hint."""
    from agent.knowledge import link, load_cards

    cards = [c for c in load_cards() if c.id in ("window-features", "nearest-centroid")]
    spec = load_spec(EXAMPLES / "har-basicmotions" / "spec.yaml")
    call = ("from iot_helpers import nearest_centroid, window_features\n\n"
            "def classify_activity(train_windows, train_labels, test_windows):\n"
            "    return nearest_centroid(window_features(train_windows), train_labels, {})\n")
    pairs, followed = _hinted_and_followed(
        sandbox, tmp_path, spec, link(call.format("test_windows"), cards),
        link(call.format("window_features(test_windows)"), cards), n=1)
    (result, text), = pairs
    assert result.status == "exception"
    assert "inside the verified helper `nearest_centroid(X_train, y_train, X_test)`" in text
    assert "`classify_activity` calls it with the wrong arguments" in text
    assert "np.diff" not in text  # the generic broadcast hint is not added
    assert followed
    own = ("import numpy as np\n\ndef classify_activity(train_windows, train_labels, "
           "test_windows):\n    z = test_windows - np.ones(30)\n    return ['Walking'] * len(z)\n")
    (twin, twin_text), = _hinted_and_followed(sandbox, tmp_path, spec, own, own, n=1)[0]
    assert twin.status == "exception" and "verified helper" not in twin_text


# The 1.5B's temp-daily-mean repair (seed 2, 2026-12-03): days from a floor division, then a
# reshape that the partial last day breaks.
RESHAPED_DAYS = '''import numpy as np


def daily_means(temps):
    temps = np.array(temps)
    days = temps.size // 24
    return temps.reshape(days, 24).mean(axis=1).tolist()
'''


def test_reshape_hint_names_whole_blocks_and_the_leftover() -> None:
    for shape in ("(10,24)", "(24)", "(-1, 24)"):
        text = f"ValueError: cannot reshape array of size 245 into shape {shape}"
        hint = feedback._error_hints(text)[0]
        assert "10 whole blocks and 5 left over" in hint
        assert "x[:len(x) // 24 * 24].reshape(-1, 24)" in hint
    # twins: a length that divides, a target bigger than the array, a 3-D reshape
    for text in ("cannot reshape array of size 240 into shape (7,24)",
                 "cannot reshape array of size 245 into shape (300)",
                 "cannot reshape array of size 245 into shape (2,6,100)"):
        assert not any("whole blocks" in h for h in feedback._error_hints(f"ValueError: {text}"))


@pytest.mark.docker
def test_reshape_hint_through_the_sandbox_and_following_it_passes(sandbox, tmp_path) -> None:
    """jan-2weeks (336 readings) passes, jul-10days-partial (245) raises: the hint names the
    10 whole days and 5 hours left over; the program that keeps whole blocks passes every
    case, the hidden partial three weeks included."""
    spec = load_spec(EXAMPLES / "temp-daily-mean" / "spec.yaml")
    pairs, passes = _hinted_and_followed(sandbox, tmp_path, spec, RESHAPED_DAYS, HINTED_DAYS)
    assert {r.case: r.status for r, _ in pairs if not r.passed} == {
        "jul-10days-partial": "exception"}
    text = {r.case: t for r, t in pairs}["jul-10days-partial"]
    assert "10 whole blocks and 5 left over" in text
    assert passes


@pytest.mark.docker
def test_blocks_passed_to_block_reduce_raise_in_the_helper_and_the_call_is_blamed(
        sandbox, tmp_path) -> None:
    """The 1.5B's recipe redraft reshaped into days, then passed the blocks to block_reduce,
    which made zero blocks of 24 rows and returned [] (wrong_type with no clue). The card now
    refuses a 2-D array with a message for the model, the helper hint blames the call, and the
    call on the samples passes every case. The twin: the 1-D call is not refused."""
    from agent.knowledge import link, load_cards

    cards = [c for c in load_cards() if c.id == "block-aggregate"]
    spec = load_spec(EXAMPLES / "temp-daily-mean" / "spec.yaml")
    call = ("import numpy as np\nfrom iot_helpers import block_reduce\n\n"
            "def daily_means(temps):\n    x = {}\n    return block_reduce(x, 24)\n")
    pairs, followed = _hinted_and_followed(
        sandbox, tmp_path, spec, link(call.format("temps[:len(temps) // 24 * 24]"
                                                  ".reshape(-1, 24)"), cards),
        link(call.format("temps"), cards), n=1)
    (result, text), = pairs
    assert result.status == "exception"
    assert "pass the samples, not blocks" in text
    assert "inside the verified helper `block_reduce(" in text
    assert followed
