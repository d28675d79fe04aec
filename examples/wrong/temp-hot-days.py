"""Plausible but wrong solution for examples/temp-hot-days.

Mistake: counts days at or above the threshold (>=) instead of strictly above.
"""

import numpy as np


def hot_days(temp_max: np.ndarray, threshold: float) -> int:
    """Number of hot days (wrong: >= instead of >)."""
    x = np.asarray(temp_max, dtype=float)
    return int(np.count_nonzero(x >= threshold))
