"""The six metrics, judged directly: each has a passing and a failing twin."""

from __future__ import annotations

import math

import pytest

from agent.checks import WRONG_TYPE, WRONG_VALUE, judge, match_events
from agent.spec import Check

CASES = [
    # metric, params, expected, good output, bad output
    ("abs_error", {"max": 4.0}, 62.3, 64.0, 70.1),
    ("rel_error", {"max": 0.05}, 80.0, 83.0, 160.0),
    ("allclose", {"rtol": 0.0, "atol": 0.01}, [1.0, 2.0], [1.005, 1.999], [1.0, 2.5]),
    ("equals", {}, 17, 17, 18),
    ("events_f1", {"tolerance": 3, "min": 0.9}, [10, 50, 90], [11, 49, 92], [11, 30, 49, 70, 92]),
    ("accuracy", {"min": 0.75}, ["a", "b", "a", "c"], ["a", "b", "a", "a"], ["a", "a", "a", "a"]),
]


@pytest.mark.parametrize("metric,params,expect,good,bad", CASES, ids=[c[0] for c in CASES])
def test_metric_passes_correct_and_fails_wrong(metric, params, expect, good, bad) -> None:
    ok = judge(Check(metric, params), good, expect)
    assert ok.passed and ok.failure is None, ok
    no = judge(Check(metric, params), bad, expect)
    assert not no.passed and no.failure == WRONG_VALUE, no


def test_figures_are_the_metrics_numbers() -> None:
    assert judge(Check("abs_error", {"max": 4}), 64.0, 62.0).figure == pytest.approx(2.0)
    assert judge(Check("rel_error", {"max": 1}), 90.0, 60.0).figure == pytest.approx(0.5)
    j = judge(Check("events_f1", {"tolerance": 3, "min": 0.9}), [11, 30, 49, 70, 92],
              [10, 50, 90])
    assert j.figure == pytest.approx(2 * 0.6 * 1.0 / 1.6)
    assert j.detail["precision"] == pytest.approx(0.6) and j.detail["recall"] == 1.0
    assert judge(Check("accuracy", {"min": 0.5}), [1, 2, 3, 3], [1, 2, 3, 4]).figure == 0.75


@pytest.mark.parametrize("metric,params,expect,out", [
    ("abs_error", {"max": 1}, 3.0, "3.0"),
    ("abs_error", {"max": 1}, 3.0, [3.0, 3.0]),
    ("allclose", {"rtol": 0, "atol": 1}, [1, 2, 3], [1, 2]),
    ("events_f1", {"tolerance": 1, "min": 0.5}, [1, 2], [[1, 2]]),
    ("accuracy", {"min": 0.5}, ["a", "b"], ["a"]),
    ("accuracy", {"min": 0.5}, ["a", "b"], "ab"),
])
def test_incomparable_result_is_wrong_type(metric, params, expect, out) -> None:
    j = judge(Check(metric, params), out, expect)
    assert not j.passed and j.failure == WRONG_TYPE


def test_nan_never_passes() -> None:
    j = judge(Check("abs_error", {"max": 1e9}), math.nan, 1.0)
    assert not j.passed and math.isnan(j.figure)
    assert not judge(Check("allclose", {"rtol": 1, "atol": 1}), [math.nan], [1.0]).passed


def test_event_matching_is_one_to_one_nearest_first() -> None:
    # 10 could match either 9 or 12; nearest first gives 10<->9 and leaves 12 for 13.
    import numpy as np

    pairs = match_events(np.array([10.0, 13.0]), np.array([9.0, 12.0]), tolerance=3)
    assert sorted(pairs) == [(0, 0), (1, 1)]
    assert match_events(np.array([10.0, 10.0]), np.array([10.0]), tolerance=1) == [(0, 0)]


def test_equals_compares_after_conversion() -> None:
    assert judge(Check("equals", {}), [1, 2], [1, 2]).passed
    assert judge(Check("equals", {}), {"a": 1}, {"a": 1}).passed
    assert not judge(Check("equals", {}), {"a": 1}, {"a": 2}).passed
