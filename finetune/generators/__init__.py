"""IoT task generators for the fine-tuning data (distinct from IoTBench and examples/).

Each generator is a parameterised task family with a reference implementation; see base.py.
"""

from __future__ import annotations

from finetune.generators.base import Draft, Generator, Mutant, Task, apply_mutant
from finetune.generators.comms import Debounce, PacketLoss, RssiDistance, TimestampGaps
from finetune.generators.energy import AcPower, BatteryCoulomb, EnergyMeter
from finetune.generators.environment import BaroAltitude, Co2Episodes, DewPoint, Thermistor
from finetune.generators.motion import FallDetect, GpsDistance, TiltAngle, VibrationCrest
from finetune.generators.physio import AbpWindows, SolarDay, Spo2

GENERATORS: dict[str, Generator] = {g.name: g for g in (
    BatteryCoulomb(), EnergyMeter(), AcPower(), Thermistor(), BaroAltitude(), DewPoint(),
    Co2Episodes(), PacketLoss(), RssiDistance(), TimestampGaps(), Debounce(), FallDetect(),
    TiltAngle(), VibrationCrest(), GpsDistance(), Spo2(), AbpWindows(), SolarDay(),
)}

__all__ = ["GENERATORS", "Draft", "Generator", "Mutant", "Task", "apply_mutant"]
