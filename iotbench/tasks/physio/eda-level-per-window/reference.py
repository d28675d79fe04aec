"""Reference for eda-level-per-window: skin-conductance level (minimum) of each 30-s window."""

import numpy as np


def scl_per_window(eda, fs):
    """Tonic level per complete 30-s window: the window's 5th percentile, in uS."""
    x = np.asarray(eda, dtype=float)
    n = int(round(30 * float(fs)))
    return [float(np.percentile(x[k * n:(k + 1) * n], 5)) for k in range(len(x) // n)]
