"""Reference for power-duty-cycle: fraction of samples clearly above the standby level."""

import numpy as np


def duty_cycle(load):
    """Fraction of the day's samples above standby + 10% of the day's range (standby = the
    lowest reading)."""
    x = np.asarray(load, dtype=float)
    lo, hi = x.min(), x.max()
    return float(np.mean(x > lo + 0.1 * (hi - lo)))
