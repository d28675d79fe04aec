"""Spec v1 loading: every trace type resolves, every kind of bad spec is one line and exit 2."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from agent.cli import main
from agent.errors import SpecError
from agent.spec import load_spec

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _base() -> dict:
    return {
        "id": "toy-sum",
        "title": "Sum of a signal",
        "requirement": "Return the sum of the samples.",
        "function": {"name": "total", "args": [{"name": "x", "type": "ndarray"},
                                               {"name": "k", "type": "float"}],
                     "returns": {"type": "float"}},
        "cases": [
            {"name": "npy", "args": {"x": {"trace": "t/a.npy"}, "k": 1.0},
             "expect": {"value": 6.0}, "check": {"metric": "abs_error", "max": 0.1}},
            {"name": "csv", "hidden": True, "args": {"x": {"trace": "t/a.csv", "column": "v"},
                                                     "k": 2},
             "expect": {"trace": "t/e.json"}, "check": {"metric": "allclose", "atol": 0.5}},
            {"name": "npz", "args": {"x": {"trace": "t/a.npz", "key": "sig"}, "k": 0.5},
             "expect": {"value": [1, 2]}, "check": {"metric": "events_f1", "tolerance": 2,
                                                    "min": 0.9}},
        ],
    }


@pytest.fixture
def write(tmp_path: Path):
    t = tmp_path / "t"
    t.mkdir()
    np.save(t / "a.npy", np.array([1.0, 2.0, 3.0]))
    np.savez(t / "a.npz", sig=np.array([4.0, 5.0]))
    (t / "a.csv").write_text("time,v\n0,1.5\n1,\n2,3\n")
    (t / "e.json").write_text(json.dumps(9.0))

    def _write(doc: dict) -> Path:
        p = tmp_path / "spec.yaml"
        p.write_text(yaml.safe_dump(doc))
        return p

    return _write


def test_valid_spec_resolves_every_trace_type(write) -> None:
    spec = load_spec(write(_base()))
    npy, csv_, npz = spec.cases
    assert npy.args["x"].tolist() == [1.0, 2.0, 3.0] and npy.args["k"] == 1.0
    assert csv_.hidden and csv_.expect == 9.0
    assert csv_.args["x"][0] == 1.5 and np.isnan(csv_.args["x"][1]) and csv_.args["x"][2] == 3
    assert npz.args["x"].tolist() == [4.0, 5.0]
    assert npz.check.params == {"tolerance": 2.0, "min": 0.9}
    assert spec.cases[1].check.params == {"rtol": 1e-5, "atol": 0.5}
    assert [c.name for c in spec.visible_cases] == ["npy", "npz"]


def test_every_example_spec_loads() -> None:
    specs = sorted(EXAMPLES.glob("*/spec.yaml"))
    assert len(specs) >= 6
    for p in specs:
        spec = load_spec(p)
        assert spec.hidden_cases and spec.visible_cases, p


def _mutate(fn):
    doc = _base()
    fn(doc)
    return doc


BAD = [
    ("missing field", lambda d: d.pop("requirement"), "requirement", "missing"),
    ("wrong type", lambda d: d.update(cases="many"), "cases", "expected a list"),
    ("bad id", lambda d: d.update(id="Toy Sum"), "id", "does not match"),
    ("unknown metric", lambda d: d["cases"][0]["check"].update(metric="mse"),
     "cases[0].check.metric", "unknown metric 'mse'"),
    ("missing metric param", lambda d: d["cases"][0]["check"].pop("max"),
     "cases[0].check.max", "missing"),
    ("missing trace file", lambda d: d["cases"][0]["args"]["x"].update(trace="t/nope.npy"),
     "cases[0].args.x.trace", "not found"),
    ("missing column", lambda d: d["cases"][1]["args"]["x"].update(column="w"),
     "cases[1].args.x.column", "no column 'w'"),
    ("missing key", lambda d: d["cases"][2]["args"]["x"].update(key="other"),
     "cases[2].args.x.key", "no array 'other'"),
    ("arg not in function", lambda d: d["cases"][0]["args"].update(y=3),
     "cases[0].args.y", "not an argument of total"),
    ("missing arg", lambda d: d["cases"][0]["args"].pop("k"), "cases[0].args",
     "missing argument 'k'"),
    ("hidden not bool", lambda d: d["cases"][0].update(hidden="yes"), "cases[0].hidden",
     "expected true or false"),
    ("typo field", lambda d: d["cases"][0].update(hiden=True), "cases[0].hiden",
     "unknown field"),
    ("bad arg type", lambda d: d["function"]["args"][0].update(type="array"),
     "function.args[0].type", "is not one of"),
    ("duplicate case", lambda d: d["cases"][1].update(name="npy"), "cases[1].name",
     "duplicate"),
    ("no cases", lambda d: d.update(cases=[]), "cases", "at least one"),
    ("bad limits", lambda d: d.update(limits={"timeout_s": -1}), "limits.timeout_s",
     "positive"),
]


@pytest.mark.parametrize("label,mutate,path,message", BAD, ids=[b[0] for b in BAD])
def test_bad_spec_is_one_line_exit_2(write, tmp_path, capsys, label, mutate, path,
                                     message) -> None:
    spec = write(_mutate(mutate))
    sol = tmp_path / "sol.py"
    sol.write_text("def total(x, k):\n    return 0\n")
    code = main(["check", str(spec), str(sol)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1, err
    assert f"{spec}: {path}: " in err and message in err, err


def test_bad_input_paths_and_arguments_exit_2(write, tmp_path, capsys) -> None:
    spec = write(_base())
    assert main(["check", str(tmp_path / "nope.yaml"), "x.py"]) == 2
    assert main(["check", str(spec), str(tmp_path / "missing.py")]) == 2
    assert main(["check", str(spec)]) == 2
    assert main(["check", str(tmp_path)]) == 2  # a directory needs --solutions
    assert main(["check", "--frobnicate"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 5 and all(line.startswith("error: ") for line in lines)


def test_not_yaml_and_csv_without_header(write, tmp_path) -> None:
    p = tmp_path / "broken.yaml"
    p.write_text("id: [unclosed\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(p)
    (tmp_path / "t" / "a.csv").write_text("0,1.5\n1,2\n")
    with pytest.raises(SpecError, match=r"cases\[1\]\.args\.x\.trace: cannot read a\.csv: "
                                        "no header row"):
        load_spec(write(_base()))


def test_literal_mapping_arg_is_not_a_trace(write) -> None:
    doc = _base()
    doc["function"]["args"][1]["type"] = "dict"
    for case in doc["cases"]:
        case["args"]["k"] = {"gain": 2}
    spec = load_spec(write(copy.deepcopy(doc)))
    assert spec.cases[0].args["k"] == {"gain": 2}
