"""Reference for audio-zcr: zero-crossing rate per 25-ms frame."""

import numpy as np


def zero_crossing_rate(samples, fs):
    """For each complete, non-overlapping 25-ms frame: the fraction of adjacent sample
    pairs inside the frame whose signs differ (a sample >= 0 counts as positive)."""
    x = np.asarray(samples, dtype=float)
    n = int(round(0.025 * fs))
    out = []
    for s in range(0, len(x) - n + 1, n):
        pos = x[s:s + n] >= 0
        out.append(float(np.mean(pos[1:] != pos[:-1])))
    return out
