"""Reference for resp-rate-belt: breathing rate from the dominant frequency of the belt."""

import numpy as np
from scipy import signal


def breathing_rate(resp, fs):
    """Breaths per minute: the spectral peak between 6 and 40 breaths/min, refined by
    counting breath peaks at least 60% of that period apart."""
    x = np.asarray(resp, dtype=float)
    fs = float(fs)
    sos = signal.butter(2, [0.1, 0.7], btype="bandpass", fs=fs, output="sos")
    y = signal.sosfiltfilt(sos, x - np.mean(x))
    f, p = signal.welch(y, fs=fs, nperseg=min(len(y), int(32 * fs)))
    band = (f >= 0.1) & (f <= 0.67)
    f0 = f[band][np.argmax(p[band])]
    pk, _ = signal.find_peaks(y, distance=int(0.6 * fs / f0),
                              prominence=0.25 * np.std(y))
    if len(pk) < 3:
        return float(60.0 * f0)
    return float(60.0 * fs / np.mean(np.diff(pk)))
