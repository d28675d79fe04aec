"""Reference for resp-breath-peaks: end-of-inspiration peaks of a respiration belt signal."""

import numpy as np
from scipy import signal


def breath_peaks(resp, fs):
    """Sample index of the end of each inspiration (belt maximum), ascending."""
    x = np.asarray(resp, dtype=float)
    fs = float(fs)
    sos = signal.butter(2, [0.05, 1.0], btype="bandpass", fs=fs, output="sos")
    y = signal.sosfiltfilt(sos, x - np.mean(x))
    # A breath lasts at least 1.5 s and must rise well above the troughs around it.
    pk, props = signal.find_peaks(y, distance=int(1.5 * fs), prominence=0)
    prom = props["prominences"]
    keep = [p for p, q in zip(pk, prom, strict=True)
            if q > 0.3 * np.median(prom[np.abs(pk - p) < 30 * fs])]
    w = int(0.5 * fs)
    return sorted({max(0, p - w) + int(np.argmax(y[max(0, p - w):p + w + 1])) for p in keep})
