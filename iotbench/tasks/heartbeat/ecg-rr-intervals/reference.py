"""Reference for ecg-rr-intervals: R peaks (derivative energy detector), then RR in ms."""

import numpy as np
from scipy import signal


def _rpeaks(ecg, fs):
    x = np.asarray(ecg, dtype=float)
    fs = float(fs)
    b = signal.butter(3, [5.0, 18.0], btype="bandpass", fs=fs, output="sos")
    y = signal.sosfiltfilt(b, x - np.median(x))
    e = np.gradient(y) ** 2
    n = max(1, int(0.15 * fs))
    env = np.convolve(e, np.ones(n) / n, mode="same")
    # One candidate per 250 ms; keep those above 10% of the typical big beat within +-5 s
    # (a local reference: small normal beats next to large ectopic ones still count).
    cand, _ = signal.find_peaks(env, distance=int(0.25 * fs))
    h = env[cand]
    keep = []
    for c, v in zip(cand, h, strict=True):
        near = h[np.abs(cand - c) < 5 * fs]
        if v > 0.1 * np.median(np.sort(near)[-8:]):
            keep.append(c)
    cand = np.asarray(keep, dtype=int)
    wide = signal.sosfiltfilt(signal.butter(2, [1.0, 40.0], btype="bandpass", fs=fs,
                                            output="sos"), x)
    # R-wave polarity: the sign of the larger deflection around most beats.
    w = int(0.08 * fs)
    pos = np.median([wide[max(0, c - w):c + w].max() for c in cand]) if len(cand) else 1
    neg = -np.median([wide[max(0, c - w):c + w].min() for c in cand]) if len(cand) else 0
    z = wide if pos >= neg else -wide
    out = set()
    for c in cand:
        lo, hi = max(0, c - w), min(len(z), c + w)
        out.add(lo + int(np.argmax(z[lo:hi])))
    return sorted(out)


def rr_intervals(ecg, fs):
    """RR intervals in milliseconds between successive R peaks."""
    r = np.asarray(_rpeaks(ecg, fs), dtype=float)
    return (np.diff(r) * 1000.0 / float(fs)).tolist()
