"""Reference for edge-quantize-codes: uniform min/max quantiser, round to nearest."""

import numpy as np


def quantize(x, bits):
    """Integer codes 0 .. 2**bits - 1 with offset = min(x) and
    scale = (max(x) - min(x)) / (2**bits - 1); code = round((x - offset) / scale)."""
    x = np.asarray(x, dtype=float)
    lo, hi = x.min(), x.max()
    levels = 2 ** int(bits) - 1
    if hi == lo:
        return [0] * len(x)
    return np.rint((x - lo) / (hi - lo) * levels).astype(int).tolist()
