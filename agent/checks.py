"""The six metrics of spec v1: judge one returned value against one expected value.

Each judgement carries the metric's figure and, where it helps a repair, details (shape,
precision/recall, offsets) — the same judgement feeds `check`'s lines, `run`'s feedback and
`bench`'s reports, so there is exactly one definition of "passes".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agent.spec import Check
from agent.text import clip

WRONG_TYPE = "wrong_type"
WRONG_VALUE = "wrong_value"
LABEL_CHARS = 40  # a returned label as feedback quotes it: a label is a word, not an array


@dataclass
class Judgement:
    passed: bool
    figure: float | None  # the metric's own number (error, F1, accuracy); None for equals
    summary: str  # e.g. "abs_error 0.41 <= 4"
    failure: str | None = None  # None, WRONG_TYPE or WRONG_VALUE
    detail: dict[str, Any] = field(default_factory=dict)


class _WrongType(Exception):
    pass


def _numbers(value: Any, what: str) -> np.ndarray:
    """A returned value as a float array, or _WrongType saying what came back."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, dict)):
        raise _WrongType(f"{what} is {_describe(value)}; expected a number or list of numbers")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise _WrongType(f"{what} is {_describe(value)}; expected numbers") from None
    except OverflowError:  # an int beyond float range (a count doubled hundreds of times)
        raise _WrongType(f"{what} holds an integer too large for a float") from None
    return arr


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an int of {value.bit_length()} bits"
    return f"{type(value).__name__} {str(value)[:40]}"


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f"{x:.4g}"


def judge(check: Check, out: Any, expect: Any) -> Judgement:
    """Apply the case's metric; never raises on a bad value (that is a failure class)."""
    try:
        return _METRICS[check.metric](check.params, out, expect)
    except _WrongType as exc:
        return Judgement(False, None, f"{check.metric}: {exc}", WRONG_TYPE,
                         {"returned": _describe(out)})


def _error_metric(params: dict, out: Any, expect: Any, relative: bool) -> Judgement:
    name = "rel_error" if relative else "abs_error"
    got = _numbers(out, "the result")
    want = np.asarray(expect, dtype=float)
    if got.shape != want.shape:
        raise _WrongType(f"the result has shape {got.shape}; expected {want.shape}")
    err = np.abs(got - want)
    if relative:
        with np.errstate(divide="ignore", invalid="ignore"):
            err = np.where(want == 0, np.where(err == 0, 0.0, np.inf), err / np.abs(want))
    figure = float(np.max(err)) if err.size else 0.0
    if np.isnan(got).any():
        figure = math.nan
    passed = bool(figure <= params["max"])  # NaN compares False
    detail = {"returned": got.tolist(), "expected": want.tolist()}
    if want.size == 1 and float(want.ravel()[0]) != 0:
        detail["ratio"] = float(got.ravel()[0] / want.ravel()[0])
    return Judgement(passed, figure, f"{name} {_fmt(figure)} {'<=' if passed else '>'} "
                     f"{_fmt(params['max'])}", None if passed else WRONG_VALUE, detail)


def _abs_error(params: dict, out: Any, expect: Any) -> Judgement:
    return _error_metric(params, out, expect, relative=False)


def _rel_error(params: dict, out: Any, expect: Any) -> Judgement:
    return _error_metric(params, out, expect, relative=True)


def _allclose(params: dict, out: Any, expect: Any) -> Judgement:
    got = _numbers(out, "the result")
    want = np.asarray(expect, dtype=float)
    if got.shape != want.shape:
        raise _WrongType(f"the result has shape {got.shape}; expected {want.shape}")
    passed = bool(np.allclose(got, want, rtol=params["rtol"], atol=params["atol"]))
    diff = np.abs(got - want)
    figure = float(np.nanmax(diff)) if diff.size and not np.isnan(diff).all() else 0.0
    if np.isnan(diff).any():
        figure = math.nan
    detail: dict[str, Any] = {"shape": list(want.shape)}
    if not passed and diff.size:
        worst = int(np.nanargmax(np.where(np.isnan(diff), np.inf, diff)))
        detail.update(worst_index=worst, returned_at=float(got.ravel()[worst]),
                      expected_at=float(want.ravel()[worst]))
    return Judgement(passed, figure, f"allclose max|diff| {_fmt(figure)} (rtol "
                     f"{_fmt(params['rtol'])}, atol {_fmt(params['atol'])})",
                     None if passed else WRONG_VALUE, detail)


def _equals(params: dict, out: Any, expect: Any) -> Judgement:
    passed = bool(out == expect)
    summary = "equals" if passed else f"returned {str(out)[:60]}, expected {str(expect)[:60]}"
    return Judgement(passed, None, summary, None if passed else WRONG_VALUE,
                     {"returned": out, "expected": expect})


def match_events(found: np.ndarray, truth: np.ndarray, tolerance: float) -> list[tuple[int, int]]:
    """Greedy nearest-first one-to-one matching within `tolerance`; pairs of indices."""
    if not len(found) or not len(truth):
        return []
    dist = np.abs(found[:, None] - truth[None, :])
    i, j = np.nonzero(dist <= tolerance)
    order = np.argsort(dist[i, j], kind="stable")
    used_f: set[int] = set()
    used_t: set[int] = set()
    pairs = []
    for k in order:
        a, b = int(i[k]), int(j[k])
        if a not in used_f and b not in used_t:
            used_f.add(a)
            used_t.add(b)
            pairs.append((a, b))
    return pairs


def _events_f1(params: dict, out: Any, expect: Any) -> Judgement:
    found = _numbers(out, "the result")
    truth = np.asarray(expect, dtype=float)
    if found.ndim != 1:
        raise _WrongType(f"the result has shape {found.shape}; expected a flat list of event "
                         "sample indices")
    if np.isnan(found).any():
        raise _WrongType("the result contains NaN; expected event sample indices")
    pairs = match_events(found, truth, params["tolerance"])
    tp = len(pairs)
    precision = tp / len(found) if len(found) else (1.0 if not len(truth) else 0.0)
    recall = tp / len(truth) if len(truth) else (1.0 if not len(found) else 0.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    offsets = [float(found[a] - truth[b]) for a, b in pairs]
    passed = f1 >= params["min"]
    detail = {"precision": precision, "recall": recall, "found": int(len(found)),
              "expected": int(len(truth)), "matched": tp,
              "mean_offset": float(np.mean(offsets)) if offsets else None}
    return Judgement(passed, f1, f"F1 {f1:.3f} {'>=' if passed else '<'} {_fmt(params['min'])} "
                     f"(P {precision:.2f}, R {recall:.2f}, {len(found)} found, "
                     f"{len(truth)} expected)", None if passed else WRONG_VALUE, detail)


def _accuracy(params: dict, out: Any, expect: Any) -> Judgement:
    if not isinstance(out, list):
        raise _WrongType(f"the result is {_describe(out)}; expected a list of labels")
    if len(out) != len(expect):
        raise _WrongType(f"the result has {len(out)} labels; expected {len(expect)}")
    hits = sum(str(a) == str(b) for a, b in zip(out, expect, strict=True))
    acc = hits / len(expect) if expect else 1.0
    passed = acc >= params["min"]
    return Judgement(passed, acc, f"accuracy {acc:.3f} {'>=' if passed else '<'} "
                     f"{_fmt(params['min'])} ({hits}/{len(expect)})",
                     None if passed else WRONG_VALUE,
                     {"hits": hits, "n": len(expect),
                      "labels_returned": sorted({clip(str(a), LABEL_CHARS) for a in out})[:20]})


_METRICS = {
    "abs_error": _abs_error,
    "rel_error": _rel_error,
    "allclose": _allclose,
    "equals": _equals,
    "events_f1": _events_f1,
    "accuracy": _accuracy,
}
