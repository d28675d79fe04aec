"""Reference for edge-send-on-delta: deadband (send-on-delta) reporting."""


def send_on_delta(x, delta):
    """Indices of the samples a node transmits: the first one, then every sample that differs
    from the last transmitted value by more than delta."""
    out = []
    last = None
    for i, v in enumerate(x):
        if last is None or abs(float(v) - last) > float(delta):
            out.append(i)
            last = float(v)
    return out
