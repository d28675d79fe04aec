"""Mistakes an exception gives away: what an error text means for the program that raised it.

Two groups. "api": names the sandbox lacks (every one that matches speaks: each names a
different fix). "error": the first that matches speaks; the specific entries, which quote the
failing expression or the shapes, come before the generic table of numpy/scipy/Python errors.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from agent.diagnostics.catalogue import Observation, runtime
from agent.diagnostics.signals import whole_blocks
from sandboxes import api_index

# --- api: names the image does not have --------------------------------------------------------

@runtime("missing-name", "a name the module does not have: the real one", "api")
def missing_name(obs: Observation) -> str:
    """`module 'scipy.signal' has no attribute 'rms'`, `cannot import name 'rms'`."""
    m = re.search(r"module '([\w.]+)' has no attribute '(\w+)'", obs.error) or re.search(
        r"cannot import name '(\w+)' from '([\w.]+)'", obs.error)
    if not m:
        return ""
    mod, name = (m.group(1), m.group(2)) if "has no attribute" in m.group(0) else (
        m.group(2), m.group(1))
    return api_index.explain_missing(mod, name, api_index.get_index(obs.environment))


@runtime("no-module", "a module the image does not hold", "api")
def no_module(obs: Observation) -> str:
    m = re.search(r"No module named '([\w.]+)'", obs.error)
    if not m:
        return ""
    index = api_index.get_index(obs.environment)
    return api_index.import_refusal(m.group(1).split(".")[0], index, obs.environment) or ""


@runtime("not-imported", "a library name used without its import", "api")
def not_imported(obs: Observation) -> str:
    m = re.search(r"name '(\w+)' is not defined", obs.error)
    if not m:
        return ""
    imp = api_index.import_line(m.group(1), api_index.get_index(obs.environment))
    return f"`{m.group(1)}` is not imported: {imp}" if imp else ""


# --- error: specific entries, which name the expression or the shapes ------------------------

@runtime("helper-call", "the verified helper is right: the call passes the wrong data", "error")
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


@runtime("float-window", "a window length computed from fs is a float", "error")
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


@runtime("dropped-axes", "a reduction dropped the axes it reduced: keepdims=True", "error")
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


@runtime("partial-block", "a reshape into blocks that do not divide the length", "error")
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


# the table, after the specific entries above: they speak first
for _row in yaml.safe_load(Path(__file__).with_name("error_table.yaml").read_text()):
    runtime(_row["id"], _row["hint"].split(":")[0], "error")(_table(_row["pattern"],
                                                                    _row["hint"]))
