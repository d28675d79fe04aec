"""Environmental sensing generators: NTC thermistor, barometric altitude, dew point, CO2."""

from __future__ import annotations

import numpy as np

from finetune.generators import axes
from finetune.generators.axes import pick
from finetune.generators.base import CaseDraft, Draft, Generator, Mutant
from finetune.generators.energy import MISSING_IMPORT, code


class Thermistor(Generator):
    name = "ntc-thermistor"
    modality = "NTC thermistor on an ADC"

    def draft(self, rng: np.random.Generator) -> Draft:
        bits = pick(rng, [10, 12, 14, 16])
        r_fixed = pick(rng, [4700.0, 10000.0, 22000.0])
        beta = pick(rng, [3380.0, 3435.0, 3950.0, 4250.0])
        out = pick(rng, ["mean", "max", "series"])
        unit = pick(rng, ["C", "C", "F"])
        period = pick(rng, [1, 5, 10, 60])
        rp = axes.rep(rng)
        full = 2 ** bits - 1

        def trace() -> np.ndarray:
            n = int(rng.integers(60, 400))
            t = axes.random_walk(rng, n, rng.uniform(8, 35), 0.15, 0, 45) + 273.15
            r = 10000.0 * np.exp(beta * (1 / t - 1 / 298.15))
            return np.round(r / (r_fixed + r) * full).astype(np.int32)

        uword = "degrees Celsius" if unit == "C" else "degrees Fahrenheit"
        what = {"mean": f"the mean temperature in {uword}",
                "max": f"the highest temperature in {uword}",
                "series": f"the temperature of every reading in {uword}, as a list"}[out]
        req = axes.wording(
            rng, [
                "I have a 10k NTC thermistor (B = {beta:g} K, 10 kOhm at 25 C) wired from the "
                "ADC pin to ground, with a {rf:g} ohm resistor from the pin up to the reference "
                "voltage. My {bits}-bit ADC (full scale {full}) gives me raw counts every {p} s. "
                "Can you turn a log of counts into {what}?",
                "Convert {bits}-bit ADC readings (0..{full}) of an NTC voltage divider into "
                "temperature. Divider: fixed resistor R_fixed = {rf:g} ohm to Vref, thermistor "
                "to ground, so R_ntc = R_fixed * counts / ({full} - counts). Beta model: "
                "1/T = 1/T0 + ln(R_ntc / R0) / B with R0 = 10000 ohm, T0 = 298.15 K, "
                "B = {beta:g} K. Return {what}.",
                "NTC (R0 10k @ 25C, B {beta:g}) low side, {rf:g} ohm pull-up, {bits}-bit "
                "counts. Return {what}.",
            ], beta=beta, rf=r_fixed, bits=bits, full=full, p=period, what=what)
        conv = "t_c * 9.0 / 5.0 + 32.0" if unit == "F" else "t_c"
        tail = {"mean": f"    return float(np.mean({conv}))\n",
                "max": f"    return float(np.max({conv}))\n",
                "series": f"    return ({conv}).tolist()\n"}[out]
        fn_name = {"mean": "mean_temperature", "max": "max_temperature",
                   "series": "temperatures"}[out]
        ref = code('''
import numpy as np

ADC_MAX = $full  # $bits-bit converter
R_FIXED = $rf  # ohm, from the pin to the reference voltage
R0 = 10000.0  # ohm at 25 degC
T0 = 298.15  # K
BETA = $beta  # K


def $fn(counts):
    """NTC divider counts -> temperature with the Beta equation."""
    c = np.asarray(counts, dtype=float)
    r = R_FIXED * c / (ADC_MAX - c)
    inv_t = 1.0 / T0 + np.log(r / R0) / BETA
    t_c = 1.0 / inv_t - 273.15
$tail''', full=full, bits=bits, rf=r_fixed, beta=beta, fn=fn_name, tail=tail)
        check = ({"metric": "allclose", "rtol": 0.0, "atol": 0.02} if out == "series" else
                 {"metric": "abs_error", "max": 0.02})
        cases = [CaseDraft(f"probe-{k}", {"counts": trace()}, hidden=k >= 2, check=check)
                 for k in range(4)]
        steps = ["Read the ADC counts as floats.",
                 f"Thermistor resistance R = {r_fixed:g} * counts / ({full} - counts).",
                 f"Beta equation: 1/T = 1/298.15 + ln(R / 10000) / {beta:g} (T in kelvin).",
                 "Convert kelvin to Celsius (- 273.15)" + (", then to Fahrenheit (x 9/5 + 32)."
                                                          if unit == "F" else "."),
                 {"mean": "Return the mean as a float.", "max": "Return the maximum as a float.",
                  "series": "Return the temperatures as a list."}[out]]
        mutants = [Mutant("units", " - 273.15", "", "Convert kelvin to Celsius: subtract "
                          "273.15."),
                   Mutant("inverted", "R_FIXED * c / (ADC_MAX - c)",
                          "R_FIXED * (ADC_MAX - c) / c", "The thermistor is on the low side: "
                          "R = R_fixed * counts / (ADC_MAX - counts)."),
                   Mutant("wrong-api", "np.log(r / R0)", "np.log10(r / R0)",
                          "The Beta equation uses the natural logarithm, np.log."),
                   MISSING_IMPORT]
        if unit == "F":
            mutants.append(Mutant("units", "t_c * 9.0 / 5.0 + 32.0", "t_c",
                                  "The result must be in Fahrenheit: t * 9/5 + 32."))
        return Draft(
            title="Temperature from NTC thermistor ADC counts", requirement=req,
            function={"name": fn_name, "returns": {"type": "list" if out == "series" else
                                                   "float", "description": what},
                      "args": [{"name": "counts", "description": f"raw {bits}-bit ADC counts"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Voltage-divider resistance from the counts, then the Beta equation, then "
                "kelvin to the requested unit.",
            params={"bits": bits, "r_fixed": r_fixed, "beta": beta, "output": out,
                    "unit": unit}, tags=["environment", "temperature"])


class BaroAltitude(Generator):
    name = "baro-altitude"
    modality = "barometric pressure sensor"

    def draft(self, rng: np.random.Generator) -> Draft:
        unit = pick(rng, ["Pa", "hPa", "Pa*100"])
        fs = pick(rng, [1.0, 2.0, 5.0, 10.0])
        p0 = pick(rng, [101325.0, 101325.0, 102000.0, 100800.0])
        out = pick(rng, ["gain", "series", "max-rel"])
        win = pick(rng, [5, 10, 20])
        rp = axes.rep(rng)
        scale = {"Pa": 1.0, "hPa": 0.01, "Pa*100": 100.0}[unit]

        def trace() -> np.ndarray:
            n = int(rng.integers(200, 1200))
            h = np.cumsum(rng.normal(0, 0.15, n) + np.sin(np.arange(n) / rng.uniform(30, 90))
                          * rng.uniform(0.1, 0.6)) + rng.uniform(0, 800)
            p = p0 * (1 - h / 44330.0) ** 5.255 + rng.normal(0, 1.5, n)
            v = p * scale
            return (np.round(v).astype(np.int64) if unit == "Pa*100" else
                    np.round(v, 2 if unit == "Pa" else 4))

        uw = {"Pa": "pascals", "hPa": "hectopascals (hPa)",
              "Pa*100": "integer units of 0.01 Pa (a BMP388-style raw reading)"}[unit]
        what = {"gain": f"the total elevation gain in metres: average the altitude over "
                        f"consecutive non-overlapping blocks of {win} samples (drop an incomplete "
                        f"last block) and add up only the increases between consecutive blocks",
                "series": "the altitude in metres of every sample, as a list",
                "max-rel": f"the highest altitude reached relative to the start, in metres, "
                           f"using {win}-sample block averages (non-overlapping, incomplete last "
                           f"block dropped; the start is the first block)"}[out]
        req = axes.wording(
            rng, [
                "My hiking tracker logs air pressure in {uw} at {fs:g} Hz. Use the standard "
                "barometric formula h = 44330 * (1 - (p / p0) ** (1 / 5.255)) with sea-level "
                "pressure p0 = {p0:g} Pa, and give me {what}.",
                "Input: barometric pressure samples in {uw}, fs = {fs:g} Hz. Altitude per "
                "sample: h = 44330 * (1 - (p / {p0:g}) ** (1 / 5.255)) with p in Pa. Output: "
                "{what}.",
                "pressure ({uw}) -> altitude (international barometric formula, p0 = {p0:g} "
                "Pa). Return {what}.",
            ], uw=uw, fs=fs, p0=p0, what=what)
        to_pa = {"Pa": "1.0", "hPa": "100.0", "Pa*100": "0.01"}[unit]
        blocks = (f"    n = len(h) // {win} * {win}\n"
                  f"    blocks = h[:n].reshape(-1, {win}).mean(axis=1)\n")
        tail = {"gain": blocks + "    return float(np.sum(np.maximum(np.diff(blocks), 0.0)))\n",
                "series": "    return h.tolist()\n",
                "max-rel": blocks + "    return float(np.max(blocks) - blocks[0])\n"}[out]
        fn_name = {"gain": "elevation_gain", "series": "altitudes",
                   "max-rel": "max_climb"}[out]
        ref = code('''
import numpy as np

P0 = $p0  # sea-level pressure, Pa
TO_PA = $to_pa  # readings are in $unit


def $fn(pressure, fs):
    """Barometric altitude (international formula) from pressure readings."""
    p = np.asarray(pressure, dtype=float) * TO_PA
    h = 44330.0 * (1.0 - (p / P0) ** (1.0 / 5.255))
$tail''', p0=p0, to_pa=to_pa, unit=unit, fn=fn_name, tail=tail)
        check = {"gain": {"metric": "abs_error", "max": 0.05},
                 "series": {"metric": "allclose", "rtol": 0.0, "atol": 0.01},
                 "max-rel": {"metric": "abs_error", "max": 0.05}}[out]
        cases = [CaseDraft(f"hike-{k}", {"pressure": trace(), "fs": fs}, hidden=k >= 2,
                           check=check) for k in range(4)]
        steps = [f"Convert the readings to Pa (x {to_pa}).",
                 f"Altitude h = 44330 * (1 - (p / {p0:g}) ** (1 / 5.255)) for every sample."]
        steps += {"gain": [f"Average h over non-overlapping blocks of {win} samples, dropping "
                           "the incomplete last block.",
                           "Sum the positive differences between consecutive block means.",
                           "Return the gain in metres as a float."],
                  "series": ["Return the altitudes as a list."],
                  "max-rel": [f"Average h over non-overlapping blocks of {win} samples.",
                              "Return max(block means) - first block mean as a float."]}[out]
        mutants = [Mutant("inverted", "(1.0 / 5.255)", "5.255", "The exponent is 1 / 5.255, "
                          "not 5.255."), MISSING_IMPORT]
        if unit != "Pa":
            mutants.append(Mutant("units", f"TO_PA = {to_pa}", "TO_PA = 1.0",
                                  f"Convert {unit} to Pa before using the formula."))
        if out == "gain":
            mutants.append(Mutant("missing-clip", "np.maximum(np.diff(blocks), 0.0)",
                                  "np.diff(blocks)", "Only the increases count: clip the "
                                  "block-to-block differences at zero."))
        if out != "series":
            mutants.append(Mutant("wrong-axis", f"reshape(-1, {win}).mean(axis=1)",
                                  f"reshape({win}, -1).mean(axis=0)", f"Blocks are {win} "
                                  f"consecutive samples: reshape(-1, {win}).mean(axis=1)."))
        return Draft(
            title={"gain": "Elevation gain from a barometer", "series": "Altitude from pressure",
                   "max-rel": "Highest climb from a barometer"}[out],
            requirement=req,
            function={"name": fn_name, "returns": {"type": "list" if out == "series" else
                                                   "float", "description": what},
                      "args": [{"name": "pressure", "description": f"pressure readings in {uw}"},
                               {"name": "fs", "description": "sampling rate in Hz"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Pressure to altitude with the international barometric formula, then block "
                "averages where the task asks for them.",
            params={"unit": unit, "fs": fs, "p0": p0, "output": out, "block": win},
            tags=["environment", "pressure"])


class DewPoint(Generator):
    name = "dew-point"
    modality = "temperature + relative humidity sensor"

    def draft(self, rng: np.random.Generator) -> Draft:
        tunit = pick(rng, ["C", "C", "F"])
        rhunit = pick(rng, ["percent", "fraction"])
        out = pick(rng, ["series", "risk", "min-spread"])
        spread = pick(rng, [3.0, 4.0, 6.0])
        period = pick(rng, [10, 30, 60, 300])
        rp = axes.rep(rng)

        def pair() -> tuple[np.ndarray, np.ndarray]:
            n = int(rng.integers(100, 600))
            t = axes.random_walk(rng, n, rng.uniform(5, 28), 0.2, -5, 35)
            rh = axes.random_walk(rng, n, rng.uniform(55, 95), 1.0, 25, 99.5)
            t = t * 9 / 5 + 32 if tunit == "F" else t
            return (np.round(t, 2), np.round(rh / (100.0 if rhunit == "fraction" else 1.0),
                                              4 if rhunit == "fraction" else 2))

        tw = "degrees Celsius" if tunit == "C" else "degrees Fahrenheit"
        hw = "percent (0-100)" if rhunit == "percent" else "a fraction (0-1)"
        what = {"series": "the dew point of every reading in degrees Celsius, as a list",
                "risk": f"how many readings are at condensation risk: temperature minus dew "
                        f"point below {spread:g} degrees C",
                "min-spread": "the smallest gap between temperature and dew point, in degrees "
                              "C"}[out]
        req = axes.wording(
            rng, [
                "There's a temperature/humidity sensor in my cellar. It logs temperature in "
                "{tw} and relative humidity as {hw} every {p} s. Using the Magnus formula "
                "(a = 17.62, b = 243.12 C), I'd like {what}.",
                "Dew point from T and RH with the Magnus approximation: gamma = ln(RH/100) + "
                "a*T/(b+T), Td = b*gamma/(a-gamma), a = 17.62, b = 243.12 degC, T in degC. "
                "Inputs: temperature in {tw}, relative humidity as {hw}. Output: {what}.",
                "T ({tw}) + RH ({hw}) log -> Magnus dew point (a 17.62, b 243.12). Return "
                "{what}.",
            ], tw=tw, hw=hw, p=period, what=what)
        tconv = ("(np.asarray(temperature, dtype=float) - 32.0) * 5.0 / 9.0" if tunit == "F"
                 else "np.asarray(temperature, dtype=float)")
        hconv = ("np.asarray(humidity, dtype=float)" if rhunit == "fraction" else
                 "np.asarray(humidity, dtype=float) / 100.0")
        tail = {"series": "    return td.tolist()\n",
                "risk": f"    return int(np.sum(t - td < {spread}))\n",
                "min-spread": "    return float(np.min(t - td))\n"}[out]
        fn_name = {"series": "dew_points", "risk": "condensation_risk_count",
                   "min-spread": "min_dewpoint_spread"}[out]
        ref = code('''
import numpy as np

A = 17.62
B = 243.12  # degC


def $fn(temperature, humidity):
    """Magnus dew point from temperature and relative humidity."""
    t = $tconv
    rh = $hconv
    gamma = np.log(rh) + A * t / (B + t)
    td = B * gamma / (A - gamma)
$tail''', fn=fn_name, tconv=tconv, hconv=hconv, tail=tail)
        check = {"series": {"metric": "allclose", "rtol": 0.0, "atol": 0.02},
                 "risk": {"metric": "equals"},
                 "min-spread": {"metric": "abs_error", "max": 0.02}}[out]
        cases = []
        for k in range(4):
            t, h = pair()
            cases.append(CaseDraft(f"cellar-{k}", {"temperature": t, "humidity": h},
                                   hidden=k >= 2, check=check))
        steps = ["Convert temperature to degC ((F - 32) * 5/9)." if tunit == "F" else
                 "Read temperature (degC) as floats.",
                 "Relative humidity as a fraction (/100)." if rhunit == "percent" else
                 "Relative humidity is already a fraction.",
                 "gamma = ln(RH) + 17.62 * T / (243.12 + T).",
                 "Dew point Td = 243.12 * gamma / (17.62 - gamma).",
                 {"series": "Return the dew points as a list.",
                  "risk": f"Count readings with T - Td < {spread:g}; return an int.",
                  "min-spread": "Return min(T - Td) as a float."}[out]]
        mutants = [Mutant("inverted", "B * gamma / (A - gamma)", "A * gamma / (B - gamma)",
                          "Magnus: Td = b * gamma / (a - gamma) with b = 243.12."),
                   MISSING_IMPORT]
        if rhunit == "percent":
            mutants.append(Mutant("units", "np.asarray(humidity, dtype=float) / 100.0",
                                  "np.asarray(humidity, dtype=float)",
                                  "Humidity arrives in percent: divide by 100 before the log."))
        if tunit == "F":
            mutants.append(Mutant("units", tconv, "np.asarray(temperature, dtype=float)",
                                  "Convert Fahrenheit to Celsius before the Magnus formula."))
        if out == "risk":
            mutants.append(Mutant("inverted", f"t - td < {spread}", f"t - td > {spread}",
                                  f"Risk means the spread is BELOW {spread:g} degrees."))
        return Draft(
            title="Dew point and condensation risk", requirement=req,
            function={"name": fn_name,
                      "returns": {"type": {"series": "list", "risk": "int",
                                           "min-spread": "float"}[out], "description": what},
                      "args": [{"name": "temperature", "description": f"air temperature, {tw}"},
                               {"name": "humidity", "description": f"relative humidity, {hw}"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Magnus dew point, with the inputs converted to degC and a humidity fraction "
                "first.",
            params={"t_unit": tunit, "rh_unit": rhunit, "output": out, "spread": spread},
            tags=["environment", "humidity"])


class Co2Episodes(Generator):
    name = "co2-episodes"
    modality = "indoor CO2 sensor (NDIR)"

    def draft(self, rng: np.random.Generator) -> Draft:
        dt = pick(rng, [30, 60, 120])
        thr = pick(rng, [1000, 1200, 1400])
        min_min = pick(rng, [5, 10, 15, 20])
        out = pick(rng, ["count", "minutes", "longest"])
        rp = axes.rep(rng)

        def trace() -> np.ndarray:
            n = int(rng.integers(300, 1200))
            x = np.empty(n)
            c, occupied = 450.0, False
            for i in range(n):
                if rng.random() < 0.02:
                    occupied = not occupied
                target = 1800.0 if occupied else 420.0
                c += (target - c) * (0.03 if occupied else 0.05) * dt / 60 + rng.normal(0, 8)
                x[i] = c
            return np.round(x).astype(np.int32)

        need = int(np.ceil(min_min * 60 / dt))
        what = {"count": f"the number of episodes where CO2 stays above {thr} ppm for at least "
                         f"{min_min} minutes",
                "minutes": f"the total minutes spent in such episodes (above {thr} ppm for at "
                           f"least {min_min} minutes)",
                "longest": f"the length in minutes of the longest stretch above {thr} ppm "
                           f"(0 if none)"}[out]
        req = axes.wording(
            rng, [
                "Our meeting-room CO2 sensor reports ppm every {dt} s. Please give me {what}. "
                "An episode is a run of consecutive readings strictly above the limit; its "
                "length is the number of readings times {dt} s.",
                "Given CO2 concentrations (ppm, integers) sampled every {dt} seconds, find runs "
                "of consecutive samples with value > {thr}. A run of k samples lasts "
                "k * {dt} s. Return {what}.",
                "CO2 ppm @ {dt} s. Runs > {thr} ppm (length = samples * {dt} s). Return {what}.",
            ], dt=dt, thr=thr, what=what)
        tail = {"count": f"    return int(sum(1 for n in runs if n * DT >= {min_min * 60}))\n",
                "minutes": f"    return float(sum(n for n in runs if n * DT >= {min_min * 60})"
                           " * DT / 60.0)\n",
                "longest": "    return float(max(runs, default=0) * DT / 60.0)\n"}[out]
        fn_name = {"count": "count_high_co2_episodes", "minutes": "minutes_high_co2",
                   "longest": "longest_high_co2"}[out]
        ref = code('''
import numpy as np

LIMIT = $thr  # ppm
DT = $dt  # seconds per reading


def $fn(co2):
    """Runs of consecutive readings above the limit, measured in readings."""
    high = np.asarray(co2, dtype=float) > LIMIT
    runs = []
    n = 0
    for h in high:
        if h:
            n += 1
        elif n:
            runs.append(n)
            n = 0
    if n:
        runs.append(n)
$tail''', thr=thr, dt=dt, fn=fn_name, tail=tail)
        check = {"count": {"metric": "equals"},
                 "minutes": {"metric": "abs_error", "max": 0.01},
                 "longest": {"metric": "abs_error", "max": 0.01}}[out]
        cases = [CaseDraft(f"room-{k}", {"co2": trace()}, hidden=k >= 2, check=check)
                 for k in range(4)]
        steps = [f"Mark readings strictly above {thr} ppm.",
                 "Find runs of consecutive marked readings (a run may end at the last reading).",
                 f"Run length in seconds = readings * {dt}.",
                 {"count": f"Count runs lasting at least {min_min} min ({need} readings); "
                           "return an int.",
                  "minutes": f"Sum the minutes of runs lasting at least {min_min} min; return "
                             "a float.",
                  "longest": "Return the longest run in minutes (0 if none) as a float."}[out]]
        mutants = [Mutant("missing-tail", "    if n:\n        runs.append(n)\n", "",
                          "A run still open at the last reading must be counted too."),
                   Mutant("wrong-threshold", "> LIMIT", ">= LIMIT - 50",
                          "Only readings strictly above the limit count."),
                   MISSING_IMPORT]
        if out != "longest":
            mutants.append(Mutant("units", f"n * DT >= {min_min * 60}", f"n >= {min_min}",
                                  "Compare durations in seconds: readings * DT against "
                                  "the minimum in seconds."))
        else:
            mutants.append(Mutant("units", "* DT / 60.0", "* DT", "Return minutes: readings "
                                  "* DT / 60."))
        return Draft(
            title="High-CO2 episodes in a room", requirement=req,
            function={"name": fn_name, "returns": {"type": "int" if out == "count" else
                                                   "float", "description": what},
                      "args": [{"name": "co2", "description": "CO2 readings in ppm"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Threshold the series, collect runs of consecutive high readings (closing the "
                "last one), then filter or measure them in time.",
            params={"dt": dt, "limit": thr, "min_minutes": min_min, "output": out},
            tags=["environment", "air-quality"])
