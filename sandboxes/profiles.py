"""Sandbox profiles: which libraries a generated program may use, by where it will run.

A constrained edge device has numpy and scipy at most (`minimal`, the default, so every
existing spec keeps its meaning); a gateway or laptop also has the field's own libraries
(`scientific`: scikit-learn, pandas, NeuroKit2), and a program written for one should call
them instead of hand-writing an R-peak detector or a k-NN. Each profile is one image built
from its own recipe files; everything that depends on what the image holds (the prompt's
list, lint's import allowlist, the API index of real names, the fork server's pre-imports)
reads it from here, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

# Modules whose public names every profile's API index lists (those the image has).
BASE_API_MODULES = (
    "numpy", "numpy.fft", "numpy.linalg", "numpy.random", "numpy.polynomial", "numpy.ma",
    "scipy", "scipy.signal", "scipy.signal.windows", "scipy.stats", "scipy.fft",
    "scipy.fftpack", "scipy.interpolate", "scipy.integrate", "scipy.ndimage", "scipy.optimize",
    "scipy.spatial", "scipy.spatial.distance", "scipy.linalg", "scipy.special", "scipy.cluster",
    "scipy.cluster.vq", "scipy.cluster.hierarchy",
    "math", "cmath", "statistics", "random", "collections", "itertools", "functools",
    "operator", "heapq", "bisect", "json", "re", "datetime", "time", "string", "typing",
    "dataclasses", "enum", "array", "struct", "decimal", "fractions", "csv", "io", "os",
    "os.path", "sys",
)
BASE_PREIMPORT = ("numpy", "scipy.fft", "scipy.interpolate", "scipy.signal", "scipy.stats")


@dataclass(frozen=True)
class Profile:
    """One sandbox image: its recipe files and what generated code may import from it."""

    name: str
    packages_file: str  # Debian packages (sandboxes/<file>), every one the image holds
    wheels_file: str | None  # pinned, hashed requirements installed from wheels, or None
    offered: tuple[str, ...]  # top-level import names generated code may use (+ stdlib)
    libraries: str  # the prompt's rule: "Use only {libraries}; import everything you use."
    absent: str  # the prompt's "Nothing else is installed ({absent})"
    # the import repair advice's "Use only real {real_names} names": the libraries whose
    # names an invented import should be replaced with
    real_names: str
    preimport: tuple[str, ...] = BASE_PREIMPORT  # imported once by the warm fork server
    api_modules: tuple[str, ...] = BASE_API_MODULES
    # Address space the interpreter and the pre-imports take beyond the job's memory, for
    # backends that cap it with RLIMIT_AS (bwrap): pandas and sklearn map far more than numpy.
    import_mb: int = 128


PROFILES: dict[str, Profile] = {
    "minimal": Profile(
        name="minimal",
        packages_file="packages.txt",
        wheels_file=None,
        offered=("numpy", "scipy"),
        libraries="the Python standard library, numpy and scipy",
        # Worded (and wrapped) as the prompt was before profiles existed: the minimal prompt
        # is byte-identical, so results before and after stay comparable.
        absent="no pandas, no sklearn, no\nmatplotlib",
        real_names="numpy,\nscipy and standard-library",  # wrapped as before: byte-identical
    ),
    "scientific": Profile(
        name="scientific",
        packages_file="packages-scientific.txt",
        wheels_file="wheels-scientific.txt",
        offered=("numpy", "scipy", "sklearn", "pandas", "neurokit2"),
        libraries=("the Python standard library, numpy, scipy, scikit-learn (sklearn), "
                   "pandas and neurokit2"),
        absent="no plotting, no torch or tensorflow",
        real_names=("numpy, scipy,\nscikit-learn (sklearn), pandas, neurokit2 and "
                    "standard-library"),
        preimport=(*BASE_PREIMPORT, "sklearn.neighbors", "sklearn.ensemble",
                   "sklearn.linear_model", "sklearn.preprocessing", "pandas", "neurokit2"),
        api_modules=(*BASE_API_MODULES, "sklearn", "sklearn.neighbors", "sklearn.ensemble",
                     "sklearn.linear_model", "sklearn.preprocessing", "sklearn.svm",
                     "sklearn.tree", "sklearn.cluster", "sklearn.decomposition",
                     "sklearn.metrics", "sklearn.model_selection", "sklearn.pipeline",
                     "pandas", "neurokit2"),
        import_mb=768,
    ),
}
DEFAULT = "minimal"
NAMES = tuple(PROFILES)


def get(name: str | None = None) -> Profile:
    """The named profile (default `minimal`); ValueError names the choices."""
    name = name or DEFAULT
    if name not in PROFILES:
        raise ValueError(f"unknown sandbox environment {name!r}; choose from "
                         + ", ".join(NAMES))
    return PROFILES[name]


def build_flag(name: str | None) -> str:
    """What `sandbox build` needs besides its defaults to build profile `name`'s image."""
    name = get(name).name
    return "" if name == DEFAULT else f" --environment {name}"


def provides(outer: str | None, inner: str | None) -> bool:
    """Whether the image of profile `outer` offers every library `inner` offers (a program
    or card written for `inner` runs there)."""
    return set(get(inner).offered) <= set(get(outer).offered)
