"""Reference solution for examples/temp-hot-days."""

import numpy as np


def hot_days(temp_max: np.ndarray, threshold: float) -> int:
    """Number of days whose maximum temperature is strictly above the threshold."""
    x = np.asarray(temp_max, dtype=float)
    return int(np.sum(x > threshold))
