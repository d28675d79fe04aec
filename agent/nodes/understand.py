"""understand: a card per visible case describing its inputs, so the model writes code for
the data it will really get. Hidden cases never enter any prompt."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from agent.context import RunContext
from agent.diagnostics.signals import interval_seconds, sampling_rate
from agent.nodes import timed
from agent.spec import Case, Spec
from agent.state import State


def _rate(case: Case) -> float | None:
    return sampling_rate(case.args, above=0.0)


def _describe(value: Any, rate: float | None, name: str = "") -> str:
    if isinstance(value, np.ndarray):
        parts = [f"ndarray shape {value.shape} dtype {value.dtype}"]
        if value.dtype.kind in "biuf" and value.size:
            v = value.astype(float)
            finite = v[np.isfinite(v)]
            if value.ndim == 1 and rate:
                parts.append(f"{len(value) / rate:.1f} s at {rate:g} Hz")
            seconds = interval_seconds(name, value)
            if seconds:
                parts.append(f"intervals adding up to {seconds:.1f} s")
            if finite.size:
                parts.append(f"min {finite.min():.4g} max {finite.max():.4g} "
                             f"mean {finite.mean():.4g} std {finite.std():.4g}")
            nans = int(np.isnan(v).sum())
            if nans:
                parts.append(f"{nans} NaN")
            first = ", ".join(f"{x:.4g}" for x in v.ravel()[:6])
            parts.append(f"first values [{first}, ...]")
        elif value.size:
            parts.append(f"first values {value.ravel()[:6].tolist()}")
        return "; ".join(parts)
    if isinstance(value, list):
        head = ", ".join(_short(x) for x in value[:6])
        scalars = all(not isinstance(x, list | dict) for x in value)
        labels = sorted({str(x) for x in value}) if scalars else []
        extra = f"; distinct values {labels[:8]}" if scalars and len(labels) <= 8 else ""
        return f"list of {len(value)} [{head}{', ...' if len(value) > 6 else ''}]{extra}"
    return _short(value, 120)


def _short(value: Any, limit: int = 60) -> str:
    """One element, never the whole of a nested recording (a list of lists can be MBs)."""
    if isinstance(value, list) and value and isinstance(value[0], int | float):
        head = ", ".join(f"{x:.4g}" if isinstance(x, float) else repr(x) for x in value[:3])
        return f"<list of {len(value)} numbers [{head}, ...]>"
    if isinstance(value, list):
        return f"<list of {len(value)}>"
    text = repr(value)
    return text if len(text) < limit else text[: limit - 3] + "..."


def trace_cards(spec: Spec) -> str:
    """Text cards for the visible cases only."""
    out = []
    for case in spec.visible_cases:
        rate = _rate(case)
        out.append(f"case {case.name}:")
        for name, value in case.args.items():
            out.append(f"  {name} = {_describe(value, rate, name)}")
    return "\n".join(out)


@timed("understand")
def understand(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    spec = ctx.spec
    ctx.log(f"[understand] {spec.id}: {len(spec.visible_cases)} visible case(s); "
            f"{len(spec.hidden_cases)} hidden case(s) kept out of every prompt")
    return {"trace_cards": trace_cards(spec), "attempt": 0, "mode": "draft", "next": "draft",
            "temperature": 0.0, "stalls": 0, "feedback": "", "failure": "",
            "started_at": state.get("started_at") or time.time()}
