"""Reference for hrv-time-domain: the standard time-domain HRV statistics of an NN series."""

import numpy as np


def time_domain_hrv(nni):
    """Return [mean NN (ms), SDNN (ms, ddof=1), pNN50 (%), mean HR (bpm)]."""
    x = np.asarray(nni, dtype=float)
    d = np.diff(x)
    mean_nn = float(np.mean(x))
    sdnn = float(np.std(x, ddof=1))
    pnn50 = 100.0 * float(np.sum(np.abs(d) > 50.0)) / len(d)
    mean_hr = float(np.mean(60000.0 / x))
    return [mean_nn, sdnn, pnn50, mean_hr]
