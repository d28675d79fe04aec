"""Sandbox profiles (issue 20 part 1): a spec says where its program will run, and the image,
the prompt, lint's allowlist, the API index, the fork server and the cards all follow it."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from agent import knowledge as kb
from agent.checker import check_solution
from agent.cli import main
from agent.lint import blocking, lint
from agent.prompting import advice, messages, spec_fields
from agent.spec import load_spec, with_environment
from sandboxes import api_index, image, profiles
from sandboxes.base import ExecutionRequest, Limits

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
ECG = EXAMPLES / "ecg-mean-hr" / "spec.yaml"

# neurokit2's R-peak detector, used as a person with that library at hand would
NK_HR = """import neurokit2 as nk
import numpy as np


def mean_heart_rate(ecg, fs):
    clean = nk.ecg_clean(np.asarray(ecg, dtype=float), sampling_rate=fs)
    _, info = nk.ecg_peaks(clean, sampling_rate=fs)
    return float(60.0 / np.mean(np.diff(info["ECG_R_Peaks"]) / fs))
"""


def _spec_in(tmp_path: Path, src: Path, environment: str | None) -> Path:
    """A copy of example spec `src` with `environment:` set (traces by absolute path)."""
    text = src.read_text().replace("trace: traces/", f"trace: {src.parent}/traces/")
    if environment is not None:
        text = text.replace("\ncases:", f"\nenvironment: {environment}\ncases:", 1)
    out = tmp_path / f"{src.parent.name}-{environment}.yaml"
    out.write_text(text)
    return out


# --- the spec field -------------------------------------------------------------------------

def test_environment_is_optional_minimal_by_default_and_validated(tmp_path, capsys) -> None:
    assert load_spec(ECG).environment == "minimal"
    assert load_spec(_spec_in(tmp_path, ECG, "scientific")).environment == "scientific"
    bad = _spec_in(tmp_path, ECG, "gateway")
    with pytest.raises(Exception, match="environment: expected one of minimal, scientific"):
        load_spec(bad)
    assert main(["check", str(bad), str(EXAMPLES / "solutions/ecg-mean-hr.py")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "environment" in err and bad.name in err


def test_with_environment_overrides_and_none_keeps_the_spec() -> None:
    spec = load_spec(ECG)
    assert with_environment(spec, None) is spec
    assert with_environment(spec, "scientific").environment == "scientific"
    with pytest.raises(ValueError, match="unknown sandbox environment"):
        with_environment(spec, "cloud")


# --- recipes and images ---------------------------------------------------------------------

def test_each_profile_is_its_own_image_hashed_from_its_own_recipe(tmp_path,
                                                                  monkeypatch) -> None:
    assert image.image_tag("minimal").startswith("gpiot-sandbox:minimal-")
    assert image.image_tag("scientific").startswith("gpiot-sandbox:scientific-")
    assert image.image_tag() == image.image_tag("minimal")
    assert "wheels-scientific.txt" not in image.recipe_files("minimal")
    # a changed wheel pin rebuilds the scientific image, not the minimal one
    here = tmp_path / "recipe"
    shutil.copytree(image.HERE, here, ignore=shutil.ignore_patterns("__pycache__"))
    before = {p: image.recipe_hash(p) for p in profiles.NAMES}
    monkeypatch.setattr(image, "HERE", here)
    assert {p: image.recipe_hash(p) for p in profiles.NAMES} == before
    wheels = here / "wheels-scientific.txt"
    wheels.write_text(wheels.read_text().replace("neurokit2==0.2.10", "neurokit2==0.2.9"))
    assert image.recipe_hash("minimal") == before["minimal"]
    assert image.recipe_hash("scientific") != before["scientific"]


def test_every_wheel_is_pinned_and_hash_checked() -> None:
    for p in profiles.PROFILES.values():
        if p.wheels_file:
            lines = [x for x in (image.HERE / p.wheels_file).read_text().splitlines()
                     if x.strip() and not x.startswith("#")]
            assert lines and all(re.fullmatch(r"[\w-]+==[\w.]+ --hash=sha256:[0-9a-f]{64}", x)
                                 for x in lines), lines


def test_the_scientific_image_holds_what_it_offers(scientific_sandbox, sandbox,
                                                   tmp_path) -> None:
    """Every offered library imports in its image and reports a version; the minimal image
    has none of the scientific ones."""
    prog = tmp_path / "versions.py"
    prog.write_text("import importlib\n\ndef f(names):\n    out = {}\n    for n in names:\n"
                    "        try:\n            out[n] = importlib.import_module(n).__version__\n"
                    "        except ImportError:\n            out[n] = None\n    return out\n")
    names = list(profiles.get("scientific").offered)
    got = {sb.profile: sb.execute(ExecutionRequest(prog, "f", {"names": names},
                                                   Limits(timeout_s=60))).value
           for sb in (scientific_sandbox, sandbox)}
    assert all(got["scientific"][n] for n in names), got
    assert [n for n in names if got["minimal"][n]] == ["numpy", "scipy"], got


def test_the_warm_server_pre_imports_its_profiles_libraries(scientific_sandbox, sandbox,
                                                            tmp_path) -> None:
    prog = tmp_path / "loaded.py"
    prog.write_text("import sys\n\ndef f():\n    return sorted(m for m in ('neurokit2', "
                    "'pandas', 'sklearn.neighbors', 'scipy.signal') if m in sys.modules)\n")
    loaded = {sb.profile: sb.execute(ExecutionRequest(prog, "f", {})).value
              for sb in (scientific_sandbox, sandbox)}
    assert loaded == {"scientific": ["neurokit2", "pandas", "scipy.signal", "sklearn.neighbors"],
                      "minimal": ["scipy.signal"]}


# --- judged where it will run ---------------------------------------------------------------

def test_a_neurokit2_program_passes_in_scientific_and_fails_in_minimal(tmp_path,
                                                                       capsys) -> None:
    """On the real ECG recordings (BITalino, MIT-BIH 208 with its hidden case), through
    `check`: the library call is right everywhere, and a minimal spec refuses it."""
    sol = tmp_path / "nk_hr.py"
    sol.write_text(NK_HR)
    assert main(["check", str(_spec_in(tmp_path, ECG, "scientific")), str(sol)]) == 0
    assert "PASS (3/3 cases)" in capsys.readouterr().out
    assert main(["check", str(ECG), str(sol)]) == 1
    assert "import x3" in capsys.readouterr().out


def test_the_checker_refuses_a_sandbox_of_another_profile(sandbox, tmp_path) -> None:
    spec = with_environment(load_spec(ECG), "scientific")
    with pytest.raises(ValueError, match="written for environment 'scientific'"):
        check_solution(spec, EXAMPLES / "solutions/ecg-mean-hr.py", sandbox)


# --- what the model is told and what lint allows --------------------------------------------

MINIMAL_SYSTEM = """You are an expert embedded and IoT signal-processing programmer. You write small, correct,
plain Python functions that process recorded sensor data.
The program runs with: Python 3.11 with its standard library, numpy, scipy. Nothing else is installed (no pandas, no sklearn, no
matplotlib), there is no network and no input files: the data arrives as function arguments.
"""  # noqa: E501 - the prompt as it was before profiles existed, byte for byte


def test_the_minimal_prompt_is_byte_identical_to_before_profiles() -> None:
    assert messages("x")[0]["content"] == MINIMAL_SYSTEM
    assert spec_fields(load_spec(ECG))["libraries"] == (
        "the Python standard library, numpy and scipy")


def test_the_scientific_prompt_names_exactly_what_its_image_offers() -> None:
    system = messages("x", "scientific")[0]["content"]
    assert "numpy, scipy, sklearn, pandas, neurokit2. Nothing else" in system
    assert "no sklearn" not in system and "no pandas" not in system
    fields = spec_fields(with_environment(load_spec(ECG), "scientific"))
    assert "scikit-learn (sklearn), pandas and neurokit2" in fields["libraries"]


MINIMAL_IMPORT_ADVICE = """An import or a module attribute does not exist in this environment. Use only real numpy,
scipy and standard-library names (the close real names are listed above), or write the
computation with numpy directly.
"""  # noqa: E501 - the advice as it was before profiles named their libraries


def test_import_advice_names_the_libraries_of_the_specs_image() -> None:
    """An invented sklearn name in a scientific spec is repaired with a real sklearn name,
    not by rewriting with numpy only; the minimal advice stays byte for byte."""
    assert advice("import") == advice("import", "minimal") == MINIMAL_IMPORT_ADVICE
    scientific = advice("import", "scientific")
    assert "sklearn" in scientific and "neurokit2" in scientific
    assert "sklearn" not in advice("import", "minimal")
    assert advice("no-such-failure", "scientific") == ""


@pytest.mark.docker
def test_lint_allows_imports_by_profile(sandbox, scientific_sandbox) -> None:
    idx = {p: api_index.load_index(profile=p) for p in profiles.NAMES}
    code = "import numpy as np\nimport {mod}\n\ndef f(x):\n    return float(np.mean(x))\n"

    def blocked(mod: str, env: str) -> list[str]:
        found = lint(code.format(mod=mod), "f", ["x"], index=idx[env], environment=env)
        return [f.message for f in blocking(found)]

    assert blocked("sklearn", "scientific") == [] and blocked("neurokit2", "scientific") == []
    msg, = blocked("sklearn", "minimal")
    assert "not in this sandbox (environment: minimal; it is in environment: scientific)" in msg
    # present in the image because NeuroKit2 needs it, but not offered to generated code
    assert blocked("matplotlib", "scientific")
    assert "it is in environment" not in blocked("matplotlib", "scientific")[0]


@pytest.mark.docker
def test_each_images_api_index_lists_its_own_libraries(sandbox, scientific_sandbox) -> None:
    sci = api_index.load_index(profile="scientific")
    mini = api_index.load_index(profile="minimal")
    assert (sci["environment"], mini["environment"]) == ("scientific", "minimal")
    assert "KNeighborsClassifier" in sci["modules"]["sklearn.neighbors"]
    assert "ecg_peaks" in sci["modules"]["neurokit2"]
    assert "sklearn.neighbors" not in mini["modules"] and "neurokit2" not in mini["modules"]
    assert api_index.cache_path(profile="scientific") != api_index.cache_path(profile="minimal")
    # an invented NeuroKit2 name is caught before a sandbox run, with the real one named
    bad = ("import neurokit2 as nk\n\ndef f(x, fs):\n"
           "    return nk.ecg_peakz(x, sampling_rate=fs)\n")
    found = lint(bad, "f", ["x", "fs"], index=sci, environment="scientific")
    assert any("ecg_peaks" in f.message for f in blocking(found)), found


# --- cards ----------------------------------------------------------------------------------

def test_cards_are_offered_only_where_their_libraries_exist() -> None:
    query = "detect the R peaks of a raw single-lead ECG and compute the heart rate"
    sci = [c.id for c in kb.search(query, environment="scientific")]
    mini = [c.id for c in kb.search(query)]
    assert sci[0] == "neurokit2-ecg-peaks"
    assert all(c.environment == "minimal" for c in kb.search(query)) and mini
    # a minimal run ranks exactly as over a directory without the scientific cards
    assert [(c.id, round(s, 9)) for c, s in kb.score(query)] == [
        (c.id, round(s, 9)) for c, s in kb.score(query, directory=_minimal_cards_dir())]


def _minimal_cards_dir() -> Path:
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="gpiot-cards-"))
    for c in kb.load_cards():
        if c.environment == "minimal":
            shutil.copy(c.path, d / c.path.name)
    return d


def test_a_card_with_an_unknown_environment_is_refused() -> None:
    text = (kb.CARDS_DIR / "sklearn-knn.md").read_text().replace(
        "environment: scientific", "environment: cloud")
    with pytest.raises(ValueError, match="environment 'cloud' is not one of"):
        kb.parse_card(text)


# --- bench --environment --------------------------------------------------------------------

@pytest.mark.docker
def test_bench_environment_judges_every_task_in_that_image(tmp_path, sandbox,
                                                           scientific_sandbox) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_fake import FakeModel

    from agent.bench import BenchConfig, run_bench

    outs = {}
    for env in (None, "scientific"):
        cfg = BenchConfig(tasks_dir=str(EXAMPLES), tasks="hrv-*", mode="single-shot",
                          environment=env)
        outs[env] = out = tmp_path / str(env)
        assert run_bench(cfg, out, load=lambda c: FakeModel()) == 0
    for env, want in ((None, "minimal"), ("scientific", "scientific")):
        rec, = [json.loads(x) for x in (outs[env] / "results.jsonl").read_text().splitlines()]
        report = json.loads((outs[env] / rec["run_dir"] / "report.json").read_text())
        assert rec["environment"] == report["sandbox"]["environment"] == want
        assert report["config"]["environment"] == env and rec["solved"]
        assert report["sandbox"]["image"] == image.image_tag(want)
