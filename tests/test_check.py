"""`python -m agent check` through real containers on the examples' real traces:
for every metric a correct solution passes and a wrong one fails, with the right exit code,
per-case lines, JSON and JUnit reports, and no container left behind."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from agent.cli import main
from agent.spec import load_spec

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SPECS = sorted(EXAMPLES.glob("*/spec.yaml"))
IDS = [p.parent.name for p in SPECS]


def test_examples_cover_all_six_metrics() -> None:
    metrics = {c.check.metric for p in SPECS for c in load_spec(p).cases}
    assert metrics == {"abs_error", "rel_error", "allclose", "equals", "events_f1", "accuracy"}


@pytest.mark.parametrize("spec_id", IDS)
def test_reference_passes_and_wrong_fails(sandbox, gpiot_containers, capsys, spec_id) -> None:
    spec = EXAMPLES / spec_id / "spec.yaml"
    assert main(["check", str(spec), str(EXAMPLES / "solutions" / f"{spec_id}.py")]) == 0
    good = capsys.readouterr().out
    n_cases = len(load_spec(spec).cases)
    assert good.count("  PASS  ") == n_cases and f"{spec_id}: PASS" in good
    assert main(["check", str(spec), str(EXAMPLES / "wrong" / f"{spec_id}.py")]) == 1
    bad = capsys.readouterr().out
    assert "  FAIL  " in bad and f"{spec_id}: FAIL" in bad and "[wrong_value]" in bad
    assert gpiot_containers() == []


def test_directory_mode_json_junit_and_missing_solution(sandbox, gpiot_containers, tmp_path,
                                                        capsys) -> None:
    sols = tmp_path / "sols"
    sols.mkdir()
    shutil.copy(EXAMPLES / "solutions" / "hrv-rmssd.py", sols)
    shutil.copy(EXAMPLES / "wrong" / "temp-daily-mean.py", sols)
    specs = tmp_path / "specs"
    for name in ("hrv-rmssd", "temp-daily-mean", "ecg-mean-hr"):
        shutil.copytree(EXAMPLES / name, specs / name)
    out_json, out_xml = tmp_path / "r.json", tmp_path / "r.xml"
    code = main(["check", str(specs), "--solutions", str(sols), "--json", str(out_json),
                 "--junit", str(out_xml)])
    text = capsys.readouterr().out
    assert code == 1
    assert "hrv-rmssd: PASS" in text and "temp-daily-mean: FAIL" in text
    assert "ecg-mean-hr: FAIL (no solution file" in text and "verdict: 1/3 specs pass" in text
    doc = json.loads(out_json.read_text())
    by_id = {s["spec_id"]: s for s in doc["specs"]}
    assert doc["passed"] is False and by_id["hrv-rmssd"]["passed"] is True
    assert all(c["status"] == "ok" and c["figure"] < 0.01 for c in by_id["hrv-rmssd"]["cases"])
    assert any(c["status"] == "wrong_value" for c in by_id["temp-daily-mean"]["cases"])
    suites = {s.get("name"): s for s in ET.parse(out_xml).getroot()}
    assert suites["hrv-rmssd"].get("failures") == "0"
    assert int(suites["temp-daily-mean"].get("failures")) >= 1
    assert suites["ecg-mean-hr"].find("testcase/failure").get("type") == "missing_solution"
    assert gpiot_containers() == []


def test_crashing_solution_gets_its_class_in_check(sandbox, tmp_path, capsys) -> None:
    sol = tmp_path / "s.py"
    sol.write_text("import numpy as np\ndef rmssd(nni):\n    return np.sqrt(np.mean(nni ** 2))"
                   "[0]\n")
    assert main(["check", str(EXAMPLES / "hrv-rmssd/spec.yaml"), str(sol)]) == 1
    out = capsys.readouterr().out
    assert "[exception]" in out and "IndexError" in out


def test_console_entry_point_runs_as_python_m_agent(sandbox) -> None:
    spec = EXAMPLES / "hrv-rmssd/spec.yaml"
    proc = subprocess.run([sys.executable, "-m", "agent", "check", str(spec),
                           str(EXAMPLES / "solutions/hrv-rmssd.py")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "hrv-rmssd: PASS (4/4 cases)"


def _subcommands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list:
    """Every command path of the CLI, nested ones included."""
    found = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += _subcommands(child, prefix + (name,))
    return found


def test_every_help_text_renders(capsys) -> None:
    """argparse formats help lazily: a stray '%' in one help string crashed `gpiot --help`."""
    from agent.cli import build_parser

    paths = _subcommands(build_parser())
    assert ("bench",) in paths and ("sandbox", "build") in paths
    for path in paths:
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args([*path, "--help"])
        assert exc.value.code == 0, path
        assert "usage:" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["run", "bench"])
def test_bad_adapter_role_exits_2_before_any_model_loads(tmp_path, capsys, command) -> None:
    spec = ROOT / "examples" / "hrv-rmssd" / "spec.yaml"
    target = [str(spec)] if command == "run" else [str(spec.parent), "--out", str(tmp_path)]
    code = main([command, *target, "--adapter", f"coder={spec}",
                 *(["--runs-dir", str(tmp_path)] if command == "run" else [])])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0
    assert "role 'coder' is not one of decompose, code, repair" in err
    assert not (tmp_path / "bench.json").exists() and not list(tmp_path.glob("hrv*"))
