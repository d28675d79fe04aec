"""GPIoT's augmentation axes, shared by the generators: wording, resource constraints,
data representation, and simulated signals (exact ground truth by construction)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from finetune.generators.base import ARRAY_REPS

# Resource constraints a user states; every reference is numpy-only and single-pass enough to
# meet all of them, so the wording varies without changing what is correct.
CONSTRAINTS = (
    "",
    "",
    "It has to run on a small ARM gateway: use numpy only, no scipy.",
    "This will run on a battery-powered edge node, so keep it light: numpy only, "
    "no scipy, no big temporary arrays.",
    "Memory is tight on the device (a few MB): avoid building n x n arrays.",
    "It runs every minute on a Raspberry Pi Zero, so keep it simple and fast.",
)


def pick(rng: np.random.Generator, seq: Sequence[Any]) -> Any:
    """One element of seq, chosen by rng (works for any sequence, unlike rng.choice)."""
    return seq[int(rng.integers(len(seq)))]


def wording(rng: np.random.Generator, phrasings: Sequence[str], **params: Any) -> str:
    """One of a generator's phrasings (casual / precise / terse), filled, plus maybe a
    resource constraint."""
    text = pick(rng, phrasings).format(**params).strip()
    extra = pick(rng, CONSTRAINTS)
    return text + ("\n" + extra if extra else "")


def rep(rng: np.random.Generator) -> str:
    """How the array arguments arrive: ndarray (.npy), a JSON list, or a CSV column."""
    return pick(rng, ARRAY_REPS)


def container(rep_name: str) -> str:
    """The words for the representation, for argument descriptions."""
    return "list" if rep_name == "json" else "array"


def random_walk(rng: np.random.Generator, n: int, start: float, step: float,
                lo: float, hi: float, revert: float = 0.01) -> np.ndarray:
    """A bounded, mean-reverting random walk (temperatures, pressures, CO2...)."""
    x = np.empty(n)
    v = start
    mid = (lo + hi) / 2
    for i in range(n):
        v += rng.normal(0, step) + revert * (mid - v)
        v = min(max(v, lo), hi)
        x[i] = v
    return x


def pulse_wave(rng: np.random.Generator, n: int, fs: float, bpm: float,
               notch: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """A PPG-like pulse train (systolic peak + dicrotic bump) with beat-to-beat jitter;
    returns the wave (0..~1) and the sample index of each systolic peak."""
    t = np.arange(n) / fs
    wave = np.zeros(n)
    peaks = []
    beat = rng.uniform(0, 0.5)
    while beat < t[-1]:
        period = 60.0 / bpm * rng.uniform(0.93, 1.07)
        wave += np.exp(-0.5 * ((t - beat - 0.12 * period) / (0.07 * period)) ** 2)
        wave += notch * np.exp(-0.5 * ((t - beat - 0.42 * period) / (0.08 * period)) ** 2)
        peaks.append(int(round((beat + 0.12 * period) * fs)))
        beat += period
    return wave, np.array([p for p in peaks if p < n])


def adc(x: np.ndarray, lo: float, hi: float, bits: int) -> np.ndarray:
    """Quantise a physical signal spanning [lo, hi] to unsigned `bits`-bit ADC counts."""
    full = 2 ** bits - 1
    counts = np.round((np.clip(x, lo, hi) - lo) / (hi - lo) * full)
    return counts.astype(np.int32 if bits > 15 else np.int16)
