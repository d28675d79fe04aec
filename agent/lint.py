"""Static checks on a draft before it costs a sandbox run.

Blocking findings are certain failures (syntax, missing function, wrong arguments, imports
the sandbox lacks, invented API names, undefined names, example code at module level): the
draft goes straight back to repair with the finding's message. Non-blocking findings are
signal-processing mistakes the bare models make often (np.roll differences, argmax for
peaks, population std, a list divided by a number, find_peaks without distance=); they are
attached as hints to the feedback of a run. Messages are short: a small model reads them.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sandboxes import api_index

if TYPE_CHECKING:
    from agent.spec import Spec


@dataclass
class Finding:
    rule: str
    line: int
    message: str
    blocking: bool

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


# ruff F codes that are certain runtime errors (blocking). F811 is blocking only when the
# redefined name is a function (two versions of it: the first is dead code); other F codes
# are ignored, except F841 (a computed value never used: often the filtered signal) as a hint.
RUFF_BLOCKING = {"F821", "F822", "F823", "F632", "F631", "F633", "F634", "F701", "F702",
                 "F704", "F706", "F707", "F722", "F501", "F502", "F503", "F504", "F505",
                 "F506", "F507", "F508", "F509", "F521", "F522", "F523", "F524", "F525"}
# words of a task whose answer comes from detected events (feedback shares the list)
EVENT_WORDS = "peak|beat|pulse|event|step|spike|onset|qrs"
PEAKISH = re.compile(EVENT_WORDS + "|r-?wave", re.I)
SAMPLE_STD = re.compile(r"\bsample (standard deviation|std|variance|var)\b|unbiased|\bn ?- ?1\b"
                        r"|ddof ?= ?1", re.I)
POP_STD = re.compile(r"\bpopulation (standard deviation|std|variance)\b", re.I)
_INTERVAL = re.compile(r"diff|rr|ibi|interval|nni|period|gap", re.I)
DB = re.compile(r"\bdB(FS|A|SPL)?\b|decibel", re.I)
# Module-level calls that read or make up data (example usage, not constants).
_DATA_CALLS = re.compile(r"^(np\.random|numpy\.random|random|open|input|np\.load|np\.loadtxt|"
                         r"np\.genfromtxt|pd\.|plt\.|print)")


def lint(source: str, function_name: str, arg_names: list[str], requirement: str = "",
         index: dict[str, Any] | None = None, small_int_args: Collection[str] = (),
         environment: str | None = None) -> list[Finding]:
    """All findings for `source`, blocking ones first; `index` defaults to the sandbox's of
    profile `environment` (sandboxes/profiles.py: what the program may import).

    small_int_args: arguments whose recordings are 8/16-bit integers (PCM audio, ADC counts),
    whose squares wrap around unless converted first."""
    try:
        tree = ast.parse(source)
        compile(source, "solution.py", "exec")
    except SyntaxError as exc:
        text = (exc.text or "").strip()
        where = f": `{text[:80]}`" if text else ""
        msg = f"SyntaxError: {exc.msg}{where}"
        if re.match(r"(from\s+\S+\s+)?import\b.*=", text):
            # `from scipy.signal import butter, output="sos"`: call options put on the import
            msg += ("; an import line only names modules and functions: options such as "
                    "output=\"sos\" go into the call, butter(2, [5.0, 20.0], btype="
                    "\"bandpass\", fs=fs, output=\"sos\")")
        return [Finding("syntax", exc.lineno or 0, msg, True)]
    if index is None:
        index = api_index.get_index(environment)
    ctx = _Ctx(tree, source, index, environment)
    out: list[Finding] = []
    out += _check_function(tree, function_name, arg_names)
    out += _check_imports(ctx)
    out += _check_module_level(tree, function_name)
    out += _check_api_names(ctx)
    out += _ruff(source, ctx, function_name)
    out += _warnings(ctx, requirement, function_name)
    out += _int_square(ctx, small_int_args)
    out += _train_from_test(tree, function_name, arg_names)
    seen: set[tuple[str, int, str]] = set()
    unique = []
    for f in out:
        key = (f.rule, f.line, f.message)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return sorted(unique, key=lambda f: (not f.blocking, f.line))


def small_int_args(spec: Spec) -> list[str]:
    """Arguments whose visible recordings are 8/16-bit integers (their squares wrap)."""
    return sorted({name for case in spec.visible_cases for name, v in case.args.items()
                   if isinstance(v, np.ndarray) and v.dtype.kind in "iu"
                   and v.dtype.itemsize <= 2})


def blocking(findings: list[Finding]) -> list[Finding]:
    """The findings that send a draft back to repair without a sandbox run."""
    return [f for f in findings if f.blocking]


class _Ctx:
    """Parsed draft plus what its names are bound to (aliases of modules and of names)."""

    def __init__(self, tree: ast.Module, source: str, index: dict[str, Any] | None,
                 environment: str | None = None) -> None:
        self.tree = tree
        self.source = source
        self.index = index
        self.environment = environment
        self.modules: dict[str, str] = {}  # local name -> module ("np" -> "numpy")
        self.names: dict[str, str] = {}  # local name -> "module.name" for from-imports
        indexed = set(index["modules"]) if index else set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.modules[a.asname] = a.name
                    else:
                        self.modules[a.name.split(".")[0]] = a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    local = a.asname or a.name
                    if full in indexed:
                        self.modules[local] = full
                    else:
                        self.names[local] = full

    def dotted(self, node: ast.AST) -> str | None:
        """`np.fft.rfft` -> "numpy.fft.rfft"; `find_peaks` -> "scipy.signal.find_peaks"."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        if node.id in self.modules:
            base = self.modules[node.id]
        elif node.id in self.names:
            base = self.names[node.id]
        else:
            base = node.id
        return ".".join([base, *reversed(parts)])

    def line(self, lineno: int) -> str:
        lines = self.source.splitlines()
        return lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""


def _signature(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args]
    if a.vararg:
        names.append("*" + a.vararg.arg)
    names += [x.arg for x in a.kwonlyargs]
    if a.kwarg:
        names.append("**" + a.kwarg.arg)
    return f"def {fn.name}({', '.join(names)})"


def _check_function(tree: ast.Module, name: str, arg_names: list[str]) -> list[Finding]:
    want = f"def {name}({', '.join(arg_names)})"
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    fn = next((d for d in reversed(defs) if d.name == name), None)
    if fn is None:
        nested = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name]
        if nested:
            return [Finding("missing-function", nested[0].lineno, f"{name} must be a top-level "
                            f"function, not inside a class or function: `{want}:`", True)]
        found = "; found " + ", ".join(f"`{_signature(d)}`" for d in defs[:3]) if defs else ""
        return [Finding("missing-function", 0, f"no function {name}: define `{want}:` at the "
                        f"top level{found}", True)]
    a = fn.args
    accepted = {x.arg for x in a.args + a.kwonlyargs}
    n_req_pos = len(a.args) - len(a.defaults)
    required = {x.arg for x in a.args[:n_req_pos]}
    required |= {x.arg for x, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is None}
    problems = []
    if a.posonlyargs:
        problems.append("no positional-only arguments (it is called with keywords)")
    missing = [n for n in arg_names if n not in accepted and not a.kwarg]
    extra = sorted(required - set(arg_names))
    if missing:
        problems.append("missing " + ", ".join(missing))
    if extra:
        problems.append("unexpected " + ", ".join(extra))
    if not problems:
        return []
    return [Finding("arguments", fn.lineno, f"{name} is called as {name}("
                    f"{', '.join(f'{n}=...' for n in arg_names)}): write `{want}:`, yours is "
                    f"`{_signature(fn)}` ({'; '.join(problems)})", True)]


def _check_imports(ctx: _Ctx) -> list[Finding]:
    out = []
    for node in ast.walk(ctx.tree):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            mods = [node.module or ""]
        else:
            continue
        for mod in mods:
            why = api_index.import_refusal(mod.split(".")[0], ctx.index, ctx.environment)
            if why:
                out.append(Finding("import", node.lineno, why, True))
    return out


def _is_main_guard(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Compare) and isinstance(t.left, ast.Name)
            and t.left.id == "__name__")


def _call_names(node: ast.AST) -> list[str]:
    out = []
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            out.append(ast.unparse(n.func))
    return out


def _check_module_level(tree: ast.Module, function_name: str) -> list[Finding]:
    """Only imports, defs, classes, constants and docstrings may run at import time."""
    defined = {n.name for n in tree.body
               if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    bad: list[ast.stmt] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef,
                                 ast.AsyncFunctionDef, ast.ClassDef, ast.Pass)):
                continue
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # docstring or a bare string
            if isinstance(node, ast.If):
                if not _is_main_guard(node):  # the harness never runs __main__ blocks
                    visit(node.body)
                    visit(node.orelse)
                continue
            if isinstance(node, ast.Try):
                visit(node.body)
                for h in node.handlers:
                    visit(h.body)
                continue
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                calls = _call_names(node)
                if not any(c in defined or _DATA_CALLS.match(c) for c in calls):
                    continue
            bad.append(node)

    visit(tree.body)
    if not bad:
        return []
    first = bad[0]
    code = ast.unparse(first).splitlines()[0][:70]
    more = f" (also line{'s' if len(bad) > 2 else ''} " + ", ".join(
        str(b.lineno) for b in bad[1:6]) + ")" if len(bad) > 1 else ""
    return [Finding("module-level", first.lineno, f"remove example usage at module level: "
                    f"`{code}`{more}. Only imports, constants and def {function_name}(...) "
                    "belong in the file; the checker calls the function itself", True)]


def _check_api_names(ctx: _Ctx) -> list[Finding]:
    """`from scipy.signal import rms`, `np.rms(x)`: names the sandbox's modules lack."""
    if not ctx.index:
        return []
    mods = ctx.index["modules"]
    out = []
    for node in ast.walk(ctx.tree):
        if isinstance(node, ast.ImportFrom) and node.module in mods and not node.level:
            for a in node.names:
                if a.name != "*" and a.name not in mods[node.module]:
                    msg = api_index.explain_missing(node.module, a.name, ctx.index)
                    out.append(Finding("unknown-name", node.lineno, msg, True))
        elif isinstance(node, ast.Import):
            for a in node.names:
                parent, _, leaf = a.name.rpartition(".")
                if parent in mods and a.name not in mods and leaf not in mods[parent]:
                    out.append(Finding("unknown-name", node.lineno,
                                       f"no module {a.name}: "
                                       + api_index.explain_missing(parent, leaf, ctx.index),
                                       True))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            dotted = ctx.dotted(node)
            if not dotted or not isinstance(node.value, (ast.Name, ast.Attribute)):
                continue
            module, _, attr = dotted.rpartition(".")
            if module in mods and _bound_to_module(ctx, node.value) and attr not in mods[module]:
                msg = api_index.explain_missing(module, attr, ctx.index)
                out.append(Finding("unknown-name", node.lineno, msg, True))
    return out


def _bound_to_module(ctx: _Ctx, node: ast.AST) -> bool:
    """True when `node` (np, np.fft, scipy.signal) names a module, not a local variable."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id in ctx.modules and not _assigned(ctx, node.id)


def _assigned(ctx: _Ctx, name: str) -> bool:
    for n in ast.walk(ctx.tree):
        if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store):
            return True
        if isinstance(n, ast.arg) and n.arg == name:
            return True
    return False


def _ruff_command() -> list[str] | None:
    exe = shutil.which("ruff")
    if exe:
        return [exe]
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    return None


def autofix(source: str) -> str:
    """Fix before judging what is certain and not worth a repair round: a local variable
    that shadows the module-level function it calls (unshadow), and unused imports (ruff's
    F401 fix; small models import what they never use, matplotlib, pandas)."""
    source = unshadow(source)
    cmd = _ruff_command()
    if cmd is None:
        return source
    try:
        proc = subprocess.run(
            [*cmd, "check", "--isolated", "--no-cache", "--fix", "--select", "F401", "--quiet",
             "--stdin-filename", "solution.py", "-"],
            input=source, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return source
    return proc.stdout if proc.stdout.strip() else source


def unshadow(source: str) -> str:
    """`rate = rate(peaks, fs)` inside a function, where `rate` is a module-level function:
    the assignment makes `rate` local to the whole function, so the call raises
    UnboundLocalError. Programs that link helpers name their results after them. Every use
    of the name in that function except as the called function is renamed `rate_value`."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    edits: list[tuple[int, int, int, str]] = []  # line, start col, end col, new text
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        nodes = list(ast.walk(fn))
        declared = {n for node in nodes if isinstance(node, ast.Global | ast.Nonlocal)
                    for n in node.names}
        args = {a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)}
        called = {id(node.func) for node in nodes
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        used = {node.id for node in nodes if isinstance(node, ast.Name)}
        for name in sorted(functions - declared - args - {fn.name}):
            names = [node for node in nodes if isinstance(node, ast.Name) and node.id == name]
            stored = any(isinstance(node.ctx, ast.Store) for node in names)
            if not stored or not any(id(node) in called for node in names):
                continue
            new = f"{name}_value"
            while new in used or new in functions:
                new += "_"
            edits += [(node.lineno, node.col_offset, node.end_col_offset or 0, new)
                      for node in names if id(node) not in called]
    if not edits:
        return source
    lines = source.splitlines(keepends=True)
    for line, start, end, new in sorted(edits, reverse=True):
        text = lines[line - 1].encode()  # ast columns count UTF-8 bytes
        lines[line - 1] = (text[:start] + new.encode() + text[end:]).decode()
    return "".join(lines)


def _ruff(source: str, ctx: _Ctx, function_name: str) -> list[Finding]:
    """ruff's F rules; without ruff, a scope-blind undefined-name check instead."""
    cmd = _ruff_command()
    if cmd is None:
        return _undefined_names(ctx)
    try:
        proc = subprocess.run(
            [*cmd, "check", "--isolated", "--no-cache", "--select", "F", "--output-format",
             "json", "--stdin-filename", "solution.py", "-"],
            input=source, capture_output=True, text=True, timeout=30)
        items = json.loads(proc.stdout or "[]")
    except (OSError, subprocess.SubprocessError, ValueError):
        return _undefined_names(ctx)
    out = []
    for it in items:
        code, line = it.get("code") or "", (it.get("location") or {}).get("row", 0)
        msg = it.get("message", "")
        if code == "F821":
            name = re.search(r"`([^`]+)`", msg)
            out.append(_undefined(name.group(1) if name else msg, line, ctx))
        elif code == "F811":
            name = re.search(r"`([^`]+)`", msg)
            fn = name and name.group(1) == function_name
            out.append(Finding("F811", line, f"{msg}: keep one definition" if fn else msg,
                               bool(fn)))
        elif code in RUFF_BLOCKING:
            out.append(Finding(code, line, msg, True))
        elif code == "F841":
            name = re.search(r"`([^`]+)`", msg)
            var = name.group(1) if name else "a variable"
            out.append(Finding("unused", line, f"`{var}` is computed but never used: did you "
                               "mean to use it in the next steps?", False))
    return out


def _undefined(name: str, line: int, ctx: _Ctx) -> Finding:
    imp = api_index.import_line(name, ctx.index)
    fix = f"; add `{imp}`" if imp and not imp.startswith("np.") else (
        f"; write {imp}" if imp else "")
    return Finding("undefined-name", line, f"`{name}` is used but never defined or "
                   f"imported{fix}", True)


def _undefined_names(ctx: _Ctx) -> list[Finding]:
    """Fallback without ruff: loads of names bound nowhere in the file (scope-blind)."""
    bound = set(dir(builtins)) | {"__name__", "__file__", "__doc__"}
    for n in ast.walk(ctx.tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            bound.add(n.id)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            if isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names):
                return []
            bound |= {(a.asname or a.name).split(".")[0] for a in n.names}
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bound.add(n.name)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            bound |= set(n.names)
        elif isinstance(n, ast.MatchAs) and n.name:
            bound.add(n.name)
    out, seen = [], set()
    for n in ast.walk(ctx.tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in bound \
                and n.id not in seen:
            seen.add(n.id)
            out.append(_undefined(n.id, n.lineno, ctx))
    return out


# ---- non-blocking signal-processing warnings -------------------------------------------

def _is_call_to(ctx: _Ctx, node: ast.AST, *targets: str) -> bool:
    if not isinstance(node, ast.Call):
        return False
    d = ctx.dotted(node.func)
    if d is None:
        return False
    return d in targets


def _warnings(ctx: _Ctx, requirement: str, function_name: str) -> list[Finding]:
    out: list[Finding] = []
    diff_vars: dict[str, ast.Call] = {}  # d = np.diff(...): the call, to see what it differences
    context = f"{requirement} {function_name}"
    for node in ast.walk(ctx.tree):
        if isinstance(node, ast.Assign) and _is_call_to(ctx, node.value, "numpy.diff"):
            assert isinstance(node.value, ast.Call)
            diff_vars |= {t.id: node.value for t in node.targets if isinstance(t, ast.Name)}
    for node in ast.walk(ctx.tree):
        # x - np.roll(x, 1): wraps the last sample around to the front.
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and (
                _is_call_to(ctx, node.left, "numpy.roll")
                or _is_call_to(ctx, node.right, "numpy.roll")):
            out.append(Finding("np-roll-diff", node.lineno, f"`{ast.unparse(node)[:50]}` wraps "
                               "around: one term is x[0] - x[-1]. Successive differences are "
                               "np.diff(x) (one element shorter)", False))
        # [0.5, 4] / (fs / 2): a Python list does no arithmetic.
        if isinstance(node, ast.BinOp) and not isinstance(node.op, (ast.Add, ast.Mult)) and (
                isinstance(node.left, ast.List) or isinstance(node.right, ast.List)):
            lst = node.left if isinstance(node.left, ast.List) else node.right
            out.append(Finding("list-arithmetic", node.lineno, f"`{ast.unparse(node)[:50]}`: a "
                               f"Python list cannot be divided or subtracted; write "
                               f"np.array({ast.unparse(lst)[:30]})", False))
        if not isinstance(node, ast.Call):
            continue
        d = ctx.dotted(node.func) or ""
        kw = {k.arg for k in node.keywords}
        if d.endswith("find_peaks") and "distance" not in kw:
            out.append(Finding("find-peaks-distance", node.lineno, "find_peaks without "
                               "distance= reports every bump (noise, notch, T wave) as a peak: "
                               "add distance=int(min_gap_seconds * fs), e.g. 0.3 s between "
                               "heartbeats", False))
        if d in ("numpy.argmax", "numpy.argmin") or (
                isinstance(node.func, ast.Attribute) and node.func.attr == "argmax"
                and d.split(".")[0] not in ("numpy",)):
            arg = node.args[0] if node.args else (
                node.func.value if isinstance(node.func, ast.Attribute) else None)
            whole = arg is not None and not isinstance(arg, ast.Subscript)
            if whole and PEAKISH.search(context) and "axis" not in kw:
                out.append(Finding("argmax-peaks", node.lineno, "np.argmax returns ONE index "
                                   "(the largest sample), not every peak: use "
                                   "scipy.signal.find_peaks(x, distance=...)", False))
        is_std = d in ("numpy.std", "numpy.var", "numpy.nanstd", "numpy.nanvar") or (
            isinstance(node.func, ast.Attribute) and node.func.attr in ("std", "var")
            and not d.startswith(("statistics", "numpy")))
        if is_std and "ddof" not in kw and SAMPLE_STD.search(requirement):
            out.append(Finding("std-ddof", node.lineno, "np.std divides by N (population); the "
                               "requirement asks for the sample standard deviation: "
                               "np.std(x, ddof=1)", False))
        if d in ("statistics.pstdev", "statistics.pvariance") and SAMPLE_STD.search(requirement):
            out.append(Finding("std-ddof", node.lineno, "pstdev is the population std; the "
                               "requirement asks for the sample one: statistics.stdev", False))
        if d in ("statistics.stdev", "statistics.variance") or ("ddof" in kw and is_std):
            if POP_STD.search(requirement):
                out.append(Finding("std-ddof", node.lineno, "the requirement asks for the "
                                   "population std (divide by N): np.std(x) without ddof",
                                   False))
    events = _where_events(ctx, context)
    out += events
    # `np.where(np.diff(ecg) > thr)` as beats: abs() is not what is missing there
    event_lines = {e.line for e in events}
    out += [f for f in _abs_diff(ctx, diff_vars) if f.line not in event_lines]
    out += _rate_inverted(ctx)
    out += _diff_of_positions(ctx)
    out += _cutoffs_normalised_twice(ctx)
    out += _sos_misuse(ctx)
    if DB.search(requirement) and "log10" not in ctx.source:
        out.append(Finding("units-db", 0, "the requirement uses decibels but the code never "
                           "takes a log: a linear RMS is not dB; convert with "
                           "20 * np.log10(rms) before comparing with a dB threshold", False))
    return out


# Differences of these never go down (times, sample indices, peak positions), so a gap test
# `np.diff(t) > 86400` is right as it stands and abs() advice would mislead (it
# would fire on `np.diff(np.where(x > 0)[0]) > 0` and on day-gap tests over timestamps).
_ORDERED_NAME = re.compile(r"(^|_)(t|ts|time|times|timestamps?|idx|ind|indices|index|peaks?|"
                           r"onsets?|locs?|positions?|beats?|rpeaks|r_peaks|samples?_at|"
                           r"starts?|ends?)($|_)|(time|idx|peaks|onsets)$", re.I)
_WHERE = ("numpy.where", "numpy.nonzero", "numpy.flatnonzero", "numpy.argwhere")
_ORDERED_CALLS = (*_WHERE, "numpy.arange", "numpy.cumsum", "numpy.sort", "numpy.unique", "sorted",
                  "scipy.signal.find_peaks", "numpy.linspace")


def _ordered(ctx: _Ctx, node: ast.AST, names: Collection[str] = ()) -> bool:
    """Whether a differenced expression is non-decreasing by construction or by name
    (names: variables assigned from such an expression)."""
    while isinstance(node, ast.Subscript):  # np.where(...)[0], find_peaks(x)[0]
        node = node.value
    if isinstance(node, ast.Call):
        if _is_call_to(ctx, node, *_ORDERED_CALLS):
            return True
        if _is_call_to(ctx, node, "numpy.asarray", "numpy.array") and node.args:
            return _ordered(ctx, node.args[0], names)
        return False
    if isinstance(node, ast.Attribute):
        return bool(_ORDERED_NAME.search(node.attr))
    return isinstance(node, ast.Name) and (node.id in names
                                           or bool(_ORDERED_NAME.search(node.id)))


def _ordered_names(ctx: _Ctx) -> set[str]:
    """Variables holding indices or times: `on = np.where(x > 0)[0]`, `p, _ = find_peaks(x)`."""
    names: set[str] = set()
    for node in ast.walk(ctx.tree):
        if isinstance(node, ast.Assign) and _ordered(ctx, node.value):
            for t in node.targets:
                first = t.elts[0] if isinstance(t, ast.Tuple) and t.elts else t
                if isinstance(first, ast.Name):
                    names.add(first.id)
    return names


def _derived(ctx: _Ctx, value: ast.AST, names: set[str]) -> bool:
    """value is a view or copy of a named integer array with its dtype kept: x[a:b],
    x.reshape(..), np.asarray(x), np.array(x) (no dtype=)."""
    if isinstance(value, ast.Subscript):
        return isinstance(value.value, ast.Name) and value.value.id in names
    if isinstance(value, ast.Call):
        f = value.func
        if isinstance(f, ast.Attribute) and f.attr in ("reshape", "ravel", "flatten", "copy"):
            return isinstance(f.value, ast.Name) and f.value.id in names
        if _is_call_to(ctx, value, "numpy.asarray", "numpy.array") and value.args and not any(
                k.arg == "dtype" for k in value.keywords):
            return isinstance(value.args[0], ast.Name) and value.args[0].id in names
    return False


def _int_square(ctx: _Ctx, small_int_args: Collection[str]) -> list[Finding]:
    """`frame ** 2` on int16 samples wraps around (200 ** 2 = 40000 > 32767): a silently
    wrong RMS or energy. Names derived from such an argument by slicing or reshaping keep
    the dtype; a name ever assigned from .astype(...) or with dtype= is taken as converted."""
    if not small_int_args:
        return []
    assigns = [n for n in ast.walk(ctx.tree) if isinstance(n, ast.Assign)
               and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)]
    converted = set()
    for a in assigns:
        text = ast.unparse(a.value)
        if ".astype(" in text or "dtype=" in text or text.startswith("float("):
            converted.add(a.targets[0].id)  # type: ignore[attr-defined]
    names = set(small_int_args) - converted
    grew = True
    while grew:
        grew = False
        for a in assigns:
            target = a.targets[0].id  # type: ignore[attr-defined]
            if target not in names | converted and _derived(ctx, a.value, names):
                names.add(target)
                grew = True

    def tainted(node: ast.AST) -> bool:
        return (isinstance(node, ast.Name) and node.id in names) or _derived(ctx, node, names)

    out = []
    for node in ast.walk(ctx.tree):
        squared = None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and tainted(node.left):
            squared = node.left
        elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)
              and tainted(node.left) and ast.dump(node.left) == ast.dump(node.right)):
            squared = node.left
        elif (isinstance(node, ast.Call) and _is_call_to(ctx, node, "numpy.square")
              and node.args and tainted(node.args[0])):
            squared = node.args[0]
        if squared is not None:
            what = ast.unparse(squared)[:30]
            out.append(Finding("int-overflow", node.lineno, f"`{ast.unparse(node)[:40]}` "
                               f"squares 16-bit integers, which wrap around (200 ** 2 = 40000 "
                               f"> 32767): convert first, {what}.astype(np.float64)", False))
    return out


def _abs_diff(ctx: _Ctx, diff_vars: dict[str, ast.Call]) -> list[Finding]:
    """`np.diff(x) > 50` counts only increases; 'differ by more than 50' needs abs()."""
    out, ordered = [], _ordered_names(ctx)
    for node in ast.walk(ctx.tree):
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1
                and isinstance(node.ops[0], (ast.Gt, ast.GtE))):
            continue
        left = node.left
        call = left if _is_call_to(ctx, left, "numpy.diff") else (
            diff_vars.get(left.id) if isinstance(left, ast.Name) else None)
        rising = (isinstance(node.comparators[0], ast.Constant)
                  and node.comparators[0].value == 0)  # `> 0` asks "going up": signed on purpose
        if isinstance(call, ast.Call) and not rising and not (
                call.args and (_ordered(ctx, call.args[0], ordered)
                               or _is_call_to(ctx, call.args[0], "numpy.sign"))):
            out.append(Finding("missing-abs", node.lineno, f"`{ast.unparse(node)[:40]}` counts "
                               "only increases; differences larger than a bound in either "
                               "direction need np.abs(...) first", False))
    return out


def _rate_inverted(ctx: _Ctx) -> list[Finding]:
    """`mean(rr) * 60 / fs`: a rate grows when the interval shrinks, so 60 must be divided."""
    out = []
    for node in ast.walk(ctx.tree):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
            continue
        sides = (node.left, node.right)
        sixty = any(isinstance(s, ast.Constant) and s.value in (60, 60.0) for s in sides)
        interval = any(isinstance(s, ast.Call) and (ctx.dotted(s.func) or "").rsplit(".", 1)[-1]
                       in ("mean", "median") and _INTERVAL.search(ast.unparse(s)) for s in sides)
        if sixty and interval:
            out.append(Finding("rate-inverted", node.lineno, f"`{ast.unparse(node)[:40]}` "
                               "multiplies an interval by 60, which grows when beats are "
                               "slower: a rate per minute is 60 / (mean interval in seconds) "
                               "= 60 * fs / mean(interval in samples)", False))
    return out



def _where_events(ctx: _Ctx, context: str) -> list[Finding]:
    """`np.where(ecg > thr)[0]` as the beats: every sample above the threshold, many per beat
    (a rate computed from them comes out near 60 * fs)."""
    if not PEAKISH.search(context) or "find_peaks" in ctx.source:
        return []
    out = []
    for node in ast.walk(ctx.tree):
        if not (_is_call_to(ctx, node, *_WHERE) and isinstance(node, ast.Call) and node.args):
            continue
        cmp = node.args[0]
        if isinstance(cmp, ast.Compare) and len(cmp.ops) == 1 and isinstance(
                cmp.ops[0], (ast.Gt, ast.GtE, ast.Lt, ast.LtE)):
            out.append(Finding("where-events", node.lineno, f"`{ast.unparse(node)[:40]}` "
                               "lists EVERY sample past the threshold (many per beat or "
                               "event), not one index per event: use peaks, _ = "
                               "scipy.signal.find_peaks(x, height=..., distance=int(0.3 * fs))"
                               " (or keep only the first sample of each run)", False))
    return out


def _diff_of_positions(ctx: _Ctx) -> list[Finding]:
    """`np.diff(np.arange(len(peaks)))` is all ones: positions in the list, not the indices."""
    out = []
    for node in ast.walk(ctx.tree):
        if not (_is_call_to(ctx, node, "numpy.diff") and isinstance(node, ast.Call)
                and node.args):
            continue
        arg = node.args[0]
        if isinstance(arg, ast.Call) and ctx.dotted(arg.func) == "list" and arg.args:
            arg = arg.args[0]
        if _is_call_to(ctx, arg, "numpy.arange", "range"):
            out.append(Finding("diff-of-positions", node.lineno, f"`{ast.unparse(node)[:40]}` "
                               "is all ones (the positions 0, 1, 2, ...): the intervals are the "
                               "differences of the detected indices themselves, "
                               "np.diff(peaks) / fs", False))
    return out


_FILTER_DESIGN = ("scipy.signal.butter", "scipy.signal.cheby1", "scipy.signal.cheby2",
                  "scipy.signal.ellip", "scipy.signal.bessel", "scipy.signal.iirfilter",
                  "scipy.signal.firwin")


def _cutoffs_normalised_twice(ctx: _Ctx) -> list[Finding]:
    """`butter(2, [5 / fs, 20 / fs], fs=fs)`: scipy divides by fs / 2 again, so the band
    lands near 0 Hz and the filtered signal is flat."""
    assigned: dict[str, ast.AST] = {}
    for node in ast.walk(ctx.tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name):
            assigned[node.targets[0].id] = node.value

    def divided_by_rate(e: ast.AST, depth: int = 0, whole: bool = False) -> bool:
        """Some cutoff is `x / fs` (whole: by the full rate, not by fs / 2 or a Nyquist)."""
        if isinstance(e, ast.Name) and e.id in assigned and depth < 3:
            return divided_by_rate(assigned[e.id], depth + 1, whole)
        if isinstance(e, (ast.List, ast.Tuple)):
            return any(divided_by_rate(x, depth, whole) for x in e.elts)
        if not (isinstance(e, ast.BinOp) and isinstance(e.op, ast.Div)):
            return False
        if whole:
            return isinstance(e.right, ast.Name) and bool(
                re.fullmatch(r"fs|sr|rate|fsamp|sampling_rate|sample_rate", e.right.id, re.I))
        return bool(re.search(r"fs|nyq|rate|sampl", ast.unparse(e.right), re.I))

    out = []
    for node in ast.walk(ctx.tree):
        if not (isinstance(node, ast.Call) and _is_call_to(ctx, node, *_FILTER_DESIGN)):
            continue
        kw = {k.arg: k.value for k in node.keywords}
        wn = node.args[1] if len(node.args) > 1 else kw.get("Wn", kw.get("cutoff"))
        if "fs" in kw and wn is not None and divided_by_rate(wn):
            out.append(Finding("cutoff-twice", node.lineno, f"`{ast.unparse(node)[:50]}`: the "
                               "cutoffs are already divided by the rate and fs=fs divides "
                               "them again, so the band sits near 0 Hz; with fs=fs give them "
                               "in Hz: butter(2, [5.0, 20.0], btype='bandpass', fs=fs, "
                               "output='sos')", False))
        elif "fs" not in kw and wn is not None and divided_by_rate(wn, whole=True):
            out.append(Finding("cutoff-over-fs", node.lineno, f"`{ast.unparse(node)[:50]}`: "
                               "without fs= scipy wants cutoffs as a fraction of the Nyquist "
                               "rate, Hz / (fs / 2), not Hz / fs (that halves them); simplest: "
                               "give Hz and pass fs=fs", False))
    return out


def _sos_misuse(ctx: _Ctx) -> list[Finding]:
    """`b, a = butter(..., output='sos')` and `sosfiltfilt(b, a, x)`: second-order sections
    are one array; mixing the two filter APIs always fails."""
    out = []
    for node in ast.walk(ctx.tree):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple) and len(
                node.targets[0].elts) == 2 and _is_call_to(ctx, node.value, *_FILTER_DESIGN):
            assert isinstance(node.value, ast.Call)
            kw = {k.arg: k.value for k in node.value.keywords}
            sos = kw.get("output")
            if isinstance(sos, ast.Constant) and sos.value == "sos":
                out.append(Finding("sos-unpacked", node.lineno, f"`{ast.unparse(node)[:50]}`: "
                                   "with output='sos' the design returns ONE array, not (b, a): "
                                   "sos = butter(...); y = sosfiltfilt(sos, x)", True))
        if isinstance(node, ast.Call) and _is_call_to(
                ctx, node, "scipy.signal.sosfiltfilt", "scipy.signal.sosfilt") and len(
                node.args) >= 3:
            name = (ctx.dotted(node.func) or "").rsplit(".", 1)[-1]
            out.append(Finding("sos-args", node.lineno, f"`{ast.unparse(node)[:50]}`: {name} "
                               f"takes (sos, x), not (b, a, x); for b, a use filtfilt(b, a, x)",
                               True))
    return out


def _train_from_test(tree: ast.Module, function_name: str, arg_names: list[str]
                     ) -> list[Finding]:
    """A function of the module called with data made only from the task's test argument
    where its parameter names training data: `f = window_features(test_windows);
    nearest_centroid(f, train_labels, f)` passes a split with as many test windows as
    training ones and fails every other split."""
    train = {a for a in arg_names if "train" in a.lower()}
    test = {a for a in arg_names if "test" in a.lower()}
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef)
               and n.name == function_name), None)
    if not train or not test or fn is None:
        return []
    params = {n.name: [a.arg for a in n.args.args] for n in tree.body
              if isinstance(n, ast.FunctionDef) and n.name != function_name}
    deps: dict[str, set[str]] = {}
    exprs: dict[str, ast.AST] = {}  # local name -> the expression last assigned to it

    def made_from(expr: ast.AST) -> set[str]:
        out: set[str] = set()
        for n in ast.walk(expr):
            if isinstance(n, ast.Name):
                out |= {n.id} if n.id in train | test else deps.get(n.id, set())
        return out

    found = []
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
        names = params[node.func.id]
        given = [*zip(names, node.args, strict=False),
                 *((k.arg, k.value) for k in node.keywords if k.arg)]
        for param, value in given:
            src = made_from(value)
            if "train" in param.lower() and src & test and not src & train:
                made = ast.unparse(exprs.get(value.id, value) if isinstance(value, ast.Name)
                                   else value)
                fix = re.sub(r"\w+", lambda m: _train_twin(m.group(0), train), made)
                how = f" ({fix})" if len(fix) <= 80 and fix != made else ""
                found.append(Finding(
                    "train-from-test", node.lineno,
                    f"`{param}` of {node.func.id}() gets data made only from "
                    f"{', '.join(sorted(src & test))}: the training side must be made the "
                    f"same way from {', '.join(sorted(train))}{how}", True))
    return found


def _train_twin(word: str, train: set[str]) -> str:
    """test_windows -> train_windows when the task has that argument."""
    twin = word.replace("test", "train")
    return twin if twin != word and twin in train else word
