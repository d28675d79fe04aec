"""Reference for ecg-stim-hr-response: R peaks + stimulus onsets -> HR change per stimulus."""

import numpy as np
from scipy import signal


def _rpeaks(ecg, fs):
    x = np.asarray(ecg, dtype=float)
    sos = signal.butter(3, [5.0, 18.0], btype="bandpass", fs=fs, output="sos")
    y = signal.sosfiltfilt(sos, x - np.median(x))
    env = np.convolve(np.gradient(y) ** 2, np.ones(int(0.15 * fs)) / int(0.15 * fs), "same")
    cand, _ = signal.find_peaks(env, distance=int(0.3 * fs))
    h = env[cand]
    keep = [c for c, v in zip(cand, h, strict=True)
            if v > 0.1 * np.median(np.sort(h[np.abs(cand - c) < 5 * fs])[-8:])]
    return np.asarray(keep, dtype=float)


def hr_response(ecg, stim, fs):
    """Per stimulus (onset = first sample of a non-zero run in `stim`): mean of 60/RR over
    the RR intervals ending in [0, 6) s after the onset minus the same over [-6, 0) s."""
    fs = float(fs)
    r = _rpeaks(ecg, fs) / fs
    rr, ends = np.diff(r), r[1:]
    s = np.asarray(stim) != 0
    onsets = np.flatnonzero(s & ~np.r_[False, s[:-1]]) / fs
    out = []
    for t in onsets:
        after = rr[(ends >= t) & (ends < t + 6)]
        before = rr[(ends >= t - 6) & (ends < t)]
        out.append(float(np.mean(60.0 / after) - np.mean(60.0 / before)))
    return out
