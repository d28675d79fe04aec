"""Reference for temp-hampel-flags: Hampel identifier, +-7 days, 3 scaled MADs."""

import numpy as np


def hampel_flags(x):
    """Indices i where |x[i] - m| > 3 * 1.4826 * MAD, with m the median and MAD the median
    absolute deviation from m of x[i-7 .. i+7] (the samples that exist; i included)."""
    x = np.asarray(x, dtype=float)
    out = []
    for i in range(len(x)):
        w = x[max(0, i - 7):i + 8]
        m = np.median(w)
        mad = np.median(np.abs(w - m))
        if abs(x[i] - m) > 3 * 1.4826 * mad:
            out.append(i)
    return out
