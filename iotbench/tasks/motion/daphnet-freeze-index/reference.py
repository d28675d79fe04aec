"""Reference for daphnet-freeze-index: freeze-band / locomotor-band power per window."""

import numpy as np


def freeze_index(acc_vert, fs):
    """Moore et al. (2008) freeze index of each 4-s window (hop 1 s): power of the
    mean-removed, untapered vertical acceleration in 3-8 Hz over its power in 0.5-3 Hz
    (the 3 Hz bin belongs to the freeze band)."""
    x = np.asarray(acc_vert, dtype=float)
    n, hop = int(round(4 * fs)), int(round(fs))
    f = np.fft.rfftfreq(n, 1.0 / fs)
    freeze = (f >= 3.0) & (f <= 8.0)
    loco = (f >= 0.5) & (f < 3.0)
    out = []
    for s in range(0, len(x) - n + 1, hop):
        w = x[s:s + n] - x[s:s + n].mean()
        p = np.abs(np.fft.rfft(w)) ** 2
        out.append(float(p[freeze].sum() / p[loco].sum()))
    return out
