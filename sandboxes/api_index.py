"""What generated code can really import and call in the sandbox image.

Small models invent APIs (`from scipy.signal import rms`). To say so before spending a
sandbox run, lint needs the real public names of the image's modules. They are listed by
running a program INSIDE the sandbox (the host's numpy/scipy may differ from Debian's), once
per image tag, and cached as JSON in ``$XDG_CACHE_HOME/gpiot/sandbox/<tag>.api.json``
(``:`` in the tag becomes ``-``). Each profile (sandboxes/profiles.py) is its own image, so
its own index, and names the modules listed.

Import allowlist: the image's Python standard library minus `DENIED_STDLIB` (modules that
cannot work in the locked-down container or have no place in a data function: network,
processes, GUI, terminals, C escape hatches, packaging), plus the libraries the profile
offers (`Profile.offered`; a library that is only there because another needs it, such as
matplotlib for NeuroKit2, is not offered).
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from sandboxes import profiles

HERE = Path(__file__).resolve().parent

# Stdlib modules refused by lint, and why (network is off, pids are capped, no display...).
DENIED_STDLIB: dict[str, str] = {
    **dict.fromkeys(
        ("socket", "ssl", "http", "urllib", "ftplib", "smtplib", "poplib", "imaplib",
         "telnetlib", "nntplib", "xmlrpc", "socketserver", "asyncio", "webbrowser",
         "mailbox", "smtpd", "asyncore", "asynchat"),
        "the sandbox has no network"),
    **dict.fromkeys(("subprocess", "multiprocessing", "pty", "pipes", "concurrent"),
                    "the sandbox runs one process; use numpy vectorised code"),
    **dict.fromkeys(("tkinter", "turtle", "turtledemo", "idlelib", "curses", "tty", "termios",
                     "readline"), "the sandbox has no display or terminal"),
    **dict.fromkeys(("ctypes", "resource", "ensurepip", "venv", "lib2to3", "distutils",
                     "pydoc", "pydoc_data", "antigravity", "this", "msvcrt", "winreg",
                     "winsound", "nt", "_winapi"), "not usable in the sandbox"),
}

# Names models commonly invent, with what to write instead.
IDIOMS: dict[str, str] = {
    "rms": "RMS is np.sqrt(np.mean(x**2))",
    "root_mean_square": "RMS is np.sqrt(np.mean(x**2))",
    "moving_average": "a moving average is np.convolve(x, np.ones(w) / w, mode='same')",
    "rolling_mean": "a rolling mean is np.convolve(x, np.ones(w) / w, mode='same')",
    "running_mean": "a running mean is np.convolve(x, np.ones(w) / w, mode='same')",
    "smooth": "smooth with np.convolve(x, np.ones(w) / w, mode='same')",
    "bandpass": ("band-pass: sos = scipy.signal.butter(2, [lo, hi], btype='bandpass', fs=fs, "
                 "output='sos'); y = scipy.signal.sosfiltfilt(sos, x)"),
    "bandpass_filter": ("band-pass: sos = scipy.signal.butter(2, [lo, hi], btype='bandpass', "
                        "fs=fs, output='sos'); y = scipy.signal.sosfiltfilt(sos, x)"),
    "butter_bandpass": ("band-pass: sos = scipy.signal.butter(2, [lo, hi], btype='bandpass', "
                        "fs=fs, output='sos'); y = scipy.signal.sosfiltfilt(sos, x)"),
    "lowpass": ("low-pass: sos = scipy.signal.butter(2, fc, btype='lowpass', fs=fs, "
                "output='sos'); y = scipy.signal.sosfiltfilt(sos, x)"),
    "lowpass_filter": ("low-pass: sos = scipy.signal.butter(2, fc, btype='lowpass', fs=fs, "
                       "output='sos'); y = scipy.signal.sosfiltfilt(sos, x)"),
    "highpass": ("high-pass: sos = scipy.signal.butter(2, fc, btype='highpass', fs=fs, "
                 "output='sos'); y = scipy.signal.sosfiltfilt(sos, x)"),
    "highpass_filter": ("high-pass: sos = scipy.signal.butter(2, fc, btype='highpass', fs=fs, "
                        "output='sos'); y = scipy.signal.sosfiltfilt(sos, x)"),
    "find_peaks": "peaks: from scipy.signal import find_peaks; peaks, _ = find_peaks(x, "
                  "distance=int(0.3 * fs))",
    "detect_peaks": "peaks: from scipy.signal import find_peaks; peaks, _ = find_peaks(x, "
                    "distance=int(0.3 * fs))",
    "findpeaks": "peaks: from scipy.signal import find_peaks; peaks, _ = find_peaks(x, "
                 "distance=int(0.3 * fs))",
    "peaks": "peaks: from scipy.signal import find_peaks; peaks, _ = find_peaks(x, "
             "distance=int(0.3 * fs))",
    "zero_crossings": "zero crossings: np.nonzero(np.diff(np.signbit(x)))[0]",
    "zero_crossing_rate": "zero-crossing rate: np.mean(np.diff(np.signbit(x)) != 0)",
    "zcr": "zero-crossing rate: np.mean(np.diff(np.signbit(x)) != 0)",
    "energy": "energy is np.sum(x**2)",
    "magnitude": "magnitude of 3 axes is np.sqrt(ax**2 + ay**2 + az**2)",
    "db": "decibels: 20 * np.log10(amplitude)",
    "dbfs": "dBFS: 20 * np.log10(rms / full_scale)",
}

_LISTING = '''
import importlib, pkgutil, sys

MODULES = {modules!r}


def list_api():
    out, missing, versions = {{}}, [], {{}}
    for name in MODULES:
        try:
            mod = importlib.import_module(name)
        except Exception:
            missing.append(name)
            continue
        names = {{n for n in dir(mod) if not n.startswith("_")}}
        for info in pkgutil.iter_modules(getattr(mod, "__path__", None) or []):
            if not info.name.startswith("_"):
                names.add(info.name)
        out[name] = sorted(names)
        if "." not in name and hasattr(mod, "__version__"):
            versions[name] = str(mod.__version__)
    return {{"modules": out, "missing": missing, "versions": versions,
             "python": sys.version.split()[0],
             "stdlib": sorted(sys.stdlib_module_names)}}
'''


def cache_path(tag: str | None = None, profile: str | None = None) -> Path:
    """Where the index of image `tag` (default: the current recipe's of `profile`) is cached."""
    from sandboxes import image

    tag = tag or image.image_tag(profile)
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "gpiot" / "sandbox" / f"{tag.replace(':', '-').replace('/', '_')}.api.json"


def build_index(sandbox: Any = None, profile: str | None = None) -> dict[str, Any]:
    """Run the listing program in the sandbox of `profile` and return its index (not
    cached); a given sandbox says its own profile."""
    from sandboxes import open_sandbox
    from sandboxes.base import OK, ExecutionRequest, Limits

    own = sandbox is None
    sb = open_sandbox(environment=profile) if own else sandbox
    p = profiles.get(getattr(sb, "profile", None) or profile)
    try:
        with tempfile.TemporaryDirectory(prefix="gpiot-api-") as tmp:
            sol = Path(tmp) / "list_api.py"
            sol.write_text(_LISTING.format(modules=p.api_modules), encoding="utf-8")
            res = sb.execute(ExecutionRequest(solution=sol, function="list_api", args={},
                                              limits=Limits(timeout_s=60), case="api-index"))
    finally:
        if own:
            sb.close()
    if res.status != OK or not isinstance(res.value, dict):
        from sandboxes.errors import InfraError

        raise InfraError(f"listing the sandbox's modules failed: {res.status} {res.error}")
    return {**res.value, "environment": p.name}


def load_index(tag: str | None = None, build: bool = True, profile: str | None = None
               ) -> dict[str, Any] | None:
    """The cached index of the image (built on first use); None if unavailable."""
    path = cache_path(tag, profile)
    return _load(str(path), build, profiles.get(profile).name)


@functools.lru_cache(maxsize=8)
def _load(path_s: str, build: bool, profile: str) -> dict[str, Any] | None:
    path = Path(path_s)
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    if not build:
        return None
    index = build_index(profile=profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(index, f)
    os.replace(tmp, path)
    return index


def get_index(profile: str | None = None) -> dict[str, Any] | None:
    """The index for the current image of `profile`, or None when neither cache nor sandbox
    is there."""
    try:
        return load_index(profile=profile)
    except Exception:  # noqa: BLE001 - no Docker/image: callers skip name checks
        return None


def _profile(index: dict[str, Any] | None, profile: str | None) -> profiles.Profile:
    """The profile asked for, else the one the index was listed in, else the default."""
    return profiles.get(profile or (index or {}).get("environment"))


def third_party(profile: str | None = None) -> list[str]:
    """Top-level import names of the libraries the profile's image offers generated code."""
    return list(profiles.get(profile).offered)


def stdlib_names(index: dict[str, Any] | None = None) -> set[str]:
    """The sandbox Python's stdlib (the host's when no index), private modules excluded but
    `__future__` (`from __future__ import annotations` is a statement of the language)."""
    names = set(index["stdlib"]) if index and index.get("stdlib") else set(
        sys.stdlib_module_names)
    return {n for n in names if not n.startswith("_")} | {"__future__"}


def allowed_imports(index: dict[str, Any] | None = None, profile: str | None = None
                    ) -> set[str]:
    """Top-level module names generated code may import."""
    offered = _profile(index, profile).offered
    return (stdlib_names(index) - set(DENIED_STDLIB)) | set(offered)


def import_refusal(top: str, index: dict[str, Any] | None = None, profile: str | None = None
                   ) -> str | None:
    """Why top-level module `top` cannot be imported in the sandbox, or None if it can."""
    p = _profile(index, profile)
    if top in allowed_imports(index, p.name):
        return None
    avail = "available: " + ", ".join(p.offered) + " and the Python standard library"
    if top in DENIED_STDLIB:
        return f"`{top}` is not allowed: {DENIED_STDLIB[top]}; {avail}"
    others = [q.name for q in profiles.PROFILES.values() if top in q.offered]
    if others:  # the user can choose that environment; the model must do without
        return (f"`{top}` is not in this sandbox (environment: {p.name}; it is in "
                f"environment: {others[0]}); {avail}")
    return f"`{top}` is not installed in the sandbox; {avail}"


def names(module: str, index: dict[str, Any] | None = None) -> list[str] | None:
    """Public names of `module` in the sandbox, or None when the module is not indexed."""
    index = index if index is not None else get_index()
    if not index:
        return None
    return index["modules"].get(module)


def suggest(module: str, name: str, n: int = 3, index: dict[str, Any] | None = None
            ) -> list[str]:
    """Real names of `module` close to `name` (case-insensitive difflib)."""
    real = names(module, index) or []
    lower: dict[str, str] = {}
    for r in real:
        lower.setdefault(r.lower(), r)
    hits = difflib.get_close_matches(name.lower(), list(lower), n=n, cutoff=0.6)
    return [lower[h] for h in hits]


def where(name: str, index: dict[str, Any] | None = None) -> list[str]:
    """Indexed modules that define exactly `name`, most useful first."""
    index = index if index is not None else get_index()
    if not index:
        return []
    return [m for m in index["modules"] if name in index["modules"][m]]


def explain_missing(module: str, name: str, index: dict[str, Any] | None = None) -> str:
    """One short sentence for an invented name: what's close, where it really is, the idiom."""
    index = index if index is not None else get_index()
    parts = [f"{module} has no `{name}`"]
    elsewhere = [m for m in where(name, index) if m != module]
    if elsewhere:
        parts.append(f"it is in {elsewhere[0]}: from {elsewhere[0]} import {name}")
    close = suggest(module, name, index=index)
    if close and not elsewhere:
        parts.append("close: " + ", ".join(close))
    idiom = IDIOMS.get(name.lower())
    if idiom and not elsewhere:
        if module.startswith("scipy") and not where(name, index):
            parts.append("numpy has none either")
        parts.append(idiom)
    return "; ".join(parts)


# The conventional names of modules, and the import each stands for.
COMMON_IMPORTS = {"np": "import numpy as np", "numpy": "import numpy as np",
                  "scipy": "import scipy", "signal": "from scipy import signal",
                  "stats": "from scipy import stats", "math": "import math",
                  "statistics": "import statistics"}


def import_line(name: str, index: dict[str, Any] | None = None) -> str | None:
    """The import that defines a bare name (`find_peaks` -> from scipy.signal import ...)."""
    if name in COMMON_IMPORTS:
        return COMMON_IMPORTS[name]
    found = where(name, index)
    if "numpy" in found:
        return f"np.{name} (import numpy as np)"
    for m in found:
        if not m.startswith("numpy"):
            return f"from {m} import {name}"
    return None


def certain_import(name: str, index: dict[str, Any] | None = None) -> str | None:
    """The import of a bare name when the image leaves no doubt: a conventional module name
    (np, math, signal) or a name that numpy lacks and exactly one other module defines
    (butter, find_peaks, interp1d); None when it is ambiguous (convolve: numpy, scipy.signal
    or scipy.ndimage; deque: collections, re-exported by scipy.cluster) or unknown."""
    if name in COMMON_IMPORTS:
        return COMMON_IMPORTS[name]
    found = where(name, index)
    if len(found) == 1 and not found[0].startswith("numpy"):
        return f"from {found[0]} import {name}"
    return None
