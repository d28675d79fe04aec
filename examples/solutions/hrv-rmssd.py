"""Reference solution for examples/hrv-rmssd."""

import numpy as np


def rmssd(nni: np.ndarray) -> float:
    """Root mean square of successive NN-interval differences, in ms."""
    x = np.asarray(nni, dtype=float)
    d = np.diff(x)
    return float(np.sqrt(np.mean(d**2)))
