"""Mistakes a whole wrong result gives away: its length against the input, a series against
the expected one, detected events against the expected events, predicted labels against the
true ones, a count against the expected count.

Each group speaks once (its first matching entry), except "events-offset" and
"events-unit", which add to what "events" said. Matchers read `obs.result` (the CaseResult)
and `obs.case`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from agent.diagnostics.catalogue import Observation, runtime
from agent.diagnostics.signals import fmt, interval_seconds, lengths, sampling_rate, whole_blocks

GROUPED = "the overall mean is right but the values are grouped wrongly: "
_RATE_TASK = re.compile(r"alias|resampl", re.I)


def _shape(value: Any) -> tuple[int, ...] | None:
    try:
        return tuple(np.shape(value))
    except ValueError:  # ragged
        return None


# --- length: a wrong number of values ----------------------------------------------------------

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


def _lengths_of(obs: Observation) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """(returned shape, expected shape) where they differ, for a check that is not about
    events (an event count is not a window count)."""
    r, case = obs.result, obs.case
    if r is None or case is None or r.metric == "events_f1":
        return None
    got, want = _shape(r.value), _shape(case.expect)
    if got is None or want is None or got == want:
        return None
    return got, want


def shape_rule(id: str, message: str,
               holds: Callable[[tuple[int, ...], tuple[int, ...]], bool],
               say: Callable[[tuple[int, ...], tuple[int, ...]], str]) -> None:
    """Register a relation of the returned shape to the expected one: `holds(got, want)`
    earns `say(got, want)`."""

    def match(obs: Observation) -> str:
        shapes = _lengths_of(obs)
        return say(*shapes) if shapes and holds(*shapes) else ""

    match.__name__ = id.replace("-", "_")
    runtime(id, message, "length")(match)


shape_rule("one-number", "ONE number expected for the whole recording: aggregate",
           lambda got, want: want == (),
           lambda got, want: "expected ONE number for the whole recording: aggregate (sum, "
                             "mean, count)")
shape_rule("per-row", "one value per row expected: combine the columns",
           lambda got, want: len(got) == 2 and len(want) == 1 and got[0] == want[0],
           lambda got, want: f"one value per row expected, you returned {got[1]} per row: "
                             "combine the columns (e.g. np.linalg.norm(x, axis=1)) or reduce "
                             "over axis=1")
shape_rule("a-list", "a list of values expected, not a single number",
           lambda got, want: got == () and len(want) == 1,
           lambda got, want: f"expected a list of {want[0]} values, not a single number")


@runtime("rate-rounding", "a 1-in-r rate change rounds its length up, or not at all", "length")
def rate_rounding(obs: Observation) -> str:
    """One value too many or too few for a 1-in-r step: ceil (x[::r]) vs floor."""
    shapes = _lengths_of(obs)
    if not shapes or len(shapes[1]) != 1 or shapes[0] == ():
        return ""
    m, n_got = shapes[1][0], shapes[0][0]
    for name, v in obs.case.args.items():  # type: ignore[union-attr]
        if not isinstance(v, np.ndarray) or v.ndim < 1 or len(v) <= m:
            continue
        if interval_seconds(name, v):
            return ""
        n = len(v)
        per = n / m
        r = round(per)
        if not (r >= 2 and abs(per - r) < 0.01 and n % r and abs(n_got - m) == 1):
            return ""
        ceil, floor = -(-n // r), n // r
        if (m, n_got) == (ceil, floor):
            return (f"expected {m} = ceil({n} / {r}) values, you returned {n} // {r} = "
                    f"{floor}: keep the partial last step, as x[::{r}] and "
                    f"scipy.signal.resample_poly(x, 1, {r}) do (int() rounds down)")
        if (m, n_got) == (floor, ceil):
            return (f"expected {m} = {n} // {r} values (whole steps only), you returned "
                    f"ceil({n} / {r}) = {ceil}: drop the partial last step")
        return ""
    return ""


@runtime("window-count", "the window the expected count implies, against the one used",
         "length")
def window_count(obs: Observation) -> str:
    """How a wrong-length result relates to the input length and the sampling rate: "one
    value per 200 samples (0.025 s at 8000 Hz); you returned one per 25" names the window."""
    shapes = _lengths_of(obs)
    if not shapes or len(shapes[1]) != 1 or shapes[0] == ():
        return ""
    m, n_got = shapes[1][0], (shapes[0][0] if shapes[0] else 0)
    case = obs.case
    fs = sampling_rate(case.args)  # type: ignore[union-attr]
    for name, v in case.args.items():  # type: ignore[union-attr]
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
        per = n / m
        line = (f"expected {m} values from the {n} samples of `{name}`: one per about "
                f"{per:.4g} samples" + (f" ({per / fs:.4g} s at {fmt(fs)} Hz)" if fs else ""))
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
            line += _blocks(n, m, n_got, obs.requirement)
        break
    else:
        line = f"expected {m} values"
    if n_got == 0:
        line += "; you returned none (nothing detected or the loop never ran)"
    elif abs(n_got - m) <= max(2, 0.02 * m):
        line += (f"; {n_got} is close to {m}: check the last partial window, the first or "
                 "last element, and dropped gaps/NaNs")
    return line


@runtime("rate-change", "a resampling task: resample_poly with the factors the length gives",
         "rate")
def rate_change(obs: Observation) -> str:
    """For a task that converts a signal's sampling rate (it says resample or alias): the
    up/down factors that the expected length implies, and the filtering call. The models
    interpolate with np.interp or take every k-th sample, which aliases."""
    case = obs.case
    if case is None or not _RATE_TASK.search(obs.requirement):
        return ""
    fs = sampling_rate(case.args)
    want = _shape(case.expect)
    if not (fs and want and len(want) == 1):
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
    return (f"a rate change {fmt(fs)} Hz -> {fmt(fs * up / down)} Hz: "
            f"scipy.signal.resample_poly(np.asarray(x, dtype=float), {up}, {down}) low-pass "
            "filters as it resamples, where np.interp or x[::k] alone alias; convert int16 "
            "input to float first (the sandbox's scipy returns zeros for it); it keeps the "
            "first sample's time and pads with zeros at the ends, so for a signal with a large "
            "offset subtract the mean first and add it back")


# --- series: a list of values against the expected one ----------------------------------------

def _series(obs: Observation) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(returned, expected, scale) as float arrays of one shape, or None."""
    r, case = obs.result, obs.case
    if r is None or case is None:
        return None
    got, want = r.detail.get("returned"), r.detail.get("expected")
    flat = isinstance(got, list) and isinstance(want, list)  # abs/rel error over lists
    if not flat:
        got, want = r.value, case.expect
    if got is None:
        return None
    try:
        got = np.asarray(got, dtype=float)
        want = np.asarray(want, dtype=float)
        if flat:  # compared value by value, whatever the nesting
            got, want = got.ravel(), want.ravel()
    except (TypeError, ValueError):
        return None
    if got.shape != want.shape or not got.size:
        return None
    return got, want, max(float(np.abs(want).max()), 1e-12)


def _allclose(obs: Observation) -> tuple[np.ndarray, np.ndarray, float] | None:
    """The series of an allclose check (the entries below describe whole series)."""
    if obs.result is None or obs.result.metric != "allclose":
        return None
    return _series(obs)


@runtime("same-offset", "every value off by the same amount: an offset or unit conversion",
         "series")
def same_offset(obs: Observation) -> str:
    """Within the case's own tolerance once the offset is taken out: "every value is off by
    the same" must not be said of errors that vary by more than the check allows."""
    s = _allclose(obs)
    if not s:
        return ""
    got, want, scale = s
    diff = got - want
    params = obs.case.check.params  # type: ignore[union-attr]
    tol = float(params.get("atol", 0.0)) + float(params.get("rtol", 0.0)) * np.abs(want)
    if not np.any(tol):  # a check without atol/rtol: 1e-3 of the largest value
        tol = 1e-3 * scale
    offset = float(np.mean(diff))
    if np.all(np.abs(diff - offset) <= tol) and np.any(np.abs(diff) > tol):
        return f"every value is off by the same {offset:+.4g}: an offset or unit conversion"
    return ""


def series_rule(id: str, message: str, holds: Callable[[np.ndarray, np.ndarray, float], bool],
                say: Callable[[np.ndarray, np.ndarray], str]) -> None:
    """Register a relation of a whole returned series to the expected one (allclose
    checks): `holds(got, want, scale)` earns `say(got, want)`."""

    def match(obs: Observation) -> str:
        s = _allclose(obs)
        return say(s[0], s[1]) if s and holds(*s) else ""

    match.__name__ = id.replace("-", "_")
    runtime(id, message, "series")(match)


series_rule("all-zero", "every value returned is 0: nothing was computed",
            lambda got, want, _: bool(np.all(got == 0) and np.any(want != 0)),
            lambda got, want: "every value returned is 0: nothing was computed (an integer "
                              "dtype truncating, int16 input to a scipy routine, or an empty "
                              "filter)")
series_rule("same-factor", "every value the same multiple of the expected: scaling or units",
            lambda got, want, _: bool(np.all(want != 0) and np.std(got / want) < 1e-3),
            lambda got, want: f"every value is {np.mean(got / want):.4g}x the expected: "
                              "scaling or units")
series_rule("shifted", "the expected series shifted by one position",
            lambda got, want, scale: bool(got.ndim == 1 and got.size > 2 and np.allclose(
                got[1:], want[:-1], atol=1e-6 * scale)),
            lambda got, want: "shifted by one position (off-by-one start index)")
series_rule("grouped-wrongly", "the right overall mean in the wrong groups",
            lambda got, want, scale: bool(abs(np.mean(got) - np.mean(want)) < 1e-3 * scale),
            lambda got, want: GROUPED + "check reshape order and axis, e.g. "
                                        "x.reshape(n_groups, group_len).mean(axis=1)")


@runtime("mostly-scaled", "most values a fixed multiple of the expected", "series")
def mostly_scaled(obs: Observation) -> str:
    """Most values a fixed multiple of the expected (not all: edge windows, silence): the
    ratio names the mistake, e.g. 0.5x for zero crossings counted in one direction only."""
    s = _series(obs)
    if not s:
        return ""
    got, want, scale = s
    keep = np.abs(want) > 1e-6 * scale
    if got.ndim != 1 or keep.sum() < 3:
        return ""
    ratio = got[keep] / want[keep]
    med = float(np.median(ratio))
    if not np.isfinite(med) or 0.9 <= med <= 1.1 or med <= 0:
        return ""
    if np.mean(np.abs(ratio / med - 1) < 0.15) < 0.8:
        return ""
    why = {0.5: "half: an event counted in one direction only (rising crossings), or a "
                "divisor twice too large",
           2.0: "double: each event counted twice (both edges), or a divisor half too small"}
    near_k = next((k for k in why if abs(med / k - 1) < 0.1), None)
    return (f"most values are about {med:.2g}x the expected"
            + (f" ({why[near_k]})" if near_k else ": a scale factor, unit or divisor"))


# --- events: detected events against the expected ones -----------------------------------------

def event_gap(n: int, want: int, fs: float | None) -> tuple[str, str] | None:
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


def _event_figures(obs: Observation) -> dict[str, Any] | None:
    r, case = obs.result, obs.case
    if r is None or case is None or r.metric != "events_f1":
        return None
    d = r.detail
    n = max(lengths(case.args), default=0)
    fs = sampling_rate(case.args)
    return {"p": d.get("precision", 0.0), "r": d.get("recall", 0.0), "found": d.get("found", 0),
            "want": d.get("expected", 0), "n": n, "fs": fs, "gap": event_gap(n, d.get(
                "expected", 0), fs), "matched": d.get("matched", 0), "off": d.get("mean_offset")}


@runtime("too-many-events", "far more events than expected: double counting or noise", "events")
def too_many_events(obs: Observation) -> str:
    e = _event_figures(obs)
    if not e or not (e["want"] and e["found"] >= 1.3 * e["want"] and e["p"] < 0.8):
        return ""
    gap = e["gap"]
    distance = (f"distance=about half that gap, {gap[1]}" if gap
                else "distance= (the shortest plausible gap, in samples)")
    return (f"about {e['found'] / e['want']:.1f}x too many events: peaks double-counted or "
            f"noise detected;{gap[0] if gap else ''} use find_peaks(x, {distance}) and a "
            "prominence/height relative to the signal")


@runtime("too-few-events", "too few events: threshold too high or distance too large", "events")
def too_few_events(obs: Observation) -> str:
    e = _event_figures(obs)
    if not e or not (e["want"] and e["found"] <= 0.8 * e["want"] and e["r"] < 0.8):
        return ""
    gap = e["gap"]
    return ("too few events (low recall): the threshold is too high or distance too large;"
            f"{gap[0] if gap else ''} use a threshold relative to the signal (e.g. a "
            "percentile) after band-pass filtering")


@runtime("misplaced-events", "about the right count in the wrong places", "events")
def misplaced_events(obs: Observation) -> str:
    e = _event_figures(obs)
    if e and e["p"] < 0.8 and e["r"] < 0.8:
        return ("about the right count but in the wrong places: detect on the filtered "
                "signal, then move each peak to the local max of the original")
    return ""


def plain_numbers(value: Any) -> list[float]:
    """The numbers of a returned or expected event list (anything else dropped)."""
    return [v for v in value if isinstance(v, (int, float))] if isinstance(value, list) else []


def within_duration(values: list[float], n: int, fs: float | None) -> bool:
    """Every value fits in the recording's duration in seconds (so they look like times)."""
    return bool(values and fs and n and max(values) <= n / fs * 1.01)


def events_in_seconds(obs: Observation) -> bool:
    """Whether the expected events are times in seconds rather than sample indices: a
    fractional tolerance, or every expected value within the recording's duration."""
    case = obs.case
    tol = case.check.params.get("tolerance")  # type: ignore[union-attr]
    if isinstance(tol, float) and not tol.is_integer():
        return True
    return within_duration(plain_numbers(case.expect), max(lengths(case.args), default=0),  # type: ignore[union-attr]  # noqa: E501
                           sampling_rate(case.args))  # type: ignore[union-attr]


@runtime("events-delayed", "matched events systematically late or early", "events-offset")
def events_delayed(obs: Observation) -> str:
    e = _event_figures(obs)
    tol = obs.case.check.params.get("tolerance") if e else None  # type: ignore[union-attr]
    if not e or e["off"] is None or not tol or abs(e["off"]) <= 0.3 * tol:
        return ""
    seconds = events_in_seconds(obs)
    side = "late" if e["off"] > 0 else "early"
    amount = f"{abs(e['off']):.3g}" if seconds else f"{abs(e['off']):.1f}"
    return (f"matched events are {amount} {'s' if seconds else 'samples'} {side} on average: "
            "a filter/derivative delay or shifted indices; refine to the local max")


@runtime("events-unit", "event times in seconds where indices belong, or the reverse",
         "events-unit")
def events_unit(obs: Observation) -> str:
    e = _event_figures(obs)
    if not e:
        return ""
    vals = plain_numbers(obs.result.value)  # type: ignore[union-attr]
    if not (vals and e["fs"] and e["n"] and e["matched"] == 0):
        return ""
    looks_seconds = within_duration(vals, e["n"], e["fs"])
    seconds = events_in_seconds(obs)
    if looks_seconds and not seconds:
        return "the values look like seconds; return sample indices"
    if seconds and not looks_seconds:
        return "the values look like sample indices; the task wants times in seconds: index / fs"
    return ""


# --- labels: predictions against the true labels -----------------------------------------------

def _binary(labels: list[str]) -> bool:
    """True/False per window, both present: a rule to tighten or loosen, not a classifier."""
    return set(labels) <= {"True", "False"} and len(labels) == 2


def _labels(obs: Observation) -> tuple[list[str], list[str]] | None:
    r, case = obs.result, obs.case
    if r is None or case is None or r.metric != "accuracy":
        return None
    want = sorted({str(x) for x in case.expect}) if isinstance(case.expect, list) else []
    return r.detail.get("labels_returned", []), want


def _classes(obs: Observation) -> tuple[list[str], list[str]] | None:
    """The labels of a classifier's windows: the True/False rules have their own entry."""
    labels = _labels(obs)
    return labels if labels and not _binary(labels[1]) else None


def features_how(obs: Observation) -> str:
    """A concrete classifier for stacked windows, with the axis their shape implies."""
    case = obs.case
    names = [n for n, v in case.args.items() if isinstance(v, np.ndarray)  # type: ignore[union-attr]  # noqa: E501
             and v.ndim in (2, 3)]
    if len(names) < 2:
        return ""
    train, test = names[0], names[-1]
    axis = case.args[train].ndim - 1  # type: ignore[union-attr]
    join = "np.concatenate" if axis == 2 else "np.stack"

    def feats(w: str) -> str:  # spelled out per argument: a placeholder `w` gets copied
        return f"{join}([{w}.mean(axis={axis}), {w}.std(axis={axis})], axis=1)"

    return (f". Look at the windows: features per window, ftr = {feats(train)} and fte = "
            f"{feats(test)}; the class means of ftr (one per label); each test window gets "
            "the label of the nearest class mean")


@runtime("flag-errors", "a True/False rule too loose, too strict, or on the wrong quantity",
         "labels")
def flag_errors(obs: Observation) -> str:
    """True/False per window is a rule, not a trained classifier: say which way it errs
    (advice about normalising classifier features does not apply to a threshold rule)."""
    labels = _labels(obs)
    if not labels or not _binary(labels[1]):
        return ""
    got, want = obs.result.value, obs.case.expect  # type: ignore[union-attr]
    if not (isinstance(got, list) and isinstance(want, list) and len(got) == len(want)):
        return ""
    g = [str(x) == "True" for x in got]
    w = [str(x) == "True" for x in want]
    false_alarms = sum(a and not b for a, b in zip(g, w, strict=True))
    missed = sum(b and not a for a, b in zip(g, w, strict=True))
    if not (false_alarms or missed):
        return ""
    line = (f"{false_alarms} window(s) flagged True that should be False, {missed} flagged "
            "False that should be True")
    if false_alarms and not missed:
        return line + ": the condition is too loose (threshold too low, or counts too little)"
    if missed and not false_alarms:
        return line + ": the condition is too strict (threshold too high, or needs too much)"
    return line + ": the condition tests the wrong quantity; check it against the task's words"


@runtime("one-label", "every window got the same label: the features do not separate",
         "labels")
def one_label(obs: Observation) -> str:
    got, want = _classes(obs) or ([], [])
    if len(got) == 1 and len(want) > 1:
        return (f"every window got the same label {got[0]!r}: the features do not separate "
                "the classes (or a constant is returned)" + features_how(obs))
    return ""


@runtime("never-predicted", "some labels never predicted", "labels")
def never_predicted(obs: Observation) -> str:
    got, want = _classes(obs) or ([], [])
    missing = [x for x in want if x not in got]
    return "never predicted: " + ", ".join(missing[:6]) if missing and len(got) > 1 else ""


@runtime("timing-features", "every label occurs but too many are wrong: timing-free features",
         "labels")
def timing_features(obs: Observation) -> str:
    got, want = _classes(obs) or ([], [])
    if len(got) > 1 and not [x for x in want if x not in got]:
        return ("every label occurs but too many windows are wrong: use features that do not "
                "depend on timing, e.g. per-channel mean, std, min, max, energy, and "
                "normalise them before nearest-centroid/k-NN")
    return ""


# --- counts: an exact integer ----------------------------------------------------------------

def _counts(obs: Observation) -> tuple[Any, Any] | None:
    r = obs.result
    if r is None or r.metric != "equals":
        return None
    return r.detail.get("returned"), r.detail.get("expected")


@runtime("count-off-by-few", "a count a few off: > vs >= or an edge element", "count")
def count_off_by_few(obs: Observation) -> str:
    c = _counts(obs)
    if not c or not (isinstance(c[0], int) and not isinstance(c[0], bool)
                     and isinstance(c[1], int)):
        return ""
    got, want = c
    if 0 < abs(got - want) <= max(3, 0.3 * abs(want)):
        more = "too many" if got > want else "too few"
        return (f"{got - want:+d} ({more}): check > vs >= at the threshold (values exactly "
                "equal to it) and the first/last element")
    return ""


@runtime("count-as-float", "an int expected, a float returned", "count-type")
def count_as_float(obs: Observation) -> str:
    c = _counts(obs)
    if c and isinstance(c[1], int) and isinstance(c[0], float):
        return "return an int: int(...)"
    return ""
