"""Plausible baseline for ppg-saturation-windows: every window is usable."""


def usable_windows(ppg, window, adc_bits):
    return [True] * (len(ppg) // int(window))
