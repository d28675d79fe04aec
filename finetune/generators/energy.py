"""Power and energy generators: battery coulomb counting, energy metering, AC power."""

from __future__ import annotations

from string import Template

import numpy as np

from finetune.generators import axes
from finetune.generators.axes import pick
from finetune.generators.base import CaseDraft, Draft, Generator, Mutant

MISSING_IMPORT = Mutant("missing-import", "import numpy as np\n", "",
                        "Import numpy as np: the module uses it.")


def code(template: str, **values: object) -> str:
    """Fill a reference template ($NAME placeholders; braces stay Python's)."""
    return Template(template).substitute({k: str(v) for k, v in values.items()}).lstrip()


class BatteryCoulomb(Generator):
    name = "battery-coulomb"
    modality = "battery current sensor"

    def draft(self, rng: np.random.Generator) -> Draft:
        fs = pick(rng, [0.5, 1.0, 2.0, 10.0])
        unit = pick(rng, ["mA", "A"])
        cap = pick(rng, [500, 1200, 2000, 2600, 3400])
        soc0 = float(pick(rng, [100, 95, 90, 80, 75]))
        out = pick(rng, ["soc", "hours"])
        rp = axes.rep(rng)
        scale = 1.0 if unit == "mA" else 0.001

        def trace(minutes: float) -> np.ndarray:
            n = int(minutes * 60 * fs)
            base = rng.uniform(15, 80)  # mA while awake
            i = base + rng.normal(0, 0.5, n)
            for _ in range(int(rng.integers(3, 12))):  # radio bursts
                s = int(rng.integers(0, n))
                i[s:s + int(rng.integers(2, 60) * fs)] += rng.uniform(100, 400)
            return np.round(np.abs(i) * scale, 4 if unit == "A" else 2)

        task = ("the remaining state of charge in percent at the end of the log" if out == "soc"
                else "the estimated hours of runtime left if the device keeps drawing the log's "
                     "average current")
        req = axes.wording(
            rng, [
                "My sensor node runs on a {cap} mAh battery that was at {soc0:g}% when this log "
                "started. I log the current it draws in {unit}, {fs:g} readings per second "
                "(each reading holds until the next). Can you work out {task}?",
                "Coulomb counting. Input: battery discharge current samples in {unit} at a fixed "
                "rate of {fs:g} Hz (positive = discharge; each sample lasts 1/fs seconds). "
                "Battery capacity {cap} mAh, initial state of charge {soc0:g} %. Compute "
                "{task}. Charge used in mAh = sum(current in mA) / fs / 3600.",
                "Battery {cap} mAh, starts at {soc0:g}%. Current log in {unit} @ {fs:g} Hz. "
                "Return {task}.",
            ], cap=cap, soc0=soc0, unit=unit, fs=fs, task=task)
        ret = ({"type": "float", "description": "state of charge at the end, percent"}
               if out == "soc" else {"type": "float", "description": "hours of runtime left"})
        fn_name = "final_soc" if out == "soc" else "hours_left"
        body = ("    return float(SOC0 - 100.0 * used_mah / CAPACITY_MAH)\n" if out == "soc" else
                "    left_mah = CAPACITY_MAH * SOC0 / 100.0 - used_mah\n"
                "    return float(left_mah / np.mean(i_ma))\n")
        ref = code('''
import numpy as np

CAPACITY_MAH = $cap
SOC0 = $soc0  # percent at the start of the log
TO_MA = $to_ma  # readings are in $unit


def $fn(current, fs):
    """Coulomb counting: each reading holds for 1/fs seconds."""
    i_ma = np.asarray(current, dtype=float) * TO_MA
    used_mah = np.sum(i_ma) / fs / 3600.0
$body''', cap=float(cap), soc0=soc0, to_ma=1000.0 if unit == "A" else 1.0, unit=unit,
                   fn=fn_name, body=body)
        cases = [CaseDraft(f"log-{k}", {"current": trace(rng.uniform(20, 90)), "fs": fs},
                           hidden=k >= 2,
                           check=lambda w: {"metric": "abs_error",
                                            "max": round(max(1e-4, 0.01 * abs(soc0 - w)), 5)}
                           if out == "soc" else {"metric": "rel_error", "max": 0.002})
                 for k in range(4)]
        steps = [f"Convert the current readings to mA ({unit} in)." if unit == "A" else
                 "Read the current samples in mA as floats.",
                 f"Charge used (mAh) = sum of the currents / fs / 3600 (each sample lasts 1/fs "
                 f"s at {fs:g} Hz).",
                 f"Start from {soc0:g}% of {cap} mAh."]
        steps.append("Remaining SoC % = start % - 100 * used / capacity; return a float."
                     if out == "soc" else
                     "Hours left = remaining mAh / mean current in mA; return a float.")
        mutants = [Mutant("units", " / fs / 3600.0", " / fs",
                          "Convert seconds to hours: divide the sum by fs and by 3600."),
                   Mutant("inverted", "np.sum(i_ma) / fs", "np.sum(i_ma) * fs",
                          "Each sample lasts 1/fs seconds: divide by fs, do not multiply."),
                   MISSING_IMPORT]
        if unit == "A":
            mutants.append(Mutant("units", f"TO_MA = {1000.0}", "TO_MA = 1.0",
                                  "The readings are in A: multiply by 1000 to get mA."))
        return Draft(
            title="Battery state of charge by coulomb counting" if out == "soc" else
            "Battery runtime left from a current log", requirement=req,
            function={"name": fn_name, "returns": ret, "args": [
                {"name": "current", "description": f"discharge current samples in {unit}"},
                {"name": "fs", "description": "readings per second (Hz)"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Coulomb counting: integrate the current over time (sample-and-hold) and "
                "subtract the charge used from the starting charge.",
            params={"fs": fs, "unit": unit, "capacity_mah": cap, "soc0": soc0, "output": out},
            tags=["power", "battery"])


class EnergyMeter(Generator):
    name = "energy-meter"
    modality = "smart-plug power meter"

    def draft(self, rng: np.random.Generator) -> Draft:
        dt = pick(rng, [1, 2, 5, 10, 60])
        unit = pick(rng, ["W", "kW"])
        out = pick(rng, ["kwh", "cost", "wh"])
        tariff = round(float(rng.uniform(0.12, 0.45)), 3)
        rp = axes.rep(rng)

        def trace() -> np.ndarray:
            n = int(rng.uniform(2, 8) * 3600 / dt)
            p = np.full(n, rng.uniform(1, 8))  # standby
            period = int(rng.uniform(20, 45) * 60 / dt)
            on = int(period * rng.uniform(0.3, 0.6))
            for s in range(int(rng.integers(0, max(1, period))), n, max(period, 1)):
                p[s:s + on] += rng.uniform(80, 160)  # fridge compressor cycle
            for _ in range(int(rng.integers(1, 4))):
                s = int(rng.integers(0, n))
                p[s:s + max(1, int(180 / dt))] += 2000.0  # kettle
            p += rng.normal(0, 1.5, n)
            p = np.clip(p, 0, None)
            return np.round(p / (1000.0 if unit == "kW" else 1.0), 5 if unit == "kW" else 2)

        what = {"kwh": "the energy used in kWh", "wh": "the energy used in Wh",
                "cost": f"what it cost at {tariff} per kWh"}[out]
        req = axes.wording(
            rng, [
                "I've got a smart plug that reports power in {unit} every {dt} seconds. From "
                "one of its logs, tell me {what}. Use the trapezoidal rule between readings.",
                "Energy metering. The input is a power series in {unit} sampled every {dt} s "
                "(uniform spacing, first sample at t = 0). Integrate it with the trapezoidal "
                "rule over the whole log and return {what}.",
                "Power readings ({unit}, one per {dt} s). Return {what} (trapezoidal "
                "integration).",
            ], unit=unit, dt=dt, what=what)
        fn_name = {"kwh": "energy_kwh", "wh": "energy_wh", "cost": "energy_cost"}[out]
        to_w = 1000.0 if unit == "kW" else 1.0
        tail = {"kwh": "    return float(joules / 3.6e6)\n",
                "wh": "    return float(joules / 3600.0)\n",
                "cost": f"    return float(joules / 3.6e6 * {tariff})\n"}[out]
        ref = code('''
import numpy as np

TO_WATT = $to_w  # readings are in $unit


def $fn(power, dt):
    """Trapezoidal integration of uniformly spaced power readings."""
    p = np.asarray(power, dtype=float) * TO_WATT
    joules = np.sum((p[1:] + p[:-1]) / 2.0) * dt
$tail''', to_w=to_w, unit=unit, fn=fn_name, tail=tail)
        cases = [CaseDraft(f"plug-{k}", {"power": trace(), "dt": dt}, hidden=k >= 2,
                           check=lambda w: {"metric": "rel_error", "max": 0.002})
                 for k in range(4)]
        steps = [f"Read the power samples as floats in W (x1000 from {unit})." if unit == "kW"
                 else "Read the power samples as floats in W.",
                 f"Energy in joules = trapezoidal sum of the power times dt ({dt} s).",
                 {"kwh": "Divide by 3.6e6 to get kWh.", "wh": "Divide by 3600 to get Wh.",
                  "cost": f"Divide by 3.6e6 for kWh and multiply by the tariff {tariff}."}[out],
                 "Return a float."]
        mutants = [Mutant("units", " * dt\n", "\n",
                          "Multiply by the sampling interval dt to get joules."),
                   Mutant("units", "joules / 3.6e6" if out != "wh" else "joules / 3600.0",
                          "joules / 3600.0" if out != "wh" else "joules / 3.6e6",
                          "1 kWh = 3.6e6 J and 1 Wh = 3600 J."),
                   MISSING_IMPORT]
        if unit == "kW":
            mutants.append(Mutant("units", "TO_WATT = 1000.0", "TO_WATT = 1.0",
                                  "The readings are in kW: multiply by 1000 for watts."))
        return Draft(
            title="Energy use from a smart-plug power log", requirement=req,
            function={"name": fn_name, "returns": {"type": "float", "description": what},
                      "args": [{"name": "power", "description": f"power readings in {unit}"},
                               {"name": "dt", "description": "seconds between readings"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Trapezoidal integration of power over time, then a unit conversion.",
            params={"dt": dt, "unit": unit, "output": out, "tariff": tariff},
            tags=["power", "energy"])


class AcPower(Generator):
    name = "ac-power"
    modality = "mains voltage and current transformer"

    def draft(self, rng: np.random.Generator) -> Draft:
        f0 = pick(rng, [50.0, 60.0])
        fs = pick(rng, [1000.0, 2000.0, 4000.0, 5000.0])
        out = pick(rng, ["power", "pf", "vrms", "irms"])
        counts = bool(rng.integers(2))
        vpc = round(float(rng.uniform(0.2, 0.4)), 4)  # volts per ADC count
        apc = round(float(rng.uniform(0.005, 0.02)), 5)  # amps per ADC count
        rp = axes.rep(rng)
        vnom = 230.0 if f0 == 50.0 else 120.0

        def pair() -> tuple[np.ndarray, np.ndarray]:
            n = int(fs * rng.uniform(0.2, 1.0))
            t = np.arange(n) / fs
            phi = rng.uniform(0, 1.1)
            amp = rng.uniform(1, 12) * np.sqrt(2)
            v = vnom * np.sqrt(2) * np.sin(2 * np.pi * f0 * t) \
                + rng.uniform(0, 8) * np.sin(2 * np.pi * 3 * f0 * t) + rng.normal(0, 1, n)
            i = amp * np.sin(2 * np.pi * f0 * t - phi) \
                + amp * rng.uniform(0, 0.2) * np.sin(2 * np.pi * 5 * f0 * t) \
                + rng.normal(0, 0.02, n)
            if counts:
                return (np.round(v / vpc + 2048).astype(np.int32),
                        np.round(i / apc + 2048).astype(np.int32))
            return np.round(v, 3), np.round(i, 4)

        what = {"power": "the real (active) power in watts, the mean of v*i",
                "pf": "the power factor: real power divided by apparent power (Vrms * Irms)",
                "vrms": "the RMS voltage in volts", "irms": "the RMS current in amps"}[out]
        if counts:
            rep_words = (f"raw 12-bit ADC counts centred on 2048 (volts = (count - 2048) * "
                         f"{vpc}, amps = (count - 2048) * {apc})")
        else:
            rep_words = "volts and amps"
        req = axes.wording(
            rng, [
                "I'm building an energy monitor with a voltage sensor and a clamp-on current "
                "transformer on a {f0:g} Hz mains line, sampled at {fs:g} Hz. The samples are "
                "{rep_words}. From one burst of samples, give me {what}.",
                "Given simultaneous voltage and current samples of a {f0:g} Hz AC circuit at "
                "fs = {fs:g} Hz ({rep_words}), compute {what}. Use all samples of the burst; "
                "RMS = sqrt(mean(x**2)).",
                "AC burst, v and i in {rep_words}, fs {fs:g} Hz. Return {what}.",
            ], f0=f0, fs=fs, rep_words=rep_words, what=what)
        conv = (f"    v = (np.asarray(voltage, dtype=float) - 2048.0) * {vpc}\n"
                f"    i = (np.asarray(current, dtype=float) - 2048.0) * {apc}\n" if counts else
                "    v = np.asarray(voltage, dtype=float)\n"
                "    i = np.asarray(current, dtype=float)\n")
        tail = {"power": "    return float(np.mean(v * i))\n",
                "pf": "    p = np.mean(v * i)\n"
                      "    s = np.sqrt(np.mean(v ** 2)) * np.sqrt(np.mean(i ** 2))\n"
                      "    return float(p / s)\n",
                "vrms": "    return float(np.sqrt(np.mean(v ** 2)))\n",
                "irms": "    return float(np.sqrt(np.mean(i ** 2)))\n"}[out]
        fn_name = {"power": "real_power", "pf": "power_factor", "vrms": "rms_voltage",
                   "irms": "rms_current"}[out]
        ref = code('''
import numpy as np


def $fn(voltage, current, fs):
    """AC quantities from one burst of simultaneous voltage/current samples."""
$conv$tail''', fn=fn_name, conv=conv, tail=tail)
        tol = {"power": {"metric": "rel_error", "max": 0.002},
               "pf": {"metric": "abs_error", "max": 0.002},
               "vrms": {"metric": "rel_error", "max": 0.001},
               "irms": {"metric": "rel_error", "max": 0.001}}[out]
        cases = []
        for k in range(4):
            v, i = pair()
            cases.append(CaseDraft(f"burst-{k}", {"voltage": v, "current": i, "fs": fs},
                                   hidden=k >= 2, check=tol))
        steps = ([f"Remove the 2048 mid-scale offset and scale the counts ({vpc} V, {apc} A "
                  "per count)."] if counts else ["Read voltage and current as float arrays."])
        steps += {"power": ["Multiply v and i sample by sample.",
                            "Real power = mean of v*i over the burst; return a float."],
                  "pf": ["Real power P = mean(v*i).",
                         "Apparent power S = Vrms * Irms with RMS = sqrt(mean(x**2)).",
                         "Return P / S as a float."],
                  "vrms": ["RMS = sqrt(mean(v**2)) over the burst; return a float."],
                  "irms": ["RMS = sqrt(mean(i**2)) over the burst; return a float."]}[out]
        mutants = [MISSING_IMPORT]
        if out in ("vrms", "pf"):
            mutants.append(Mutant("missing-sqrt", "np.sqrt(np.mean(v ** 2))", "np.mean(v ** 2)",
                                  "RMS needs the square root of the mean square."))
        if out in ("irms", "pf"):
            mutants.append(Mutant("invented-api", "np.sqrt(np.mean(i ** 2))",
                                  "rms(i)", "scipy.signal has no rms(); use "
                                  "np.sqrt(np.mean(i ** 2)).",
                                  prepend="from scipy.signal import rms\n"))
        if out == "pf":
            mutants.append(Mutant("inverted", "return float(p / s)", "return float(s / p)",
                                  "Power factor is real over apparent power: P / S."))
        if out == "power":
            mutants.append(Mutant("wrong-formula", "np.mean(v * i)",
                                  "np.sqrt(np.mean(v ** 2)) * np.sqrt(np.mean(i ** 2))",
                                  "Real power is mean(v*i); Vrms*Irms is apparent power."))
        if counts:
            mutants.append(Mutant("units", "np.asarray(voltage, dtype=float) - 2048.0",
                                  "np.asarray(voltage, dtype=float)",
                                  "Subtract the 2048 mid-scale offset before scaling."))
        return Draft(
            title={"power": "Real power from voltage and current samples",
                   "pf": "Power factor of an AC load", "vrms": "Mains RMS voltage",
                   "irms": "RMS current of an AC load"}[out],
            requirement=req,
            function={"name": fn_name, "returns": {"type": "float", "description": what},
                      "args": [{"name": "voltage", "description": f"voltage samples ({'ADC counts' if counts else 'V'})"},  # noqa: E501
                               {"name": "current", "description": f"current samples ({'ADC counts' if counts else 'A'})"},  # noqa: E501
                               {"name": "fs", "description": "sampling rate in Hz"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Sample-wise AC power arithmetic: RMS is sqrt(mean(x**2)), real power is "
                "mean(v*i).",
            params={"f0": f0, "fs": fs, "output": out, "adc_counts": counts},
            tags=["power", "ac"])
