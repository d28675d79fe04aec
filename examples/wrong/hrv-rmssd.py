"""Plausible but wrong solution for examples/hrv-rmssd.

Mistake: successive differences taken with np.roll, so the wrap-around term
(first interval minus last interval) is included and the mean runs over N terms.
"""

import numpy as np


def rmssd(nni: np.ndarray) -> float:
    """RMSSD in ms (wrong: np.roll wraps around)."""
    x = np.asarray(nni, dtype=float)
    d = x - np.roll(x, 1)
    return float(np.sqrt(np.mean(d**2)))
