"""What several diagnostics need to know about a case, written once: its sampling rate,
its signal lengths, its duration when it holds intervals, and how to compare a ratio.

The sampling rate is read one way everywhere (the understand node's trace cards, feedback,
the report's plots): an argument NAMED like a rate (fs, sr, rate, sampling_rate, ...); a
cutoff_hz or a frequency is not the rate.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

# words of a task whose answer comes from detected events
EVENT_WORDS = "peak|beat|pulse|event|step|spike|onset|qrs"
PEAKISH = re.compile(EVENT_WORDS + "|r-?wave", re.I)
# "beats", "steps": a task whose number comes from counting detected events
EVENTISH = re.compile(EVENT_WORDS + "|heart ?rate|cadence", re.I)
RATE_NAME = re.compile(r"fs|fs_hz|sr|srate|rate|sample_rate|sampling_rate|sampling_rate_hz"
                       r"|sample_rate_hz|rate_hz|fsamp", re.I)


def is_rate_name(name: str) -> bool:
    """`name` is a sampling-rate argument's name (fs, sampling_rate), not cutoff_hz."""
    return bool(RATE_NAME.fullmatch(name))


def sampling_rate(args: dict[str, Any], above: float = 1.0) -> float | None:
    """The sampling rate among a case's arguments, if one is named like a rate and exceeds
    `above`: the diagnostics' relations (a factor fs, one sample per event) need a rate of
    more than 1 Hz; a trace card describes any positive rate (above=0, hourly data)."""
    for name, v in args.items():
        if is_rate_name(name) and isinstance(v, (int, float)) and not isinstance(v, bool) \
                and v > above:
            return float(v)
    return None


def lengths(args: dict[str, Any]) -> list[int]:
    """The lengths of a case's 1-D array arguments."""
    return [len(v) for v in args.values() if isinstance(v, np.ndarray) and v.ndim == 1]


def near(a: float, b: float, tol: float = 0.08) -> bool:
    """a is within `tol` (relative) of b."""
    return b != 0 and abs(a / b - 1) <= tol


def fmt(x: Any) -> str:
    """A number as feedback shows it: 4 significant digits, NaN and inf spelled out."""
    if isinstance(x, bool) or x is None:
        return str(x)
    if isinstance(x, (int, float)):
        if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
            return str(x)
        return f"{x:.4g}" if isinstance(x, float) else str(x)
    return str(x)[:60]


def whole_blocks(r: int) -> str:
    """The expression that keeps the whole blocks of r samples, one block per row: every
    hint about blocks gives it in the same words."""
    return f"x[:len(x) // {r} * {r}].reshape(-1, {r})"


def interval_seconds(name: str, v: np.ndarray) -> float | None:
    """Total duration when `name` holds beat-to-beat intervals (NN/RR/IBI, in ms or s): their
    sum is the recording's time axis, which the models miss (they window by count)."""
    if v.ndim != 1 or not re.search(r"(^|_)(nni?|rri?|ibi)($|_)|interval", name, re.I):
        return None
    x = np.asarray(v, dtype=float)
    mid = float(np.nanmedian(x)) if x.size else 0.0
    if 200 <= mid <= 3000:
        return float(np.nansum(x)) / 1000
    if 0.2 <= mid <= 3:
        return float(np.nansum(x))
    return None
