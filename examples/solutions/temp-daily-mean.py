"""Reference solution for examples/temp-daily-mean."""

import numpy as np


def daily_means(temps: np.ndarray) -> list[float]:
    """Mean of each complete block of 24 hourly readings; a trailing partial day is dropped."""
    x = np.asarray(temps, dtype=float)
    days = len(x) // 24
    return [float(v) for v in x[: days * 24].reshape(days, 24).mean(axis=1)]
