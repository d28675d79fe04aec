"""The pieces every task generator shares: a parameterised draft, turned into a spec v1 file
with traces on disk, whose expected values come from running the generator's reference.

A generator only decides the task (wording, function contract, traces, tolerance, the
reference program, its decomposition and realistic faults). Writing the spec, computing
`expect` and loading it back through agent/spec.py happen here, so every generated task is
a task the agent and the checker accept unchanged.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from agent.spec import Spec, load_spec
from sandboxes.harness import to_plain

ARRAY_REPS = ("npy", "json", "csv")  # ndarray (.npy), list (.json), ndarray (.csv column)
RETRIES = 8  # redraws of a degenerate variant
LONG_EXPECT = 24  # expected lists longer than this go to a .json trace, not the YAML


@dataclass
class CaseDraft:
    """One case before it is written: argument values (arrays, lists or literals)."""

    name: str
    args: dict[str, Any]
    hidden: bool = False
    check: dict[str, Any] | Callable[[Any], dict[str, Any]] = field(default_factory=dict)


@dataclass
class Mutant:
    """A realistic fault: replace `old` by `new` in the reference (observed-failures.md)."""

    fault: str  # missing-abs, units, invented-api, missing-import, wrap-around, inverted, ...
    old: str
    new: str
    note: str  # one sentence saying what the fix is (the repair target's comment)
    prepend: str = ""  # a line the faulty program adds at the top (e.g. a bogus import)


@dataclass
class Draft:
    """What a generator decides for one variant."""

    title: str
    requirement: str
    function: dict[str, Any]  # spec v1 `function` (arg types are set from the representation)
    cases: list[CaseDraft]
    reference: str  # the program that defines the expected outputs
    subtasks: list[str]  # the decomposition, one line per step
    doc: str  # one or two sentences that precede the code in the code-generation target
    mutants: list[Mutant] = field(default_factory=list)
    rep: str = "npy"  # how the array arguments are stored
    params: dict[str, Any] = field(default_factory=dict)  # recorded in the manifest
    sources: list[dict[str, Any]] = field(default_factory=list)  # real-recording segments
    tags: list[str] = field(default_factory=list)


@dataclass
class Task:
    """A generated, written and loaded task."""

    generator: str
    variant: str
    draft: Draft
    spec: Spec
    spec_path: Path

    @property
    def task_id(self) -> str:
        return f"{self.generator}/{self.variant}"


class Generator:
    """A parameterised task family. Subclasses set `name`, `modality` and `draft`."""

    name = ""
    modality = ""
    real_data = False  # True when some traces are segments of real recordings

    def rng(self, seed: int, index: int) -> np.random.Generator:
        """Independent, reproducible randomness per (seed, generator, variant)."""
        return np.random.default_rng([seed, zlib.crc32(self.name.encode()), index])

    def draft(self, rng: np.random.Generator) -> Draft:
        raise NotImplementedError

    def make(self, seed: int, index: int, root: Path) -> Task:
        """Draft variant `index`, write it under root/<name>/<variant>/ and load it.

        A draft whose cases all expect the same output is redrawn (up to RETRIES times):
        a constant function would pass it, so it teaches nothing and checks nothing."""
        variant = f"s{seed}-{index:04d}"
        spec_id = f"{self.name}-{variant}"
        for attempt in range(RETRIES):
            rng = self.rng(seed, index) if attempt == 0 else np.random.default_rng(
                [seed, zlib.crc32(self.name.encode()), index, attempt])
            d = self.draft(rng)
            path = write_task(d, spec_id, root / self.name / variant)
            spec = load_spec(path)
            if len({json.dumps(c.expect) for c in spec.cases}) > 1:
                break
        return Task(self.name, variant, d, spec, path)


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data,
                                   style="|" if "\n" in data else None)


_Dumper.add_representer(str, _str)


def run_reference(code: str, function: str, args: dict[str, Any]) -> Any:
    """Execute the generator's own reference on the host (trusted code) -> plain value."""
    ns: dict[str, Any] = {}
    exec(compile(code, f"<reference {function}>", "exec"), ns)  # noqa: S102 - our own code
    return to_plain(ns[function](**args))


def _write_arg(value: Any, rep: str, traces: Path, stem: str, column: str) -> Any:
    """A trace file for an array argument (per the representation), or the literal."""
    if isinstance(value, np.ndarray):
        if rep == "json" or value.ndim > 1 and rep == "csv":
            (traces / f"{stem}.json").write_text(json.dumps(to_plain(value)), encoding="utf-8")
            return {"trace": f"traces/{stem}.json"}
        if rep == "csv":
            lines = [column] + [repr(float(x)) if value.dtype.kind == "f" else str(int(x))
                                for x in value]
            (traces / f"{stem}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
            return {"trace": f"traces/{stem}.csv", "column": column}
        np.save(traces / f"{stem}.npy", value, allow_pickle=False)
        return {"trace": f"traces/{stem}.npy"}
    if isinstance(value, list) and len(value) > LONG_EXPECT:
        (traces / f"{stem}.json").write_text(json.dumps(to_plain(value)), encoding="utf-8")
        return {"trace": f"traces/{stem}.json"}
    return to_plain(value)


def arg_type(value: Any, rep: str) -> str:
    if isinstance(value, np.ndarray):
        return "list" if rep == "json" or (rep == "csv" and value.ndim > 1) else "ndarray"
    for t, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"),
                    (list, "list"), (dict, "dict")):
        if isinstance(value, t):
            return name
    return "float"


def write_task(d: Draft, spec_id: str, where: Path) -> Path:
    """Write spec.yaml + traces/ for a draft; `expect` comes from running the reference on
    exactly the values the spec loader will hand the solution."""
    traces = where / "traces"
    if traces.is_dir():  # a redraw replaces the previous attempt's files
        for old in traces.iterdir():
            old.unlink()
    traces.mkdir(parents=True, exist_ok=True)
    first = d.cases[0].args
    fn = {"name": d.function["name"], "returns": d.function["returns"], "args": [
        {"name": a["name"], "type": arg_type(first[a["name"]], d.rep),
         "description": a["description"]} for a in d.function["args"]]}
    cases = []
    for c in d.cases:
        args = {k: _write_arg(v, d.rep, traces, f"{c.name}-{k}", k) for k, v in c.args.items()}
        cases.append({"name": c.name, "hidden": c.hidden, "args": args,
                      "expect": {"value": 0}, "check": {"metric": "equals"}})
    spec = {"id": spec_id, "title": d.title, "requirement": d.requirement.strip() + "\n",
            "function": fn, "cases": cases, "limits": {"timeout_s": 20, "memory_mb": 512},
            "tags": ["finetune", *d.tags]}
    path = where / "spec.yaml"
    path.write_text(yaml.dump(spec, Dumper=_Dumper, sort_keys=False), encoding="utf-8")
    loaded = load_spec(path)  # the inputs exactly as the solution will receive them
    for raw, case, c in zip(cases, loaded.cases, d.cases, strict=True):
        want = run_reference(d.reference, d.function["name"], case.args)
        raw["expect"] = ({"value": want} if not (isinstance(want, list) and len(want) >
                                                 LONG_EXPECT)
                         else _write_arg(want, "json", traces, f"{c.name}-expect", ""))
        raw["check"] = c.check(want) if callable(c.check) else dict(c.check)
    path.write_text(yaml.dump(spec, Dumper=_Dumper, sort_keys=False), encoding="utf-8")
    return path


def apply_mutant(code: str, m: Mutant) -> str | None:
    """The reference with the fault in, or None when the fault does not apply here."""
    if m.old not in code:
        return None
    out = m.prepend + code.replace(m.old, m.new)
    return out if out != code else None
