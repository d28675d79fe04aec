"""Generators on simulated signals (tagged "simulated") for the categories IoTBench judges
that had no family of their own — pulse waves, beat-to-beat intervals, ECG beats, audio
frames, edge data reduction: pulse rate from a PPG, HRV statistics of NN intervals per time
window, heartbeats from an ECG, frame loudness of 16-bit audio, block maxima, dead-band
reporting and delta codes."""

from __future__ import annotations

import numpy as np

from finetune.generators import axes
from finetune.generators.axes import pick
from finetune.generators.base import CaseDraft, Draft, Generator, Mutant
from finetune.generators.energy import MISSING_IMPORT, code

# the end of a reference that turns detected peaks into a rate per complete window
RATE_PER_WINDOW = ("    n = int(WINDOW_S * fs)\n"
                   "    rates = []\n"
                   "    for k in range(len(x) // n):\n"
                   "        inside = peaks[(peaks >= k * n) & (peaks < (k + 1) * n)]\n"
                   "        rates.append(float(60.0 * fs / np.mean(np.diff(inside))))\n"
                   "    return rates\n")


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
                "windows": RATE_PER_WINDOW}[out]
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


def synthetic_ecg(rng: np.random.Generator, n: int, fs: float, bpm: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A simulated ECG (Gaussian P, Q, R, S, T waves per beat with jittered periods, as in
    McSharry et al.'s ECGSYN but without its dynamics), in mV; returns it and the R indices."""
    t = np.arange(n) / fs
    x = np.zeros(n)
    r_at = []
    beat = rng.uniform(0.2, 0.8)
    waves = ((-0.2, 0.12, 0.025), (-0.035, -0.12, 0.01), (0.0, 1.0, 0.012),
             (0.035, -0.25, 0.01), (0.28, 0.3, 0.05))  # (offset s, amplitude mV, width s)
    amp = rng.uniform(0.7, 1.6)
    while beat < t[-1] - 0.5:
        period = 60.0 / bpm * rng.uniform(0.9, 1.1)
        for off, a, w in waves:
            x += amp * a * np.exp(-0.5 * ((t - beat - off * period / 0.8) / w) ** 2)
        r_at.append(int(round(beat * fs)))
        beat += period
    return x, np.array(r_at)


class EcgBeats(Generator):
    name = "ecg-beats"
    modality = "single-lead ECG (simulated)"

    def draft(self, rng: np.random.Generator) -> Draft:
        fs = pick(rng, [200.0, 250.0, 360.0, 500.0])
        out = pick(rng, ["rr_ms", "beats", "hr_windows"])
        win_s = pick(rng, [10, 15, 20])
        counts = bool(rng.integers(2))
        rp = axes.rep(rng)

        def trace() -> np.ndarray:
            n = int(fs * rng.uniform(30, 80))
            x, _ = synthetic_ecg(rng, n, fs, rng.uniform(55, 110))
            t = np.arange(n) / fs
            x += rng.uniform(0.1, 0.5) * np.sin(2 * np.pi * rng.uniform(0.15, 0.4) * t)  # wander
            x += rng.normal(0, 0.03, n)
            return axes.adc(x, -2.5, 2.5, 12) if counts else np.round(x, 4)

        what = {"rr_ms": "the RR intervals between successive beats in milliseconds, as a list",
                "beats": "the sample index of every R peak, as a list",
                "hr_windows": f"the heart rate in beats per minute of every complete {win_s} "
                              "s window (60 / the mean RR interval of the beats inside it), "
                              "as a list"}[out]
        unit = "12-bit ADC counts" if counts else "millivolts"
        req = axes.wording(
            rng, [
                "A chest patch records one ECG lead in {unit} at {fs:g} Hz, with baseline "
                "wander from breathing. Find the heartbeats (R peaks) and return {what}.",
                "Single-lead ECG ({unit}, fs = {fs:g} Hz). Detect the QRS complexes, one beat "
                "each, and return {what}.",
            ], unit=unit, fs=fs, what=what)
        tail = {"rr_ms": "    return [float(v) for v in np.diff(peaks) / fs * 1000.0]\n",
                "beats": "    return [int(p) for p in peaks]\n",
                "hr_windows": RATE_PER_WINDOW}[out]
        fn_name = {"rr_ms": "rr_series", "beats": "r_peaks", "hr_windows": "hr_windows"}[out]
        ref = code('''
import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt

WINDOW_S = $win_s
REFRACTORY_S = 0.3  # no two beats closer than 300 ms (200 bpm)


def $fn(ecg, fs):
    """R peaks: a 5-25 Hz band keeps the QRS slopes, its squared envelope gives one hump per
    beat, and each peak is moved to the largest band-passed sample near it."""
    x = np.asarray(ecg, dtype=float)
    sos = butter(3, [5.0, 25.0], btype="bandpass", fs=fs, output="sos")
    band = sosfiltfilt(sos, x)
    width = max(1, int(0.1 * fs))
    energy = np.convolve(band ** 2, np.ones(width) / width, mode="same")
    humps, _ = find_peaks(energy, distance=int(REFRACTORY_S * fs),
                          height=0.3 * np.percentile(energy, 99))
    half = max(1, int(0.05 * fs))
    peaks = np.array([h - half + int(np.argmax(band[max(0, h - half):h + half]))
                      if h >= half else int(np.argmax(band[:h + half])) for h in humps])
$tail''', win_s=win_s, fn=fn_name, tail=tail)
        check = {"rr_ms": {"metric": "allclose", "rtol": 0.0, "atol": 1000.0 * 3 / fs},
                 "beats": {"metric": "events_f1", "tolerance": max(2, int(0.05 * fs)),
                           "min": 0.95},
                 "hr_windows": {"metric": "allclose", "rtol": 0.03, "atol": 1.0}}[out]
        cases = [CaseDraft(f"patch-{k}", {"ecg": trace(), "fs": fs}, hidden=k >= 2,
                           check=check) for k in range(4)]
        steps = ["Band-pass 5-25 Hz (the QRS band; it removes the baseline wander).",
                 "Square and smooth over 100 ms: one hump per beat.",
                 "Humps at least 300 ms apart and above 30% of the 99th percentile.",
                 "Move each to the largest band-passed sample within 50 ms.",
                 {"rr_ms": "RR in ms = diff(peaks) / fs * 1000.",
                  "beats": "Return the indices.",
                  "hr_windows": f"Per complete {win_s} s window: 60 * fs / mean RR."}[out]]
        mutants = [Mutant("no-distance", "distance=int(REFRACTORY_S * fs),\n"
                          "                          ", "",
                          "One beat per QRS: keep humps at least 300 ms apart."),
                   Mutant("units", "fs=fs, output", "output",
                          "Give the cutoffs in Hz with fs=fs, or divide them by fs / 2."),
                   MISSING_IMPORT]
        if out == "rr_ms":
            mutants.insert(0, Mutant("units", "np.diff(peaks) / fs * 1000.0", "np.diff(peaks)",
                                     "RR intervals in ms: samples / fs * 1000."))
        return Draft(
            title="Heartbeats from a single-lead ECG", requirement=req,
            function={"name": fn_name, "returns": {"type": "list", "description": what},
                      "args": [{"name": "ecg", "description": f"ECG samples ({unit})"},
                               {"name": "fs", "description": "sampling rate in Hz"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="QRS band-pass, squared and smoothed energy, refractory peak picking, then "
                "refinement on the band-passed signal.",
            params={"fs": fs, "output": out, "window_s": win_s, "counts": counts},
            tags=["ecg", "heartbeat", "heart-rate", "simulated"])


class EdgeReduce(Generator):
    name = "edge-reduce"
    modality = "sensor readings reduced on an edge node (simulated)"

    def draft(self, rng: np.random.Generator) -> Draft:
        out = pick(rng, ["block_max", "deadband", "delta_codes"])
        k = pick(rng, [4, 5, 8, 10])
        band = pick(rng, [0.2, 0.5, 1.0])
        scale = pick(rng, [10, 100])
        rp = axes.rep(rng)

        def trace() -> np.ndarray:
            n = int(rng.integers(300, 2000))
            x = axes.random_walk(rng, n, rng.uniform(15, 25), rng.uniform(0.05, 0.4), 0, 40)
            return np.round(x, 2)

        what = {"block_max": f"the maximum of every complete block of {k} readings (a partial "
                             "last block is dropped), as a list",
                "deadband": f"the indices of the readings it transmits: the first one, then "
                            f"each reading that differs from the last TRANSMITTED one by at "
                            f"least {band:g}",
                "delta_codes": f"the readings as integers in units of 1/{scale} (rounded), "
                               "the first one as is and then each as its difference from the "
                               "previous integer"}[out]
        req = axes.wording(
            rng, [
                "A battery-powered node samples a temperature probe and must send less data. "
                "Return {what}.",
                "Edge data reduction on a series of readings: return {what}.",
            ], what=what)
        body = {"block_max": "    n = len(x) // BLOCK\n"
                             "    return x[:n * BLOCK].reshape(n, BLOCK).max(axis=1).tolist()\n",
                "deadband": "    sent = [0]\n"
                            "    for i in range(1, len(x)):\n"
                            "        if abs(x[i] - x[sent[-1]]) >= BAND:\n"
                            "            sent.append(i)\n"
                            "    return sent\n",
                "delta_codes": "    q = np.round(x * SCALE).astype(np.int64)\n"
                               "    return [int(q[0])] + [int(d) for d in np.diff(q)]\n"}[out]
        fn_name = {"block_max": "block_max", "deadband": "deadband_indices",
                   "delta_codes": "delta_codes"}[out]
        ref = code('''
import numpy as np

BLOCK = $k
BAND = $band
SCALE = $scale


def $fn(x):
    """Less data from the node: the reading series reduced before it is sent."""
    x = np.asarray(x, dtype=float)
$body''', k=k, band=band, scale=scale, fn=fn_name, body=body)
        check = {"block_max": {"metric": "allclose", "rtol": 0.0, "atol": 1e-6},
                 "deadband": {"metric": "events_f1", "tolerance": 0, "min": 1.0},
                 "delta_codes": {"metric": "equals"}}[out]
        cases = [CaseDraft(f"probe-{i}", {"x": trace()}, hidden=i >= 2, check=check)
                 for i in range(4)]
        steps = {"block_max": [f"Keep the whole blocks of {k}.", "Maximum per block."],
                 "deadband": ["Send the first reading.", "Compare each reading with the last "
                              f"SENT one; send it when they differ by at least {band:g}."],
                 "delta_codes": [f"Integers in units of 1/{scale}: round(x * {scale}).",
                                 "First integer, then successive differences."]}[out]
        mutants = {"block_max": [Mutant("partial-block", "    n = len(x) // BLOCK\n",
                                        "    n = -(-len(x) // BLOCK)\n",
                                        "Drop the partial last block.")],
                   "deadband": [Mutant("last-not-sent", "x[sent[-1]]", "x[i - 1]",
                                       "Compare with the last transmitted reading, not the "
                                       "previous one.")],
                   "delta_codes": [Mutant("float-deltas", "[int(d) for d in np.diff(q)]",
                                          "[int(d) for d in np.diff(x)]",
                                          "Difference the rounded integers, not the readings.")]
                   }[out] + [MISSING_IMPORT]
        return Draft(
            title="Data reduction on an edge node", requirement=req,
            function={"name": fn_name,
                      "returns": {"type": "list", "description": what},
                      "args": [{"name": "x", "description": "readings, oldest first"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="The readings reduced as the node's protocol says, whole blocks or dead band "
                "against the last value sent.",
            params={"output": out, "block": k, "band": band, "scale": scale},
            tags=["edge", "compression", "simulated"])
