"""Mistakes a wrong number gives away: what its relation to the expected one suggests.

Asked in order, and the first that matches speaks ("value" group): the exact relations
(one sample per event, a sign, a factor fs, a unit factor, an inverted rate) come before
the rough ones (about 2x, about half, close).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from agent.diagnostics.catalogue import Observation, runtime
from agent.diagnostics.signals import EVENTISH, fmt, lengths, near, sampling_rate


def _events(obs: Observation) -> bool:
    return bool(EVENTISH.search(obs.requirement))


def _fs(obs: Observation) -> float | None:
    return sampling_rate(obs.case.args) if obs.case else None


@runtime("not-finite", "NaN or inf: a division by zero or an empty array", "value")
def not_finite(obs: Observation) -> str:
    if obs.returned is not None and not math.isfinite(obs.returned):
        return "NaN/inf: a division by zero or an empty array (nothing detected?)"
    return ""


@runtime("one-sample-events", "a rate of exactly fs or 60 * fs: every sample an event", "value")
def one_sample_events(obs: Observation) -> str:
    """A rate of exactly fs or 60 * fs: the 'events' were consecutive samples."""
    fs, r = _fs(obs), obs.ratio
    if not (fs and r is not None and _events(obs)) or near(r, 1, 0.5):
        return ""
    per_minute = near(obs.returned, 60 * fs, 0.01)  # type: ignore[arg-type]
    if not (per_minute or near(obs.returned, fs, 0.01)):  # type: ignore[arg-type]
        return ""
    return (f"{fmt(obs.returned)} = {'60 * ' if per_minute else ''}fs: "
            "the mean interval is exactly ONE sample, so the 'events' are consecutive "
            "samples: np.where(x > threshold)[0] lists every sample above it (many per "
            "beat), and np.diff(np.arange(n)) is all ones. Detect one index per event: "
            "peaks, _ = scipy.signal.find_peaks(x, distance=int(0.3 * fs)); intervals = "
            "np.diff(peaks) / fs")


@runtime("sign-inverted", "the negative of the expected: a subtraction reversed", "value")
def sign_inverted(obs: Observation) -> str:
    r = obs.ratio
    return "the sign is inverted: check the order of a subtraction" if (
        r is not None and near(r, -1, 0.02)) else ""


@runtime("samples-vs-seconds", "off by a factor fs: samples where seconds belong", "value")
def samples_vs_seconds(obs: Observation) -> str:
    fs, r = _fs(obs), obs.ratio
    if fs and r is not None and (near(r, fs, 0.03) or near(r, 1 / fs, 0.03)):
        return (f"off by a factor of fs = {fmt(fs)}: samples vs seconds; "
                + ("divide by fs" if r > 1 else "multiply by fs"))
    return ""


UNIT_FACTORS = ((60.0, "seconds vs minutes (x60)"), (1000.0, "ms vs seconds (x1000)"),
                (3600.0, "seconds vs hours"))


@runtime("unit-factor", "off by 60, 1000 or 3600: a unit conversion", "value")
def unit_factor(obs: Observation) -> str:
    r = obs.ratio
    for k, what in UNIT_FACTORS if r is not None else ():
        if near(r, k, 0.05) or near(r, 1 / k, 0.05):
            return f"about {fmt(r)}x: {what}"
    return ""


@runtime("rate-inverted-value", "returned x expected is constant: an interval for a rate", "value")
def rate_inverted(obs: Observation) -> str:
    """returned * expected is a constant: an interval where a rate belongs (or the reverse)."""
    r = obs.ratio
    if r is None or near(r, 1, 0.3):
        return ""
    prod = obs.returned * obs.expected  # type: ignore[operator]
    for k, what in ((3600.0, "an interval times 60 instead of 60 divided by the interval: "
                     "rate = 60 / (mean interval in seconds) = 60 * fs / mean(interval in "
                     "samples)"),
                    (60.0, "an interval in seconds, not a rate: rate = 60 / interval"),
                    (60000.0, "an interval in ms, not a rate: rate = 60000 / interval_ms")):
        if near(prod, k, 0.1):
            return f"looks inverted: {what}"
    return ""


def ratio_band(id: str, message: str, lo: float, hi: float, say: Callable[[float], str], *,
               events: bool = False) -> None:
    """Register a rough relation: a ratio returned / expected in [lo, hi] (for a task that
    counts events only, with `events`) earns `say(ratio)`."""

    def match(obs: Observation) -> str:
        r = obs.ratio
        inside = r is not None and lo <= r <= hi and (not events or _events(obs))
        return say(r) if inside else ""  # type: ignore[arg-type]

    match.__name__ = id.replace("-", "_")
    runtime(id, message, "value")(match)


ratio_band("double-counted", "about twice the expected: events counted twice", 1.7, 2.4,
           lambda r: f"about {r:.1f}x too high: events/peaks may be double-counted (noise, "
                     "notch, T waves); use find_peaks(distance=...) or a refractory period")
ratio_band("far-too-many", "several times too many events: every bump detected", 3, math.inf,
           lambda r: f"about {r:.0f}x too high: far more events than the recording holds; a "
                     "threshold test marks every sample above it, and find_peaks without "
                     "distance= takes every noise bump. Keep one index per event: "
                     "find_peaks(x, distance=int(min_gap_seconds * fs)) on a filtered signal",
           events=True)
ratio_band("half", "about half the expected: every other event missed", 0.4, 0.6,
           lambda r: f"about {r:.2f}x, half the expected: every other event missed (threshold "
                     "or distance too large?) or a factor 2 in the formula")


@runtime("n-terms", "off by sqrt(N/(N-1)): N terms where N-1 belong", "value")
def n_terms(obs: Observation) -> str:
    """sqrt(N/(N-1)) exactly: N terms averaged where N-1 belong, or the reverse."""
    r = obs.ratio
    for n in lengths(obs.case.args) if obs.case and r is not None else []:
        if n > 2 and (near(r, math.sqrt(n / (n - 1)), 2e-4)
                      or near(r, math.sqrt((n - 1) / n), 2e-4)):
            return ("off by a factor sqrt((N-1)/N): averaged over N terms where N-1 belong "
                    "(np.roll wraps around and adds a term; np.diff gives N-1), or population "
                    "vs sample std (ddof=1)")
    return ""


ratio_band("close-edges", "within 10% but outside the bound: the edges of the definition",
           0.9, 1.1,
           lambda r: "close but not within the bound: check the definition at the edges "
                     "(np.diff is one shorter, np.roll wraps around, first/last element), "
                     "off-by-one, > vs >=, or ddof")
