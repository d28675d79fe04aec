"""Reference for temp-daily-stats-gaps: per-UTC-day min/max/mean, days with >= 18 readings."""

import numpy as np


def daily_stats(t, temp):
    """Rows [day start (unix s), min, max, mean] for each UTC calendar day holding at least
    18 readings, in time order; other days are left out."""
    t = np.asarray(t, dtype=np.int64)
    x = np.asarray(temp, dtype=float)
    day = t // 86400
    rows = []
    for d in np.unique(day):
        v = x[day == d]
        if len(v) >= 18:
            rows.append([float(d * 86400), float(v.min()), float(v.max()), float(v.mean())])
    return rows
