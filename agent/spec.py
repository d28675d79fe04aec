"""Spec v1 (docs/spec-v1.md): load, validate and resolve a task file.

Everything that can be wrong with a spec is found here, before anything runs, and reported
as one line naming the file, the field path (``cases[1].args.ppg.column``) and what was
expected. Trace references are resolved to arrays/values on the host; the sandbox only ever
sees the resolved inputs of the case it runs.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from agent.errors import SpecError
from sandboxes import profiles
from sandboxes.base import Limits
from sandboxes.harness import Unconvertible, to_plain

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
ARG_TYPES = ("ndarray", "float", "int", "bool", "str", "list", "dict")
# metric -> (required params, optional params with defaults)
METRICS: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {
    "abs_error": (("max",), {}),
    "rel_error": (("max",), {}),
    "allclose": ((), {"rtol": 1e-5, "atol": 1e-8}),
    "equals": ((), {}),
    "events_f1": (("tolerance", "min"), {}),
    "accuracy": (("min",), {}),
}
TOP_KEYS = {"id", "title", "requirement", "function", "cases", "limits", "tags", "environment"}
CASE_KEYS = {"name", "hidden", "args", "expect", "check"}
LIMIT_KEYS = {"timeout_s": float, "memory_mb": int, "output_kb": int}


@dataclass(frozen=True)
class Arg:
    name: str
    type: str
    description: str = ""


@dataclass(frozen=True)
class Function:
    name: str
    args: tuple[Arg, ...]
    returns: dict[str, Any]

    def signature(self) -> str:
        return f"{self.name}({', '.join(a.name for a in self.args)})"


@dataclass(frozen=True)
class Check:
    metric: str
    params: dict[str, float]


@dataclass
class TraceRef:
    """Where an input came from, for trace cards and reports."""

    trace: str
    key: str | None = None
    column: str | None = None

    def __str__(self) -> str:
        sel = f"[{self.key!r}]" if self.key else f"[column {self.column!r}]" if self.column else ""
        return f"{self.trace}{sel}"


@dataclass
class Case:
    name: str
    hidden: bool
    args: dict[str, Any]  # resolved: numpy arrays or plain values, in function-arg order
    expect: Any  # plain JSON-able value
    check: Check
    sources: dict[str, TraceRef | None] = field(default_factory=dict)  # per arg


@dataclass
class Spec:
    id: str
    title: str
    requirement: str
    function: Function
    cases: list[Case]
    limits: Limits
    path: Path
    tags: tuple[str, ...] = ()
    # The sandbox profile the program is written for and judged in (sandboxes/profiles.py):
    # which libraries exist where it will run. Optional; `minimal` keeps v1's meaning.
    environment: str = profiles.DEFAULT

    @property
    def visible_cases(self) -> list[Case]:
        return [c for c in self.cases if not c.hidden]

    @property
    def hidden_cases(self) -> list[Case]:
        return [c for c in self.cases if c.hidden]


def with_environment(spec: Spec, environment: str | None) -> Spec:
    """`spec` judged in another sandbox profile (`--environment`); None keeps its own."""
    if not environment or environment == spec.environment:
        return spec
    return replace(spec, environment=profiles.get(environment).name)


class _Loader:
    """Validation state for one file: the file name every error carries, and a trace cache."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = path.parent
        self._cache: dict[Path, Any] = {}

    def error(self, where: str, message: str) -> SpecError:
        return SpecError(str(self.path), where, message)

    def mapping(self, value: Any, where: str) -> dict:
        if not isinstance(value, dict):
            raise self.error(where, f"expected a mapping, got {_kind(value)}")
        return value

    def field(self, parent: dict, key: str, where: str, types: type | tuple, what: str) -> Any:
        path = f"{where}.{key}" if where else key
        if key not in parent:
            raise self.error(path, f"missing; expected {what}")
        value = parent[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in _tuple(types)):
            raise self.error(path, f"expected {what}, got {_kind(value)}")
        return value

    def only(self, mapping: dict, allowed: set[str], where: str) -> None:
        for key in mapping:
            if key not in allowed:
                path = f"{where}.{key}" if where else str(key)
                raise self.error(path, f"unknown field; allowed here: {', '.join(sorted(allowed))}")

    def value(self, raw: Any, where: str) -> tuple[Any, TraceRef | None]:
        """A literal, or a trace reference resolved to its data."""
        if isinstance(raw, dict) and "trace" in raw:
            self.only(raw, {"trace", "key", "column"}, where)
            ref = TraceRef(
                trace=self.field(raw, "trace", where, str, "a trace file path"),
                key=raw.get("key"), column=raw.get("column"),
            )
            return self.load_trace(ref, where), ref
        return raw, None

    def load_trace(self, ref: TraceRef, where: str) -> Any:
        file = (self.base / ref.trace).resolve()
        if not file.is_file():
            raise self.error(f"{where}.trace", f"trace file {ref.trace} not found "
                                               f"(looked for {file})")
        suffix = file.suffix.lower()
        for extra, ok in (("key", suffix == ".npz"), ("column", suffix == ".csv")):
            if getattr(ref, extra) is not None and not ok:
                kind = ".npz" if extra == "key" else ".csv"
                raise self.error(f"{where}.{extra}", f"'{extra}' applies only to {kind} traces")
        if suffix == ".npy":
            return self._read(file, where, lambda: np.load(file, allow_pickle=False))
        if suffix == ".json":
            return self._read(file, where, lambda: json.loads(file.read_text(encoding="utf-8")))
        if suffix == ".npz":
            archive = self._read(file, where, lambda: np.load(file, allow_pickle=False))
            if not isinstance(ref.key, str):
                raise self.error(f"{where}.key", "expected the name of an array in the .npz "
                                                 f"(has: {', '.join(archive.files)})")
            if ref.key not in archive.files:
                raise self.error(f"{where}.key", f"no array {ref.key!r} in {ref.trace} "
                                                 f"(has: {', '.join(archive.files)})")
            return archive[ref.key]
        if suffix == ".csv":
            header, rows = self._read(file, where, lambda: _read_csv(file))
            if not isinstance(ref.column, str):
                raise self.error(f"{where}.column", "expected a column name of the .csv "
                                                    f"(has: {', '.join(header)})")
            if ref.column not in header:
                raise self.error(f"{where}.column", f"no column {ref.column!r} in {ref.trace} "
                                                    f"(has: {', '.join(header)})")
            idx = header.index(ref.column)
            out = np.empty(len(rows))
            for n, row in enumerate(rows):
                cell = row[idx].strip() if idx < len(row) else ""
                try:
                    out[n] = float(cell) if cell else math.nan
                except ValueError:
                    raise self.error(f"{where}.column", f"{ref.trace} line {n + 2}: {cell!r} in "
                                                        f"column {ref.column!r} is not a number"
                                     ) from None
            return out
        raise self.error(f"{where}.trace", f"unsupported trace type {suffix or '(none)'}; "
                                           "expected .npy, .npz, .csv or .json")

    def _read(self, file: Path, where: str, reader) -> Any:  # noqa: ANN001
        if file not in self._cache:
            try:
                self._cache[file] = reader()
            except SpecError:
                raise
            except Exception as exc:  # noqa: BLE001 - any unreadable file is a spec error
                raise self.error(f"{where}.trace", f"cannot read {file.name}: "
                                                   f"{str(exc).splitlines()[0][:160]}") from None
        return self._cache[file]


def _read_csv(file: Path) -> tuple[list[str], list[list[str]]]:
    with file.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows or not rows[0]:
        raise ValueError("empty file; a header row is required")
    header = [h.strip() for h in rows[0]]
    if all(_is_number(h) for h in header):
        raise ValueError("no header row (the first row is all numbers)")
    return header, rows[1:]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def _tuple(types: type | tuple) -> tuple:
    return types if isinstance(types, tuple) else (types,)


def load_spec(path: str | Path) -> Spec:
    """Load and fully validate a spec file, resolving every trace; raises SpecError."""
    path = Path(path)
    ld = _Loader(path)
    if not path.is_file():
        raise ld.error("", "no such file")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        raise ld.error(where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except UnicodeDecodeError:
        raise ld.error("", "not a UTF-8 text file") from None
    doc = ld.mapping(doc, "(top level)")
    _refuse_placeholders(ld, doc)
    ld.only(doc, TOP_KEYS, "")

    spec_id = ld.field(doc, "id", "", str, "an id matching [a-z0-9][a-z0-9-]*")
    if not ID_RE.match(spec_id):
        raise ld.error("id", f"{spec_id!r} does not match [a-z0-9][a-z0-9-]*")
    title = ld.field(doc, "title", "", str, "a one-line title")
    if "\n" in title.strip():
        raise ld.error("title", "expected one line")
    requirement = ld.field(doc, "requirement", "", str, "the user's requirement text")
    if not requirement.strip():
        raise ld.error("requirement", "expected the user's requirement text, got nothing")
    function = _function(ld, ld.mapping(ld.field(doc, "function", "", dict, "a mapping"),
                                        "function"))
    limits = _limits(ld, doc.get("limits"))
    tags = doc.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ld.error("tags", "expected a list of strings")
    environment = doc.get("environment", profiles.DEFAULT)
    if environment not in profiles.NAMES:
        raise ld.error("environment", f"expected one of {', '.join(profiles.NAMES)}, got "
                                      f"{environment!r}")

    raw_cases = ld.field(doc, "cases", "", list, "a list of cases")
    if not raw_cases:
        raise ld.error("cases", "expected at least one case")
    cases: list[Case] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_cases):
        case = _case(ld, ld.mapping(raw, f"cases[{i}]"), f"cases[{i}]", function)
        if case.name in seen:
            raise ld.error(f"cases[{i}].name", f"duplicate case name {case.name!r}")
        seen.add(case.name)
        cases.append(case)
    return Spec(spec_id, title.strip(), requirement, function, cases, limits, path, tuple(tags),
                environment)


# A field still to fill in is the mapping {todo: TEXT}, as `gpiot new` writes it. Reserved
# only where a mapping was never valid (a literal argument value may be any mapping), so no
# spec that loaded before changes meaning.
PLACEHOLDER_KEY = "todo"
_FILL_IN = {"expect": "fill in the expected output", "check": "say how the output is compared",
            "requirement": "describe the task in your own words", "title": "write a one-line title",
            "description": "describe the argument"}


def is_placeholder(value: Any) -> bool:
    """The mapping {todo: ...} that marks a field `gpiot new` left for the user to fill in."""
    return isinstance(value, dict) and set(value) == {PLACEHOLDER_KEY}


def placeholders(doc: dict) -> list[tuple[str, str]]:
    """(where, field) of every placeholder, cases first: their expected outputs are what only
    the user can supply. Tolerates a malformed document (validation reports that later)."""
    found: list[tuple[str, str]] = []
    cases = doc.get("cases")
    for i, case in enumerate(cases if isinstance(cases, list) else []):
        if not isinstance(case, dict):
            continue
        name = case.get("name")
        where = f"case {name!r}" if isinstance(name, str) else f"cases[{i}]"
        if is_placeholder(case.get("expect")):
            found.append((where, "expect"))
        check = case.get("check")
        if is_placeholder(check):
            found.append((where, "check"))
        elif isinstance(check, dict):
            found += [(where, f"check.{k}") for k, v in check.items() if is_placeholder(v)]
    found += [("", key) for key in ("title", "requirement") if is_placeholder(doc.get(key))]
    function = doc.get("function")
    args = function.get("args") if isinstance(function, dict) else None
    for i, arg in enumerate(args if isinstance(args, list) else []):
        if isinstance(arg, dict) and is_placeholder(arg.get("description")):
            found.append(("", f"function.args[{i}].description"))
    return found


def _refuse_placeholders(ld: _Loader, doc: dict) -> None:
    """One line naming the first placeholder and what to put there, and listing the rest."""
    found = placeholders(doc)
    if not found:
        return
    (where, what), rest = found[0], found[1:]
    # check.max -> check; function.args[1].description -> description
    key = "check" if what.startswith("check") else what.rsplit(".", 1)[-1]
    hint = _FILL_IN.get(key, "fill it in")
    more = ""
    if rest:
        more = " (still placeholders as well: " + ", ".join(
            f"{w} {f}" if w else f for w, f in rest) + ")"
    raise ld.error(where, f"{what} is still the placeholder written by `gpiot new`; "
                          f"{hint}{more}")


def _function(ld: _Loader, raw: dict) -> Function:
    ld.only(raw, {"name", "args", "returns"}, "function")
    name = ld.field(raw, "name", "function", str, "a Python identifier")
    if not name.isidentifier():
        raise ld.error("function.name", f"{name!r} is not a Python identifier")
    args: list[Arg] = []
    for i, a in enumerate(ld.field(raw, "args", "function", list, "a list of arguments")):
        where = f"function.args[{i}]"
        a = ld.mapping(a, where)
        ld.only(a, {"name", "type", "description"}, where)
        aname = ld.field(a, "name", where, str, "a Python identifier")
        if not aname.isidentifier():
            raise ld.error(f"{where}.name", f"{aname!r} is not a Python identifier")
        if aname in {x.name for x in args}:
            raise ld.error(f"{where}.name", f"duplicate argument {aname!r}")
        atype = ld.field(a, "type", where, str, f"one of {', '.join(ARG_TYPES)}")
        if atype not in ARG_TYPES:
            raise ld.error(f"{where}.type", f"{atype!r} is not one of {', '.join(ARG_TYPES)}")
        desc = a.get("description", "")
        if not isinstance(desc, str):
            raise ld.error(f"{where}.description", f"expected a string, got {_kind(desc)}")
        args.append(Arg(aname, atype, desc))
    returns = ld.mapping(ld.field(raw, "returns", "function", dict, "a mapping with type"),
                         "function.returns")
    rtype = ld.field(returns, "type", "function.returns", str, f"one of {', '.join(ARG_TYPES)}")
    if rtype not in ARG_TYPES:
        raise ld.error("function.returns.type", f"{rtype!r} is not one of {', '.join(ARG_TYPES)}")
    return Function(name, tuple(args), dict(returns))


def _limits(ld: _Loader, raw: Any) -> Limits:
    if raw is None:
        return Limits()
    raw = ld.mapping(raw, "limits")
    ld.only(raw, set(LIMIT_KEYS), "limits")
    values: dict[str, Any] = {}
    for key, cast in LIMIT_KEYS.items():
        if key in raw:
            v = ld.field(raw, key, "limits", (int, float), "a positive number")
            if v <= 0:
                raise ld.error(f"limits.{key}", f"expected a positive number, got {v}")
            values[key] = cast(v)
    return Limits(**values)


def _case(ld: _Loader, raw: dict, where: str, function: Function) -> Case:
    ld.only(raw, CASE_KEYS, where)
    name = ld.field(raw, "name", where, str, "a case name")
    hidden = raw.get("hidden", False)
    if not isinstance(hidden, bool):
        raise ld.error(f"{where}.hidden", f"expected true or false, got {_kind(hidden)}")
    raw_args = ld.mapping(ld.field(raw, "args", where, dict, "a mapping of argument values"),
                          f"{where}.args")
    takes = ", ".join(a.name for a in function.args)
    for key in raw_args:
        if key not in {a.name for a in function.args}:
            raise ld.error(f"{where}.args.{key}", f"not an argument of {function.name} "
                                                  f"(takes: {takes})")
    args: dict[str, Any] = {}
    sources: dict[str, TraceRef | None] = {}
    for a in function.args:
        if a.name not in raw_args:
            raise ld.error(f"{where}.args", f"missing argument {a.name!r} "
                                            f"({function.name} takes: {takes})")
        args[a.name], sources[a.name] = ld.value(raw_args[a.name], f"{where}.args.{a.name}")
    if "expect" not in raw:
        raise ld.error(f"{where}.expect", "missing; expected {value: ...} or a trace reference")
    expect_raw = ld.mapping(raw["expect"], f"{where}.expect")
    if "trace" in expect_raw:
        expect, _ = ld.value(expect_raw, f"{where}.expect")
    elif "value" in expect_raw:
        ld.only(expect_raw, {"value"}, f"{where}.expect")
        expect = expect_raw["value"]
    else:
        raise ld.error(f"{where}.expect", "expected {value: ...} or a trace reference")
    try:
        expect = to_plain(expect)
    except Unconvertible as exc:
        raise ld.error(f"{where}.expect", str(exc)) from None
    check = _check(ld, ld.mapping(ld.field(raw, "check", where, dict, "a mapping with metric"),
                                  f"{where}.check"), f"{where}.check")
    return Case(name, hidden, args, expect, check, sources)


def _check(ld: _Loader, raw: dict, where: str) -> Check:
    metric = ld.field(raw, "metric", where, str, f"one of {', '.join(METRICS)}")
    if metric not in METRICS:
        raise ld.error(f"{where}.metric", f"unknown metric {metric!r}; expected one of "
                                          f"{', '.join(METRICS)}")
    required, optional = METRICS[metric]
    ld.only(raw, {"metric", *required, *optional}, where)
    params: dict[str, float] = dict(optional)
    for key in [*required, *[k for k in optional if k in raw]]:
        v = ld.field(raw, key, where, (int, float), f"a number (required by {metric})")
        if v < 0 or (key == "min" and v > 1):
            bound = "between 0 and 1" if key == "min" else "a non-negative number"
            raise ld.error(f"{where}.{key}", f"expected {bound}, got {v}")
        params[key] = float(v)
    return Check(metric, params)
