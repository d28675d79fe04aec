"""Reference for ecg-baseline-wander: two-stage median filter (200 ms, then 600 ms)."""

import numpy as np
from scipy import ndimage


def baseline_per_second(ecg, fs):
    """Baseline (wander) of the ECG at the middle of every complete second, in the ECG's
    units: the 200-ms median removes the QRS, the 600-ms median the P and T waves."""
    x = np.asarray(ecg, dtype=float)
    fs = float(fs)
    b = ndimage.median_filter(x, size=int(0.2 * fs) | 1, mode="nearest")
    b = ndimage.median_filter(b, size=int(0.6 * fs) | 1, mode="nearest")
    n = int(len(x) // fs)
    return [float(b[int((k + 0.5) * fs)]) for k in range(n)]
