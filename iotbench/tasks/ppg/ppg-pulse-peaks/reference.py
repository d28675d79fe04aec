"""Reference for ppg-pulse-peaks: band-pass, prominence-gated find_peaks, refine to the top."""

import numpy as np
from scipy import signal


def _pulse_peaks(ppg, fs):
    x = np.asarray(ppg, dtype=float)
    fs = float(fs)
    sos = signal.butter(2, [0.5, 5.0], btype="bandpass", fs=fs, output="sos")
    y = signal.sosfiltfilt(sos, x)
    # The pulse period from the autocorrelation (30-180 bpm); peaks closer than 60% of it
    # are the dicrotic wave of the same beat. A pulse must also rise clearly above the
    # troughs around it.
    ac = np.correlate(y - y.mean(), y - y.mean(), mode="full")[len(y) - 1:]
    lo, hi = int(0.33 * fs), min(len(ac) - 1, int(2.0 * fs))
    period = lo + int(np.argmax(ac[lo:hi]))
    cand, props = signal.find_peaks(y, distance=max(1, int(0.6 * period)), prominence=0)
    if len(cand) == 0:
        return []
    prom = props["prominences"]
    keep = []
    for c, p in zip(cand, prom, strict=True):
        near = prom[np.abs(cand - c) < 5 * fs]
        if p > 0.3 * np.median(near):
            keep.append(c)
    sos2 = signal.butter(2, [0.5, 8.0], btype="bandpass", fs=fs, output="sos")
    z = signal.sosfiltfilt(sos2, x)
    w = max(1, int(0.1 * fs))
    return sorted({max(0, c - w) + int(np.argmax(z[max(0, c - w):c + w + 1])) for c in keep})


def pulse_peaks(ppg, fs):
    """Sample index of the systolic peak of every pulse, ascending."""
    return _pulse_peaks(ppg, fs)
