"""Plausible wrong baseline for eda-level-per-window: the window mean (includes the SCRs)."""

import numpy as np


def scl_per_window(eda, fs):
    n = int(round(30 * float(fs)))
    return [float(np.mean(eda[k * n:(k + 1) * n])) for k in range(len(eda) // n)]
