"""Reference for edge-max-decimation: largest keep-every-k with bounded interpolation error."""

import numpy as np


def max_decimation(x, max_error, k_max):
    """Largest k in 1..k_max such that keeping samples 0, k, 2k, ... plus the last one and
    rebuilding the rest by linear interpolation leaves every sample within max_error."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    idx = np.arange(n)
    best = 1
    for k in range(1, int(k_max) + 1):
        keep = np.unique(np.r_[idx[::k], n - 1])
        err = np.abs(np.interp(idx, keep, x[keep]) - x).max()
        if err <= float(max_error):
            best = k
    return best
