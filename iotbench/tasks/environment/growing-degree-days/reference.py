"""Reference for growing-degree-days: sum of max(0, daily mean - base)."""

import numpy as np


def growing_degree_days(temp_max, temp_min, base):
    """Growing degree days (deg C days): the daily mean is (max + min) / 2; days below the
    base contribute nothing."""
    tmax = np.asarray(temp_max, dtype=float)
    tmin = np.asarray(temp_min, dtype=float)
    return float(np.maximum(0.0, (tmax + tmin) / 2.0 - float(base)).sum())
