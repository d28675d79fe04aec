"""The one checker: run a solution on a spec's cases in a sandbox and judge every result.

`check`, `run` (visible cases, then hidden ones in verify) and `bench` all call
`check_solution`, so a verdict means the same thing everywhere.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from agent.checks import judge
from agent.spec import Case, Spec
from sandboxes import profiles
from sandboxes.base import OK, ExecutionRequest, Sandbox


@dataclass
class CaseResult:
    case: str
    hidden: bool
    passed: bool
    status: str  # "ok" or a failure class (execution classes, wrong_type, wrong_value)
    metric: str
    params: dict[str, float] = field(default_factory=dict)  # the metric's bounds
    figure: float | None = None
    summary: str = ""
    error: str = ""
    traceback: str = ""
    output: str = ""
    output_bytes: int = 0
    duration_s: float | None = None
    wall_s: float = 0.0
    value: Any = None  # what the solution returned (visible feedback; never for hidden cases)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class SpecResult:
    spec_id: str
    spec_path: str
    solution: str
    cases: list[CaseResult]
    sandbox: dict[str, Any] = field(default_factory=dict)
    error: str = ""  # set when the spec could not be judged at all (e.g. no solution file)

    @property
    def passed(self) -> bool:
        return not self.error and bool(self.cases) and all(c.passed for c in self.cases)

    def verdict(self) -> str:
        if self.error:
            return f"{self.spec_id}: FAIL ({self.error})"
        n_ok = sum(c.passed for c in self.cases)
        if self.passed:
            return f"{self.spec_id}: PASS ({n_ok}/{len(self.cases)} cases)"
        classes = Counter(c.status for c in self.cases if not c.passed)
        why = ", ".join(f"{k} x{v}" if v > 1 else k for k, v in classes.items())
        return f"{self.spec_id}: FAIL ({n_ok}/{len(self.cases)} cases pass; {why})"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["passed"] = self.passed
        return d


def check_case(spec: Spec, case: Case, solution: Path, sandbox: Sandbox,
               run_id: str = "adhoc") -> CaseResult:
    """Execute one case in the sandbox and judge it."""
    res = sandbox.execute(ExecutionRequest(
        solution=solution, function=spec.function.name, args=case.args, limits=spec.limits,
        run_id=run_id, case=case.name))
    common = dict(case=case.name, hidden=case.hidden, metric=case.check.metric,
                  params=dict(case.check.params),
                  error=res.error, traceback=res.traceback, output=res.output.text(),
                  output_bytes=res.output.total, duration_s=res.duration_s, wall_s=res.wall_s)
    if res.status != OK:
        return CaseResult(passed=False, status=res.status, summary=res.error, **common)
    j = judge(case.check, res.value, case.expect)
    return CaseResult(passed=j.passed, status=OK if j.passed else (j.failure or "wrong_value"),
                      figure=j.figure, summary=j.summary, value=res.value, detail=j.detail,
                      **common)


def check_solution(spec: Spec, solution: Path, sandbox: Sandbox, *,
                   cases: Iterable[Case] | None = None, run_id: str = "adhoc",
                   on_case: Callable[[CaseResult], None] | None = None) -> SpecResult:
    """Judge `solution` on `cases` (default: all, hidden included — the judge sees all), in a
    sandbox of the spec's environment: a program judged where it will not run proves nothing."""
    have = getattr(sandbox, "profile", profiles.DEFAULT)
    if have != spec.environment:
        raise ValueError(f"{spec.id} is written for environment {spec.environment!r} but the "
                         f"sandbox runs {have!r}")
    results = []
    for case in spec.cases if cases is None else cases:
        r = check_case(spec, case, solution, sandbox, run_id)
        results.append(r)
        if on_case:
            on_case(r)
    return SpecResult(spec.id, str(spec.path), str(solution), results, sandbox.describe())


def case_line(r: CaseResult) -> str:
    """One terminal line per case: verdict, name, the metric's figure, duration, class."""
    name = r.case + (" (hidden)" if r.hidden else "")
    took = f"{r.duration_s:.3f} s" if r.duration_s is not None else f"{r.wall_s:.1f} s wall"
    tag = "" if r.passed else f"  [{r.status}]"
    return f"  {'PASS' if r.passed else 'FAIL'}  {name:<22} {r.summary[:90]:<50} {took}{tag}"


def atomic_write(path: Path, text: str) -> None:
    """Write a whole file or nothing (a killed run never leaves half a report)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write_json(path: Path, results: list[SpecResult]) -> None:
    doc = {"passed": all(r.passed for r in results), "specs": [r.to_dict() for r in results]}
    atomic_write(path, json.dumps(doc, indent=2, default=str) + "\n")


def write_junit(path: Path, results: list[SpecResult]) -> None:
    """JUnit XML, one testsuite per spec and one testcase per case, for CI dashboards."""
    suites = ET.Element("testsuites", name="gpiot check")
    for r in results:
        failures = sum(not c.passed for c in r.cases) + (1 if r.error else 0)
        suite = ET.SubElement(suites, "testsuite", name=r.spec_id, tests=str(len(r.cases) or 1),
                              failures=str(failures), errors="0",
                              time=f"{sum(c.wall_s for c in r.cases):.3f}")
        if r.error:
            tc = ET.SubElement(suite, "testcase", classname=r.spec_id, name="(solution)")
            ET.SubElement(tc, "failure", message=r.error, type="missing_solution")
        for c in r.cases:
            tc = ET.SubElement(suite, "testcase", classname=r.spec_id,
                               name=c.case + (" (hidden)" if c.hidden else ""),
                               time=f"{c.wall_s:.3f}")
            if not c.passed:
                fail = ET.SubElement(tc, "failure", message=c.summary[:500], type=c.status)
                fail.text = "\n".join(x for x in (c.traceback, c.output[-4000:]) if x)
    ET.indent(suites)
    atomic_write(path, ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n")
