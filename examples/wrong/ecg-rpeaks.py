"""Plausible but wrong solution for examples/ecg-rpeaks.

Mistake: find_peaks on the raw signal with only a height threshold and no minimum
distance, so noise ripples on one QRS are counted as several beats and tall T waves
or artefacts pass the threshold while low beats are missed.
"""

import numpy as np
from scipy.signal import find_peaks


def detect_rpeaks(ecg: np.ndarray, fs: float) -> list[int]:
    """Return R-peak sample indices (wrong: no refractory distance)."""
    x = np.asarray(ecg, dtype=float)
    peaks, _ = find_peaks(x, height=np.mean(x) + 1.5 * np.std(x))
    return [int(p) for p in peaks]
