"""Plausible but wrong solution for examples/har-basicmotions.

Mistake: nearest centroid on the raw flattened windows (template matching in time),
so windows of the same activity with a different phase look far apart.
"""

import numpy as np


def classify_activity(
    train_windows: np.ndarray, train_labels: list, test_windows: np.ndarray
) -> list[str]:
    """Predict activity labels (wrong: raw samples used as features)."""
    tr = np.asarray(train_windows, dtype=float).reshape(len(train_windows), -1)
    te = np.asarray(test_windows, dtype=float).reshape(len(test_windows), -1)
    labels = list(train_labels)
    classes = sorted(set(labels))
    cents = np.array([tr[[i for i, v in enumerate(labels) if v == c]].mean(0) for c in classes])
    dist = ((te[:, None, :] - cents[None, :, :]) ** 2).sum(axis=2)
    return [classes[int(i)] for i in dist.argmin(axis=1)]
