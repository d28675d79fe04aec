"""IoT task generators for the fine-tuning data (distinct from IoTBench and examples/).

Each generator is a parameterised task family with a reference implementation; see base.py.
"""

from __future__ import annotations

from pathlib import Path

from finetune.generators.base import Draft, Generator, Mutant, Task, apply_mutant
from finetune.generators.cardio import EcgBeats, EdgeReduce, FrameLoudness, NnWindows, PulseRate
from finetune.generators.comms import Debounce, PacketLoss, RssiDistance, TimestampGaps
from finetune.generators.energy import AcPower, BatteryCoulomb, EnergyMeter
from finetune.generators.environment import BaroAltitude, Co2Episodes, DewPoint, Thermistor
from finetune.generators.motion import FallDetect, GpsDistance, TiltAngle, VibrationCrest
from finetune.generators.physio import AbpWindows, SolarDay, Spo2

GENERATORS: dict[str, Generator] = {g.name: g for g in (
    BatteryCoulomb(), EnergyMeter(), AcPower(), Thermistor(), BaroAltitude(), DewPoint(),
    Co2Episodes(), PacketLoss(), RssiDistance(), TimestampGaps(), Debounce(), FallDetect(),
    TiltAngle(), VibrationCrest(), GpsDistance(), Spo2(), AbpWindows(), SolarDay(),
    PulseRate(), NnWindows(), FrameLoudness(), EcgBeats(), EdgeReduce(),
)}

# The dev split (BENCHMARKS.md, "Splits"): variants drawn with generator seeds from here on
# are never training data (build_dataset refuses such seeds), so a quick read of a change on
# them is not a read of what the model was trained on.
DEV_SEED_BASE = 10_000


def dev_tasks(n: int, seed: int, root: Path) -> list[Task]:
    """N dev-split tasks written under root, the families taken in turn (sorted by name) so
    a small sample spreads over them; the same (n, seed) always gives the same tasks."""
    names = sorted(GENERATORS)
    return [GENERATORS[names[i % len(names)]].make(DEV_SEED_BASE + seed, i // len(names), root)
            for i in range(n)]


__all__ = ["DEV_SEED_BASE", "GENERATORS", "Draft", "Generator", "Mutant", "Task",
           "apply_mutant", "dev_tasks"]
