"""Mistakes visible in a draft's code, found before it costs a sandbox run (lint asks these).

Each detector walks the syntax tree through `Program` (aliases resolved once) and returns
(line, message) hits; messages quote the offending code and name the fix, briefly: a small
model reads them. All are hints, except where a mistake always fails (blocking).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterable

from agent.diagnostics.catalogue import Hit, static
from agent.diagnostics.program import Program
from agent.diagnostics.signals import PEAKISH, is_rate_name

SAMPLE_STD = re.compile(r"\bsample (standard deviation|std|variance|var)\b|unbiased|\bn ?- ?1\b"
                        r"|ddof ?= ?1", re.I)
POP_STD = re.compile(r"\bpopulation (standard deviation|std|variance)\b", re.I)
DB = re.compile(r"\bdB(FS|A|SPL)?\b|decibel", re.I)
_INTERVAL = re.compile(r"diff|rr|ibi|interval|nni|period|gap", re.I)
_WHERE = ("numpy.where", "numpy.nonzero", "numpy.flatnonzero", "numpy.argwhere")
# Differences of these never go down (times, sample indices, peak positions), so a gap test
# `np.diff(t) > 86400` is right as it stands and abs() advice would mislead.
_ORDERED_NAME = re.compile(r"(^|_)(t|ts|time|times|timestamps?|idx|ind|indices|index|peaks?|"
                           r"onsets?|locs?|positions?|beats?|rpeaks|r_peaks|samples?_at|"
                           r"starts?|ends?)($|_)|(time|idx|peaks|onsets)$", re.I)
_ORDERED_CALLS = (*_WHERE, "numpy.arange", "numpy.cumsum", "numpy.sort", "numpy.unique", "sorted",
                  "scipy.signal.find_peaks", "numpy.linspace")
_FILTER_DESIGN = ("scipy.signal.butter", "scipy.signal.cheby1", "scipy.signal.cheby2",
                  "scipy.signal.ellip", "scipy.signal.bessel", "scipy.signal.iirfilter",
                  "scipy.signal.firwin")

def _src(node: ast.AST, n: int = 40) -> str:
    return ast.unparse(node)[:n]


def _calls(prog: Program) -> Iterable[tuple[ast.Call, str, set[str]]]:
    """Every call with its dotted target and keyword names."""
    for node in ast.walk(prog.tree):
        if isinstance(node, ast.Call):
            yield node, prog.dotted(node.func) or "", {k.arg for k in node.keywords if k.arg}


# --- differences and peaks -------------------------------------------------------------------

@static("np-roll-diff", "x - np.roll(x, 1) wraps the last sample around: use np.diff(x)")
def np_roll_diff(prog: Program) -> Iterable[Hit]:
    for node in ast.walk(prog.tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and (
                prog.is_call_to(node.left, "numpy.roll")
                or prog.is_call_to(node.right, "numpy.roll")):
            yield node.lineno, (f"`{_src(node, 50)}` wraps around: one term is x[0] - x[-1]. "
                                "Successive differences are np.diff(x) (one element shorter)")


@static("list-arithmetic", "a Python list cannot be divided or subtracted: np.array(...)")
def list_arithmetic(prog: Program) -> Iterable[Hit]:
    for node in ast.walk(prog.tree):
        if isinstance(node, ast.BinOp) and not isinstance(node.op, (ast.Add, ast.Mult)) and (
                isinstance(node.left, ast.List) or isinstance(node.right, ast.List)):
            lst = node.left if isinstance(node.left, ast.List) else node.right
            yield node.lineno, (f"`{_src(node, 50)}`: a Python list cannot be divided or "
                                f"subtracted; write np.array({_src(lst, 30)})")


@static("find-peaks-distance", "find_peaks without distance= takes every bump as a peak")
def find_peaks_distance(prog: Program) -> Iterable[Hit]:
    for node, d, kw in _calls(prog):
        if d.endswith("find_peaks") and "distance" not in kw:
            yield node.lineno, ("find_peaks without distance= reports every bump (noise, "
                                "notch, T wave) as a peak: add distance=int(min_gap_seconds "
                                "* fs), e.g. 0.3 s between heartbeats")


@static("argmax-peaks", "np.argmax gives ONE index, not every peak")
def argmax_peaks(prog: Program) -> Iterable[Hit]:
    if not PEAKISH.search(prog.context):
        return
    for node, d, kw in _calls(prog):
        method = isinstance(node.func, ast.Attribute) and node.func.attr == "argmax" \
            and d.split(".")[0] != "numpy"
        if d not in ("numpy.argmax", "numpy.argmin") and not method:
            continue
        arg = node.args[0] if node.args else (
            node.func.value if isinstance(node.func, ast.Attribute) else None)
        if arg is not None and not isinstance(arg, ast.Subscript) and "axis" not in kw:
            yield node.lineno, ("np.argmax returns ONE index (the largest sample), not every "
                                "peak: use scipy.signal.find_peaks(x, distance=...)")


@static("std-ddof", "sample std is ddof=1, population std ddof=0: as the requirement says")
def std_ddof(prog: Program) -> Iterable[Hit]:
    """The requirement names the sample (N-1) or the population (N) deviation."""
    sample, population = SAMPLE_STD.search(prog.requirement), POP_STD.search(prog.requirement)
    for node, d, kw in _calls(prog):
        is_std = d in ("numpy.std", "numpy.var", "numpy.nanstd", "numpy.nanvar") or (
            isinstance(node.func, ast.Attribute) and node.func.attr in ("std", "var")
            and not d.startswith(("statistics", "numpy")))
        if is_std and "ddof" not in kw and sample:
            yield node.lineno, ("np.std divides by N (population); the requirement asks for "
                                "the sample standard deviation: np.std(x, ddof=1)")
        if d in ("statistics.pstdev", "statistics.pvariance") and sample:
            yield node.lineno, ("pstdev is the population std; the requirement asks for the "
                                "sample one: statistics.stdev")
        if (d in ("statistics.stdev", "statistics.variance") or ("ddof" in kw and is_std)) \
                and population:
            yield node.lineno, ("the requirement asks for the population std (divide by N): "
                                "np.std(x) without ddof")


@static("where-events", "np.where(x > thr) lists every sample past it, not one per event")
def where_events(prog: Program) -> Iterable[Hit]:
    """`np.where(ecg > thr)[0]` as the beats: every sample above the threshold, many per beat
    (a rate computed from them comes out near 60 * fs)."""
    if not PEAKISH.search(prog.context) or "find_peaks" in prog.source:
        return
    for node in ast.walk(prog.tree):
        if not (prog.is_call_to(node, *_WHERE) and isinstance(node, ast.Call) and node.args):
            continue
        cmp = node.args[0]
        if isinstance(cmp, ast.Compare) and len(cmp.ops) == 1 and isinstance(
                cmp.ops[0], (ast.Gt, ast.GtE, ast.Lt, ast.LtE)):
            yield node.lineno, (f"`{_src(node)}` lists EVERY sample past the threshold (many "
                                "per beat or event), not one index per event: use peaks, _ = "
                                "scipy.signal.find_peaks(x, height=..., distance=int(0.3 * "
                                "fs)) (or keep only the first sample of each run)")


def _ordered(prog: Program, node: ast.AST, names: Collection[str] = ()) -> bool:
    """Whether a differenced expression is non-decreasing by construction or by name
    (names: variables assigned from such an expression)."""
    while isinstance(node, ast.Subscript):  # np.where(...)[0], find_peaks(x)[0]
        node = node.value
    if isinstance(node, ast.Call):
        if prog.is_call_to(node, *_ORDERED_CALLS):
            return True
        if prog.is_call_to(node, "numpy.asarray", "numpy.array") and node.args:
            return _ordered(prog, node.args[0], names)
        return False
    if isinstance(node, ast.Attribute):
        return bool(_ORDERED_NAME.search(node.attr))
    return isinstance(node, ast.Name) and (node.id in names
                                           or bool(_ORDERED_NAME.search(node.id)))


def _ordered_names(prog: Program) -> set[str]:
    """Variables holding indices or times: `on = np.where(x > 0)[0]`, `p, _ = find_peaks(x)`."""
    names: set[str] = set()
    for node in ast.walk(prog.tree):
        if isinstance(node, ast.Assign) and _ordered(prog, node.value):
            for t in node.targets:
                first = t.elts[0] if isinstance(t, ast.Tuple) and t.elts else t
                if isinstance(first, ast.Name):
                    names.add(first.id)
    return names


@static("missing-abs", "np.diff(x) > bound counts only increases: np.abs(np.diff(x)) > bound")
def missing_abs(prog: Program) -> Iterable[Hit]:
    """`np.diff(x) > 50` counts only increases; 'differ by more than 50' needs abs()."""
    diff_vars: dict[str, ast.AST] = {}  # d = np.diff(...): the call, to see what it differences
    for node in ast.walk(prog.tree):
        if isinstance(node, ast.Assign) and prog.is_call_to(node.value, "numpy.diff"):
            diff_vars |= {t.id: node.value for t in node.targets if isinstance(t, ast.Name)}
    # `np.where(np.diff(ecg) > thr)` as beats: abs() is not what is missing there
    event_lines = {line for line, _ in where_events(prog)}
    ordered = _ordered_names(prog)
    for node in ast.walk(prog.tree):
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1
                and isinstance(node.ops[0], (ast.Gt, ast.GtE))) or node.lineno in event_lines:
            continue
        left = node.left
        call = left if prog.is_call_to(left, "numpy.diff") else (
            diff_vars.get(left.id) if isinstance(left, ast.Name) else None)
        rising = (isinstance(node.comparators[0], ast.Constant)
                  and node.comparators[0].value == 0)  # `> 0` asks "going up": signed on purpose
        if isinstance(call, ast.Call) and not rising and not (
                call.args and (_ordered(prog, call.args[0], ordered)
                               or prog.is_call_to(call.args[0], "numpy.sign"))):
            yield node.lineno, (f"`{_src(node)}` counts only increases; differences larger "
                                "than a bound in either direction need np.abs(...) first")


@static("rate-inverted", "a rate is 60 / interval, not interval * 60")
def rate_inverted(prog: Program) -> Iterable[Hit]:
    """`mean(rr) * 60 / fs`: a rate grows when the interval shrinks, so 60 must be divided."""
    for node in ast.walk(prog.tree):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
            continue
        sides = (node.left, node.right)
        sixty = any(isinstance(s, ast.Constant) and s.value in (60, 60.0) for s in sides)
        interval = any(isinstance(s, ast.Call) and (prog.dotted(s.func) or "").rsplit(".", 1)[-1]
                       in ("mean", "median") and _INTERVAL.search(ast.unparse(s)) for s in sides)
        if sixty and interval:
            yield node.lineno, (f"`{_src(node)}` multiplies an interval by 60, which grows "
                                "when beats are slower: a rate per minute is 60 / (mean "
                                "interval in seconds) = 60 * fs / mean(interval in samples)")


@static("diff-of-positions", "np.diff(np.arange(n)) is all ones: difference the indices")
def diff_of_positions(prog: Program) -> Iterable[Hit]:
    """`np.diff(np.arange(len(peaks)))` is all ones: positions in the list, not the indices."""
    for node in ast.walk(prog.tree):
        if not (prog.is_call_to(node, "numpy.diff") and isinstance(node, ast.Call)
                and node.args):
            continue
        arg = node.args[0]
        if isinstance(arg, ast.Call) and prog.dotted(arg.func) == "list" and arg.args:
            arg = arg.args[0]
        if prog.is_call_to(arg, "numpy.arange", "range"):
            yield node.lineno, (f"`{_src(node)}` is all ones (the positions 0, 1, 2, ...): the "
                                "intervals are the differences of the detected indices "
                                "themselves, np.diff(peaks) / fs")


# --- filters -----------------------------------------------------------------------------------

def _filter_designs(prog: Program) -> Iterable[tuple[ast.Call, dict[str, ast.AST], ast.AST]]:
    """Each filter design call with its keywords and its cutoff argument."""
    for node, _d, _kw in _calls(prog):
        if prog.is_call_to(node, *_FILTER_DESIGN):
            kw = {k.arg: k.value for k in node.keywords if k.arg}
            wn = node.args[1] if len(node.args) > 1 else kw.get("Wn", kw.get("cutoff"))
            if wn is not None:
                yield node, kw, wn


def _divided_by_rate(prog: Program, e: ast.AST, whole: bool, depth: int = 0) -> bool:
    """Some cutoff is `x / fs` (whole: by the full rate, not by fs / 2 or a Nyquist)."""
    assigned = prog.assignments()
    if isinstance(e, ast.Name) and e.id in assigned and depth < 3:
        return _divided_by_rate(prog, assigned[e.id], whole, depth + 1)
    if isinstance(e, (ast.List, ast.Tuple)):
        return any(_divided_by_rate(prog, x, whole, depth) for x in e.elts)
    if not (isinstance(e, ast.BinOp) and isinstance(e.op, ast.Div)):
        return False
    if whole:
        return isinstance(e.right, ast.Name) and is_rate_name(e.right.id)
    return bool(re.search(r"fs|nyq|rate|sampl", ast.unparse(e.right), re.I))


@static("cutoff-twice", "cutoffs divided by the rate and fs=fs: divided twice")
def cutoff_twice(prog: Program) -> Iterable[Hit]:
    """`butter(2, [5 / fs, 20 / fs], fs=fs)`: scipy divides by fs / 2 again, so the band
    lands near 0 Hz and the filtered signal is flat."""
    for node, kw, wn in _filter_designs(prog):
        if "fs" in kw and _divided_by_rate(prog, wn, whole=False):
            yield node.lineno, (f"`{_src(node, 50)}`: the cutoffs are already divided by the "
                                "rate and fs=fs divides them again, so the band sits near 0 "
                                "Hz; with fs=fs give them in Hz: butter(2, [5.0, 20.0], "
                                "btype='bandpass', fs=fs, output='sos')")


@static("cutoff-over-fs", "without fs= a cutoff is Hz / (fs / 2), not Hz / fs")
def cutoff_over_fs(prog: Program) -> Iterable[Hit]:
    """`butter(2, 5 / fs)`: without fs= the cutoff is a fraction of Nyquist, Hz / (fs / 2)."""
    for node, kw, wn in _filter_designs(prog):
        if "fs" not in kw and _divided_by_rate(prog, wn, whole=True):
            yield node.lineno, (f"`{_src(node, 50)}`: without fs= scipy wants cutoffs as a "
                                "fraction of the Nyquist rate, Hz / (fs / 2), not Hz / fs "
                                "(that halves them); simplest: give Hz and pass fs=fs")


@static("sos-unpacked", "output='sos' returns one array, not (b, a)", blocking=True)
def sos_unpacked(prog: Program) -> Iterable[Hit]:
    """`b, a = butter(..., output='sos')`: second-order sections are one array."""
    for node in ast.walk(prog.tree):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple) and len(
                node.targets[0].elts) == 2 and prog.is_call_to(node.value, *_FILTER_DESIGN):
            assert isinstance(node.value, ast.Call)
            sos = {k.arg: k.value for k in node.value.keywords}.get("output")
            if isinstance(sos, ast.Constant) and sos.value == "sos":
                yield node.lineno, (f"`{_src(node, 50)}`: with output='sos' the design returns "
                                    "ONE array, not (b, a): sos = butter(...); y = "
                                    "sosfiltfilt(sos, x)")


@static("sos-args", "sosfiltfilt takes (sos, x); (b, a, x) is filtfilt's", blocking=True)
def sos_args(prog: Program) -> Iterable[Hit]:
    """`sosfiltfilt(b, a, x)`: mixing the two filter APIs always fails."""
    for node, d, _kw in _calls(prog):
        if d in ("scipy.signal.sosfiltfilt", "scipy.signal.sosfilt") and len(node.args) >= 3:
            name = d.rsplit(".", 1)[-1]
            yield node.lineno, (f"`{_src(node, 50)}`: {name} takes (sos, x), not (b, a, x); "
                                "for b, a use filtfilt(b, a, x)")


# --- units and dtypes --------------------------------------------------------------------------

@static("units-db", "a dB threshold needs 20 * log10 of the RMS")
def units_db(prog: Program) -> Iterable[Hit]:
    if DB.search(prog.requirement) and "log10" not in prog.source:
        yield 0, ("the requirement uses decibels but the code never takes a log: a linear RMS "
                  "is not dB; convert with 20 * np.log10(rms) before comparing with a dB "
                  "threshold")


def _derived(prog: Program, value: ast.AST, names: set[str]) -> bool:
    """value is a view or copy of a named integer array with its dtype kept: x[a:b],
    x.reshape(..), np.asarray(x), np.array(x) (no dtype=)."""
    if isinstance(value, ast.Subscript):
        return isinstance(value.value, ast.Name) and value.value.id in names
    if isinstance(value, ast.Call):
        f = value.func
        if isinstance(f, ast.Attribute) and f.attr in ("reshape", "ravel", "flatten", "copy"):
            return isinstance(f.value, ast.Name) and f.value.id in names
        if prog.is_call_to(value, "numpy.asarray", "numpy.array") and value.args and not any(
                k.arg == "dtype" for k in value.keywords):
            return isinstance(value.args[0], ast.Name) and value.args[0].id in names
    return False


@static("int-overflow", "squares of 16-bit samples wrap around: convert to float first")
def int_overflow(prog: Program) -> Iterable[Hit]:
    """`frame ** 2` on int16 samples wraps around (200 ** 2 = 40000 > 32767): a silently
    wrong RMS or energy. Names derived from such an argument by slicing or reshaping keep
    the dtype; a name ever assigned from .astype(...) or with dtype= is taken as converted."""
    if not prog.small_int_args:
        return
    assigns = [n for n in ast.walk(prog.tree) if isinstance(n, ast.Assign)
               and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)]
    converted = set()
    for a in assigns:
        text = ast.unparse(a.value)
        if ".astype(" in text or "dtype=" in text or text.startswith("float("):
            converted.add(a.targets[0].id)  # type: ignore[attr-defined]
    names = set(prog.small_int_args) - converted
    grew = True
    while grew:
        grew = False
        for a in assigns:
            target = a.targets[0].id  # type: ignore[attr-defined]
            if target not in names | converted and _derived(prog, a.value, names):
                names.add(target)
                grew = True

    def tainted(node: ast.AST) -> bool:
        return (isinstance(node, ast.Name) and node.id in names) or _derived(prog, node, names)

    for node in ast.walk(prog.tree):
        squared = None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and tainted(node.left):
            squared = node.left
        elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)
              and tainted(node.left) and ast.dump(node.left) == ast.dump(node.right)):
            squared = node.left
        elif (isinstance(node, ast.Call) and prog.is_call_to(node, "numpy.square")
              and node.args and tainted(node.args[0])):
            squared = node.args[0]
        if squared is not None:
            yield node.lineno, (f"`{_src(node)}` squares 16-bit integers, which wrap around "
                                f"(200 ** 2 = 40000 > 32767): convert first, "
                                f"{_src(squared, 30)}.astype(np.float64)")


# --- training and test data --------------------------------------------------------------------

def _train_twin(word: str, train: set[str]) -> str:
    """test_windows -> train_windows when the task has that argument."""
    twin = word.replace("test", "train")
    return twin if twin != word and twin in train else word


@static("train-from-test", "training inputs made from the test data", blocking=True)
def train_from_test(prog: Program) -> Iterable[Hit]:
    """A function of the module called with data made only from the task's test argument
    where its parameter names training data: `f = window_features(test_windows);
    nearest_centroid(f, train_labels, f)` passes a split with as many test windows as
    training ones and fails every other split."""
    train = {a for a in prog.arg_names if "train" in a.lower()}
    test = {a for a in prog.arg_names if "test" in a.lower()}
    fn = next((n for n in prog.tree.body if isinstance(n, ast.FunctionDef)
               and n.name == prog.function_name), None)
    if not train or not test or fn is None:
        return
    params = {n.name: [a.arg for a in n.args.args] for n in prog.tree.body
              if isinstance(n, ast.FunctionDef) and n.name != prog.function_name}
    deps: dict[str, set[str]] = {}
    exprs: dict[str, ast.AST] = {}  # local name -> the expression last assigned to it

    def made_from(expr: ast.AST) -> set[str]:
        out: set[str] = set()
        for n in ast.walk(expr):
            if isinstance(n, ast.Name):
                out |= {n.id} if n.id in train | test else deps.get(n.id, set())
        return out

    # source order, not ast.walk's breadth-first one: an assignment nested in a loop or
    # branch must be seen before the call on a later line that uses its name
    for node in sorted((n for n in ast.walk(fn) if hasattr(n, "lineno")),
                       key=lambda n: (n.lineno, n.col_offset)):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for name in ast.walk(t):
                    if isinstance(name, ast.Name):
                        deps[name.id] = made_from(node.value)
                        exprs[name.id] = node.value
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in params):
            continue
        given = [*zip(params[node.func.id], node.args, strict=False),
                 *((k.arg, k.value) for k in node.keywords if k.arg)]
        for param, value in given:
            src = made_from(value)
            if "train" in param.lower() and src & test and not src & train:
                made = ast.unparse(exprs.get(value.id, value) if isinstance(value, ast.Name)
                                   else value)
                fix = re.sub(r"\w+", lambda m: _train_twin(m.group(0), train), made)
                how = f" ({fix})" if len(fix) <= 80 and fix != made else ""
                yield node.lineno, (f"`{param}` of {node.func.id}() gets data made only from "
                                    f"{', '.join(sorted(src & test))}: the training side must "
                                    f"be made the same way from {', '.join(sorted(train))}"
                                    f"{how}")
