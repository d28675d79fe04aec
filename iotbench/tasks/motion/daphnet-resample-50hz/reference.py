"""Reference for daphnet-resample-50hz: polyphase resampling 64 -> 50 Hz (25/32)."""

import numpy as np
from scipy import signal


def resample_50hz(acc, fs):
    """The signal at 50 Hz over the same duration, anti-alias filtered."""
    x = np.asarray(acc, dtype=float)
    from fractions import Fraction
    r = Fraction(50, 1) / Fraction(fs).limit_denominator(1000)
    m = x.mean()
    return (signal.resample_poly(x - m, r.numerator, r.denominator) + m).tolist()
