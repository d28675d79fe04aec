"""Reference for ppg-saturation-windows: a window is unusable if the ADC hit a rail in it."""

import numpy as np


def usable_windows(ppg, window, adc_bits):
    """True for each complete window of `window` samples with no sample at the ADC's lowest
    (0) or highest (2**adc_bits - 1) code."""
    x = np.asarray(ppg)
    n = int(window)
    top = 2 ** int(adc_bits) - 1
    return [bool(not np.any((x[k * n:(k + 1) * n] <= 0) | (x[k * n:(k + 1) * n] >= top)))
            for k in range(len(x) // n)]
