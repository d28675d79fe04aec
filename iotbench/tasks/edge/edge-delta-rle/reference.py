"""Reference for edge-delta-rle: first value, then (delta, run length) pairs."""


def encode(samples):
    """[x0, d1, n1, d2, n2, ...]: the deltas x[i] - x[i-1] with runs of equal consecutive
    deltas collapsed into (delta, count)."""
    xs = [int(v) for v in samples]
    if not xs:
        return []
    out = [xs[0]]
    prev, run = None, 0
    for a, b in zip(xs, xs[1:], strict=False):
        d = b - a
        if d == prev:
            run += 1
        else:
            if prev is not None:
                out += [prev, run]
            prev, run = d, 1
    if prev is not None:
        out += [prev, run]
    return out
