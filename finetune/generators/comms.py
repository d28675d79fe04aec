"""Radio, timing and digital-input generators: packet loss with wrap-around sequence
numbers, RSSI ranging, logger timestamp gaps, button debouncing."""

from __future__ import annotations

import numpy as np

from finetune.generators import axes
from finetune.generators.axes import pick
from finetune.generators.base import CaseDraft, Draft, Generator, Mutant
from finetune.generators.energy import MISSING_IMPORT, code


class PacketLoss(Generator):
    name = "packet-loss"
    modality = "radio link sequence numbers"

    def draft(self, rng: np.random.Generator) -> Draft:
        bits = pick(rng, [8, 16])
        mod = 2 ** bits
        out = pick(rng, ["lost", "percent"])
        rp = axes.rep(rng)
        radio = pick(rng, ["LoRa", "BLE", "Zigbee", "nRF24"])

        def trace() -> np.ndarray:
            sent = int(rng.integers(400, 3000)) if bits == 8 else int(rng.integers(400, 3000))
            start = int(rng.integers(0, mod))
            seq = (start + np.arange(sent)) % mod
            keep = rng.random(sent) > rng.uniform(0.01, 0.15)
            keep[0] = True
            got = seq[keep].tolist()
            for _ in range(int(rng.integers(0, 4))):  # retransmitted duplicates
                i = int(rng.integers(1, len(got)))
                got.insert(i, got[i - 1])
            return np.array(got, dtype=np.int32)

        what = ("how many packets were lost" if out == "lost" else
                "the packet loss in percent: lost / (received distinct + lost) * 100")
        req = axes.wording(
            rng, [
                "My {radio} sensor puts a {bits}-bit sequence number in each packet (it wraps "
                "from {top} back to 0). The gateway logs the numbers it received, in order; "
                "a repeated number is a duplicate retransmission. Can you tell me {what}? "
                "Assume fewer than {mod} packets are ever lost in a row.",
                "Input: received {bits}-bit sequence numbers in arrival order (wrap-around "
                "modulo {mod}; an identical consecutive number is a duplicate, ignore it). For "
                "each step, gap = (seq[i] - seq[i-1]) mod {mod}; gap - 1 packets were lost when "
                "gap >= 1. Return {what}.",
                "{radio} seq numbers ({bits}-bit, wrapping). Duplicates repeat the previous "
                "number. Return {what}.",
            ], radio=radio, bits=bits, top=mod - 1, mod=mod, what=what)
        tail = ("    return int(lost)\n" if out == "lost" else
                "    received = int(np.sum(gaps >= 1)) + 1\n"
                "    return float(100.0 * lost / (received + lost))\n")
        fn_name = "lost_packets" if out == "lost" else "loss_percent"
        ref = code('''
import numpy as np

MOD = $mod  # $bits-bit sequence counter


def $fn(seq):
    """Lost packets from wrapping sequence numbers (duplicates ignored)."""
    s = np.asarray(seq, dtype=np.int64)
    gaps = np.diff(s) % MOD
    lost = np.sum(gaps[gaps >= 1] - 1)
$tail''', mod=mod, bits=bits, fn=fn_name, tail=tail)
        check = ({"metric": "equals"} if out == "lost" else {"metric": "abs_error", "max": 0.01})
        cases = [CaseDraft(f"link-{k}", {"seq": trace()}, hidden=k >= 2, check=check)
                 for k in range(4)]
        steps = ["Take successive differences of the sequence numbers.",
                 f"Wrap them modulo {mod} so a roll-over from {mod - 1} to 0 is a step of 1.",
                 "Ignore zero steps (duplicates); each step g >= 1 means g - 1 lost packets.",
                 "Return the total lost as an int." if out == "lost" else
                 "Loss % = 100 * lost / (distinct received + lost); return a float."]
        mutants = [Mutant("wrap-around", "np.diff(s) % MOD", "np.diff(s)",
                          f"Sequence numbers wrap at {mod}: take the differences modulo {mod}."),
                   Mutant("off-by-one", "gaps[gaps >= 1] - 1", "gaps[gaps >= 1]",
                          "A step of g means g - 1 packets are missing, not g."),
                   MISSING_IMPORT]
        return Draft(
            title="Packet loss from wrapping sequence numbers", requirement=req,
            function={"name": fn_name, "returns": {"type": "int" if out == "lost" else "float",
                                                   "description": what},
                      "args": [{"name": "seq", "description": f"received {bits}-bit sequence "
                                                              "numbers in arrival order"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Differences of the sequence numbers modulo the counter range; each step "
                "beyond 1 is a gap of lost packets, duplicates give 0.",
            params={"bits": bits, "output": out, "radio": radio}, tags=["comms", "radio"])


class RssiDistance(Generator):
    name = "rssi-distance"
    modality = "BLE beacon RSSI"

    def draft(self, rng: np.random.Generator) -> Draft:
        tx = pick(rng, [-59, -62, -65, -70])
        n_exp = pick(rng, [2.0, 2.2, 2.5, 3.0])
        sentinel = pick(rng, [None, -127, 0])
        out = pick(rng, ["median", "windows"])
        win = pick(rng, [10, 20, 30])
        rp = axes.rep(rng)

        def trace() -> np.ndarray:
            n = int(rng.integers(80, 400))
            d = np.clip(axes.random_walk(rng, n, rng.uniform(0.5, 8), 0.05, 0.3, 15), 0.3, None)
            r = tx - 10 * n_exp * np.log10(d) + rng.normal(0, 3, n)
            r = np.round(r).astype(np.int32)
            if sentinel is not None:
                r[rng.random(n) < 0.08] = sentinel
            return r

        miss = ("" if sentinel is None else
                f" A reading of {sentinel} means no packet was heard; ignore those.")
        what = ("the distance in metres estimated from the median RSSI of all valid readings"
                if out == "median" else
                f"one distance per block of {win} consecutive readings (non-overlapping, "
                f"incomplete last block dropped), each from the median of the block's valid "
                f"readings, as a list")
        req = axes.wording(
            rng, [
                "I'm tracking how far a BLE beacon is from my gateway. The RSSI (dBm) is "
                "{tx} at 1 m and the path-loss exponent is about {n:g}, so distance = "
                "10 ** ((tx - rssi) / (10 * n)).{miss} Give me {what}.",
                "Log-distance path loss: d = 10 ** ((P_1m - RSSI) / (10 * n)) metres, with "
                "P_1m = {tx} dBm and n = {n:g}. Input: RSSI samples in dBm (integers).{miss} "
                "Output: {what}.",
                "RSSI dBm log, tx@1m {tx}, n {n:g}.{miss} Return {what}.",
            ], tx=tx, n=n_exp, miss=miss, what=what)
        valid = "" if sentinel is None else f"    r = r[r != {sentinel}]\n"
        if out == "median":
            body = valid + "    return float(10.0 ** ((TX - np.median(r)) / (10.0 * N)))\n"
        else:
            vb = "" if sentinel is None else f"        b = b[b != {sentinel}]\n"
            body = ("    out = []\n"
                    f"    for start in range(0, len(r) - {win} + 1, {win}):\n"
                    f"        b = r[start:start + {win}]\n" + vb +
                    "        out.append(float(10.0 ** ((TX - np.median(b)) / (10.0 * N))))\n"
                    "    return out\n")
        fn_name = "beacon_distance" if out == "median" else "distance_per_block"
        ref = code('''
import numpy as np

TX = $tx  # dBm at 1 m
N = $n  # path-loss exponent


def $fn(rssi):
    """Log-distance path-loss model on the median RSSI."""
    r = np.asarray(rssi, dtype=float)
$body''', tx=float(tx), n=n_exp, fn=fn_name, body=body)
        check = ({"metric": "rel_error", "max": 0.005} if out == "median" else
                 {"metric": "allclose", "rtol": 0.005, "atol": 0.0})
        cases = [CaseDraft(f"beacon-{k}", {"rssi": trace()}, hidden=k >= 2, check=check)
                 for k in range(4)]
        steps = ([] if sentinel is None else [f"Drop the {sentinel} 'no packet' readings."])
        steps += (["Take the median RSSI."] if out == "median" else
                  [f"Split into non-overlapping blocks of {win} readings; take each block's "
                   "median (valid readings only)."])
        steps += [f"Distance = 10 ** (({tx} - median) / (10 * {n_exp:g})) metres.",
                  "Return a float." if out == "median" else "Return the list of distances."]
        mutants = [Mutant("inverted", "(TX - np.median(", "(np.median(",
                          "Distance grows as RSSI drops: use (tx - rssi) in the exponent."),
                   Mutant("units", "(10.0 * N)", "N", "The exponent divides by 10 * n (dB "
                          "are tenths of a decade)."),
                   MISSING_IMPORT]
        if out == "median":
            mutants[0] = Mutant("inverted", "(TX - np.median(r))", "(np.median(r) - TX)",
                                "Distance grows as RSSI drops: use (tx - rssi).")
        if sentinel is not None:
            mutants.append(Mutant("missing-filter", f"r[r != {sentinel}]" if out == "median"
                                  else f"b[b != {sentinel}]", "r" if out == "median" else "b",
                                  f"Drop the {sentinel} readings (no packet) before the "
                                  "median."))
        return Draft(
            title="Beacon distance from RSSI", requirement=req,
            function={"name": fn_name, "returns": {"type": "float" if out == "median" else
                                                   "list", "description": what},
                      "args": [{"name": "rssi", "description": "RSSI readings in dBm"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Median RSSI (robust to multipath spikes), then the log-distance path-loss "
                "model.",
            params={"tx": tx, "n": n_exp, "sentinel": sentinel, "output": out, "block": win},
            tags=["comms", "ble"])


class TimestampGaps(Generator):
    name = "logger-gaps"
    modality = "data-logger timestamps"

    def draft(self, rng: np.random.Generator) -> Draft:
        period = pick(rng, [10, 20, 50, 100, 250, 1000])  # ms
        unit = pick(rng, ["ms", "ms", "s", "us"])
        out = pick(rng, ["gaps", "missing", "rate"])
        rp = axes.rep(rng)

        def trace() -> np.ndarray:
            n = int(rng.integers(300, 2000))
            steps = period * (1 + rng.uniform(-0.05, 0.05, n))
            for _ in range(int(rng.integers(1, 8))):
                steps[int(rng.integers(1, n))] = period * int(rng.integers(2, 9)) * \
                    rng.uniform(0.98, 1.02)
            t = np.cumsum(steps) + rng.uniform(0, 1e6)
            if unit == "s":
                return np.round(t / 1000.0, 4)
            if unit == "us":
                return np.round(t * 1000.0).astype(np.int64)
            return np.round(t).astype(np.int64)

        uw = {"ms": "milliseconds", "s": "seconds", "us": "microseconds"}[unit]
        what = {"gaps": f"how many gaps there are: intervals longer than 1.5 times the "
                        f"nominal {period} ms period",
                "missing": f"how many samples are missing in total: an interval of length L "
                           f"longer than 1.5 x {period} ms hides round(L / {period} ms) - 1 "
                           f"samples",
                "rate": "the effective sampling rate in Hz: (number of samples - 1) / "
                        "(last time - first time)"}[out]
        req = axes.wording(
            rng, [
                "My data logger should sample every {period} ms but the SD card write "
                "sometimes stalls. Here are the sample timestamps in {uw}. Tell me {what}.",
                "Given monotonically increasing timestamps in {uw} of a sensor with a nominal "
                "period of {period} ms, compute {what}.",
                "Timestamps ({uw}), nominal {period} ms. Return {what}.",
            ], period=period, uw=uw, what=what)
        to_ms = {"ms": "1.0", "s": "1000.0", "us": "0.001"}[unit]
        tail = {"gaps": "    return int(np.sum(d > 1.5 * PERIOD_MS))\n",
                "missing": "    big = d[d > 1.5 * PERIOD_MS]\n"
                           "    return int(np.sum(np.round(big / PERIOD_MS) - 1))\n",
                "rate": "    return float((len(t) - 1) / ((t[-1] - t[0]) / 1000.0))\n"}[out]
        fn_name = {"gaps": "count_gaps", "missing": "missing_samples",
                   "rate": "effective_rate"}[out]
        ref = code('''
import numpy as np

PERIOD_MS = $period
TO_MS = $to_ms  # timestamps are in $unit


def $fn(timestamps):
    """Sampling gaps and rate from logger timestamps."""
    t = np.asarray(timestamps, dtype=float) * TO_MS
    d = np.diff(t)
$tail''', period=float(period), to_ms=to_ms, unit=unit, fn=fn_name, tail=tail)
        check = ({"metric": "rel_error", "max": 1e-4} if out == "rate" else {"metric": "equals"})
        cases = [CaseDraft(f"card-{k}", {"timestamps": trace()}, hidden=k >= 2, check=check)
                 for k in range(4)]
        steps = [f"Convert the timestamps to ms (x {to_ms}).",
                 "Take the intervals between consecutive timestamps.",
                 {"gaps": f"Count intervals > 1.5 * {period} ms; return an int.",
                  "missing": f"For intervals > 1.5 * {period} ms add round(L / {period}) - 1; "
                             "return the int total.",
                  "rate": "Rate = (n - 1) / (duration in seconds); return a float."}[out]]
        mutants = [MISSING_IMPORT]
        if unit != "ms":
            mutants.append(Mutant("units", f"TO_MS = {to_ms}", "TO_MS = 1.0",
                                  f"The timestamps are in {uw}: convert them to ms first."))
        if out == "rate":
            mutants.append(Mutant("units", "/ 1000.0))", "))", "The duration is in ms: divide by "
                                  "1000 to get seconds for a rate in Hz."))
            mutants.append(Mutant("off-by-one", "(len(t) - 1)", "len(t)",
                                  "n samples span n - 1 intervals."))
        if out == "missing":
            mutants.append(Mutant("off-by-one", "PERIOD_MS) - 1))", "PERIOD_MS)))",
                                  "An interval of k periods hides k - 1 samples."))
        if out == "gaps":
            mutants.append(Mutant("wrap-around", "np.diff(t)", "t - np.roll(t, 1)",
                                  "np.roll wraps the last sample around; use np.diff."))
            mutants.append(Mutant("wrong-threshold", "d > 1.5 * PERIOD_MS", "d > PERIOD_MS",
                                  "A gap is an interval longer than 1.5 x the period; jitter "
                                  "alone makes many intervals slightly longer than one."))
        return Draft(
            title="Gaps in a data logger's timestamps", requirement=req,
            function={"name": fn_name, "returns": {"type": "float" if out == "rate" else "int",
                                                   "description": what},
                      "args": [{"name": "timestamps", "description": f"sample times in {uw}"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="Intervals between timestamps in ms, compared with the nominal period.",
            params={"period_ms": period, "unit": unit, "output": out}, tags=["timing"])


class Debounce(Generator):
    name = "button-debounce"
    modality = "digital input (push button)"

    def draft(self, rng: np.random.Generator) -> Draft:
        fs = pick(rng, [500, 1000, 2000])
        deb = pick(rng, [10, 20, 30])  # ms
        active_low = bool(rng.integers(2))
        out = pick(rng, ["count", "onsets"])
        rp = axes.rep(rng)
        need = int(deb * fs / 1000)

        def trace() -> tuple[np.ndarray, int]:
            n = int(fs * rng.uniform(3, 12))
            x = np.zeros(n, dtype=np.int8)
            t, presses = int(rng.integers(fs // 10, fs // 2)), 0
            while t < n - fs // 2:
                hold = int(fs * rng.uniform(0.08, 0.5))
                x[t:t + hold] = 1
                for _ in range(int(rng.integers(0, 6))):  # contact bounce at both edges
                    for edge in (t, t + hold):
                        b = edge + int(rng.integers(0, max(2, need // 2)))
                        if b < n:
                            x[b] ^= 1
                presses += 1
                t += hold + int(fs * rng.uniform(0.1, 0.8))
            if rng.random() < 0.5:  # a glitch shorter than the debounce time
                g = int(rng.integers(0, n - need))
                x[g:g + max(1, need // 3)] = 1 - x[g]
            return (1 - x if active_low else x).astype(np.int8), presses

        level = "0 (the button pulls the pin low)" if active_low else "1"
        what = ("the number of presses" if out == "count" else
                "the sample index at which each press is registered, as a list")
        req = axes.wording(
            rng, [
                "I read a push button on a GPIO pin {fs} times a second; pressed reads as "
                "{level}. The contacts bounce. Debounce it: the state only changes after the "
                "pin has read the new level for {deb} ms in a row ({need} samples), and a "
                "press is registered when the state changes to pressed. The state starts "
                "released. Return {what}.",
                "Debounce a sampled digital input (fs = {fs} Hz, pressed level {level}). "
                "Keep a debounced state (initially released) and a counter of consecutive "
                "samples that differ from it; when the counter reaches {need} samples "
                "({deb} ms) the state flips and the counter resets; a sample equal to the state "
                "resets the counter. A flip to pressed registers a press at that sample. "
                "Return {what}.",
                "GPIO samples @ {fs} Hz, pressed = {level}, {deb} ms debounce ({need} "
                "consecutive samples to change state, start released). Return {what}.",
            ], fs=fs, level=level, deb=deb, need=need, what=what)
        pressed = 0 if active_low else 1
        tail = ("    return len(onsets)\n" if out == "count" else "    return onsets\n")
        fn_name = "count_presses" if out == "count" else "press_onsets"
        ref = code('''
import numpy as np

NEED = $need  # $deb ms at $fs Hz
PRESSED = $pressed  # pin level while pressed


def $fn(pin, fs):
    """Counter-based debouncing; a press is a flip of the debounced state to pressed."""
    x = np.asarray(pin).astype(int)
    state = 1 - PRESSED
    count = 0
    onsets = []
    for i, v in enumerate(x):
        if v != state:
            count += 1
            if count >= NEED:
                state = v
                count = 0
                if state == PRESSED:
                    onsets.append(i)
        else:
            count = 0
$tail''', need=need, deb=deb, fs=fs, pressed=pressed, fn=fn_name, tail=tail)
        check = ({"metric": "equals"} if out == "count" else
                 {"metric": "events_f1", "tolerance": 2, "min": 1.0})
        cases = []
        for k in range(4):
            x, _ = trace()
            cases.append(CaseDraft(f"button-{k}", {"pin": x, "fs": fs}, hidden=k >= 2,
                                   check=check))
        steps = [f"Start in the released state ({1 - pressed}), counter 0.",
                 "For each sample: if it differs from the state, count it, else reset the "
                 "counter.",
                 f"When the counter reaches {need} samples ({deb} ms at {fs} Hz), flip the "
                 "state and reset the counter.",
                 "A flip to pressed registers a press at that sample index.",
                 "Return the number of presses." if out == "count" else
                 "Return the list of press indices."]
        mutants = [Mutant("inverted", f"PRESSED = {pressed}", f"PRESSED = {1 - pressed}",
                          f"The pressed level is {pressed}" + (" (active low)." if active_low
                                                              else ".")),
                   Mutant("missing-reset", "        else:\n            count = 0\n", "",
                          "A sample equal to the state must reset the counter, or bounces "
                          "add up."),
                   Mutant("units", f"NEED = {need}", f"NEED = {deb}" if need != deb else
                          f"NEED = {max(1, deb // 10)}", "The debounce time is in ms: "
                          f"{deb} ms is {need} samples at {fs} Hz.")]
        return Draft(
            title="Debounce a push button", requirement=req,
            function={"name": fn_name, "returns": {"type": "int" if out == "count" else "list",
                                                   "description": what},
                      "args": [{"name": "pin", "description": "pin level per sample (0/1)"},
                               {"name": "fs", "description": "samples per second"}]},
            cases=cases, reference=ref, subtasks=steps, mutants=mutants, rep=rp,
            doc="A counter-based debouncer: the state flips only after the new level has "
                "held for the debounce time.",
            params={"fs": fs, "debounce_ms": deb, "active_low": active_low, "output": out},
            tags=["digital", "gpio"])
