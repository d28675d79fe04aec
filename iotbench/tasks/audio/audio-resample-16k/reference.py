"""Reference for audio-resample-16k: polyphase 48 kHz -> 16 kHz (anti-alias FIR)."""

import numpy as np
from scipy import signal


def to_16k(samples, fs):
    """Resample int16 audio to 16 kHz with an anti-alias filter; float samples, same scale."""
    x = np.asarray(samples, dtype=float)
    from math import gcd
    g = gcd(16000, int(fs))
    return signal.resample_poly(x, 16000 // g, int(fs) // g).tolist()
