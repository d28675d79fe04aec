"""Trace cards summarise inputs; a nested recording list (IoTBench wiimote-gesture: 50
recordings of ~300 samples) must not be dumped into the prompt (it once made a 43k-token
prompt that overflowed the model's context)."""

from __future__ import annotations

from pathlib import Path

from agent.nodes.understand import trace_cards
from agent.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent


def test_nested_lists_are_summarised_not_dumped() -> None:
    spec = load_spec(ROOT / "iotbench/tasks/motion/wiimote-gesture/spec.yaml")
    cards = trace_cards(spec)
    assert len(cards) < 3000
    assert "train_gestures = list of 50 [<list of" in cards
    assert "numbers [" in cards  # first values of an element are still shown


def test_label_lists_keep_their_distinct_values() -> None:
    cards = trace_cards(load_spec(ROOT / "examples/har-basicmotions/spec.yaml"))
    assert "distinct values ['Badminton', 'Running', 'Standing', 'Walking']" in cards


def test_hidden_cases_are_not_in_the_cards() -> None:
    spec = load_spec(ROOT / "iotbench/tasks/motion/wiimote-gesture/spec.yaml")
    cards = trace_cards(spec)
    assert all(f"case {c.name}:" not in cards for c in spec.hidden_cases)
    assert all(f"case {c.name}:" in cards for c in spec.visible_cases)


def test_interval_series_show_the_time_they_span() -> None:
    """NN intervals are not samples at a rate: their sum is the recording's time, which the
    1.5B missed when windowing them per minute (IoTBench hrv-hr-per-minute)."""
    spec = load_spec(ROOT / "iotbench/tasks/hrv/hrv-hr-per-minute/spec.yaml")
    case = spec.visible_cases[0]
    total = float(case.args["nni"].sum()) / 1000
    assert f"intervals adding up to {total:.1f} s" in trace_cards(spec)
    ecg = trace_cards(load_spec(ROOT / "examples/ecg-rpeaks/spec.yaml"))
    assert "intervals adding up" not in ecg and " s at 360 Hz" in ecg
