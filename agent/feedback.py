"""Judged results turned into text a small code model can act on.

Pasting the raw error back fixes few drafts; what helps is saying what the number means:
"2.0x too high: peaks double-counted". Visible cases may show values (spec v1: their
results may be fed back); hidden cases reveal only that a held-out recording fails and how.
`score` lets a controller notice a loop that makes no progress.
"""

from __future__ import annotations

import math

import numpy as np

from agent import diagnostics
from agent.checker import CaseResult
from agent.diagnostics.results import GROUPED, events_in_seconds
from agent.diagnostics.signals import fmt as _fmt
from agent.diagnostics.signals import lengths, sampling_rate
from agent.spec import Case, Spec
from agent.text import clip_lines

OUTPUT_LINES = 15
TRACEBACK_LINES = 8
LINE_CHARS = 600  # one line of a case's feedback: an error message can quote a whole array

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


def _observe(result: CaseResult, case: Case, requirement: str = "") -> diagnostics.Observation:
    return diagnostics.Observation(case=case, result=result, requirement=requirement)


def _hint(obs: diagnostics.Observation, group: str) -> list[str]:
    """The catalogue's hint of `group` for this observation, as a feedback line."""
    return ["Hint: " + h for h in diagnostics.hints(obs, group)]


def length_hint(result: CaseResult, case: Case, requirement: str = "") -> str:
    """How a wrong-length result relates to the input length and the sampling rate (the
    catalogue's "length" group): "one value per 200 samples (0.025 s at 8000 Hz); you
    returned one per 25" names the window to use."""
    return next(iter(diagnostics.hints(_observe(result, case, requirement), "length")), "")


_GROUPED = "Hint: " + GROUPED


def rate_change_hint(case: Case, requirement: str) -> str:
    """For a task that converts a sampling rate: the up/down factors the expected length
    implies, and the filtering call (the catalogue's "rate" group)."""
    obs = diagnostics.Observation(case=case, requirement=requirement)
    return next(iter(diagnostics.hints(obs, "rate")), "")


def _wrong_value(result: CaseResult, case: Case, requirement: str = "") -> list[str]:
    d, metric = result.detail, result.metric
    lines: list[str] = []
    if metric in ("abs_error", "rel_error"):
        got, want = d.get("returned"), d.get("expected")
        # a one-element list on either side (a scalar returned as [x], or the reverse)
        got = got[0] if isinstance(got, list) and len(got) == 1 else got
        want = want[0] if isinstance(want, list) and len(want) == 1 else want
        if isinstance(got, list) and isinstance(want, list) and len(got) == len(want) > 1:
            return [result.summary, *_error_lists(got, want),
                    *_hint(_observe(result, case, requirement), "series")]
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
            obs = _observe(result, case, requirement)
            hint = _hint(obs, "count") or [
                "Hint: " + h for h in [ratio_hint(float(got), float(want), case, requirement)]
                if h]
            lines += hint + _hint(obs, "count-type")
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
    return lines


def _allclose(result: CaseResult, case: Case) -> list[str]:
    d = result.detail
    lines = [f"{result.summary}; shape {tuple(d.get('shape', []))}"]
    if "worst_index" in d:
        lines.append(f"worst at index {d['worst_index']}: returned {_fmt(d['returned_at'])}, "
                     f"expected {_fmt(d['expected_at'])}")
    return lines + _hint(_observe(result, case), "series")


def _events(result: CaseResult, case: Case) -> list[str]:
    d = result.detail
    p, r = d.get("precision", 0.0), d.get("recall", 0.0)
    found, want = d.get("found", 0), d.get("expected", 0)
    tol = case.check.params.get("tolerance")
    f1 = result.figure if result.figure is not None else 0.0
    obs = _observe(result, case)
    unit = "s" if events_in_seconds(obs) else "samples"
    lines = [f"F1 {f1:.3f} < {_fmt(_bound(case))}: found {found} events, expected {want}; "
             f"{d.get('matched', 0)} matched within {_fmt(tol)} {unit}; precision {p:.2f}, "
             f"recall {r:.2f}"]
    return lines + [h for g in ("events", "events-offset", "events-unit") for h in _hint(obs, g)]


def _accuracy(result: CaseResult, case: Case) -> list[str]:
    got_labels = result.detail.get("labels_returned", [])
    want_labels = sorted({str(x) for x in case.expect}) if isinstance(case.expect, list) else []
    return [f"{result.summary}; labels returned: {', '.join(got_labels)}; expected labels: "
            f"{', '.join(want_labels)}", *_hint(_observe(result, case), "labels")]


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
    return clip_lines("\n".join(x for x in lines if x), LINE_CHARS)


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
