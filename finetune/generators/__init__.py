"""IoT task generators for the fine-tuning data (distinct from IoTBench and examples/).

Each generator is a parameterised task family with a reference implementation; see base.py.
"""

from __future__ import annotations

from finetune.generators.base import Draft, Generator, Mutant, Task, apply_mutant
from finetune.generators.energy import AcPower, BatteryCoulomb, EnergyMeter

GENERATORS: dict[str, Generator] = {g.name: g for g in (
    BatteryCoulomb(), EnergyMeter(), AcPower(),
)}

__all__ = ["GENERATORS", "Draft", "Generator", "Mutant", "Task", "apply_mutant"]
