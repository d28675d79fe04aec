"""Reference for eda-scr-count: count upward swings of at least 0.05 uS (zig-zag)."""

import numpy as np
from scipy import signal


def count_scrs(eda, fs):
    """Number of skin-conductance responses: rises of >= 0.05 uS from a trough to the next
    peak of the 1-Hz low-passed signal, where a swing ends when the signal falls back by
    0.05 uS (hysteresis)."""
    x = np.asarray(eda, dtype=float)
    sos = signal.butter(2, 1.0, btype="lowpass", fs=float(fs), output="sos")
    y = signal.sosfiltfilt(sos, x)
    thr = 0.05
    count = 0
    lo = hi = y[0]
    rising = False
    for v in y[1:]:
        if rising:
            if v > hi:
                hi = v
            elif hi - v >= thr:  # the swing is over
                rising = False
                lo = v
        else:
            if v < lo:
                lo = v
            elif v - lo >= thr:
                rising = True
                count += 1
                hi = v
    return count
