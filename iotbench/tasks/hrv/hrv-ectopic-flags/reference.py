"""Reference for hrv-ectopic-flags: flag RR intervals far from their local median."""

import numpy as np


def flag_ectopic(rr):
    """Indices i whose interval differs from the median of its neighbours (up to 5 on each
    side, i itself excluded, clipped at the ends) by more than 20 % of that median."""
    x = np.asarray(rr, dtype=float)
    out = []
    for i in range(len(x)):
        nb = np.r_[x[max(0, i - 5):i], x[i + 1:i + 6]]
        m = float(np.median(nb))
        if abs(x[i] - m) > 0.2 * m:
            out.append(i)
    return out
