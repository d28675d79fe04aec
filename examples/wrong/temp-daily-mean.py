"""Plausible but wrong solution for examples/temp-daily-mean.

Mistake: reshaped as (24, days) instead of (days, 24), so each "day" averages the
same position of 24 different days (hours and days swapped). The length is right.
"""

import numpy as np


def daily_means(temps: np.ndarray) -> list[float]:
    """Daily means (wrong: hours and days axes swapped)."""
    x = np.asarray(temps, dtype=float)
    days = len(x) // 24
    return x[: days * 24].reshape(24, days).mean(axis=0).tolist()
