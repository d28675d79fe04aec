"""Static checks on a draft before it costs a sandbox run.

Blocking findings are certain failures (syntax, missing function, wrong arguments, imports
the sandbox lacks, invented API names, undefined names, example code at module level): the
draft goes straight back to repair with the finding's message. The signal-processing
mistakes (np.roll differences, argmax for peaks, population std, find_peaks without
distance=, ...) are entries of the catalogue in agent/diagnostics, asked here; most are
hints attached to the feedback of a run. Messages are short: a small model reads them.
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
from typing import TYPE_CHECKING, Any

import numpy as np

from agent.diagnostics import Finding, Program, static_findings
from sandboxes import api_index

if TYPE_CHECKING:
    from agent.spec import Spec

__all__ = ["Finding", "add_imports", "autofix", "blocking", "lint", "small_int_args", "unshadow"]


# ruff F codes that are certain runtime errors (blocking). F811 is blocking only when the
# redefined name is a function (two versions of it: the first is dead code); other F codes
# are ignored, except F841 (a computed value never used: often the filtered signal) as a hint.
RUFF_BLOCKING = {"F821", "F822", "F823", "F632", "F631", "F633", "F634", "F701", "F702",
                 "F704", "F706", "F707", "F722", "F501", "F502", "F503", "F504", "F505",
                 "F506", "F507", "F508", "F509", "F521", "F522", "F523", "F524", "F525"}
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
    ctx = Program(tree, source, index, environment, requirement=requirement,
                  function_name=function_name, arg_names=arg_names,
                  small_int_args=small_int_args)
    out: list[Finding] = []
    out += _check_function(tree, function_name, arg_names)
    out += _check_imports(ctx)
    out += _check_module_level(tree, function_name)
    out += _check_api_names(ctx)
    out += _ruff(source, ctx, function_name)
    out += static_findings(ctx)  # the catalogue's mistakes (agent/diagnostics)
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


def _check_imports(ctx: Program) -> list[Finding]:
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


def _check_api_names(ctx: Program) -> list[Finding]:
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
            if module in mods and ctx.bound_to_module(node.value) and attr not in mods[module]:
                msg = api_index.explain_missing(module, attr, ctx.index)
                out.append(Finding("unknown-name", node.lineno, msg, True))
    return out


def _ruff_command() -> list[str] | None:
    exe = shutil.which("ruff")
    if exe:
        return [exe]
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    return None


def autofix(source: str, index: dict[str, Any] | None = None) -> str:
    """Fix before judging what is certain and not worth a repair round: a local variable
    that shadows the module-level function it calls (unshadow), the missing import of a
    name with one home in the image (`index`: add_imports), and unused imports (ruff's F401
    fix; small models import what they never use, matplotlib, pandas)."""
    source = unshadow(source)
    cmd = _ruff_command()
    if cmd is None:
        return source
    source = add_imports(source, index or {}, cmd)
    try:
        proc = subprocess.run(
            [*cmd, "check", "--isolated", "--no-cache", "--fix", "--select", "F401", "--quiet",
             "--stdin-filename", "solution.py", "-"],
            input=source, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return source
    return proc.stdout if proc.stdout.strip() else source


def add_imports(source: str, index: dict[str, Any], cmd: list[str] | None = None) -> str:
    """`source` with an import, at the top, for each undefined name (ruff's F821) whose
    home is certain (api_index.certain_import: np, butter, find_peaks...). Why: small models
    leave imports out, most of all when they reuse code from the prompt (a proven program, a
    card), and a blocked draft costs a whole repair round; an IDE adds them."""
    items = _ruff_json(source, "F821", cmd)
    if items is None:
        return source
    names = dict.fromkeys(m.group(1) for it in items
                          if (m := re.search(r"`([^`]+)`", it.get("message", ""))))
    imports = list(dict.fromkeys(imp for n in names
                                 if (imp := api_index.certain_import(n, index))))
    if not imports:
        return source
    try:  # after a module docstring and `from __future__` imports, which must come first
        body = ast.parse(source).body
    except SyntaxError:
        return source
    head = 0
    for i, node in enumerate(body):
        if (isinstance(node, ast.ImportFrom) and node.module == "__future__") or (
                i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            head = node.end_lineno or node.lineno
        else:
            break
    lines = source.splitlines(keepends=True)
    return "".join([*lines[:head], *(f"{imp}\n" for imp in imports), *lines[head:]])


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


def _ruff_json(source: str, select: str, cmd: list[str] | None = None) -> list[dict] | None:
    """ruff's findings of the `select`ed rules on `source` (its JSON items); None when ruff
    is missing or fails."""
    cmd = cmd or _ruff_command()
    if cmd is None:
        return None
    try:
        proc = subprocess.run(
            [*cmd, "check", "--isolated", "--no-cache", "--select", select, "--output-format",
             "json", "--stdin-filename", "solution.py", "-"],
            input=source, capture_output=True, text=True, timeout=30)
        return json.loads(proc.stdout or "[]")
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def _ruff(source: str, ctx: Program, function_name: str) -> list[Finding]:
    """ruff's F rules; without ruff, a scope-blind undefined-name check instead."""
    items = _ruff_json(source, "F")
    if items is None:
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


def _undefined(name: str, line: int, ctx: Program) -> Finding:
    imp = api_index.import_line(name, ctx.index)
    fix = f"; add `{imp}`" if imp and not imp.startswith("np.") else (
        f"; write {imp}" if imp else "")
    return Finding("undefined-name", line, f"`{name}` is used but never defined or "
                   f"imported{fix}", True)


def _undefined_names(ctx: Program) -> list[Finding]:
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
