"""Cardiac and audio generators on simulated signals (tagged "simulated"), so that the
categories IoTBench judges — pulse waves, beat-to-beat intervals, audio frames — have
training and dev tasks of their own: pulse rate from a PPG, HRV statistics of NN intervals
per time window, frame loudness of 16-bit audio."""

from __future__ import annotations

import numpy as np

from finetune.generators import axes
from finetune.generators.axes import pick
from finetune.generators.base import CaseDraft, Draft, Generator, Mutant
from finetune.generators.energy import MISSING_IMPORT, code


class PulseRate(Generator):
    name = "pulse-rate"
    modality = "fingertip or wrist PPG (simulated pulse wave)"

    def draft(self, rng: np.random.Generator) -> Draft:
        fs = pick(rng, [25.0, 50.0, 64.0, 100.0, 125.0])
        out = pick(rng, ["mean", "peaks", "windows"])
        win_s = pick(rng, [5, 10, 15])
        gap_s = pick(rng, [0.3, 0.33, 0.4])  # the shortest beat-to-beat gap (150-200 bpm)
        rp = axes.rep(rng)

        def trace() -> tuple[np.ndarray, np.ndarray]:
            n = int(fs * rng.uniform(30, 90))
            wave, _ = axes.pulse_wave(rng, n, fs, rng.uniform(50, 120),
                                      notch=rng.uniform(0.15, 0.4))
            drift = np.cumsum(rng.normal(0, 0.002, n))  # baseline wander
            counts = axes.adc(wave + drift + rng.normal(0, 0.02, n), -1.0, 2.5, 12)
            return counts, wave

        what = {"mean": "the mean pulse rate over the whole recording in beats per minute",
                "peaks": "the sample index of every systolic peak, as a list",
                "windows": f"the pulse rate in beats per minute of every complete {win_s} s "
                           "window (from the beats inside it: 60 / their mean interval), as "
                           "a list"}[out]
        req = axes.wording(
            rng, [
                "My pulse sensor gives raw 12-bit PPG counts at {fs:g} Hz. Detect the "
                "systolic peaks (no two closer than {gap:g} s) and return {what}.",
                "PPG, {fs:g} Hz, ADC counts with some baseline wander. Peaks at least "
                "{gap:g} s apart are beats. Return {what}.",
                "Photoplethysmogram @ {fs:g} Hz: find the heartbeats (local maxima, minimum "
                "spacing {gap:g} s, prominence at least a third of the signal's spread) and "
                "return {what}.",
            ], fs=fs, gap=gap_s, what=what)
        tail = {"mean": "    return float(60.0 * fs / np.mean(np.diff(peaks)))\n",
                "peaks": "    return [int(p) for p in peaks]\n",
                "windows": "    n = int(WINDOW_S * fs)\n"
                           "    out = []\n"
                           "    for k in range(len(x) // n):\n"
                           "        inside = peaks[(peaks >= k * n) & (peaks < (k + 1) * n)]\n"
                           "        out.append(float(60.0 * fs / np.mean(np.diff(inside))))\n"
                           "    return out\n"}[out]
        fn_name = {"mean": "pulse_rate", "peaks": "pulse_peaks",
                   "windows": "pulse_rate_windows"}[out]
        ref = code('''
import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt

MIN_GAP_S = $gap  # the shortest beat-to-beat interval
WINDOW_S = $win_s


def $fn(ppg, fs):
    """Systolic peaks of a band-passed pulse wave, at least MIN_GAP_S apart."""
    x = np.asarray(ppg, dtype=float)
    sos = butter(2, [0.5, 5.0], btype="bandpass", fs=fs, output="sos")
    y = sosfiltfilt(sos, x)
    spread = np.percentile(y, 95) - np.percentile(y, 5)
    peaks, _ = find_peaks(y, distance=max(1, int(MIN_GAP_S * fs)), prominence=spread / 3)
$tail''', gap=gap_s, win_s=win_s, fn=fn_name, tail=tail)
        check = {"mean": {"metric": "rel_error", "max": 0.03},
                 "peaks": {"metric": "events_f1", "tolerance": max(2, int(0.08 * fs)),
                           "min": 0.9},
                 "windows": {"metric": "allclose", "rtol": 0.05, "atol": 1.0}}[out]
        cases = [CaseDraft(f"wrist-{k}", {"ppg": trace()[0], "fs": fs}, hidden=k >= 2,
                           check=check) for k in range(4)]
        steps = ["Band-pass the pulse wave (0.5-5 Hz) to remove the baseline wander.",
                 f"Find the peaks at least {gap_s:g} s apart with a prominence of a third of "
                 "the signal's spread.",
                 {"mean": "Rate = 60 * fs / mean interval in samples.",
                  "peaks": "Return the peak indices as ints.",
                  "windows": f"Per complete {win_s} s window: 60 * fs / the mean interval of "
                             "its beats."}[out]]
        mutants = [Mutant("no-distance", "distance=max(1, int(MIN_GAP_S * fs)), ", "",
                          "Keep peaks at least MIN_GAP_S apart: find_peaks(distance=...)."),
                   Mutant("units", "fs=fs, output", "output",
                          "Give the cutoffs in Hz with fs=fs, or divide them by fs / 2."),
                   MISSING_IMPORT]
        if out != "peaks":
            mutants.insert(0, Mutant("inverted", "60.0 * fs / np.mean(np.diff(",
                                     "np.mean(np.diff(", "A rate per minute is 60 * fs / the "
                                     "mean interval in samples, not the interval itself."))
        return Draft(
            title="Pulse rate from a PPG", requirement=req,
            function={"name": fn_name,
                      "returns": {"type": "float" if out == "mean" else "list",
                                  "description": what},
                      "args": [{"name": "ppg", "description": "PPG samples (12-bit counts)"},
                               {"name": "fs", "description": "sampling rate in Hz"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Band-pass the pulse wave, detect systolic peaks with a minimum spacing and a "
                "relative prominence, then turn the intervals into a rate.",
            params={"fs": fs, "output": out, "window_s": win_s, "min_gap_s": gap_s},
            tags=["ppg", "heart-rate", "simulated"])


class NnWindows(Generator):
    name = "nn-windows"
    modality = "beat-to-beat NN intervals (simulated)"

    def draft(self, rng: np.random.Generator) -> Draft:
        unit = pick(rng, ["ms", "s"])
        stat = pick(rng, ["sdnn", "rmssd", "pnn50", "mean_hr"])
        win_s = pick(rng, [30, 60, 120])
        rp = axes.rep(rng)
        scale = 1.0 if unit == "ms" else 0.001

        def trace() -> np.ndarray:
            n = int(rng.integers(300, 900))
            base = rng.uniform(650, 1100)
            resp = 40 * np.sin(2 * np.pi * np.arange(n) / rng.uniform(3.5, 6))  # RSA
            nn = base + resp + np.cumsum(rng.normal(0, 6, n)) + rng.normal(0, 25, n)
            nn = np.clip(nn, 350, 1800)
            return np.round(nn * scale, 3 if unit == "s" else 0)

        name = {"sdnn": "SDNN (the sample standard deviation of the NN intervals, in ms)",
                "rmssd": "RMSSD (the root mean square of successive differences, in ms)",
                "pnn50": "pNN50 (the percentage of successive differences larger than 50 "
                         "ms)",
                "mean_hr": "the mean heart rate in beats per minute"}[stat]
        req = axes.wording(
            rng, [
                "I have NN intervals in {unit} from a chest strap, in time order. Split the "
                "recording into consecutive {win} s windows by time (the intervals add up to "
                "the time axis; an interval belongs to the window in which it ends; drop an "
                "incomplete last window) and give me {name} of each window, as a list.",
                "NN intervals ({unit}). For every complete {win}-second window of the "
                "recording's own time (cumulative sum of the intervals; each beat goes to "
                "the window where it ends) return {name}.",
            ], unit=unit, win=win_s, name=name)
        value = {"sdnn": "float(np.std(w, ddof=1))",
                 "rmssd": "float(np.sqrt(np.mean(np.diff(w) ** 2)))",
                 "pnn50": "float(100.0 * np.mean(np.abs(np.diff(w)) > 50.0))",
                 "mean_hr": "float(60000.0 / np.mean(w))"}[stat]
        ref = code('''
import numpy as np

TO_MS = $to_ms  # the intervals arrive in $unit
WINDOW_MS = $win_ms  # $win_s s


def nn_window_stats(nni):
    """Windows by the recording's own time: each beat goes to the window where it ends."""
    nn = np.asarray(nni, dtype=float) * TO_MS
    ends = np.cumsum(nn)
    out = []
    for k in range(int(ends[-1] // WINDOW_MS)):
        w = nn[(ends > k * WINDOW_MS) & (ends <= (k + 1) * WINDOW_MS)]
        out.append($value)
    return out
''', to_ms=1.0 if unit == "ms" else 1000.0, unit=unit, win_ms=win_s * 1000, win_s=win_s,
                   value=value)
        check = {"metric": "allclose", "rtol": 0.0, "atol": 0.05}
        cases = [CaseDraft(f"strap-{k}", {"nni": trace()}, hidden=k >= 2, check=check)
                 for k in range(4)]
        steps = [f"Convert the intervals to ms{' (x1000)' if unit == 's' else ''}.",
                 "Beat times are the cumulative sum of the intervals.",
                 f"For each complete {win_s} s window, take the intervals ending inside it.",
                 f"Per window: {name}.", "Return the list of values."]
        mutants = [Mutant("window-by-count", "    ends = np.cumsum(nn)\n",
                          "    ends = np.arange(1, len(nn) + 1) * 1000.0\n",
                          "Windows are in the recording's time: the cumulative sum of the "
                          "intervals, not one second per beat."),
                   Mutant("units", f"TO_MS = {1.0 if unit == 'ms' else 1000.0}",
                          f"TO_MS = {1000.0 if unit == 'ms' else 1.0}",
                          f"The intervals arrive in {unit}."),
                   MISSING_IMPORT]
        if stat == "sdnn":
            mutants.insert(0, Mutant("population-std", "ddof=1", "ddof=0",
                                     "SDNN is the sample standard deviation (ddof=1)."))
        if stat == "pnn50":
            mutants.insert(0, Mutant("missing-abs", "np.abs(np.diff(w))", "np.diff(w)",
                                     "Count differences larger than 50 ms in either direction."))
        return Draft(
            title="HRV statistics per time window", requirement=req,
            function={"name": "nn_window_stats",
                      "returns": {"type": "list", "description": f"{name} per window"},
                      "args": [{"name": "nni", "description": f"NN intervals in {unit}"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Beat times from the cumulative sum of the intervals, windows by that time, "
                "one statistic per complete window.",
            params={"unit": unit, "stat": stat, "window_s": win_s},
            tags=["hrv", "simulated"])


class FrameLoudness(Generator):
    name = "frame-loudness"
    modality = "16-bit PCM audio (simulated tones and noise)"

    def draft(self, rng: np.random.Generator) -> Draft:
        fs = pick(rng, [8000, 16000, 22050])
        frame_ms = pick(rng, [10, 20, 25, 32])
        out = pick(rng, ["dbfs", "active"])
        thr = pick(rng, [-30.0, -35.0, -40.0])
        rp = pick(rng, ["npy", "json"])
        frame = int(fs * frame_ms / 1000)

        def trace() -> np.ndarray:
            n = int(fs * rng.uniform(1.0, 3.0))
            t = np.arange(n) / fs
            x = rng.normal(0, 10 ** (rng.uniform(-60, -48) / 20), n)  # background noise
            start = 0
            while start < n:
                length = int(fs * rng.uniform(0.1, 0.4))
                if rng.random() < 0.5:
                    f0 = rng.uniform(120, 900)
                    seg = slice(start, min(n, start + length))
                    x[seg] += 10 ** (rng.uniform(-20, -6) / 20) * np.sin(2 * np.pi * f0 * t[seg])
                start += length
            return np.round(np.clip(x, -1, 1) * 32767).astype(np.int16)

        what = ("the RMS level of every complete frame in dBFS (20 * log10(rms / 32768), "
                "-120 for a silent frame), as a list" if out == "dbfs" else
                f"how many complete frames are louder than {thr:g} dBFS")
        req = axes.wording(
            rng, [
                "A microphone gives 16-bit PCM at {fs} Hz. Cut it into non-overlapping "
                "{ms} ms frames ({frame} samples, drop the last partial frame) and return "
                "{what}.",
                "int16 audio @ {fs} Hz, frames of {frame} samples ({ms} ms), no overlap, "
                "partial frame dropped. Return {what}.",
            ], fs=fs, ms=frame_ms, frame=frame, what=what)
        tail = ("    return [float(v) for v in db]\n" if out == "dbfs" else
                "    return int(np.sum(db > THRESHOLD_DB))\n")
        fn_name = "frame_dbfs" if out == "dbfs" else "active_frames"
        ref = code('''
import numpy as np

FRAME = $frame  # samples ($ms ms at $fs Hz)
THRESHOLD_DB = $thr
FULL_SCALE = 32768.0


def $fn(samples, fs):
    """RMS per complete frame in dBFS; float first, since int16 squares wrap around."""
    x = np.asarray(samples).astype(np.float64)
    n = len(x) // FRAME
    frames = x[:n * FRAME].reshape(n, FRAME)
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    db = np.where(rms > 0, 20 * np.log10(np.maximum(rms, 1e-12) / FULL_SCALE), -120.0)
$tail''', frame=frame, ms=frame_ms, fs=fs, thr=thr, fn=fn_name, tail=tail)
        check = ({"metric": "allclose", "rtol": 0.0, "atol": 0.01} if out == "dbfs" else
                 {"metric": "equals"})
        cases = [CaseDraft(f"mic-{k}", {"samples": trace(), "fs": fs}, hidden=k >= 2,
                           check=check) for k in range(4)]
        steps = ["Convert the int16 samples to float (their squares would wrap around).",
                 f"Frames of {frame} samples, the partial last one dropped.",
                 "RMS per frame, then 20 * log10(rms / 32768) in dBFS.",
                 "Return the list of levels." if out == "dbfs" else
                 f"Count the frames above {thr:g} dBFS."]
        mutants = [Mutant("int-overflow", "np.asarray(samples).astype(np.float64)",
                          "np.asarray(samples)", "Convert to float before squaring: int16 "
                          "squares wrap around."),
                   Mutant("linear-not-db", "20 * np.log10(np.maximum(rms, 1e-12) / FULL_SCALE)",
                          "rms / FULL_SCALE", "dBFS is 20 * log10(rms / full scale)."),
                   MISSING_IMPORT]
        return Draft(
            title="Loudness of audio frames", requirement=req,
            function={"name": fn_name,
                      "returns": {"type": "list" if out == "dbfs" else "int",
                                  "description": what},
                      "args": [{"name": "samples", "description": "int16 PCM samples"},
                               {"name": "fs", "description": "sampling rate in Hz"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Frames of whole samples, RMS in float, then dBFS against full scale.",
            params={"fs": fs, "frame_ms": frame_ms, "output": out, "threshold_db": thr},
            tags=["audio", "simulated"])
