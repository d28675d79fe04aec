"""Judged results turned into text a small code model can act on.

Pasting the raw error back fixes few drafts; what helps is saying what the number means:
"2.0x too high: peaks double-counted". Visible cases may show values (spec v1: their
results may be fed back); hidden cases reveal only that a held-out recording fails and how.
`score` lets a controller notice a loop that makes no progress.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

import numpy as np

from agent import diagnostics
from agent.checker import CaseResult
from agent.diagnostics.signals import fmt as _fmt
from agent.diagnostics.signals import interval_seconds, lengths, sampling_rate, whole_blocks
from agent.spec import Case, Spec

OUTPUT_LINES = 15
TRACEBACK_LINES = 8

_HIDDEN_WHY = {
    "syntax": "the program does not parse", "import": "an import fails",
    "missing_function": "the function is missing", "exception": "the program raises an error",
    "timeout": "it runs too long", "memory": "it uses too much memory",
    "output_too_large": "it prints too much", "unconvertible": "the return value has the "
    "wrong kind", "crash": "the process crashes", "wrong_type": "the result has the wrong "
    "type or length", "wrong_value": "the result is wrong",
}

def _tail(text: str, n: int) -> str:
    lines = [ln for ln in text.rstrip().splitlines() if ln.strip()]
    return "\n".join(lines[-n:])


def _bound(case: Case) -> float | None:
    p = case.check.params
    return p.get("max", p.get("min"))


def _fs(case: Case) -> float | None:
    """The case's sampling rate (diagnostics.signals reads it one way everywhere)."""
    return sampling_rate(case.args)


def _lengths(case: Case) -> list[int]:
    return lengths(case.args)


def ratio_hint(returned: float, expected: float, case: Case | None = None,
               requirement: str = "") -> str:
    """What a wrong scalar's relation to the expected one suggests (empty if nothing): the
    first entry of the catalogue's "value" group that recognises it."""
    obs = diagnostics.Observation(case=case, requirement=requirement,
                                  returned=float(returned), expected=float(expected))
    return next(iter(diagnostics.hints(obs, "value")), "")


def _shape(value: Any) -> tuple[int, ...] | None:
    try:
        return tuple(np.shape(value))
    except ValueError:  # ragged
        return None


def _blocks(n: int, m: int, n_got: int, requirement: str) -> str:
    """m whole blocks of r samples: r from a number the task names, or an exact n / m."""
    named = [int(x) for x in re.findall(r"\b(\d{1,5})\b", requirement)]
    rs = [r for r in named if r >= 2 and n // r == m]
    if not rs and n % m == 0 and n // m >= 2:
        rs = [n // m]
    if not rs or n_got == m:
        return ""
    r = rs[0]
    return (f"; {m} = {n} // {r}: whole blocks of {r} samples, e.g. blocks = "
            f"{whole_blocks(r)}, then one value per row "
            "(blocks.mean(axis=1)); the partial last block is dropped")


def length_hint(result: CaseResult, case: Case, requirement: str = "") -> str:
    """How a wrong-length result relates to the input length and the sampling rate.

    The models get "shape (960,); expected (120,)" wrong again and again; "one value per
    200 samples (0.025 s at 8000 Hz); you returned one per 25" names the window to use.
    """
    if result.metric == "events_f1":  # an event count is not a window count
        return ""
    got, want = _shape(result.value), _shape(case.expect)
    if got is None or want is None or got == want:
        return ""
    if want == ():
        return "expected ONE number for the whole recording: aggregate (sum, mean, count)"
    if len(got) == 2 and len(want) == 1 and got[0] == want[0]:
        return (f"one value per row expected, you returned {got[1]} per row: combine the "
                "columns (e.g. np.linalg.norm(x, axis=1)) or reduce over axis=1")
    if len(want) != 1:
        return ""
    m, n_got = want[0], (got[0] if got else 0)
    if got == ():
        return f"expected a list of {m} values, not a single number"
    fs = _fs(case)
    for name, v in case.args.items():
        if not isinstance(v, np.ndarray) or v.ndim < 1 or len(v) <= m:
            continue
        n = len(v)
        seconds = interval_seconds(name, v)
        if seconds:  # intervals: their sum is the time axis, and windows are in time
            times = f"np.cumsum({name})" + (" / 1000" if seconds < np.sum(v) else "")
            line = (f"expected {m} values from the {n} intervals of `{name}`, which add up to "
                    f"{seconds:.4g} s (beat times: {times}): one per about "
                    f"{seconds / m:.4g} s of recording")
            if 0 < n_got and abs(n_got - m) > max(2, 0.02 * m):
                line += f"; you returned one per {seconds / n_got:.4g} s"
            break
        line = f"expected {m} values from the {n} samples of `{name}`: one per about "
        per = n / m
        r = round(per)
        if r >= 2 and abs(per - r) < 0.01 and n % r and abs(n_got - m) == 1:
            ceil, floor = -(-n // r), n // r  # a 1-in-r rate change: which rounding?
            if (m, n_got) == (ceil, floor):
                return (f"expected {m} = ceil({n} / {r}) values, you returned {n} // {r} = "
                        f"{floor}: keep the partial last step, as x[::{r}] and "
                        f"scipy.signal.resample_poly(x, 1, {r}) do (int() rounds down)")
            if (m, n_got) == (floor, ceil):
                return (f"expected {m} = {n} // {r} values (whole steps only), you returned "
                        f"ceil({n} / {r}) = {ceil}: drop the partial last step")
        line += f"{per:.4g} samples" + (f" ({per / fs:.4g} s at {_fmt(fs)} Hz)" if fs else "")
        if n_got == n - 1:
            line += ("; you returned one per pair of neighbouring samples (np.diff of the raw "
                     "signal): for intervals between events, detect the events first (e.g. "
                     "find_peaks) and difference their positions; for windows, compute ONE "
                     "value per window")
        elif n_got == n:
            line += "; you returned one per input sample: compute ONE value per window"
        elif 0 < n_got and abs(n_got - m) > max(2, 0.02 * m):
            line += f"; you returned one per {n / n_got:.4g} samples"
            if fs:
                line += f" ({n / n_got / fs:.4g} s): window length = int(seconds * fs)"
        if not fs and n_got != n - 1:  # sampled by the clock (hourly, daily): count samples
            line += _blocks(n, m, n_got, requirement)
        break
    else:
        line = f"expected {m} values"
    if n_got == 0:
        line += "; you returned none (nothing detected or the loop never ran)"
    elif abs(n_got - m) <= max(2, 0.02 * m):
        line += (f"; {n_got} is close to {m}: check the last partial window, the first or "
                 "last element, and dropped gaps/NaNs")
    return line


_GROUPED = "Hint: the overall mean is right but the values are grouped wrongly: "
_RATE_TASK = re.compile(r"alias|resampl", re.I)


def rate_change_hint(case: Case, requirement: str) -> str:
    """For a task that converts a signal's sampling rate (it says resample or alias): the
    up/down factors that the expected length implies, and the filtering call. The models
    interpolate with np.interp or take every k-th sample, which aliases."""
    fs = _fs(case)
    want = _shape(case.expect)
    if not (fs and want and len(want) == 1 and _RATE_TASK.search(requirement)):
        return ""
    m = want[0]
    n = next((len(v) for v in case.args.values()
              if isinstance(v, np.ndarray) and v.ndim == 1 and len(v) > 1), 0)
    if not n or n == m:
        return ""
    ratio = Fraction(m, n).limit_denominator(1000)
    up, down = ratio.numerator, ratio.denominator
    if abs(-(-n * up // down) - m) > 1:
        return ""
    return (f"a rate change {_fmt(fs)} Hz -> {_fmt(fs * up / down)} Hz: "
            f"scipy.signal.resample_poly(np.asarray(x, dtype=float), {up}, {down}) low-pass "
            "filters as it resamples, where np.interp or x[::k] alone alias; convert int16 "
            "input to float first (the sandbox's scipy returns zeros for it); it keeps the "
            "first sample's time and pads with zeros at the ends, so for a signal with a large "
            "offset subtract the mean first and add it back")


def _wrong_value(result: CaseResult, case: Case, requirement: str = "") -> list[str]:
    d, metric = result.detail, result.metric
    lines: list[str] = []
    if metric in ("abs_error", "rel_error"):
        got, want = d.get("returned"), d.get("expected")
        # a one-element list on either side (a scalar returned as [x], or the reverse)
        got = got[0] if isinstance(got, list) and len(got) == 1 else got
        want = want[0] if isinstance(want, list) and len(want) == 1 else want
        if isinstance(got, list) and isinstance(want, list) and len(got) == len(want) > 1:
            return [result.summary, *_error_lists(got, want)]
        if not (isinstance(got, (int, float)) and isinstance(want, (int, float))):
            return [result.summary]
        b = _bound(case)
        dec = max(0, 1 - math.floor(math.log10(b * max(abs(want), 1e-12) if metric ==
                                                "rel_error" else b))) if b else 4
        dec = min(dec, 8)
        line = (f"returned {got:.{dec}f}; expected {want:.{dec}f} ({metric} <= {_fmt(b)}); "
                f"off by {got - want:+.{dec}f}")
        if want and abs(got / want - 1) >= 0.05:
            line += f", {got / want:.2f}x"
        lines.append(line)
        hint = ratio_hint(float(got), float(want), case, requirement)
        if hint:
            lines.append("Hint: " + hint)
        return lines
    if metric == "equals":
        got, want = d.get("returned"), d.get("expected")
        lines.append(f"returned {_fmt(got)}; expected {_fmt(want)} exactly")
        if isinstance(got, (int, float)) and isinstance(want, (int, float)) \
                and not isinstance(got, bool):
            small = 0 < abs(got - want) <= max(3, 0.3 * abs(want))
            if isinstance(want, int) and isinstance(got, int) and small:
                more = "too many" if got > want else "too few"
                lines.append(f"Hint: {got - want:+d} ({more}): check > vs >= at the threshold "
                             "(values exactly equal to it) and the first/last element")
            else:
                hint = ratio_hint(float(got), float(want), case, requirement)
                if hint:
                    lines.append("Hint: " + hint)
            if isinstance(want, int) and isinstance(got, float):
                lines.append("Hint: return an int: int(...)")
        return lines
    if metric == "allclose":
        return _allclose(result, case)
    if metric == "events_f1":
        return _events(result, case)
    if metric == "accuracy":
        return _accuracy(result, case)
    return [result.summary]


def _error_lists(got: list, want: list) -> list[str]:
    """abs/rel error over a short list (one value per window): show the values, since a
    bare 'abs_error 1.588 > 0.15' gives a repair nothing to go on."""
    try:
        g, w = np.asarray(got, dtype=float).ravel(), np.asarray(want, dtype=float).ravel()
    except (TypeError, ValueError):
        return []
    if g.shape != w.shape or not g.size:
        return []
    if g.size <= 8:
        lines = [f"returned [{', '.join(_fmt(float(x)) for x in g)}]; expected "
                 f"[{', '.join(_fmt(float(x)) for x in w)}]"]
    else:
        i = int(np.nanargmax(np.abs(g - w))) if np.isfinite(g).any() else 0
        lines = [f"worst at index {i}: returned {_fmt(float(g[i]))}, expected "
                 f"{_fmt(float(w[i]))}"]
    return lines + _mostly_scaled(g, w, max(float(np.abs(w).max()), 1e-12))


def _allclose(result: CaseResult, case: Case) -> list[str]:
    d = result.detail
    lines = [f"{result.summary}; shape {tuple(d.get('shape', []))}"]
    if "worst_index" in d:
        lines.append(f"worst at index {d['worst_index']}: returned {_fmt(d['returned_at'])}, "
                     f"expected {_fmt(d['expected_at'])}")
    got = np.asarray(result.value, dtype=float) if result.value is not None else None
    want = np.asarray(case.expect, dtype=float)
    if got is None or got.shape != want.shape or not got.size:
        return lines
    diff = got - want
    scale = max(float(np.abs(want).max()), 1e-12)
    # within the case's own tolerance once the offset is taken out: "every value is off by
    # the same" must not be said of errors that vary by more than the check allows (a
    # fraction of the largest value can be looser than atol)
    tol = (float(case.check.params.get("atol", 0.0))
           + float(case.check.params.get("rtol", 0.0)) * np.abs(want))
    if not np.any(tol):  # a check without atol/rtol: 1e-3 of the largest value
        tol = 1e-3 * scale
    offset = float(np.mean(diff))
    if np.all(np.abs(diff - offset) <= tol) and np.any(np.abs(diff) > tol):
        lines.append(f"Hint: every value is off by the same {offset:+.4g}: an offset "
                     "or unit conversion")
    elif np.all(got == 0) and np.any(want != 0):
        lines.append("Hint: every value returned is 0: nothing was computed (an integer "
                     "dtype truncating, int16 input to a scipy routine, or an empty filter)")
    elif np.all(want != 0) and np.std(got / want) < 1e-3:
        lines.append(f"Hint: every value is {np.mean(got / want):.4g}x the expected: scaling "
                     "or units")
    elif got.ndim == 1 and got.size > 2 and np.allclose(got[1:], want[:-1], atol=1e-6 * scale):
        lines.append("Hint: shifted by one position (off-by-one start index)")
    elif abs(np.mean(got) - np.mean(want)) < 1e-3 * scale:
        lines.append(_GROUPED + "check reshape order and axis, e.g. x.reshape(n_groups, group_len)"
                     ".mean(axis=1)")
    else:
        lines += _mostly_scaled(got, want, scale)
    return lines


def _mostly_scaled(got: np.ndarray, want: np.ndarray, scale: float) -> list[str]:
    """Most values a fixed multiple of the expected (not all: edge windows, silence): the
    ratio names the mistake, e.g. 0.5x for zero crossings counted in one direction only."""
    keep = np.abs(want) > 1e-6 * scale
    if got.ndim != 1 or keep.sum() < 3:
        return []
    ratio = got[keep] / want[keep]
    med = float(np.median(ratio))
    if not np.isfinite(med) or 0.9 <= med <= 1.1 or med <= 0:
        return []
    if np.mean(np.abs(ratio / med - 1) < 0.15) < 0.8:
        return []
    why = {0.5: "half: an event counted in one direction only (rising crossings), or a "
                "divisor twice too large",
           2.0: "double: each event counted twice (both edges), or a divisor half too small"}
    near = next((k for k in why if abs(med / k - 1) < 0.1), None)
    return [f"Hint: most values are about {med:.2g}x the expected"
            + (f" ({why[near]})" if near else ": a scale factor, unit or divisor")]


def _event_gap(n: int, want: int, fs: float | None) -> tuple[str, str] | None:
    """The expected events' mean spacing (sentence, distance= expression), from the trace
    length and the expected count: a distance fitted to this task, not a heartbeat's 0.3 s."""
    if not (n and want):
        return None
    per = n / want
    if fs:
        sentence = (f" the {want} expected events are about {per / fs:.3g} s ({per:.0f} "
                    "samples) apart;")
        return sentence, f"int({per / fs / 2:.3g} * fs)"
    return f" the {want} expected events are about {per:.0f} samples apart;", f"{per / 2:.0f}"


def _events(result: CaseResult, case: Case) -> list[str]:
    d = result.detail
    p, r = d.get("precision", 0.0), d.get("recall", 0.0)
    found, want = d.get("found", 0), d.get("expected", 0)
    tol = case.check.params.get("tolerance")
    f1 = result.figure if result.figure is not None else 0.0
    n, fs = max(_lengths(case), default=0), _fs(case)
    seconds = _events_in_seconds(case, n, fs)
    unit = "s" if seconds else "samples"
    lines = [f"F1 {f1:.3f} < {_fmt(_bound(case))}: found {found} events, expected {want}; "
             f"{d.get('matched', 0)} matched within {_fmt(tol)} {unit}; precision {p:.2f}, "
             f"recall {r:.2f}"]
    off = d.get("mean_offset")
    gap = _event_gap(n, want, fs)
    if want and found >= 1.3 * want and p < 0.8:
        distance = (f"distance=about half that gap, {gap[1]}" if gap
                    else "distance= (the shortest plausible gap, in samples)")
        lines.append(f"Hint: about {found / want:.1f}x too many events: peaks double-counted or "
                     f"noise detected;{gap[0] if gap else ''} use find_peaks(x, {distance}) "
                     "and a prominence/height relative to the signal")
    elif want and found <= 0.8 * want and r < 0.8:
        lines.append("Hint: too few events (low recall): the threshold is too high or "
                     f"distance too large;{gap[0] if gap else ''} use a threshold relative to "
                     "the signal (e.g. a percentile) after band-pass filtering")
    elif p < 0.8 and r < 0.8:
        lines.append("Hint: about the right count but in the wrong places: detect on the "
                     "filtered signal, then move each peak to the local max of the original")
    if off is not None and tol and abs(off) > 0.3 * tol:
        side = "late" if off > 0 else "early"
        amount = f"{abs(off):.3g}" if seconds else f"{abs(off):.1f}"
        lines.append(f"Hint: matched events are {amount} {unit} {side} on average: "
                     "a filter/derivative delay or shifted indices; refine to the local max")
    vals = _plain_numbers(result.value)
    if vals and fs and n and d.get("matched", 0) == 0:
        looks_seconds = _within_duration(vals, n, fs)
        if looks_seconds and not seconds:
            lines.append("Hint: the values look like seconds; return sample indices")
        elif seconds and not looks_seconds:
            lines.append("Hint: the values look like sample indices; the task wants times in "
                         "seconds: index / fs")
    return lines


def _events_in_seconds(case: Case, n: int, fs: float | None) -> bool:
    """Whether the expected events are times in seconds rather than sample indices: a
    fractional tolerance, or every expected value within the recording's duration."""
    tol = case.check.params.get("tolerance")
    if isinstance(tol, float) and not tol.is_integer():
        return True
    return _within_duration(_plain_numbers(case.expect), n, fs)


def _plain_numbers(value: Any) -> list[float]:
    """The numbers of a returned or expected event list (anything else dropped)."""
    return [v for v in value if isinstance(v, (int, float))] if isinstance(value, list) else []


def _within_duration(values: list[float], n: int, fs: float | None) -> bool:
    """Every value fits in the recording's duration in seconds (so they look like times)."""
    return bool(values and fs and n and max(values) <= n / fs * 1.01)


def _accuracy(result: CaseResult, case: Case) -> list[str]:
    d = result.detail
    got_labels = d.get("labels_returned", [])
    want_labels = sorted({str(x) for x in case.expect}) if isinstance(case.expect, list) else []
    lines = [f"{result.summary}; labels returned: {', '.join(got_labels)}; expected labels: "
             f"{', '.join(want_labels)}"]
    if set(want_labels) <= {"True", "False"} and len(want_labels) == 2:
        return lines + _flag_counts(result.value, case.expect)
    if len(got_labels) == 1 and len(want_labels) > 1:
        lines.append(f"Hint: every window got the same label {got_labels[0]!r}: the features "
                     "do not separate the classes (or a constant is returned)" + _features_how(
                         case))
    missing = [x for x in want_labels if x not in got_labels]
    if missing and len(got_labels) > 1:
        lines.append("Hint: never predicted: " + ", ".join(missing[:6]))
    if len(got_labels) > 1 and not missing:
        lines.append("Hint: every label occurs but too many windows are wrong: use features "
                     "that do not depend on timing, e.g. per-channel mean, std, min, max, "
                     "energy, and normalise them before nearest-centroid/k-NN")
    return lines


def _features_how(case: Case) -> str:
    """A concrete classifier for stacked windows, with the axis their shape implies."""
    names = [n for n, v in case.args.items() if isinstance(v, np.ndarray) and v.ndim in (2, 3)]
    if len(names) < 2:
        return ""
    train, test = names[0], names[-1]
    axis = case.args[train].ndim - 1
    join = "np.concatenate" if axis == 2 else "np.stack"

    def feats(w: str) -> str:  # spelled out per argument: a placeholder `w` gets copied
        return f"{join}([{w}.mean(axis={axis}), {w}.std(axis={axis})], axis=1)"

    return (f". Look at the windows: features per window, ftr = {feats(train)} and fte = "
            f"{feats(test)}; the class means of ftr (one per label); each test window gets "
            "the label of the nearest class mean")


def _flag_counts(got: Any, want: Any) -> list[str]:
    """True/False per window is a rule, not a trained classifier: say which way it errs
    (advice about normalising classifier features does not apply to a threshold rule)."""
    if not (isinstance(got, list) and isinstance(want, list) and len(got) == len(want)):
        return []
    g = [str(x) == "True" for x in got]
    w = [str(x) == "True" for x in want]
    false_alarms = sum(a and not b for a, b in zip(g, w, strict=True))
    missed = sum(b and not a for a, b in zip(g, w, strict=True))
    if not (false_alarms or missed):
        return []
    line = (f"Hint: {false_alarms} window(s) flagged True that should be False, {missed} "
            "flagged False that should be True")
    if false_alarms and not missed:
        line += ": the condition is too loose (threshold too low, or counts too little)"
    elif missed and not false_alarms:
        line += ": the condition is too strict (threshold too high, or needs too much)"
    else:
        line += ": the condition tests the wrong quantity; check it against the task's words"
    return [line]


def _error_hints(text: str, environment: str | None = None) -> list[str]:
    """The catalogue's hints for an error text: every "api" entry that matches (names the
    image lacks), then the first "error" entry that does."""
    obs = diagnostics.Observation(error=text, environment=environment)
    hints = diagnostics.hints(obs, "api")
    return hints + [h for h in diagnostics.hints(obs, "error") if h not in hints]


def feedback_for_case(result: CaseResult, case: Case, spec: Spec) -> str:
    """Feedback for one VISIBLE case: what failed, the numbers, and a likely cause."""
    if result.passed:
        return f"Case {case.name}: passes ({result.summary})."
    fn = spec.function
    status = result.status
    head = f"Case {case.name}: FAIL ({status.replace('_', ' ')})"
    lines = [head]
    err = result.error.strip()
    tb = result.traceback.strip()
    if status == "syntax":
        lines += [err, "Fix the syntax; the file must parse as Python 3.11."]
    elif status in ("import", "exception"):
        if tb:
            lines.append(_tail(tb, TRACEBACK_LINES))
        elif err:
            lines.append(err)
        lines += ["Hint: " + h for h in _error_hints(f"{err}\n{tb}", spec.environment)]
    elif status == "missing_function":
        lines.append(f"{err}. Define `def {fn.signature()}:` at the top level of the file.")
    elif status == "timeout":
        lines.append(f"{err}. Avoid Python loops over every sample; use numpy array "
                     "operations (np.convolve, np.diff, boolean masks).")
        if tb:
            lines.append("It was running: " + _tail(tb, 3))
    elif status == "memory":
        lines.append(f"over the memory limit ({spec.limits.memory_mb} MB): avoid n x n arrays "
                     "(x[:, None] - x[None, :] on a long signal) and copies in loops")
    elif status == "output_too_large":
        lines.append(f"{err or 'printed too much'}: remove print() calls")
    elif status == "unconvertible":
        rt = fn.returns.get("type", "value")
        how = {"float": "float(...)", "int": "int(...)", "list": "a list (arr.tolist())"}.get(
            rt, rt)
        lines.append(f"{err}. Return {how}.")
    elif status == "crash":
        lines.append(f"the process died without a result ({err or 'no message'})")
    elif status == "wrong_type":
        rt = fn.returns.get("type", "value")
        desc = fn.returns.get("description", "")
        lines.append(result.summary)
        hint = length_hint(result, case, spec.requirement)
        if hint:
            lines.append("Hint: " + hint)
        lines.append(f"Return {rt}" + (f": {desc}" if desc else "") + ".")
    else:  # wrong_value
        lines += _wrong_value(result, case, spec.requirement)
    if status in ("wrong_type", "wrong_value"):
        rate = rate_change_hint(case, spec.requirement)
        if rate:  # a resampled signal keeps its mean: the grouping hint would mislead
            lines = [x for x in lines if not x.startswith(_GROUPED)] + ["Hint: " + rate]
    out = result.output.strip()
    if out and status not in ("syntax", "missing_function"):
        lines.append(f"Program output (last lines):\n{_tail(out, OUTPUT_LINES)}")
    return "\n".join(x for x in lines if x)


def feedback_for_hidden(result: CaseResult) -> str:
    """Feedback for a hidden case: only that a held-out recording fails, and the class."""
    if result.passed:
        return "A held-out recording passes."
    why = _HIDDEN_WHY.get(result.status, result.status.replace("_", " "))
    return (f"A held-out recording fails: {result.status} ({why}). Make the code work for "
            "other recordings too (other lengths, amplitudes, noise), not only the visible ones.")


def _closeness(r: CaseResult) -> float:
    """How near a wrong value is to passing, in [0, 1], from the figure and the bound."""
    fig = r.figure
    if fig is None or not math.isfinite(fig):
        if r.metric == "equals":
            got, want = r.detail.get("returned"), r.detail.get("expected")
            if isinstance(got, (int, float)) and isinstance(want, (int, float)):
                return 1.0 / (1.0 + abs(got - want) / max(1.0, abs(want)))
        return 0.0
    bound = r.params.get("min" if r.metric in ("events_f1", "accuracy") else
                         "atol" if r.metric == "allclose" else "max")
    if r.metric in ("events_f1", "accuracy"):
        return max(0.0, min(1.0, fig / bound)) if bound else fig
    if bound is None or fig <= 0:
        return 0.0
    return max(0.0, min(1.0, bound / fig))


def score(results: list[CaseResult]) -> float:
    """Progress in [0, 1], higher is better: the mean credit of the visible cases.

    Credit per case: 1 if it passes; a wrong value 0.1 + 0.4 * closeness (bound/error for
    abs_error, rel_error and allclose (atol as bound); F1/min or accuracy/min; for equals
    1/(1 + |diff|/max(1, |expected|))); wrong_type 0.1; any other execution failure that ran
    (exception, timeout, memory, unconvertible, output_too_large, crash) 0.05; syntax, import,
    missing_function 0. So any pass outranks any failure. With no visible results the
    hidden ones are used.
    """
    pool = [r for r in results if not r.hidden] or list(results)
    if not pool:
        return 0.0
    total = 0.0
    for r in pool:
        if r.passed:
            total += 1.0
        elif r.status == "wrong_value":
            total += 0.1 + 0.4 * _closeness(r)
        elif r.status == "wrong_type":
            total += 0.1
        elif r.status not in ("syntax", "import", "missing_function"):
            total += 0.05
    return total / len(pool)
