"""Mistakes an exception gives away: what an error text means for the program that raised it.

Two groups. "api": names the sandbox lacks (every one that matches speaks: each names a
different fix). "error": the first that matches speaks; the specific entries, which quote the
failing expression or the shapes, come before the generic table of numpy/scipy/Python errors.
"""

from __future__ import annotations

import re

from agent.diagnostics.catalogue import Diagnostic, Example, Observation
from agent.diagnostics.signals import whole_blocks
from sandboxes import api_index

# the kinds of recording the examples run on (tests/test_diagnostics.py maps each to a real
# recording)
_NN = "nn-intervals"
_HR = "ecg"
_DAYS = "hourly-partial-days"
_HEAD = "import numpy as np\n\n\n"
_RMSSD = _HEAD + "def rmssd(nni):\n"
_RIGHT_RMSSD = _RMSSD + ("    d = np.diff(np.asarray(nni, dtype=float))\n"
                         "    return float(np.sqrt(np.mean(d ** 2)))\n")
_HR_FN = ("import numpy as np\nfrom scipy.signal import find_peaks\n\n\n"
          "def mean_heart_rate(ecg, fs):\n")
_RIGHT_HR = _HR_FN + ("    x = np.asarray(ecg, dtype=float)\n    x = x - np.median(x)\n"
                      "    peaks, _ = find_peaks(x, height=0.5 * np.max(x), "
                      "distance=int(0.3 * fs))\n"
                      "    return float(60 * fs / np.mean(np.diff(peaks)))\n")
_DAILY = _HEAD + "def daily_means(temps):\n"
_RIGHT_DAILY = _DAILY + ("    x = np.asarray(temps, dtype=float)\n"
                         "    return x[:len(x) // 24 * 24].reshape(-1, 24).mean(axis=1).tolist()\n")


# --- api: names the image does not have --------------------------------------------------------

def missing_name(obs: Observation) -> str:
    """`module 'scipy.signal' has no attribute 'rms'`, `cannot import name 'rms'`."""
    m = re.search(r"module '([\w.]+)' has no attribute '(\w+)'", obs.error) or re.search(
        r"cannot import name '(\w+)' from '([\w.]+)'", obs.error)
    if not m:
        return ""
    mod, name = (m.group(1), m.group(2)) if "has no attribute" in m.group(0) else (
        m.group(2), m.group(1))
    return api_index.explain_missing(mod, name, api_index.get_index(obs.environment))


def no_module(obs: Observation) -> str:
    m = re.search(r"No module named '([\w.]+)'", obs.error)
    if not m:
        return ""
    index = api_index.get_index(obs.environment)
    return api_index.import_refusal(m.group(1).split(".")[0], index, obs.environment) or ""


def not_imported(obs: Observation) -> str:
    m = re.search(r"name '(\w+)' is not defined", obs.error)
    if not m:
        return ""
    imp = api_index.import_line(m.group(1), api_index.get_index(obs.environment))
    return f"`{m.group(1)}` is not imported: {imp}" if imp else ""


# --- error: specific entries, which name the expression or the shapes ------------------------

def helper_call(obs: Observation) -> str:
    """The error was raised inside a linked knowledge-card helper, called from the program's
    own code: the helper is verified, so the call is what is wrong."""
    from agent import knowledge as kb  # the cards are loaded only when a traceback needs them

    frames = re.findall(r'File "solution\.py", line \d+, in (\w+)', obs.error)
    if len(frames) < 2 or not (call := kb.find_helper(frames[-1])) or frames[-2] == frames[-1]:
        return ""
    return (f"the error is raised inside the verified helper `{call}`, which is correct: "
            f"`{frames[-2]}` calls it with the wrong arguments. Pass each parameter what its "
            "name says; parameters that come in a pair (X_train and X_test) take arrays made "
            "the same way, by the same steps")


_INT_NEEDED = re.compile(r"cannot be interpreted as an integer|slice indices must be integers")
_TERM = r"(?:\d[\d.]*|[A-Za-z_]\w+)"  # a number or a name of 2+ characters (not a loop index)
_FS_PRODUCT = re.compile(rf"{_TERM}\s*\*\s*fs\b|\bfs\s*[*/]\s*{_TERM}")


def float_window(obs: Observation) -> str:
    """A float window length in range() or a slice, named from the failing line: under the
    generic advice a model fixes `range(n)` and keeps `x[i * (fs * 10):...]`."""
    if not _INT_NEEDED.search(obs.error):
        return ""
    lines = obs.error.splitlines()
    code = next((lines[i + 1].strip() for i, line in enumerate(lines[:-1])
                 if line.strip().startswith('File "solution.py"')), "")
    exprs = list(dict.fromkeys(e.strip() for e in _FS_PRODUCT.findall(code)))
    if not exprs:
        return ""
    shown = ", ".join(f"`{e}`" for e in exprs[:2])
    return (f"{shown} is a float (fs is a float): compute the window length once as an int, "
            f"n = int(round({exprs[0]})), and use n in range() and in every slice")


def dropped_axes(obs: Observation) -> str:
    """(40,6,100) against (40,): a reduction over axes dropped them; keepdims puts them back."""
    m = re.search(r"broadcast together with shapes \(([\d, ]*)\) \(([\d, ]*)\)", obs.error)
    if not m:
        return ""
    a, b = ([int(x) for x in g.replace(" ", "").split(",") if x] for g in m.groups())
    if len(a) == len(b) or not a or not b:
        return ""
    big, small = (a, b) if len(a) > len(b) else (b, a)
    rest = iter(big)
    if all(n in rest for n in small):  # small's sizes appear in big, in order: axes dropped
        return (f"shapes {tuple(big)} and {tuple(small)}: a reduction over some axes dropped "
                "them, so the result no longer lines up with the array; keep them with "
                "keepdims=True (np.mean(w, axis=..., keepdims=True)) or index [:, None]")
    return ""


def partial_block(obs: Observation) -> str:
    """A reshape into blocks that does not divide the length: name the whole blocks and the
    samples left over (repairs otherwise keep the reshape, or pad the partial block)."""
    m = re.search(r"cannot reshape array of size (\d+) into shape \(([\d, -]*)\)", obs.error)
    if not m:
        return ""
    size, dims = int(m.group(1)), [int(d) for d in re.findall(r"-?\d+", m.group(2))]
    if not 1 <= len(dims) <= 2 or not 2 <= dims[-1] <= size or size % dims[-1] == 0:
        return ""
    whole, left = divmod(size, n := dims[-1])
    return (f"{size} samples are not a whole number of blocks of {n} ({whole} whole blocks and "
            f"{left} left over): take the whole blocks first, {whole_blocks(n)}, and keep or "
            f"drop the {left} left over as the task says (a partial block is not padded)")


def _table(pattern: str, hint: str):  # noqa: ANN202 - a matcher built from one table row
    regex = re.compile(pattern)

    def match(obs: Observation) -> str:
        return hint if regex.search(obs.error) else ""

    match.__doc__ = f"error text matching {pattern!r}"
    return match


def _ex(wrong_body: str, head: str = _RMSSD, right: str = _RIGHT_RMSSD,
        case: str = _NN) -> tuple[Example, ...]:
    return (Example(head + wrong_body, right, case=case),)


# (id, pattern in the error text, hint, examples): common numpy/scipy/Python errors
_TABLE = [
    ("list-arithmetic-error",
     r"unsupported operand type\(s\) for [-/*+]+: 'list'|can't multiply sequence by non-int"
     r"|unsupported operand type\(s\) for .*'list'",
     "a Python list does no arithmetic: convert with np.asarray(...) first",
     _ex("    d = [b - a for a, b in zip(nni, nni[1:])]\n"
         "    return float(np.sqrt(np.mean(d ** 2)))\n")),
    ("list-method", r"'list' object has no attribute",
     "a Python list has no numpy methods: convert with np.asarray(...)",
     _ex("    d = list(np.diff(nni))\n    return float(np.sqrt(d.mean()))\n")),
    ("string-arithmetic",
     r"did not contain a loop with signature matching types \(dtype\('<U|"
     r"unsupported operand type\(s\) for [-+/*]+: 'str'",
     "arithmetic on strings: the labels cannot be subtracted or averaged; compute on the "
     "numeric windows and use the labels only to group them (np.array(labels) == c)",
     _ex("    return float(sum(str(x) - 1 for x in nni))\n")),
    ("broadcast", r"operands could not be broadcast together",
     "arrays of different lengths: np.diff(x) is one shorter than x; align them (x[1:])",
     _ex("    x = np.asarray(nni, dtype=float)\n    d = np.diff(x)\n"
         "    return float(np.sqrt(np.mean((d * x) ** 2)))\n")),
    ("ambiguous-truth", r"truth value of an array with more than one element is ambiguous",
     "an array in an `if`/`and`: use a boolean mask, np.any(...) or np.all(...)",
     _ex("    d = np.diff(np.asarray(nni, dtype=float))\n    if d > 0:\n"
         "        return 1.0\n    return float(np.sqrt(np.mean(d ** 2)))\n")),
    ("int-index",
     r"cannot be interpreted as an integer|slice indices must be integers|only integer scalar"
     r"|integer scalar arrays", "indices and window sizes must be ints: int(0.3 * fs)",
     _ex("    n = len(nni) / 2\n    d = np.diff(np.asarray(nni[:n], dtype=float))\n"
         "    return float(np.sqrt(np.mean(d ** 2)))\n")),
    ("cutoff-range", r"critical frequencies must be 0 < Wn < 1|Wn",
     "filter cutoffs: pass fs=fs to scipy.signal.butter, or divide Hz by fs / 2",
     _ex("    from scipy.signal import butter, filtfilt\n    b, a = butter(2, 40.0)\n"
         "    return float(np.mean(filtfilt(b, a, ecg)))\n", head=_HR_FN, right=_RIGHT_HR,
         case=_HR)),
    ("padlen", r"padlen", "the signal is shorter than filtfilt's padding: use a lower filter "
     "order or sosfiltfilt",
     _ex("    from scipy.signal import butter, filtfilt\n    b, a = butter(4, 0.1)\n"
         "    d = filtfilt(b, a, np.asarray(nni[:10], dtype=float))\n"
         "    return float(np.sqrt(np.mean(np.diff(d) ** 2)))\n")),
    ("empty",
     r"zero-size array|empty sequence|mean of empty slice|index 0 is out of bounds",
     "an empty array: nothing was detected (threshold too high?); handle the empty case",
     _ex("    d = np.diff(np.asarray(nni, dtype=float))\n"
         "    return float(max(d[d > 1e9]))\n")),
    ("out-of-bounds", r"index -?\d+ is out of bounds", "an index past the end: check loop "
     "bounds and windows at the edges of the signal",
     _ex("    x = np.asarray(nni, dtype=float)\n"
         "    d = [x[i + 1] - x[i] for i in range(len(x))]\n"
         "    return float(np.sqrt(np.mean(np.square(d))))\n")),
    ("zero-division", r"ZeroDivisionError|division by zero", "division by zero: check for "
     "empty arrays or zero counts",
     _ex("    big = [x for x in nni if x > 1e9]\n    return float(sum(big) / len(big))\n")),
    ("no-fs-keyword", r"got an unexpected keyword argument 'fs'",
     "this function takes no fs: give distances and widths in samples, e.g. "
     "distance=int(0.3 * fs)",
     _ex("    peaks, _ = find_peaks(ecg, distance=0.3, fs=fs)\n"
         "    return float(60 * fs / np.mean(np.diff(peaks)))\n", head=_HR_FN, right=_RIGHT_HR,
         case=_HR)),
    ("unknown-keyword", r"got an unexpected keyword argument",
     "that keyword does not exist for this function: remove it or use a documented one",
     _ex("    peaks, _ = find_peaks(ecg, min_distance=int(0.3 * fs))\n"
         "    return float(60 * fs / np.mean(np.diff(peaks)))\n", head=_HR_FN, right=_RIGHT_HR,
         case=_HR)),
    ("ragged-windows", r"inhomogeneous", "windows of unequal length: the last window is "
     "shorter, so np.array cannot stack them; compute each window's value inside the loop, "
     "or keep whole windows only (range(0, len(x) - n + 1, hop)) where the task drops a "
     "partial one",
     _ex("    x = np.asarray(temps, dtype=float)\n"
         "    days = np.array([x[i:i + 24] for i in range(0, len(x), 24)])\n"
         "    return days.mean(axis=1).tolist()\n", head=_DAILY, right=_RIGHT_DAILY,
         case=_DAYS)),
    ("axis-1d", r"axis [1-9]\d* is out of bounds for array of dimension 1",
     "that array is 1-D, so it has no axis 1; for one value per frame of a signal, make the "
     "frames first: n = int(frame_seconds * fs); frames = x[:len(x) // n * n].reshape(-1, n), "
     "then reduce with axis=1; otherwise drop the axis argument",
     _ex("    x = np.asarray(temps, dtype=float)\n    return x.mean(axis=1).tolist()\n",
         head=_DAILY, right=_RIGHT_DAILY, case=_DAYS)),
    ("scalar-as-array",
     r"'(numpy\.)?(float|int)(16|32|64)?' object (does not support item assignment|is not "
     r"subscriptable|is not iterable)|object of type '(numpy\.)?(float|int)(16|32|64)?' has "
     r"no len\(\)",
     "a single number where an array was meant: a reduction over the whole signal (np.mean, "
     "np.sum, np.max without the right axis) collapsed it to one value; compute one value "
     "per window or frame",
     _ex("    x = np.asarray(temps, dtype=float)\n    means = np.mean(x)\n"
         "    return [float(m) for m in means]\n", head=_DAILY, right=_RIGHT_DAILY,
         case=_DAYS)),
    ("shape",
     r"must be 1-D|object too deep|setting an array element with a sequence",
     "wrong shape: check the input shape (use np.asarray(x).ravel() for one channel)",
     _ex("    out = np.zeros(3)\n    out[0] = np.diff(np.asarray(nni, dtype=float))\n"
         "    return float(out[0])\n")),
]

ENTRIES: list[Diagnostic] = [
    Diagnostic("missing-name", "a name the module does not have: the real one",
               (Example(_RMSSD + "    from scipy.signal import rms\n"
                        "    return float(rms(np.diff(nni)))\n", _RIGHT_RMSSD, case=_NN),),
               runtime=missing_name, group="api"),
    Diagnostic("no-module", "a module the image does not hold",
               (Example(_RMSSD + "    import pyhrv\n    return float(pyhrv.rmssd(nni))\n",
                        _RIGHT_RMSSD, case=_NN),),
               runtime=no_module, group="api"),
    Diagnostic("not-imported", "a library name used without its import",
               (Example("import numpy as np\n\n\ndef mean_heart_rate(ecg, fs):\n"
                        "    peaks, _ = find_peaks(np.asarray(ecg, dtype=float), "
                        "distance=int(0.3 * fs))\n"
                        "    return float(60 * fs / np.mean(np.diff(peaks)))\n",
                        _RIGHT_HR, case=_HR),),
               runtime=not_imported, group="api"),
    Diagnostic("helper-call", "the verified helper is right: the call passes the wrong data",
               (Example(_HEAD + "def nearest_centroid(train_x, train_y, test_x):\n"
                        "    return [train_y[0]] * len(test_x)\n\n\n"
                        "def rmssd(nni):\n"
                        "    return float(nearest_centroid(nni, list(nni), 5)[0])\n",
                        _RIGHT_RMSSD, case=_NN),),
               runtime=helper_call, group="error"),
    Diagnostic("float-window", "a window length computed from fs is a float",
               (Example(_HR_FN + "    x = np.asarray(ecg, dtype=float)\n"
                        "    seg = x[:fs * 2.5]\n"
                        "    return float(60 * fs / np.mean(np.diff(find_peaks(seg)[0])))\n",
                        _RIGHT_HR, case=_HR),),
               runtime=float_window, group="error"),
    Diagnostic("dropped-axes", "a reduction dropped the axes it reduced: keepdims=True",
               (Example(_DAILY + "    x = np.asarray(temps, dtype=float)\n"
                        "    days = x[:len(x) // 24 * 24].reshape(-1, 2, 12)\n"
                        "    days = days - days.mean(axis=(1, 2))\n"
                        "    return days.mean(axis=(1, 2)).tolist()\n",
                        _RIGHT_DAILY, case=_DAYS),),
               runtime=dropped_axes, group="error"),
    Diagnostic("partial-block", "a reshape into blocks that do not divide the length",
               (Example(_DAILY + "    x = np.asarray(temps, dtype=float)\n"
                        "    return x.reshape(-1, 24).mean(axis=1).tolist()\n",
                        _RIGHT_DAILY, case=_DAYS),),
               runtime=partial_block, group="error"),
    *(Diagnostic(id_, hint.split(":")[0], examples, runtime=_table(pattern, hint),
                 group="error") for id_, pattern, hint, examples in _TABLE),
]
