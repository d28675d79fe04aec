"""Physiological and real-recording generators: SpO2 ratio of ratios (simulated PPG), arterial
blood pressure per window (real ABP), solar generation per day (real PV_Live)."""

from __future__ import annotations

import numpy as np

from finetune.generators import axes, recordings
from finetune.generators.axes import pick
from finetune.generators.base import CaseDraft, Draft, Generator, Mutant
from finetune.generators.energy import MISSING_IMPORT, code


class Spo2(Generator):
    name = "spo2-ratio"
    modality = "red/IR pulse oximeter (simulated PPG)"

    def draft(self, rng: np.random.Generator) -> Draft:
        fs = pick(rng, [25.0, 50.0, 100.0])
        a, b = pick(rng, [(110.0, 25.0), (104.0, 17.0), (110.0, 25.0)])
        win_s = pick(rng, [4, 5, 8])
        out = pick(rng, ["mean", "windows"])
        rp = axes.rep(rng)
        win = int(win_s * fs)

        def pair() -> tuple[np.ndarray, np.ndarray]:
            n = int(fs * rng.uniform(20, 60))
            w, _ = axes.pulse_wave(rng, n, fs, rng.uniform(55, 110))
            w = w - w.mean()
            s = rng.uniform(88, 99.5)
            r = (a - s) / b
            m_ir = rng.uniform(0.005, 0.02)
            dc_ir, dc_red = rng.uniform(80000, 150000), rng.uniform(60000, 130000)
            ir = dc_ir * (1 + m_ir * w) + rng.normal(0, 20, n)
            red = dc_red * (1 + m_ir * r * w) + rng.normal(0, 20, n)
            return np.round(red).astype(np.int32), np.round(ir).astype(np.int32)

        what = ("the SpO2 in percent over the whole recording" if out == "mean" else
                f"one SpO2 value per non-overlapping {win_s} s window ({win} samples, "
                f"incomplete last window dropped), as a list")
        req = axes.wording(
            rng, [
                "I'm playing with a MAX3010x-style pulse oximeter: red and infrared LED "
                "readings (18-bit ADC counts) at {fs:g} Hz. Compute {what} with the ratio of "
                "ratios: R = (AC_red / DC_red) / (AC_ir / DC_ir), where AC is the standard "
                "deviation and DC the mean of the channel, and SpO2 = {a:g} - {b:g} * R.",
                "Pulse oximetry from raw red and IR photodiode counts (fs = {fs:g} Hz). For "
                "each channel, DC = mean, AC = standard deviation (population, ddof = 0). "
                "R = (AC_red/DC_red) / (AC_ir/DC_ir); SpO2 = {a:g} - {b:g} R. Return {what}.",
                "red + IR counts @ {fs:g} Hz. R = (std/mean red) / (std/mean IR), "
                "SpO2 = {a:g} - {b:g} R. Return {what}.",
            ], fs=fs, a=a, b=b, what=what)
        if out == "mean":
            body = "    return float(spo2(red, ir))\n"
        else:
            body = ("    red = np.asarray(red, dtype=float)\n"
                    "    ir = np.asarray(ir, dtype=float)\n"
                    "    n = len(ir) // WINDOW\n"
                    "    return [float(spo2(red[k * WINDOW:(k + 1) * WINDOW],\n"
                    "                       ir[k * WINDOW:(k + 1) * WINDOW])) for k in range(n)]\n")
        fn_name = "spo2_percent" if out == "mean" else "spo2_per_window"
        ref = code('''
import numpy as np

A = $a
B = $b
WINDOW = $win  # samples ($win_s s at $fs Hz)


def spo2(red, ir):
    """Ratio of ratios: AC = standard deviation, DC = mean."""
    red = np.asarray(red, dtype=float)
    ir = np.asarray(ir, dtype=float)
    r = (np.std(red) / np.mean(red)) / (np.std(ir) / np.mean(ir))
    return A - B * r


def $fn(red, ir, fs):
    """SpO2 from red and infrared PPG counts."""
$body''', a=a, b=b, win=win, win_s=win_s, fs=fs, fn=fn_name, body=body)
        check = ({"metric": "abs_error", "max": 0.05} if out == "mean" else
                 {"metric": "allclose", "rtol": 0.0, "atol": 0.05})
        cases = []
        for k in range(4):
            red, ir = pair()
            cases.append(CaseDraft(f"finger-{k}", {"red": red, "ir": ir, "fs": fs},
                                   hidden=k >= 2, check=check))
        steps = ([] if out == "mean" else
                 [f"Split both channels into windows of {win} samples, dropping the rest."])
        steps += ["Per channel: DC = mean, AC = standard deviation.",
                  "R = (AC_red / DC_red) / (AC_ir / DC_ir).",
                  f"SpO2 = {a:g} - {b:g} * R.",
                  "Return a float." if out == "mean" else "Return the list of values."]
        mutants = [Mutant("inverted", "(np.std(red) / np.mean(red)) / (np.std(ir) / "
                          "np.mean(ir))", "(np.std(ir) / np.mean(ir)) / (np.std(red) / "
                          "np.mean(red))", "R is red over infrared, not the other way round."),
                   Mutant("missing-normalisation", "(np.std(red) / np.mean(red)) / "
                          "(np.std(ir) / np.mean(ir))", "np.std(red) / np.std(ir)",
                          "Normalise each AC by its own DC before taking the ratio."),
                   Mutant("invented-api", "np.std(red)", "rms(red - np.mean(red))",
                          "scipy.signal has no rms(); the AC part is np.std(x).",
                          prepend="from scipy.signal import rms\n"),
                   MISSING_IMPORT]
        return Draft(
            title="SpO2 from red and infrared PPG", requirement=req,
            function={"name": fn_name, "returns": {"type": "float" if out == "mean" else "list",
                                                   "description": what},
                      "args": [{"name": "red", "description": "red LED ADC counts"},
                               {"name": "ir", "description": "infrared LED ADC counts"},
                               {"name": "fs", "description": "sampling rate in Hz"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Ratio of ratios with AC = standard deviation and DC = mean per channel, then "
                "the linear calibration.",
            params={"fs": fs, "a": a, "b": b, "window_s": win_s, "output": out},
            tags=["physio", "spo2", "simulated"])


class AbpWindows(Generator):
    name = "abp-windows"
    modality = "arterial blood pressure catheter (real recording)"
    real_data = True

    def draft(self, rng: np.random.Generator) -> Draft:
        data = recordings.abp()
        unit = pick(rng, ["mmHg", "mmHg", "tenth", "kPa"])
        win = pick(rng, [200, 250, 500, 750])
        out = pick(rng, ["sys", "dia", "map", "pp", "hypo"])
        hypo = pick(rng, [68.0, 70.0, 72.0, 75.0])
        rp = axes.rep(rng)
        sources = []

        def segment() -> np.ndarray:
            k = int(rng.integers(4, min(12, len(data) // win - 1)))
            n = k * win + int(rng.integers(0, win))
            start = int(rng.integers(0, len(data) - n))
            sources.append(recordings.provenance(recordings.ABP_MEMBER, start, start + n))
            x = data[start:start + n]
            if unit == "tenth":
                return np.round(x * 10).astype(np.int32)
            if unit == "kPa":
                return np.round(x * 0.133322, 5)
            return x.copy()

        uw = {"mmHg": "mmHg", "tenth": "integer tenths of a mmHg",
              "kPa": "kPa (1 mmHg = 0.133322 kPa)"}[unit]
        what = {"sys": "the systolic pressure (maximum) of each window in mmHg",
                "dia": "the diastolic pressure (minimum) of each window in mmHg",
                "map": "the mean arterial pressure (mean of the samples) of each window in mmHg",
                "pp": "the pulse pressure (maximum - minimum) of each window in mmHg",
                "hypo": f"the indices of the windows whose mean pressure is below {hypo:g} mmHg"
                }[out]
        req = axes.wording(
            rng, [
                "We get arterial blood pressure from a catheter monitor in {uw}. Cut the "
                "recording into consecutive blocks of {win} samples (ignore a partial block "
                "at the end) and give me {what}, as a list.",
                "Input: an invasive arterial blood pressure waveform in {uw}. Split it into "
                "non-overlapping windows of {win} samples, discarding an incomplete final "
                "window. Output: {what} (a list, one entry per window; results in mmHg).",
                "ABP waveform ({uw}), windows of {win} samples (no overlap, drop partial). "
                "Return {what} as a list.",
            ], uw=uw, win=win, what=what)
        to_mmhg = {"mmHg": "1.0", "tenth": "0.1", "kPa": "1.0 / 0.133322"}[unit]
        tail = {"sys": "    return w.max(axis=1).tolist()\n",
                "dia": "    return w.min(axis=1).tolist()\n",
                "map": "    return w.mean(axis=1).tolist()\n",
                "pp": "    return (w.max(axis=1) - w.min(axis=1)).tolist()\n",
                "hypo": f"    return np.nonzero(w.mean(axis=1) < {hypo})[0].tolist()\n"}[out]
        fn_name = {"sys": "systolic_per_window", "dia": "diastolic_per_window",
                   "map": "map_per_window", "pp": "pulse_pressure_per_window",
                   "hypo": "hypotensive_windows"}[out]
        ref = code('''
import numpy as np

TO_MMHG = $to  # readings are in $unit
WINDOW = $win  # samples


def $fn(pressure):
    """Per-window statistics of a blood pressure waveform."""
    x = np.asarray(pressure, dtype=float) * TO_MMHG
    n = len(x) // WINDOW
    w = x[:n * WINDOW].reshape(n, WINDOW)
$tail''', to=to_mmhg, unit=uw, win=win, fn=fn_name, tail=tail)
        check = ({"metric": "equals"} if out == "hypo" else
                 {"metric": "allclose", "rtol": 0.0, "atol": 0.01})
        cases = [CaseDraft(f"monitor-{k}", {"pressure": segment()}, hidden=k >= 2, check=check)
                 for k in range(4)]
        steps = ([f"Convert the readings to mmHg (x {to_mmhg})."] if unit != "mmHg" else []) + [
            f"Reshape into n = len // {win} windows of {win} samples.",
            {"sys": "Maximum of each window.", "dia": "Minimum of each window.",
             "map": "Mean of each window.", "pp": "Maximum minus minimum of each window.",
             "hypo": f"Mean of each window; keep the indices where it is below {hypo:g}."}[out],
            "Return a list."]
        mutants = [Mutant("wrong-axis", "reshape(n, WINDOW)", "reshape(WINDOW, n).T",
                          "Windows are consecutive samples: reshape(n, WINDOW)."),
                   MISSING_IMPORT]
        if unit != "mmHg":
            mutants.append(Mutant("units", f"TO_MMHG = {to_mmhg}", "TO_MMHG = 1.0",
                                  f"Convert {uw} to mmHg first."))
        if out == "hypo":
            mutants.append(Mutant("inverted", f"< {hypo})", f"> {hypo})",
                                  "Hypotension is a mean BELOW the limit."))
        if out == "pp":
            mutants.append(Mutant("missing-min", "w.max(axis=1) - w.min(axis=1)",
                                  "w.max(axis=1)", "Pulse pressure is systolic minus "
                                  "diastolic."))
        return Draft(
            title="Blood pressure statistics per window", requirement=req,
            function={"name": fn_name, "returns": {"type": "list", "description": what},
                      "args": [{"name": "pressure", "description": f"ABP samples in {uw}"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Convert to mmHg, reshape into non-overlapping windows, reduce each window.",
            params={"unit": unit, "window": win, "output": out, "hypo": hypo},
            sources=sources, tags=["physio", "blood-pressure", "real"])


class SolarDay(Generator):
    name = "solar-day"
    modality = "PV generation meter (real PV_Live estimate)"
    real_data = True

    def draft(self, rng: np.random.Generator) -> Draft:
        data = recordings.solar()
        cap = pick(rng, [3.6, 4.0, 5.0, 6.5, 10.0])  # kWp
        out = pick(rng, ["kwh", "peak-slot", "hours-above", "first-light"])
        frac = pick(rng, [0.3, 0.5, 0.6])
        rp = axes.rep(rng)
        sources = []
        days = len(data) // 48
        order = [int(d) for d in rng.permutation(days)]

        def segment() -> np.ndarray:
            d = order.pop()
            sources.append(recordings.provenance(recordings.SOLAR_MEMBER, d * 48, d * 48 + 48))
            return data[d * 48:(d + 1) * 48].copy()

        what = {"kwh": f"the energy generated that day in kWh for a {cap:g} kWp system "
                       "(power = reading * capacity; trapezoidal rule over the 30-min readings)",
                "peak-slot": "the index (0-47) of the half-hour reading with the highest "
                             "output (the first one if tied)",
                "hours-above": f"how many hours the output was at or above {frac:g} of the "
                               "day's maximum (count readings, each worth 0.5 h)",
                "first-light": "the index (0-47) of the first reading above 0.01"}[out]
        req = axes.wording(
            rng, [
                "I have one day of solar readings, 48 half-hourly values from midnight, each "
                "the output as a fraction of rated capacity. Work out {what}.",
                "Input: 48 half-hourly normalised PV generation values (output / rated "
                "capacity) for one day starting 00:00. Return {what}.",
                "Solar day, 48 x 30 min, normalised output. Return {what}.",
            ], what=what)
        tail = {"kwh": f"    p = x * {cap}  # kW\n"
                       "    return float(np.sum((p[1:] + p[:-1]) / 2.0) * 0.5)\n",
                "peak-slot": "    return int(np.argmax(x))\n",
                "hours-above": f"    return float(np.sum(x >= {frac} * np.max(x)) * 0.5)\n",
                "first-light": "    return int(np.nonzero(x > 0.01)[0][0])\n"}[out]
        fn_name = {"kwh": "daily_kwh", "peak-slot": "peak_slot",
                   "hours-above": "hours_above", "first-light": "first_light"}[out]
        ref = code('''
import numpy as np


def $fn(output):
    """One day of half-hourly normalised PV output."""
    x = np.asarray(output, dtype=float)
$tail''', fn=fn_name, tail=tail)
        check = {"kwh": {"metric": "rel_error", "max": 0.001}, "peak-slot": {"metric": "equals"},
                 "hours-above": {"metric": "abs_error", "max": 0.01},
                 "first-light": {"metric": "equals"}}[out]
        n_cases = min(4, days)
        cases = [CaseDraft(f"day-{k}", {"output": segment()}, hidden=k >= 2, check=check)
                 for k in range(n_cases)]
        steps = {"kwh": [f"Power in kW = reading * {cap:g}.",
                         "Trapezoidal sum over 0.5 h steps.", "Return kWh as a float."],
                 "peak-slot": ["Find the first index of the maximum (np.argmax).",
                               "Return it as an int."],
                 "hours-above": [f"Threshold = {frac:g} * the day's maximum.",
                                 "Count readings >= threshold; each is 0.5 h.",
                                 "Return hours as a float."],
                 "first-light": ["Find readings above 0.01.", "Return the first index as an "
                                 "int."]}[out]
        mutants = [MISSING_IMPORT]
        if out == "kwh":
            mutants.append(Mutant("units", " * 0.5)", ")", "Each step is half an hour: "
                                  "multiply by 0.5 h."))
        if out == "hours-above":
            mutants.append(Mutant("units", ") * 0.5)", "))", "Each reading is half an hour."))
        if out == "first-light":
            mutants.append(Mutant("off-by-one", "[0][0])", "[0][0] - 1)", "Return the index of "
                                  "the first reading above the limit itself."))
        if out == "peak-slot":
            mutants.append(Mutant("wrong-api", "np.argmax(x)", "np.max(x)", "The index of the "
                                  "maximum is np.argmax, not the maximum itself."))
        return Draft(
            title="One day of solar generation", requirement=req,
            function={"name": fn_name, "returns": {"type": "int" if out in (
                "peak-slot", "first-light") else "float", "description": what},
                "args": [{"name": "output", "description": "48 normalised half-hourly PV "
                                                           "readings"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Half-hourly readings: steps of 0.5 h; index arithmetic on the 48 slots.",
            params={"capacity_kwp": cap, "output": out, "fraction": frac},
            sources=sources, tags=["power", "solar", "real"])
