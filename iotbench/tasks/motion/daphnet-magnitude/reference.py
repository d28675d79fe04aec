"""Reference for daphnet-magnitude: Euclidean norm of the three axes, mg -> g."""

import numpy as np


def acc_magnitude(acc):
    """Magnitude in g of each (x, y, z) sample given in milli-g."""
    a = np.asarray(acc, dtype=float) / 1000.0
    return np.sqrt((a ** 2).sum(axis=1))
