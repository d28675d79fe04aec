"""Reference for audio-pitch-median: autocorrelation pitch of voiced frames, median."""

import numpy as np
from scipy import signal


def median_pitch(samples, fs):
    """Median F0 (Hz) over voiced 40-ms frames (hop 10 ms): band-pass 60-1000 Hz; a frame is
    voiced when it is within 25 dB of the loudest frame and its normalised autocorrelation
    peak in the 60-400 Hz lag range exceeds 0.5; F0 = fs / peak lag (parabolic refinement)."""
    x = np.asarray(samples, dtype=float)
    sos = signal.butter(4, [60, 1000], btype="bandpass", fs=fs, output="sos")
    x = signal.sosfiltfilt(sos, x)
    n, hop = int(0.04 * fs), int(0.01 * fs)
    frames = [x[s:s + n] for s in range(0, len(x) - n + 1, hop)]
    energy = np.array([10 * np.log10(np.mean(f ** 2) + 1e-9) for f in frames])
    lo, hi = int(fs / 400), int(fs / 60)
    f0 = []
    for f, e in zip(frames, energy, strict=True):
        if e < energy.max() - 25:
            continue
        f = f - f.mean()
        ac = np.correlate(f, f, "full")[n - 1:]
        ac = ac / (ac[0] + 1e-12)
        lag = lo + int(np.argmax(ac[lo:hi + 1]))
        if ac[lag] < 0.5:
            continue
        a, b, c = ac[lag - 1], ac[lag], ac[min(lag + 1, len(ac) - 1)]
        den = a - 2 * b + c
        shift = 0.5 * (a - c) / den if den != 0 else 0.0
        f0.append(fs / (lag + shift))
    return float(np.median(f0))
