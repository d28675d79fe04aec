"""Reference for audio-rms-dbfs: frame RMS relative to int16 full scale, floored."""

import numpy as np


def rms_dbfs(samples, fs):
    """20*log10(rms / 32768) of each complete, non-overlapping 20-ms frame, floored at
    -100 dBFS (digital silence)."""
    x = np.asarray(samples, dtype=float)
    n = int(round(0.02 * fs))
    k = len(x) // n
    rms = np.sqrt((x[:k * n].reshape(k, n) ** 2).mean(axis=1))
    with np.errstate(divide="ignore"):
        db = 20.0 * np.log10(rms / 32768.0)
    return np.maximum(db, -100.0).tolist()
