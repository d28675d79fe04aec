"""Reference for audio-word-onsets: energy detector with a threshold relative to the peak."""

import numpy as np


def word_onsets(samples, fs):
    """Start times (s) of the spoken words: 10-ms frames whose energy is within 30 dB of the
    loudest frame are speech; pauses shorter than 150 ms are bridged and bursts shorter
    than 60 ms dropped. A word starts at the first speech frame of a segment."""
    x = np.asarray(samples, dtype=float)
    x = x - x.mean()
    n = int(round(0.01 * fs))
    k = len(x) // n
    e = 10 * np.log10((x[:k * n].reshape(k, n) ** 2).mean(axis=1) + 1e-9)
    speech = e > e.max() - 30.0
    segs = []
    i = 0
    while i < k:
        if speech[i]:
            j = i
            while j < k and speech[j]:
                j += 1
            if segs and i - segs[-1][1] < 15:
                segs[-1][1] = j
            else:
                segs.append([i, j])
            i = j
        else:
            i += 1
    return [round(a * n / fs, 3) for a, b in segs if b - a >= 6]
