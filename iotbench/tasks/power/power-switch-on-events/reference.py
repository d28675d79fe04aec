"""Reference for power-switch-on-events: two-threshold (hysteresis) on/off state machine."""

import numpy as np


def switch_on_events(load):
    """Indices where the appliance turns on. With lo/hi the day's minimum/maximum, it is on
    once the load exceeds lo + 0.3 (hi - lo) and off again only when the load drops below
    lo + 0.1 (hi - lo). The day starts in the state its first sample implies (on if above
    the on threshold); that start is not an event."""
    x = np.asarray(load, dtype=float)
    lo, hi = x.min(), x.max()
    on_t, off_t = lo + 0.3 * (hi - lo), lo + 0.1 * (hi - lo)
    state = bool(x[0] > on_t)
    events = []
    for i in range(1, len(x)):
        if not state and x[i] > on_t:
            state = True
            events.append(i)
        elif state and x[i] < off_t:
            state = False
    return events
