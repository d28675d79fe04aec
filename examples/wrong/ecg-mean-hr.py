"""Plausible but wrong solution for examples/ecg-mean-hr.

Mistake: inverted formula, mean(rr_samples) * 60 / fs instead of 60 * fs / mean(rr_samples)
(observed in drafts by small code models).
"""

import numpy as np
from scipy.signal import find_peaks


def mean_heart_rate(ecg: np.ndarray, fs: float) -> float:
    """Mean heart rate in bpm (wrong: inverted formula)."""
    x = np.asarray(ecg, dtype=float)
    peaks, _ = find_peaks(x, distance=int(0.3 * fs), prominence=np.std(x))
    rr = np.diff(peaks)
    return float(np.mean(rr) * 60 / fs)
