"""Plausible wrong baseline for ecg-baseline-wander: a constant (the signal's mean)."""

import numpy as np


def baseline_per_second(ecg, fs):
    return [float(np.mean(ecg))] * int(len(ecg) // float(fs))
