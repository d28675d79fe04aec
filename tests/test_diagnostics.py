"""Every entry of the catalogue of known mistakes is tested by its own examples: the wrong
program must trigger it, the right one must not.

Static entries are checked through lint; runtime entries by running both programs on a real
recording of the entry's kind, in the fake sandbox (seconds) and in the real Docker sandbox,
and reading the feedback a repair would get."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from agent import diagnostics
from agent.checker import check_case
from agent.diagnostics import CATALOGUE, Observation
from agent.diagnostics.catalogue import GROUPS
from agent.feedback import feedback_for_case
from agent.lint import lint
from agent.spec import Case, Check, Spec, load_spec

ROOT = Path(__file__).resolve().parent.parent
# the kinds of recording runtime examples name, each a real recording of examples/
KINDS = {"ecg": ("ecg-mean-hr", "bitalino-chest"),
         "nn-intervals": ("hrv-rmssd", "short-5min"),
         "hourly-partial-days": ("temp-daily-mean", "jul-10days-partial"),
         "hourly-days": ("temp-daily-mean", "jan-2weeks"),
         "ecg-beats": ("ecg-rpeaks", "rec208-000s"),
         "imu-windows": ("har-basicmotions", "original-split"),
         "daily-max": ("temp-hot-days", "summer2012-above-25C"),
         # the same real recordings with another task on them, the expected values derived
         # here from the recording itself
         "ecg-decimated": ("ecg-mean-hr", "bitalino-chest"),
         "hot-day-flags": ("temp-hot-days", "summer2012-above-25C")}


def _derived(kind: str, spec: Spec, case: Case) -> tuple[Spec, Case]:
    """A kind whose task is not the example's own: keep every 4th ECG sample (a 1-in-4
    rate change), or flag each hot day."""
    if kind == "ecg-decimated":
        fn = replace(spec.function, name="downsample",
                     returns={"type": "list", "description": "every 4th sample"})
        spec = replace(spec, function=fn, requirement="Resample the ECG to a quarter of its "
                       "sampling rate by keeping every 4th sample, the first one included.")
        x = np.asarray(case.args["ecg"], dtype=float)
        return spec, replace(case, expect=x[::4].tolist(),
                             check=Check("allclose", {"atol": 1e-6, "rtol": 0.0}))
    if kind == "hot-day-flags":
        fn = replace(spec.function, name="hot_flags",
                     returns={"type": "list", "description": "True for each hot day"})
        spec = replace(spec, function=fn, requirement="Flag each day whose maximum is above "
                       "the threshold: a list of True/False, one per day.")
        t = np.asarray(case.args["temp_max"], dtype=float)
        return spec, replace(case, expect=[bool(v > case.args["threshold"]) for v in t],
                             check=Check("accuracy", {"min": 1.0}))
    return spec, case

STATIC = [(d, i) for d in CATALOGUE.values() if d.static for i in range(len(d.examples))]
RUNTIME = [(d, i) for d in CATALOGUE.values() if d.runtime for i in range(len(d.examples))]


def _ids(params: list) -> list[str]:
    return [f"{d.id}-{i}" for d, i in params]


def _contract(source: str) -> tuple[str, list[str]]:
    """The function a program defines last: the one the task asks for."""
    fn = [n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)][-1]
    return fn.name, [a.arg for a in fn.args.args]


def test_every_entry_has_a_trigger_examples_and_a_general_message() -> None:
    assert len(CATALOGUE) >= 40
    for d in CATALOGUE.values():
        assert d.static or d.runtime, d.id
        assert d.examples, d.id
        assert d.message and len(d.message) <= 100, d.id
        assert d.group in GROUPS and (d.group == "code") == (d.runtime is None), d.id
        for ex in d.examples:
            assert ex.wrong != ex.right, d.id
            if d.runtime:
                assert ex.case in KINDS, (d.id, ex.case)


def test_examples_of_no_entry_are_refused(tmp_path, monkeypatch) -> None:
    """An example file naming an id no entry registered is an error, not dead data."""
    from agent.diagnostics import registry

    bad = tmp_path / "examples.yaml"
    bad.write_text(registry.EXAMPLES.read_text() + "no-such-entry:\n- wrong: x\n  right: y\n")
    monkeypatch.setattr(registry, "EXAMPLES", bad)
    with pytest.raises(ValueError, match="no-such-entry"):
        registry._catalogue()


@pytest.mark.parametrize(("entry", "k"), STATIC, ids=_ids(STATIC))
def test_static_entry_finds_its_wrong_example_and_not_its_right_one(entry, k) -> None:
    ex = entry.examples[k]

    def rules(source: str) -> set[str]:
        name, args = _contract(source)
        return {f.rule for f in lint(source, name, args, ex.requirement, index={},
                                     small_int_args=ex.small_int_args)}

    assert entry.id in rules(ex.wrong)
    assert entry.id not in rules(ex.right)


@pytest.fixture(params=["fake", pytest.param("docker-warm", marks=pytest.mark.docker)])
def any_sandbox(request):
    """The fake sandbox (these are our own programs) and the real one."""
    if request.param == "fake":
        from fake_sandbox import FakeSandbox

        return FakeSandbox()
    return request.getfixturevalue("warm_sandbox")


def _observe(result, case, spec) -> Observation:  # noqa: ANN001
    """The observation the runtime matchers get from a failed case."""
    d = result.detail or {}
    got, want = d.get("returned"), d.get("expected")
    scalar = (isinstance(got, (int, float)) and isinstance(want, (int, float))
              and not isinstance(got, bool))
    return Observation(case=case, result=result, requirement=spec.requirement,
                       returned=float(got) if scalar else None,
                       expected=float(want) if scalar else None,
                       error=f"{result.error}\n{result.traceback}", environment=spec.environment)


@pytest.mark.parametrize(("entry", "k"), RUNTIME, ids=_ids(RUNTIME))
def test_runtime_entry_explains_its_wrong_example_in_the_feedback(entry, k, any_sandbox,
                                                                  tmp_path) -> None:
    ex = entry.examples[k]
    example, case_name = KINDS[ex.case]
    spec = load_spec(ROOT / "examples" / example / "spec.yaml")
    spec, case = _derived(ex.case, spec, next(c for c in spec.cases if c.name == case_name))

    def judged(source: str, name: str):  # noqa: ANN202
        path = tmp_path / f"{name}.py"
        path.write_text(source)
        return check_case(spec, case, path, any_sandbox, "diagnostics")

    wrong = judged(ex.wrong, "wrong")
    assert not wrong.passed, wrong.summary
    message = entry.runtime(_observe(wrong, case, spec))
    assert message, (wrong.status, wrong.summary, wrong.error)
    assert message in feedback_for_case(wrong, case, spec)
    right = judged(ex.right, "right")
    assert right.passed or not entry.runtime(_observe(right, case, spec)), right.summary


def test_value_entries_speak_one_at_a_time_in_catalogue_order() -> None:
    """About 2.0x is double counting, and only that: a rough entry never repeats an exact
    one (the first "value" entry that matches speaks)."""
    obs = Observation(returned=-72.0, expected=72.0)
    assert [i for i, _ in diagnostics.explain(obs, "value")] == ["sign-inverted"]
    assert [i for i, _ in diagnostics.explain(Observation(returned=2.0, expected=1.0),
                                              "value")] == ["double-counted"]
    assert diagnostics.explain(Observation(returned=5.0, expected=1.0), "value") == []

