"""Reference for ecg-derived-respiration: R-amplitude and RR (RSA) modulation spectra."""

import numpy as np
from scipy import signal


def _rpeaks(x, fs):
    sos = signal.butter(3, [5.0, 18.0], btype="bandpass", fs=fs, output="sos")
    y = signal.sosfiltfilt(sos, x - np.median(x))
    env = np.convolve(np.gradient(y) ** 2, np.ones(int(0.15 * fs)) / int(0.15 * fs), "same")
    cand, _ = signal.find_peaks(env, distance=int(0.3 * fs))
    h = env[cand]
    return np.asarray([c for c, v in zip(cand, h, strict=True)
                       if v > 0.1 * np.median(np.sort(h[np.abs(cand - c) < 5 * fs])[-8:])])


def breathing_rate_from_ecg(ecg, fs):
    """Breaths per minute from how breathing modulates the ECG: the R-wave amplitude and
    the beat-to-beat interval (respiratory sinus arrhythmia) both oscillate at the
    breathing rate. Their normalised spectra are multiplied, so only a frequency present in
    both wins (6-36 /min)."""
    fs = float(fs)
    x = np.asarray(ecg, dtype=float)
    hp = signal.sosfiltfilt(signal.butter(2, 0.5, "highpass", fs=fs, output="sos"), x)
    r = _rpeaks(x, fs)
    w = int(0.05 * fs)
    r = np.asarray([max(0, p - w) + int(np.argmax(hp[max(0, p - w):p + w])) for p in r])
    t = r / fs
    amp = hp[r]
    rr = np.r_[np.diff(t), np.diff(t)[-1]]
    grid = np.arange(t[0], t[-1], 0.25)
    total = 1.0
    for series in (amp, rr):
        y = signal.detrend(np.interp(grid, t, series))
        f, p = signal.welch(y, fs=4.0, nperseg=min(len(y), 128), nfft=2048)
        total = total * (p / p.max())
    band = (f >= 0.1) & (f <= 0.6)
    return float(60.0 * f[band][np.argmax(total[band])])
