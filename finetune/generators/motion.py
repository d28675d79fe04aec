"""Motion and position generators: fall detection, tilt, machine vibration, GPS tracks."""

from __future__ import annotations

import numpy as np

from finetune.generators import axes
from finetune.generators.axes import pick
from finetune.generators.base import CaseDraft, Draft, Generator, Mutant
from finetune.generators.energy import MISSING_IMPORT, code

G = 9.80665


def _acc_units(rng: np.random.Generator) -> tuple[str, float, str]:
    """(unit name, physical g -> unit factor, words)."""
    u = pick(rng, ["g", "ms2", "counts"])
    if u == "g":
        return u, 1.0, "g"
    if u == "ms2":
        return u, G, "m/s^2"
    lsb = pick(rng, [256.0, 512.0, 1024.0, 4096.0])
    return u, lsb, f"raw counts ({lsb:g} counts = 1 g)"


class FallDetect(Generator):
    name = "fall-detect"
    modality = "3-axis accelerometer (wearable)"

    def draft(self, rng: np.random.Generator) -> Draft:
        fs = pick(rng, [50.0, 100.0, 200.0])
        unit, per_g, uw = _acc_units(rng)
        ff = pick(rng, [0.4, 0.5, 0.6])
        hit = pick(rng, [2.0, 2.5, 3.0])
        ff_s = pick(rng, [0.1, 0.15, 0.2])
        win_s = pick(rng, [0.5, 1.0])
        out = pick(rng, ["count", "indices"])
        rp = axes.rep(rng)
        need = int(round(ff_s * fs))
        win = int(round(win_s * fs))

        def trace() -> np.ndarray:
            n = int(fs * rng.uniform(20, 60))
            t = np.arange(n) / fs
            a = np.zeros((n, 3))
            a[:, 2] = 1.0
            a += 0.15 * np.sin(2 * np.pi * rng.uniform(1.5, 2.2) * t)[:, None] * \
                rng.uniform(0.3, 1, 3) + rng.normal(0, 0.03, (n, 3))
            s = int(fs * rng.uniform(3, 8))
            while s < n - 4 * fs:
                if rng.random() < 0.6:  # a fall: free fall, impact, lying on the side
                    d = int(fs * rng.uniform(ff_s + 0.1, 0.45))
                    a[s:s + d] = rng.normal(0, 0.05, (d, 3)) + 0.1
                    k = s + d + int(rng.integers(0, int(0.3 * fs)))
                    a[k:k + 3] += rng.uniform(hit + 0.6, 6.0) * np.array([0.3, 0.4, 0.87])
                    a[k + 3:k + int(2 * fs), :] = [0.0, 1.0, 0.0] + rng.normal(
                        0, 0.03, (min(n, k + int(2 * fs)) - (k + 3), 3))
                else:  # a jump: short free fall, softer landing
                    d = int(fs * 0.05) + 1
                    a[s:s + d] = 0.3
                    a[s + d:s + d + 2] += hit - 0.8
                s += int(fs * rng.uniform(6, 15))
            v = a * per_g
            return (np.round(v).astype(np.int32) if unit == "counts" else np.round(v, 4))

        what = ("the number of falls" if out == "count" else
                "the sample index of each fall's impact, as a list")
        req = axes.wording(
            rng, [
                "I want a simple fall detector for a wrist band. The accelerometer gives x, y, "
                "z in {uw} at {fs:g} Hz (an n x 3 array). A fall is free fall - magnitude "
                "below {ff:g} g for at least {ffs:g} s ({need} samples in a row) - followed "
                "within {win_s:g} s ({win} samples) after the free fall ends by an impact "
                "sample above {hit:g} g; the impact index is the first such sample. After a "
                "fall, look for the next free fall after the impact. Return {what}.",
                "Fall detection on 3-axis acceleration (n x 3, {uw}, fs = {fs:g} Hz). "
                "Magnitude m = sqrt(x^2 + y^2 + z^2) in g. Scan for a run of >= {need} "
                "consecutive samples with m < {ff:g}; in the {win} samples after the run ends, "
                "the first sample with m > {hit:g} is an impact (a fall); continue scanning "
                "after the impact. A run without an impact is no fall. Return {what}.",
                "acc n x 3 ({uw}, {fs:g} Hz). fall = |a| < {ff:g} g for {need}+ samples, then "
                "|a| > {hit:g} g within {win} samples of the run's end. Return {what}.",
            ], uw=uw, fs=fs, ff=ff, ffs=ff_s, need=need, win_s=win_s, win=win, hit=hit,
            what=what)
        tail = "    return len(impacts)\n" if out == "count" else "    return impacts\n"
        fn_name = "count_falls" if out == "count" else "fall_impacts"
        ref = code('''
import numpy as np

PER_G = $per_g  # readings per 1 g
FREE_FALL = $ff  # g
IMPACT = $hit  # g
NEED = $need  # samples of free fall
WINDOW = $win  # samples after the free fall


def $fn(acc, fs):
    """Free-fall run followed by an impact: a fall."""
    a = np.asarray(acc, dtype=float) / PER_G
    m = np.sqrt(np.sum(a ** 2, axis=1))
    impacts = []
    i, n = 0, len(m)
    while i < n:
        if m[i] >= FREE_FALL:
            i += 1
            continue
        j = i
        while j < n and m[j] < FREE_FALL:
            j += 1
        if j - i >= NEED:
            after = np.nonzero(m[j:j + WINDOW] > IMPACT)[0]
            if after.size:
                impacts.append(int(j + after[0]))
                i = j + int(after[0]) + 1
                continue
        i = j
$tail''', per_g=per_g, ff=ff, hit=hit, need=need, win=win, fn=fn_name, tail=tail)
        check = ({"metric": "equals"} if out == "count" else
                 {"metric": "events_f1", "tolerance": 1, "min": 1.0})
        cases = [CaseDraft(f"wrist-{k}", {"acc": trace(), "fs": fs}, hidden=k >= 2,
                           check=check) for k in range(4)]
        steps = ([f"Convert the readings to g (divide by {per_g:g})."] if unit != "g" else []) + [
            "Magnitude per sample = sqrt(x^2 + y^2 + z^2).",
            f"Find runs of >= {need} consecutive samples below {ff:g} g.",
            f"After each run, the first sample above {hit:g} g within {win} samples is an "
            "impact; resume after it.",
            "Return the number of impacts." if out == "count" else
            "Return the impact indices as a list."]
        mutants = [Mutant("missing-sqrt", "np.sqrt(np.sum(a ** 2, axis=1))",
                          "np.sum(a ** 2, axis=1)", "The magnitude needs the square root."),
                   Mutant("wrong-axis", "np.sum(a ** 2, axis=1)", "np.sum(a ** 2, axis=0)",
                          "Sum the three axes of each sample: axis=1 on an n x 3 array."),
                   MISSING_IMPORT]
        if unit != "g":
            mutants.append(Mutant("units", "/ PER_G", "", f"Convert the readings to g first "
                                  f"(1 g = {per_g:g})."))
        return Draft(
            title="Fall detection from a wearable accelerometer", requirement=req,
            function={"name": fn_name, "returns": {"type": "int" if out == "count" else "list",
                                                   "description": what},
                      "args": [{"name": "acc", "description": f"n x 3 acceleration in {uw}"},
                               {"name": "fs", "description": "sampling rate in Hz"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Magnitude in g, then a scan for a long enough free-fall run followed by an "
                "impact.",
            params={"fs": fs, "unit": unit, "free_fall_g": ff, "impact_g": hit,
                    "free_fall_s": ff_s, "window_s": win_s, "output": out},
            tags=["motion", "safety"])


class TiltAngle(Generator):
    name = "tilt-angle"
    modality = "3-axis accelerometer (static mount)"

    def draft(self, rng: np.random.Generator) -> Draft:
        unit, per_g, uw = _acc_units(rng)
        out = pick(rng, ["both", "pitch", "roll", "tilt"])
        rp = axes.rep(rng)

        def trace() -> np.ndarray:
            n = int(rng.integers(50, 400))
            pitch = np.radians(rng.uniform(-60, 60))
            roll = np.radians(rng.uniform(-60, 60))
            g = np.array([-np.sin(pitch), np.cos(pitch) * np.sin(roll),
                          np.cos(pitch) * np.cos(roll)])
            a = g + rng.normal(0, 0.02, (n, 3))
            v = a * per_g
            return np.round(v).astype(np.int32) if unit == "counts" else np.round(v, 4)

        what = {"both": "[pitch, roll] in degrees",
                "pitch": "the pitch in degrees", "roll": "the roll in degrees",
                "tilt": "the tilt from vertical in degrees: the angle between the mean "
                        "acceleration vector and the z axis"}[out]
        req = axes.wording(
            rng, [
                "I mounted an accelerometer on a solar panel to check its angle. It streams "
                "x, y, z in {uw} (n x 3 array) while the panel is still. Average the samples "
                "first, then give me {what}. Use pitch = atan2(-x, sqrt(y^2 + z^2)) and roll = "
                "atan2(y, z).",
                "Static orientation from a 3-axis accelerometer (n x 3, {uw}). Take the mean "
                "of each axis over all samples, then compute pitch = atan2(-ax, sqrt(ay^2 + "
                "az^2)), roll = atan2(ay, az), tilt = arccos(az / |a|). Return {what}.",
                "acc n x 3 ({uw}), static. Mean per axis, then pitch = atan2(-x, hypot(y, z)), "
                "roll = atan2(y, z), tilt = acos(z/|a|). Return {what}.",
            ], uw=uw, what=what)
        tail = {"both": "    return [float(pitch), float(roll)]\n",
                "pitch": "    return float(pitch)\n", "roll": "    return float(roll)\n",
                "tilt": "    return float(tilt)\n"}[out]
        fn_name = {"both": "pitch_roll", "pitch": "pitch_angle", "roll": "roll_angle",
                   "tilt": "tilt_angle"}[out]
        ref = code('''
import numpy as np


def $fn(acc):
    """Orientation of the gravity vector, from the per-axis means."""
    x, y, z = np.asarray(acc, dtype=float).mean(axis=0)
    pitch = np.degrees(np.arctan2(-x, np.sqrt(y ** 2 + z ** 2)))
    roll = np.degrees(np.arctan2(y, z))
    tilt = np.degrees(np.arccos(z / np.sqrt(x ** 2 + y ** 2 + z ** 2)))
$tail''', fn=fn_name, tail=tail)
        check = ({"metric": "allclose", "rtol": 0.0, "atol": 0.05} if out == "both" else
                 {"metric": "abs_error", "max": 0.05})
        cases = [CaseDraft(f"mount-{k}", {"acc": trace()}, hidden=k >= 2, check=check)
                 for k in range(4)]
        steps = ["Average each axis over all samples (axis=0).",
                 {"both": "pitch = atan2(-x, sqrt(y^2 + z^2)), roll = atan2(y, z).",
                  "pitch": "pitch = atan2(-x, sqrt(y^2 + z^2)).", "roll": "roll = atan2(y, z).",
                  "tilt": "tilt = arccos(z / |a|)."}[out],
                 "Convert radians to degrees.",
                 "Return [pitch, roll] as floats." if out == "both" else "Return a float."]
        mutants = [Mutant("units", "np.degrees(np.arctan2(y, z))", "np.arctan2(y, z)",
                          "Return degrees: convert with np.degrees.") if out in ("both", "roll")
                   else Mutant("units", "np.degrees(np.arctan2(-x,", "(np.arctan2(-x,",
                               "Return degrees: convert with np.degrees.") if out == "pitch"
                   else Mutant("units", "np.degrees(np.arccos(", "(np.arccos(",
                               "Return degrees: convert with np.degrees."),
                   Mutant("wrong-axis", ".mean(axis=0)", ".mean(axis=1)[:3]",
                          "Average each axis over the samples: mean(axis=0) on n x 3."),
                   MISSING_IMPORT]
        if out in ("both", "pitch"):
            mutants.append(Mutant("inverted", "np.arctan2(-x,", "np.arctan2(x,",
                                  "Pitch is atan2(-x, ...): the sign of x is flipped."))
        return Draft(
            title="Panel tilt from an accelerometer", requirement=req,
            function={"name": fn_name, "returns": {"type": "list" if out == "both" else "float",
                                                   "description": what},
                      "args": [{"name": "acc", "description": f"n x 3 acceleration in {uw}"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Average the samples, then the angles of the gravity vector (scale-free, so the "
                "units cancel).",
            params={"unit": unit, "output": out}, tags=["motion", "orientation"])


class VibrationCrest(Generator):
    name = "vibration-crest"
    modality = "machine vibration accelerometer"

    def draft(self, rng: np.random.Generator) -> Draft:
        fs = pick(rng, [1000.0, 2000.0, 5000.0, 10000.0])
        win = pick(rng, [256, 512, 1000, 1024])
        out = pick(rng, ["crest", "rms", "p2p", "alarm"])
        limit = pick(rng, [3.0, 3.5, 4.0])
        rp = axes.rep(rng)

        def trace() -> np.ndarray:
            n = win * int(rng.integers(6, 20)) + int(rng.integers(0, win))
            t = np.arange(n) / fs
            f = rng.uniform(15, 60)
            x = 0.5 * np.sin(2 * np.pi * f * t) + 0.2 * np.sin(2 * np.pi * 2 * f * t + 1) \
                + rng.normal(0, 0.05, n)
            if rng.random() < 0.7:  # bearing defect: impacts at a defect frequency
                step = int(fs / rng.uniform(80, 200))
                for s in range(int(rng.integers(0, step)), n, step):
                    if rng.random() < 0.6:
                        x[s:s + 5] -= rng.uniform(1, 3) * np.exp(-np.arange(len(x[s:s + 5])))
            return np.round(x, 5)

        what = {"crest": "the crest factor (peak absolute value / RMS) of each window, as a list",
                "rms": "the RMS of each window, as a list",
                "p2p": "the peak-to-peak amplitude (max - min) of each window, as a list",
                "alarm": f"the indices of the windows whose crest factor (peak absolute value "
                         f"/ RMS) exceeds {limit:g}, as a list"}[out]
        req = axes.wording(
            rng, [
                "We have an accelerometer on a pump bearing, sampled at {fs:g} Hz, values in "
                "g. Split the signal into consecutive windows of {win} samples (no overlap, "
                "drop the incomplete last one) and give me {what}.",
                "Condition monitoring: vibration samples (g) at fs = {fs:g} Hz. Non-overlapping "
                "windows of {win} samples; an incomplete final window is discarded. RMS = "
                "sqrt(mean(x^2)) of the raw window (no mean removal). Return {what}.",
                "Vibration (g, {fs:g} Hz), windows of {win} (no overlap, partial dropped). "
                "Return {what}.",
            ], fs=fs, win=win, what=what)
        tail = {"crest": "    return (peak / rms).tolist()\n",
                "rms": "    return rms.tolist()\n",
                "p2p": "    return (w.max(axis=1) - w.min(axis=1)).tolist()\n",
                "alarm": f"    return np.nonzero(peak / rms > {limit})[0].tolist()\n"}[out]
        fn_name = {"crest": "crest_factors", "rms": "window_rms", "p2p": "peak_to_peak",
                   "alarm": "crest_alarms"}[out]
        ref = code('''
import numpy as np

WINDOW = $win  # samples


def $fn(signal, fs):
    """Per-window vibration statistics on non-overlapping windows."""
    x = np.asarray(signal, dtype=float)
    n = len(x) // WINDOW
    w = x[:n * WINDOW].reshape(n, WINDOW)
    rms = np.sqrt(np.mean(w ** 2, axis=1))
    peak = np.max(np.abs(w), axis=1)
$tail''', win=win, fn=fn_name, tail=tail)
        check = ({"metric": "equals"} if out == "alarm" else
                 {"metric": "allclose", "rtol": 1e-4, "atol": 1e-6})
        cases = [CaseDraft(f"bearing-{k}", {"signal": trace(), "fs": fs}, hidden=k >= 2,
                           check=check) for k in range(4)]
        steps = [f"Cut the signal into n = len // {win} windows of {win} samples (reshape).",
                 {"crest": "Per window: RMS = sqrt(mean(x^2)), peak = max(|x|).",
                  "rms": "Per window: RMS = sqrt(mean(x^2)).",
                  "p2p": "Per window: max - min.",
                  "alarm": "Per window: RMS = sqrt(mean(x^2)), peak = max(|x|)."}[out],
                 {"crest": "Return peak / RMS per window as a list.",
                  "rms": "Return the RMS values as a list.",
                  "p2p": "Return the peak-to-peak values as a list.",
                  "alarm": f"Return the indices where peak / RMS > {limit:g} as a list."}[out]]
        mutants = [Mutant("wrong-axis", "reshape(n, WINDOW)", "reshape(WINDOW, n).T",
                          "Windows are consecutive samples: reshape(n, WINDOW)."),
                   MISSING_IMPORT]
        if out in ("crest", "alarm"):
            mutants.append(Mutant("missing-abs", "np.max(np.abs(w), axis=1)",
                                  "np.max(w, axis=1)", "The peak is the largest ABSOLUTE "
                                  "value: impacts are negative here."))
            mutants.append(Mutant("missing-sqrt", "np.sqrt(np.mean(w ** 2, axis=1))",
                                  "np.mean(w ** 2, axis=1)", "RMS needs the square root."))
        if out == "rms":
            mutants.append(Mutant("wrong-formula", "np.sqrt(np.mean(w ** 2, axis=1))",
                                  "np.std(w, axis=1)", "RMS of the raw window, not the "
                                  "standard deviation (no mean removal)."))
        if out == "p2p":
            mutants.append(Mutant("missing-abs", "w.max(axis=1) - w.min(axis=1)",
                                  "np.abs(w).max(axis=1)", "Peak-to-peak is max - min."))
        return Draft(
            title="Bearing vibration statistics per window", requirement=req,
            function={"name": fn_name, "returns": {"type": "list", "description": what},
                      "args": [{"name": "signal", "description": "vibration samples in g"},
                               {"name": "fs", "description": "sampling rate in Hz"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Reshape into non-overlapping windows, then per-window RMS and absolute peak.",
            params={"fs": fs, "window": win, "output": out, "limit": limit},
            tags=["vibration", "condition-monitoring"])


class GpsDistance(Generator):
    name = "gps-track"
    modality = "GNSS receiver"

    def draft(self, rng: np.random.Generator) -> Draft:
        unit = pick(rng, ["deg", "deg", "e7"])
        out = pick(rng, ["km", "m", "speed"])
        dt = pick(rng, [1, 2, 5])
        rp = axes.rep(rng)

        def trace() -> tuple[np.ndarray, np.ndarray]:
            n = int(rng.integers(100, 800))
            lat0, lon0 = rng.uniform(-60, 60), rng.uniform(-170, 170)
            speed = rng.uniform(1, 15)
            head = np.cumsum(rng.normal(0, 0.1, n)) + rng.uniform(0, 2 * np.pi)
            step = speed * dt * rng.uniform(0.8, 1.2, n)
            lat = lat0 + np.cumsum(step * np.cos(head)) / 111320.0
            lon = lon0 + np.cumsum(step * np.sin(head)) / (111320.0 * np.cos(np.radians(lat)))
            if unit == "e7":
                return np.round(lat * 1e7).astype(np.int64), np.round(lon * 1e7).astype(np.int64)
            return np.round(lat, 7), np.round(lon, 7)

        uw = "decimal degrees" if unit == "deg" else "integers in units of 1e-7 degree"
        what = {"km": "the total distance travelled in kilometres",
                "m": "the total distance travelled in metres",
                "speed": f"the average speed in km/h (total distance / total time; one fix "
                         f"every {dt} s)"}[out]
        req = axes.wording(
            rng, [
                "My bike tracker logs a GPS fix every {dt} s: latitude and longitude in {uw}. "
                "Add up the great-circle (haversine) distances between consecutive fixes with "
                "an Earth radius of 6371 km and tell me {what}.",
                "Given latitude/longitude arrays ({uw}) of consecutive GNSS fixes ({dt} s "
                "apart), compute {what}, summing haversine distances between consecutive "
                "fixes (R = 6371000 m).",
                "lat/lon fixes ({uw}), every {dt} s. Haversine, R = 6371 km. Return {what}.",
            ], dt=dt, uw=uw, what=what)
        scale = "1e-7" if unit == "e7" else "1.0"
        tail = {"km": "    return float(total / 1000.0)\n", "m": "    return float(total)\n",
                "speed": "    hours = (len(phi) - 1) * DT / 3600.0\n"
                         "    return float(total / 1000.0 / hours)\n"}[out]
        fn_name = {"km": "track_km", "m": "track_metres", "speed": "average_speed_kmh"}[out]
        ref = code('''
import numpy as np

R = 6371000.0  # m
SCALE = $scale  # degrees per unit
DT = $dt  # seconds between fixes


def $fn(lat, lon):
    """Sum of haversine distances between consecutive fixes."""
    phi = np.radians(np.asarray(lat, dtype=float) * SCALE)
    lam = np.radians(np.asarray(lon, dtype=float) * SCALE)
    dphi = np.diff(phi)
    dlam = np.diff(lam)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi[:-1]) * np.cos(phi[1:]) * np.sin(dlam / 2) ** 2
    total = np.sum(2 * R * np.arcsin(np.sqrt(a)))
$tail''', scale=scale, dt=dt, fn=fn_name, tail=tail)
        check = {"metric": "rel_error", "max": 0.001}
        cases = []
        for k in range(4):
            la, lo = trace()
            cases.append(CaseDraft(f"ride-{k}", {"lat": la, "lon": lo}, hidden=k >= 2,
                                   check=check))
        steps = ([f"Scale the integers to degrees (x {scale})."] if unit == "e7" else []) + [
            "Convert latitude and longitude to radians.",
            "Haversine between consecutive fixes: a = sin^2(dphi/2) + cos(phi1) cos(phi2) "
            "sin^2(dlam/2), d = 2 R asin(sqrt(a)).",
            "Sum the distances.",
            {"km": "Return kilometres as a float.", "m": "Return metres as a float.",
             "speed": f"Divide km by the duration in hours ((n - 1) * {dt} / 3600); return a "
                      "float."}[out]]
        mutants = [Mutant("units", "phi = np.radians(np.asarray(lat, dtype=float) * SCALE)\n"
                          "    lam = np.radians(np.asarray(lon, dtype=float) * SCALE)",
                          "phi = np.asarray(lat, dtype=float) * SCALE\n"
                          "    lam = np.asarray(lon, dtype=float) * SCALE",
                          "The trigonometry needs radians: convert the degrees with "
                          "np.radians."),
                   Mutant("wrap-around", "np.diff(phi)", "phi - np.roll(phi, 1)",
                          "np.roll wraps the last fix around to the first; use np.diff."),
                   Mutant("invented-api", "total = np.sum(2 * R * np.arcsin(np.sqrt(a)))",
                          "total = np.sum(haversine(a))", "scipy has no haversine function; "
                          "compute 2 * R * arcsin(sqrt(a)) yourself.",
                          prepend="from scipy.spatial.distance import haversine\n"),
                   MISSING_IMPORT]
        if unit == "e7":
            mutants.append(Mutant("units", "SCALE = 1e-7", "SCALE = 1.0",
                                  "The coordinates are in 1e-7 degree: scale them first."))
        return Draft(
            title="Distance along a GPS track", requirement=req,
            function={"name": fn_name, "returns": {"type": "float", "description": what},
                      "args": [{"name": "lat", "description": f"latitudes in {uw}"},
                               {"name": "lon", "description": f"longitudes in {uw}"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Haversine distance between consecutive fixes, summed.",
            params={"unit": unit, "output": out, "dt": dt}, tags=["location", "gnss"])
