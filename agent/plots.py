"""What a program returned on a case, drawn as inline SVG: the one set of plots that the bench
report (agent/report.py) and the run report (agent/run_report.py) both show, and the page
they sit in.

A leaf module (numpy, agent.spec and agent.checks only), so either report can import it
without importing the other. Plot data are plain JSON-able dicts: an event task gets a
trace excerpt with detected against reference events, a classification task a confusion
matrix, and every other metric the returned values against the expected ones (with the
metric's tolerance) next to the input trace. Every page is self-contained: no script, font,
stylesheet or image is fetched from anywhere.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from agent.diagnostics.signals import sampling_rate
from agent.spec import Case


def esc(x: Any) -> str:
    return html.escape(str(x))


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


# -- plot data -------------------------------------------------------------------------------

def case_plot(case: Case, result: Mapping[str, Any]) -> dict[str, Any]:
    """The plot of one judged case (a CaseResult or its dict): what it returned against the
    expected. For visible cases only: the plot holds the case's inputs and values."""
    base = {"case": case.name, "summary": result.get("summary", ""),
            "passed": bool(result.get("passed")), "status": result.get("status", "")}
    returned = result.get("value")
    if case.check.metric == "accuracy":
        return {**base, "kind": "confusion", **confusion(returned, case.expect)}
    if case.check.metric == "events_f1":
        return {**base, "kind": "events", **event_excerpt(case.args, returned, case.expect,
                                                          case.check.params["tolerance"])}
    return {**base, "kind": "values", **value_excerpt(case.args, returned, case.expect,
                                                      case.check.metric, case.check.params)}


def confusion(returned: Any, expected: list[Any]) -> dict[str, Any]:
    """Labels (expected first, then any others returned) and counts[true][predicted]."""
    got = [str(x) for x in returned] if isinstance(returned, list) else []
    truth = [str(x) for x in expected]
    labels = sorted(set(truth), key=_natural) + sorted(set(got) - set(truth), key=_natural)
    index = {lab: i for i, lab in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, g in zip(truth, got, strict=False):
        matrix[index[t]][index[g]] += 1
    return {"labels": labels, "matrix": matrix}


def _natural(label: str) -> tuple[int, float, str]:
    """Numbers in numeric order ("2" before "10"), then words."""
    try:
        return 0, float(label), ""
    except ValueError:
        return 1, 0.0, label


BUCKETS = 750  # a long series is drawn as min/max pairs of this many buckets


def _signal(args: dict[str, Any], min_len: float = 0) -> tuple[str, np.ndarray] | None:
    """The trace a plot is drawn on: the first 1-D numeric argument longer than min_len."""
    return next(((k, np.asarray(v, dtype=float)) for k, v in args.items()
                 if isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype.kind in "fiu"
                 and len(v) > min_len), None)


def event_excerpt(args: dict[str, Any], returned: Any, expected: list[Any], tolerance: float,
                  n_events: int = 8, max_len: int = 200_000) -> dict[str, Any]:
    """The window of n_events reference events where the program errs most (missed plus
    spurious events, matched as the events_f1 metric matches them), with the signal.

    Events are sample indices, or times when they are fractional and the function takes a
    sampling rate (fs); the signal is the first 1-D numeric argument long enough.
    """
    from agent.checks import match_events

    ref = np.sort(np.asarray(expected, dtype=float).ravel())
    try:
        found = np.sort(np.asarray(returned, dtype=float).ravel())
    except (TypeError, ValueError):
        found = np.array([])
    found = found[np.isfinite(found)]
    marks = ref if len(ref) else found
    if not len(marks):
        lo, hi = 0.0, 1.0
    else:
        pairs = match_events(found, ref, tolerance)
        wrong = np.sort(np.concatenate([np.delete(found, [a for a, _ in pairs]),
                                        np.delete(ref, [b for _, b in pairs])]))
        gap = float(np.median(np.diff(marks))) / 2 if len(marks) > 1 else 1.0
        windows = [(max(0.0, float(marks[i]) - gap),
                    float(marks[min(i + n_events, len(marks)) - 1]) + gap)
                   for i in range(max(1, len(marks) - n_events + 1))]
        lo, hi = max(windows, key=lambda w: (np.sum((wrong >= w[0]) & (wrong <= w[1])),
                                             -w[0]))
    rate = sampling_rate(args, above=0.0)
    scale = rate if rate and np.any(marks != np.round(marks)) else 1.0  # samples per unit
    trace = _signal(args, hi * scale)
    points = None
    if trace is not None:
        signal = trace[1]
        hi = min(hi, lo + max_len / scale)
        first = int(lo * scale)
        points = [[(first + i) / scale, v]
                  for i, v in _decimate(signal[first:int(hi * scale) + 1])]
    return {"start": lo, "end": hi, "unit": "samples" if scale == 1 else "s",
            "signal": points, "detected": [float(x) for x in found if lo <= x <= hi],
            "reference": [float(x) for x in ref if lo <= x <= hi]}


def _numbers(x: Any) -> list[float] | None:
    """A value as a flat list of floats (NaN and inf kept), or None when it is no number."""
    if x is None or isinstance(x, (bool, str, dict)):
        return None
    try:
        return [float(v) for v in np.asarray(x, dtype=float).ravel()]
    except (TypeError, ValueError, OverflowError):
        return None


def _tolerance(metric: str, params: Mapping[str, float], want: float) -> float:
    """How far from `want` a returned number may lie and pass (the metric's own bound)."""
    if metric == "abs_error":
        return float(params["max"])
    if metric == "rel_error":
        return float(params["max"]) * abs(want)
    if metric == "allclose":
        return float(params["atol"]) + float(params["rtol"]) * abs(want)
    return 0.0  # equals


def value_excerpt(args: dict[str, Any], returned: Any, expected: Any, metric: str,
                  params: Mapping[str, float]) -> dict[str, Any]:
    """Returned against expected numbers as (index, value) points, each expected one with the
    half-width of the band the metric passes, and the input trace; values that are no
    numbers (equals on text) are kept as text."""
    want, got = _numbers(expected), _numbers(returned)
    trace = _signal(args)
    out: dict[str, Any] = {
        "metric": metric, "expected": [], "tolerance": [], "returned": [],
        "expected_n": 0, "returned_n": 0, "not_finite": 0,
        "expected_text": _short(expected), "returned_text": _short(returned),
        "trace_name": trace[0] if trace else None,
        "trace_len": len(trace[1]) if trace else 0,
        "trace": [[i, v] for i, v in _decimate(trace[1])] if trace else None}
    if want is not None:
        out["expected_n"] = len(want)
        out["expected"] = [[i, v] for i, v in _points(want)]
        out["tolerance"] = [_tolerance(metric, params, v) for _, v in out["expected"]]
    if got is not None:
        finite = [(i, v) for i, v in enumerate(got) if math.isfinite(v)]
        out.update(returned_n=len(got), not_finite=len(got) - len(finite),
                   returned=[[i, v] for i, v in (finite if len(finite) <= 2 * BUCKETS
                                                 else _decimate(np.asarray(got)))])
    return out


def _points(values: list[float]) -> list[tuple[int, float]]:
    return list(enumerate(values)) if len(values) <= 2 * BUCKETS else \
        _decimate(np.asarray(values))


def _short(x: Any, n: int = 120) -> str:
    text = str(x)
    return text if len(text) <= n else text[:n] + "..."


def _decimate(y: np.ndarray, buckets: int = BUCKETS) -> list[tuple[int, float]]:
    """(index, value) points; a long signal keeps each bucket's min and max, so peaks stay."""
    y = np.where(np.isfinite(y), y, np.nanmedian(y) if np.isfinite(y).any() else 0.0)
    if len(y) <= 2 * buckets:
        return [(i, float(v)) for i, v in enumerate(y)]
    out: list[tuple[int, float]] = []
    edges = np.linspace(0, len(y), buckets + 1).astype(int)
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        i, j = sorted((a + int(np.argmin(y[a:b])), a + int(np.argmax(y[a:b]))))
        out += [(i, float(y[i])), (j, float(y[j]))]
    return out


# -- SVG -------------------------------------------------------------------------------------

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" class="{cls}">'
GREEN, RED, BLUE, GREY = "#1a9850", "#d73027", "#2166ac", "#555"


def _finite(v: float) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def _polyline(pts: list[tuple[float, float]], colour: str, width: float = 0.8,
              cls: str = "") -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    extra = f' class="{cls}"' if cls else ""
    return (f'<polyline{extra} fill="none" stroke="{colour}" stroke-width="{width}" '
            f'points="{coords}"/>')


def svg_plot(p: dict[str, Any]) -> str:
    """The SVG of any plot case_plot made."""
    return {"events": svg_events, "confusion": svg_confusion, "values": svg_values}[p["kind"]](p)


def svg_events(p: dict[str, Any], width: int = 760, height: int = 200) -> str:
    """Signal excerpt; reference events as green ticks on top, detected as red below."""
    lo, hi = p["start"], max(p["end"], p["start"] + 1)
    sx = lambda x: 40 + (x - lo) / (hi - lo) * (width - 50)  # noqa: E731
    parts = [SVG.format(w=width, h=height, cls="events"),
             f'<rect width="{width}" height="{height}" fill="#fff"/>']
    if p["signal"]:
        ys = [v for _, v in p["signal"]]
        ymin, ymax = min(ys), max(ys)
        span = (ymax - ymin) or 1.0
        parts.append(_polyline([(sx(x), 30 + (ymax - v) / span * (height - 70))
                                for x, v in p["signal"]], GREY))
    for x in p["reference"]:
        parts.append(f'<line class="ref" x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="8" y2="24" '
                     f'stroke="{GREEN}" stroke-width="2"/>')
    for x in p["detected"]:
        parts.append(f'<circle class="det" cx="{sx(x):.1f}" cy="{height - 28}" r="4" '
                     f'fill="{RED}"/>')
    parts.append(f'<text x="40" y="{height - 6}" font-size="11">{lo:.4g}-{hi:.4g} {p["unit"]}: '
                 f'<tspan fill="{GREEN}">| reference ({len(p["reference"])})</tspan>  '
                 f'<tspan fill="{RED}">&#9679; detected ({len(p["detected"])})</tspan></text>')
    return "\n".join([*parts, "</svg>"])


def svg_confusion(p: dict[str, Any], cell: int = 34) -> str:
    """Rows: true labels; columns: predicted. Shaded by the row's share (blue: right)."""
    labels, m = p["labels"], p["matrix"]
    pad = 20 + 7 * max((len(str(x)) for x in labels), default=4)
    width, height = pad + cell * len(labels) + 50, pad + cell * len(labels) + 4
    parts = [SVG.format(w=width, h=height, cls="confusion"),
             f'<rect width="{width}" height="{height}" fill="#fff"/>',
             '<text x="4" y="14" font-size="11">true \u2193 / predicted \u2192</text>']
    for i, row in enumerate(m):
        total = sum(row) or 1
        y = pad + i * cell
        parts.append(f'<text x="{pad - 4}" y="{y + cell / 2 + 4}" font-size="11" '
                     f'text-anchor="end">{esc(labels[i])}</text>')
        for j, n in enumerate(row):
            x = pad + j * cell
            colour = BLUE if i == j else "#b2182b"
            parts.append(f'<rect class="cell" x="{x}" y="{y}" width="{cell - 2}" '
                         f'height="{cell - 2}" fill="{colour}" '
                         f'fill-opacity="{0.08 + 0.9 * n / total:.2f}"/><text '
                         f'x="{x + cell / 2 - 1}" y="{y + cell / 2 + 4}" font-size="11" '
                         f'text-anchor="middle">{n}</text>')
    for j, lab in enumerate(labels):
        x = pad + j * cell + cell / 2
        parts.append(f'<text x="{x}" y="{pad - 4}" font-size="11" text-anchor="start" '
                     f'transform="rotate(-45 {x} {pad - 4})">{esc(lab)}</text>')
    return "\n".join([*parts, "</svg>"])


def svg_values(p: dict[str, Any], width: int = 760) -> str:
    """The input trace on top; below, the expected values (green, with the band the metric
    passes) against the returned ones (red): a number line for one value, a series by index
    for several, the two texts for values that are no numbers."""
    trace_h = 90 if p["trace"] else 0
    want, got = p["expected"], p["returned"]
    scalar = len(want) == 1 and p["returned_n"] <= 1
    body_h = 70 if scalar or not want else 170
    height = trace_h + body_h + 24
    parts = [SVG.format(w=width, h=height, cls="values"),
             f'<rect width="{width}" height="{height}" fill="#fff"/>']
    if p["trace"]:
        ys = [v for _, v in p["trace"]]
        ymin, ymax = min(ys), max(ys)
        span, n = (ymax - ymin) or 1.0, max(p["trace_len"] - 1, 1)
        parts.append(_polyline([(40 + i / n * (width - 50), 18 + (ymax - v) / span
                                 * (trace_h - 30)) for i, v in p["trace"]], GREY, cls="trace"))
        parts.append(f'<text x="40" y="12" font-size="11">input {esc(p["trace_name"])} '
                     f'({p["trace_len"]} samples)</text>')
    if not want:
        parts += [f'<text x="40" y="{trace_h + 24}" font-size="12" fill="{GREEN}">expected: '
                  f'{esc(p["expected_text"])}</text>',
                  f'<text x="40" y="{trace_h + 48}" font-size="12" fill="{RED}">returned: '
                  f'{esc(p["returned_text"])}</text>']
    elif scalar:
        parts += _number_line(want[0][1], p["tolerance"][0], got[0][1] if got else None,
                              p["returned_text"], trace_h, width)
    else:
        parts += _series(p, trace_h, body_h, width)
    return "\n".join([*parts, "</svg>"])


def _number_line(want: float, tol: float, got: float | None, got_text: str, top: int,
                 width: int) -> list[str]:
    """One expected number, its band and the returned one on a shared horizontal axis."""
    shown = [x for x in (want - tol, want + tol, got) if x is not None and _finite(x)]
    lo, hi = min(shown), max(shown)
    pad = (hi - lo) * 0.15 or max(abs(want) * 0.05, 1.0)
    lo, hi = lo - pad, hi + pad
    sx = lambda x: 40 + (x - lo) / (hi - lo) * (width - 80)  # noqa: E731
    y = top + 30
    parts = [f'<line x1="40" x2="{width - 40}" y1="{y}" y2="{y}" stroke="#999"/>']
    if _finite(tol) and tol > 0:
        parts.append(f'<rect class="band" x="{sx(want - tol):.1f}" y="{y - 10}" '
                     f'width="{sx(want + tol) - sx(want - tol):.1f}" height="20" '
                     f'fill="{GREEN}" fill-opacity="0.15"/>')
    parts.append(f'<line class="exp" x1="{sx(want):.1f}" x2="{sx(want):.1f}" y1="{y - 14}" '
                 f'y2="{y + 14}" stroke="{GREEN}" stroke-width="2"/>')
    if got is not None:
        parts.append(f'<circle class="ret" cx="{sx(got):.1f}" cy="{y}" r="5" fill="{RED}"/>')
    returned = f"{got:.6g}" if got is not None else got_text
    parts.append(f'<text x="40" y="{y + 32}" font-size="11"><tspan fill="{GREEN}">| expected '
                 f'{want:.6g} (passes within {tol:.4g})</tspan>  <tspan fill="{RED}">&#9679; '
                 f'returned {esc(returned)}</tspan></text>')
    return parts


def _series(p: dict[str, Any], top: int, height: int, width: int) -> list[str]:
    """Expected values by index with their band, and the returned ones over them."""
    want, tol, got = p["expected"], p["tolerance"], p["returned"]
    lows = [v - t for (_, v), t in zip(want, tol, strict=True)] + [v for _, v in got]
    highs = [v + t for (_, v), t in zip(want, tol, strict=True)] + [v for _, v in got]
    ymin, ymax = min(lows), max(highs)
    span = (ymax - ymin) or 1.0
    n = max(max((i for i, _ in want), default=0), max((i for i, _ in got), default=0), 1)
    sx = lambda i: 40 + i / n * (width - 60)  # noqa: E731
    sy = lambda v: top + 10 + (ymax - v) / span * (height - 30)  # noqa: E731
    parts = [f'<text x="36" y="{sy(ymax) + 4:.1f}" font-size="10" text-anchor="end">'
             f'{ymax:.4g}</text>', f'<text x="36" y="{sy(ymin) + 4:.1f}" font-size="10" '
             f'text-anchor="end">{ymin:.4g}</text>']
    if any(t > 0 for t in tol):
        edge = [(sx(i), sy(v + t)) for (i, v), t in zip(want, tol, strict=True)] + \
               [(sx(i), sy(v - t)) for (i, v), t in reversed(list(zip(want, tol, strict=True)))]
        parts.append(f'<polygon class="band" fill="{GREEN}" fill-opacity="0.15" points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for x, y in edge) + '"/>')
    parts.append(_polyline([(sx(i), sy(v)) for i, v in want], GREEN, 1.5, "exp"))
    if got:
        parts.append(_polyline([(sx(i), sy(v)) for i, v in got], RED, 1.2, "ret"))
    if len(want) <= 100 and len(got) <= 100:  # dots where each value is, while they fit
        parts += [f'<circle class="exp" cx="{sx(i):.1f}" cy="{sy(v):.1f}" r="2.5" '
                  f'fill="{GREEN}"/>' for i, v in want]
        parts += [f'<circle class="ret" cx="{sx(i):.1f}" cy="{sy(v):.1f}" r="2.5" '
                  f'fill="{RED}"/>' for i, v in got]
    bad = f", {p['not_finite']} not finite" if p["not_finite"] else ""
    returned = f"{p['returned_n']}{bad}" if p["returned_n"] else esc(p["returned_text"])
    parts.append(f'<text x="40" y="{top + height + 14}" font-size="11">by index: '
                 f'<tspan fill="{GREEN}">&#9679; expected ({p["expected_n"]}; band: passes)'
                 f'</tspan>  <tspan fill="{RED}">&#9679; returned ({returned})</tspan></text>')
    return parts


def svg_timeline(rows: list[Mapping[str, Any]], width: int = 760, height: int = 190) -> str:
    """One point per attempt at its score (below 0: lint blocked it; 1: every visible case
    passes), labelled with its failure class, a ring where verify ran the hidden cases (green:
    they pass, red: one fails)."""
    scores = [float(r["score"]) for r in rows] or [0.0]
    lo, hi = min(-1.0, *scores), max(1.0, *scores)
    step = (width - 140) / max(len(rows) - 1, 1)  # room for a label under either end
    sx = lambda k: 80 + k * step if len(rows) > 1 else width / 2  # noqa: E731
    sy = lambda v: 20 + (hi - v) / (hi - lo) * (height - 70)  # noqa: E731
    parts = [SVG.format(w=width, h=height, cls="timeline"),
             f'<rect width="{width}" height="{height}" fill="#fff"/>']
    for v in sorted({lo, 0.0, 1.0, hi}):
        parts.append(f'<line x1="40" x2="{width - 20}" y1="{sy(v):.1f}" y2="{sy(v):.1f}" '
                     f'stroke="#ddd"/><text x="34" y="{sy(v) + 4:.1f}" font-size="10" '
                     f'text-anchor="end">{v:g}</text>')
    if len(rows) > 1:
        parts.append(_polyline([(sx(k), sy(float(r["score"]))) for k, r in enumerate(rows)],
                               "#999", 1.0))
    for k, r in enumerate(rows):
        x, y = sx(k), sy(float(r["score"]))
        ok = r["failure"] in ("none", "")
        parts.append(f'<circle class="attempt" cx="{x:.1f}" cy="{y:.1f}" r="6" '
                     f'fill="{GREEN if ok else RED}"/>')
        if r.get("hidden") is not None:
            parts.append(f'<circle class="verify" cx="{x:.1f}" cy="{y:.1f}" r="10" fill="none" '
                         f'stroke="{GREEN if r["hidden"] else RED}" stroke-width="2"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 34}" font-size="11" text-anchor="middle">'
                     f'{r["attempt"]} {esc(r["mode"])}</text><text x="{x:.1f}" '
                     f'y="{height - 20}" font-size="10" text-anchor="middle" '
                     f'fill="{GREEN if ok else RED}">{esc(r["failure"])}</text>')
    parts.append(f'<text x="40" y="{height - 4}" font-size="11">attempt and mode; score '
                 'vertical; ring: hidden cases checked (green pass, red fail)</text>')
    return "\n".join([*parts, "</svg>"])


# no pure red or green: on these pages they mean "detected/returned" and "reference/expected"
NODE_COLOURS = ("#4575b4", "#fdae61", "#74add1", "#984ea3", "#17becf", "#999999", "#f781bf",
                "#a6761d", "#e6ab02", "#313695")


def svg_stacked(rows: Sequence[tuple[str, Mapping[str, float]]],
                totals: Mapping[str, float], width: int = 760) -> str:
    """One bar per row (an attempt), cut into the seconds each node took in it, on one
    scale; the legend gives each node's total over the run."""
    nodes = list(dict.fromkeys([*totals, *(n for _, secs in rows for n in secs)]))
    colour = {n: NODE_COLOURS[i % len(NODE_COLOURS)] for i, n in enumerate(nodes)}
    longest = max((sum(secs.values()) for _, secs in rows), default=0.0) or 1.0
    row, left = 22, 110
    legend_rows = (len(nodes) + 4) // 5
    height = row * len(rows) + 18 * legend_rows + 16
    parts = [SVG.format(w=width, h=height, cls="seconds")]
    for i, (name, secs) in enumerate(rows):
        y, x = 5 + i * row, float(left)
        parts.append(f'<text x="{left - 6}" y="{y + 14}" font-size="12" text-anchor="end">'
                     f'{esc(name)}</text>')
        for node, v in secs.items():
            w = v / longest * (width - left - 90)
            parts.append(f'<rect class="node" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" '
                         f'height="{row - 6}" fill="{colour[node]}"><title>{esc(node)} '
                         f'{v:.2f} s</title></rect>')
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 14}" font-size="11">'
                     f'{sum(secs.values()):.2f} s</text>')
    for k, node in enumerate(nodes):
        x, y = 10 + (k % 5) * 150, row * len(rows) + 14 + (k // 5) * 18
        parts.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{colour[node]}"/>'
                     f'<text x="{x + 14}" y="{y + 9}" font-size="11">{esc(node)} '
                     f'{totals.get(node, 0.0):.2f} s</text>')
    return "\n".join([*parts, "</svg>"])


def svg_bars(items: Mapping[str, float], width: int = 520, scale: float = 1.0,
             label: Callable[[float], str] = pct) -> str:
    """Horizontal bars, one per name: a fraction (pass@1 per category) or any quantity up to
    `scale` (seconds per node), labelled by `label`."""
    row = 22
    height = row * len(items) + 10
    parts = [SVG.format(w=width, h=height, cls="bars")]
    for i, (name, v) in enumerate(items.items()):
        y, w = 5 + i * row, v / (scale or 1.0) * (width - 220)
        parts.append(f'<text x="150" y="{y + 14}" font-size="12" text-anchor="end">'
                     f'{esc(name)}</text><rect x="156" y="{y + 3}" height="{row - 6}" '
                     f'width="{w:.1f}" fill="#4575b4"/><text '
                     f'x="{160 + w:.1f}" y="{y + 14}" font-size="12">{esc(label(v))}</text>')
    return "\n".join([*parts, "</svg>"])


# -- the page --------------------------------------------------------------------------------

STYLE = ("body{font-family:sans-serif;max-width:1000px;margin:2em auto}"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
         "padding:3px 8px;text-align:right}td:first-child{text-align:left}")


def html_table(head: list[str], rows: list[list[Any]], raw: bool = False, cls: str = "") -> str:
    """A table of text cells (escaped here; raw: the cells are already HTML)."""
    cell = (lambda c: str(c)) if raw else esc
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in r) + "</tr>" for r in rows)
    attr = f' class="{esc(cls)}"' if cls else ""
    return f"<table{attr}><tr>{th}</tr>{body}</table>"


def html_page(title: str, body: list[str], style: str = "") -> str:
    """A whole self-contained page: inline style, no scripts, nothing fetched."""
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{esc(title)}"
            f"</title><style>{STYLE}{style}</style></head><body>\n" + "\n".join(body)
            + "\n</body></html>\n")
