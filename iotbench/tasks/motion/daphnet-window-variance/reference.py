"""Reference for daphnet-window-variance: variance of the magnitude per 2-s window."""

import numpy as np


def window_variance(acc, fs):
    """Variance (g^2) of the acceleration magnitude in each complete, non-overlapping 2-second
    window; a trailing partial window is dropped."""
    mag = np.sqrt((np.asarray(acc, dtype=float) ** 2).sum(axis=1)) / 1000.0
    n = int(round(2.0 * fs))
    k = len(mag) // n
    return mag[:k * n].reshape(k, n).var(axis=1).tolist()
