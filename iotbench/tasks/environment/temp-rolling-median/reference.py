"""Reference for temp-rolling-median: centred 7-sample median, window shrinks at the ends."""

import numpy as np


def rolling_median(x):
    """Median of x[i-3 .. i+3] for every i, using only the samples that exist near the ends."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    return [float(np.median(x[max(0, i - 3):min(n, i + 4)])) for i in range(n)]
