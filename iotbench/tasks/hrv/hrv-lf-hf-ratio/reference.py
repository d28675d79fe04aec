"""Reference for hrv-lf-hf-ratio: Welch spectrum of the NN series resampled at 4 Hz."""

import numpy as np
from scipy import interpolate, signal


def lf_hf_ratio(nni):
    """LF (0.04-0.15 Hz) / HF (0.15-0.4 Hz) power of an NN-interval series in ms."""
    x = np.asarray(nni, dtype=float)
    t = np.cumsum(x) / 1000.0  # beat times in s
    fs = 4.0
    grid = np.arange(t[0], t[-1], 1.0 / fs)
    y = interpolate.CubicSpline(t, x)(grid)
    y = signal.detrend(y, type="linear")
    f, p = signal.welch(y, fs=fs, nperseg=min(len(y), 256), noverlap=128, window="hann")
    lf = p[(f >= 0.04) & (f < 0.15)].sum()  # uniform grid: the bin width cancels
    hf = p[(f >= 0.15) & (f < 0.4)].sum()
    return float(lf / hf)
