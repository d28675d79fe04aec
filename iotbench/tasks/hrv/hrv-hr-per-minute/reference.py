"""Reference for hrv-hr-per-minute: mean heart rate of each complete minute of NN intervals."""

import numpy as np


def hr_per_minute(nni):
    """Mean heart rate (bpm) per complete minute; a beat belongs to the minute it ends in."""
    x = np.asarray(nni, dtype=float)
    t_end = np.cumsum(x)  # ms since the start of the recording
    n_min = int(t_end[-1] // 60000.0)
    out = []
    for k in range(n_min):
        sel = x[(t_end > k * 60000.0) & (t_end <= (k + 1) * 60000.0)]
        out.append(60000.0 / float(np.mean(sel)))
    return out
