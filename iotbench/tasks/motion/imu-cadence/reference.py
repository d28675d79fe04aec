"""Reference for imu-cadence: FFT peak of the mean-removed acceleration magnitude."""

import numpy as np


def dominant_frequency(windows, fs):
    """Per window (3 axes x n samples): frequency (Hz) of the largest spectral peak of the
    acceleration magnitude between 1 and 4.5 Hz, refined by a parabola through the peak
    bin and its neighbours."""
    out = []
    for w in np.asarray(windows, dtype=float):
        mag = np.sqrt((w ** 2).sum(axis=0))
        mag = mag - mag.mean()
        n = 8 * len(mag)  # zero-padding: finer frequency grid
        spec = np.abs(np.fft.rfft(mag * np.hanning(len(mag)), n))
        f = np.fft.rfftfreq(n, 1.0 / fs)
        band = np.flatnonzero((f >= 1.0) & (f <= 4.5))
        k = band[np.argmax(spec[band])]
        out.append(float(f[k]))
    return out
