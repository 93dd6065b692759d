"""The GPU energy meter: an EnergyMeter (start/stop) on the NVML engine, with CPU/RAM beside it.

On the first start() it starts the sampler and measures idle power for `energy.idle_s`; the sampler
then keeps recording across repeats, so every window has counter reads well before and after it
for calibration (gate.energy.timeline). stop() reads the benchmark's phase marks, attributes
energy to the measured phases (the whole run without marks), subtracts idle power when the budget
asks for `basis: active`, and adds CPU/RAM: RAPL where readable, else an estimate labelled so.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

from gate.config.budget import EnergySpec
from gate.devices.gpu import AveragedPowerReader, GpuReader
from gate.devices.rapl import RaplRecorder
from gate.energy.meter import EnergyMeter
from gate.energy.model import EnergyReading, PhaseEnergy, ScopeEnergy
from gate.energy.phases import Attribution, attribute, parse_phases
from gate.energy.progress import Progress
from gate.energy.sampler import Hook, Sampler, SamplerConfig
from gate.energy.scopes import active_energy_j, apply_scopes, gated_scopes
from gate.energy.timeline import TimelineIndex, window_energy
from gate.errors import ConfigError, MeasurementError
from gate.phase import PHASES_ENV

Windows = tuple[tuple[float, float], ...]

# A GPU is still cooling down (and in its working clocks) for tens of seconds after a CUDA process
# exits, e.g. the warm-up, with time constants of 8 to 60 s. Idle is read in slices: two successive
# slices agreeing within IDLE_FLAT_W is a steady GPU; a GPU cooling like an exponential has its floor
# fitted from three successive slices (two fits agreeing within IDLE_FIT_AGREE_W, once two thirds of
# the drop has been seen), which leaves far less than a slope test would (it stops about tau/3 W
# above the floor: +9.7 W at tau 30 s).
IDLE_SETTLE_MAX_S = 60.0
IDLE_FLAT_W = 0.1
IDLE_FLAT_FRACTION = 0.001
IDLE_FIT_AGREE_W = 0.5
# A counter read returns the value of a tick up to ~0.1 s old plus the driver's reporting latency:
# a window's energy is final only once the counter has been read this long past its end (and was
# read this long before its start), so the calibration sees both sides of its edges.
RECORD_AROUND_S = 0.3
# Where power is only the 1 s average, the staleness is fitted from how the average follows the
# counter: that needs a second and more of readings on each side of a window's edges.
RECORD_AROUND_AVERAGED_S = 1.5
# Before the first window the sampler records a little longer: the calibration's first counter
# step is then far from the window, where the step's placement weighs less against the span.
RECORD_BEFORE_S = 2.0
RECORD_WAIT_MAX_S = 2.5  # a sampler that falls this far behind is not waited for longer


@dataclass(frozen=True)
class IdleEstimate:
    """One GPU's idle power from its slices: measured where it was steady, else its fitted floor."""

    idle_w: float
    tau_s: float | None = None  # the cooling time constant, where the floor was fitted
    residual_w: float = 0.0  # how far above that floor the last slice still was


def _floor(means: Sequence[float], slice_s: float) -> IdleEstimate | None:
    """The floor F of three successive slice means of F + C exp(-t / tau); None unless they cool so."""
    m1, m2, m3 = means
    d1, d2 = m1 - m2, m2 - m3
    if not (d1 > 0 and 0 < d2 < d1):
        return None
    r = d2 / d1  # exp(-slice / tau)
    residual_w = d2 * r / (1 - r)  # C exp(-t3 / tau): what the last slice still holds above the floor
    return IdleEstimate(m3 - residual_w, -slice_s / math.log(r), residual_w)


def idle_estimate(means: Sequence[float], slice_s: float) -> IdleEstimate | None:
    """One GPU's idle from its successive slice means, once it can be told; None: read another slice."""
    if len(means) >= 2 and abs(means[-1] - means[-2]) <= max(IDLE_FLAT_W, IDLE_FLAT_FRACTION * abs(means[-1])):
        return IdleEstimate((means[-1] + means[-2]) / 2)  # steady
    if len(means) >= 4:
        earlier, last = _floor(means[-4:-1], slice_s), _floor(means[-3:], slice_s)
        if (
            earlier is not None
            and last is not None
            and abs(earlier.idle_w - last.idle_w) <= IDLE_FIT_AGREE_W
            # Seen most of the way down (2/3 of the drop), so a curve that is not quite one exponential
            # (clocks stepping down, a fan) cannot put the floor far off.
            and last.residual_w <= (means[0] - means[-1]) / 2
        ):
            return last
    return None


def _past(t_s: float, _first: float, last: float) -> bool:
    return last >= t_s


CALIBRATION_WARN = 0.05  # |k - 1| above this: the power sensor is off by more than NVIDIA's stated accuracy


@dataclass(frozen=True)
class CounterFacts:
    """What the energy counter said about one GPU's power readings over the measured span."""

    gpu: str
    calibration: float | None  # k: counter energy / power-sample energy; None where not used
    staleness_s: float  # how old a counter read's value was (fitted, or half a tick where it could not be)
    staleness_fitted: bool

    def note(self) -> str:
        how = "fitted from the trace" if self.staleness_fitted else "assumed: half a tick, power never moved enough"
        k = "" if self.calibration is None else f"power samples scaled by k = {self.calibration:.3f}, "
        text = f"{self.gpu}: {k}counter staleness {self.staleness_s:.3f} s ({how})"
        if self.calibration is not None and abs(self.calibration - 1) > CALIBRATION_WARN:
            text = (
                f"warning: {text}; the power sensor disagrees with the energy counter by "
                f"{(1 / self.calibration - 1) * 100:+.1f}%: check the GPU (`nvidia-smi -q -d POWER`)"
            )
        return text


class CpuRam(Protocol):
    """CPU and RAM energy for the measured windows of one run."""

    def start(self) -> None: ...

    def stop(self, attribution: Attribution, run_t0_s: float, run_t1_s: float) -> tuple[ScopeEnergy, ...]: ...


class RaplCpuRam:
    """Measured CPU (and DRAM, where the CPU exposes it) from RAPL, polled by the sampler's hook."""

    def __init__(self, recorder: RaplRecorder, estimate: CpuRam | None = None) -> None:
        self.recorder = recorder
        self.estimate = estimate  # RAM, when RAPL has no dram domain

    def start(self) -> None:
        if self.estimate is not None:
            self.estimate.start()

    def stop(self, attribution: Attribution, run_t0_s: float, run_t1_s: float) -> tuple[ScopeEnergy, ...]:
        scopes = [
            ScopeEnergy(
                scope,
                sum(self.recorder.window_j(scope, a, b) for a, b in attribution.windows),
                "measured",
                f"RAPL {'package' if scope == 'cpu' else 'DRAM'} counters",
            )
            for scope in self.recorder.scopes
        ]
        if self.estimate is not None:
            estimated = self.estimate.stop(attribution, run_t0_s, run_t1_s)
            scopes += [s for s in estimated if s.scope not in self.recorder.scopes]
        return tuple(scopes)


class EstimatedCpuRam:
    """codecarbon's CPU/RAM estimate over the whole run, scaled to the measured phases' share of it."""

    def __init__(self, meter: EnergyMeter) -> None:
        self.meter = meter

    def start(self) -> None:
        self.meter.start()

    def stop(self, attribution: Attribution, run_t0_s: float, run_t1_s: float) -> tuple[ScopeEnergy, ...]:
        reading = self.meter.stop()
        share = attribution.duration_s / (run_t1_s - run_t0_s) if run_t1_s > run_t0_s else 1.0
        scaled = " (scaled to the measured phases)" if attribution.phases else ""
        return tuple(
            ScopeEnergy(s.scope, s.energy_j * share, s.provenance, s.method + scaled)
            for s in reading.scopes
            if s.scope in ("cpu", "ram")
        )


class NvmlMeter:
    def __init__(
        self,
        reader: GpuReader,
        spec: EnergySpec,
        *,
        cpu_ram: CpuRam | None = None,
        rapl: RaplRecorder | None = None,
        progress: Progress | None = None,
        log: Callable[[str], None] = lambda _: None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        sampler: Sampler | None = None,
    ) -> None:
        self.reader = reader
        self.spec = spec
        self.cpu_ram = cpu_ram
        self.progress = progress
        self.log = log
        self.clock = clock
        self.sleep = sleep
        hooks: list[Hook] = []
        if rapl is not None:
            hooks.append(rapl.poll)
        if progress is not None:
            hooks.append(self._show_progress)
        self.sampler = sampler or Sampler(reader, SamplerConfig(power_hz=spec.sample_hz), clock=clock)
        self.sampler.hooks.extend(hooks)
        self.idle_power_w: tuple[float, ...] | None = None
        self.idle_notes: tuple[str, ...] = ()
        self.selection_notes: tuple[str, ...] = ()  # the benchmark's own GPU selection, where it differs
        self._dir = Path(tempfile.mkdtemp(prefix="green-gate-phases-"))
        self.phases_path = self._dir / "phases.jsonl"
        self._t0: float | None = None
        self._energy_at_start_j = 0.0
        self._said = (0, 0)

    def child_env(self) -> dict[str, str]:
        return {PHASES_ENV: str(self.phases_path)}

    def select_gpus(self, env: Mapping[str, str]) -> None:
        """Measure the GPUs the benchmark's own environment lets it use (its CUDA_VISIBLE_DEVICES).

        A new selection gets a new sampler and its own idle reading; the same one keeps recording."""
        select = getattr(self.reader, "select", None)
        if not callable(select) or not select(env):
            return
        if not self.reader.devices():
            raise ConfigError(
                "the benchmark's environment leaves it no GPU to measure (CUDA_VISIBLE_DEVICES)",
                hint="set CUDA_VISIBLE_DEVICES in the benchmark's env: to a GPU this runner has, or drop it",
            )
        selection = getattr(self.reader, "selection", None)
        self.selection_notes = tuple(getattr(selection, "notes", ()))
        old = self.sampler
        old.stop()
        self.sampler = type(old)(self.reader, old.config, clock=self.clock, hooks=tuple(old.hooks))
        self.idle_power_w = None
        self.idle_notes = ()

    def start(self) -> None:
        # What the sampler notes from here on (the idle reading included) is this repeat's, said at stop().
        self._said = (len(self.sampler.notes), len(self.sampler.errors))
        if not self.sampler.running:
            self.sampler.start()
        if self.idle_power_w is None and self.spec.basis == "active":  # only the active basis uses it
            self.idle_power_w = self._measure_idle()
        before_s = max(self._record_around_s(), RECORD_BEFORE_S)
        self._await_recording(lambda first, _: first <= self.clock() - before_s)
        self.phases_path.write_text("")
        if self.cpu_ram is not None:
            self.cpu_ram.start()
        self._energy_at_start_j = self.sampler.energy_so_far_j()
        self._t0 = self.clock()

    def _record_around_s(self) -> float:
        """How long the counter is read before and after a window before its energy is computed."""
        reader = self.reader
        averaged = isinstance(reader, AveragedPowerReader) and any(
            reader.power_averaged(i) for i in range(len(self.sampler.devices))
        )
        return RECORD_AROUND_AVERAGED_S if averaged else RECORD_AROUND_S

    def _await_recording(self, ready: Callable[[float, float], bool]) -> None:
        """Let the sampler record until every GPU's span of readings (first, last) is `ready`."""
        pause_s = 0.02
        deadline = self.clock() + RECORD_WAIT_MAX_S
        for _ in range(round(RECORD_WAIT_MAX_S / pause_s)):  # bounded even on a clock that stands still
            if not self.sampler.running or self.clock() >= deadline:
                return
            if all(span is None or ready(*span) for span in self.sampler.recorded()):
                return
            self.sleep(pause_s)

    def _measure_idle(self) -> tuple[float, ...]:
        """Each GPU's idle power from successive `idle_s / 2` slices (at most 60 s): see idle_estimate."""
        if self.spec.idle_s <= 0:
            return ()
        slice_s = self.spec.idle_s / 2
        started = self.clock()
        slices: list[tuple[float, ...]] = []
        while True:  # contiguous slices of equal length: the cooling fit needs them evenly spaced
            t0 = started + len(slices) * slice_s
            t1 = t0 + slice_s
            self.sleep(max(t1 - self.clock(), 0.0))
            self._await_recording(partial(_past, t1 + RECORD_AROUND_S))  # the counter read past the slice
            slices.append(self._mean_power_w(t0, t1))
            estimates = [idle_estimate([s[i] for s in slices], slice_s) for i in range(len(slices[-1]))]
            if all(e is not None for e in estimates):
                break
            if self.clock() - started + slice_s > IDLE_SETTLE_MAX_S:
                self.idle_notes = (
                    f"GPU idle power was still changing after {self.clock() - started:.0f} s "
                    f"({', '.join(f'{w:.1f} W' for w in slices[-1])} in the last {slice_s:g} s): "
                    "the active basis is uncertain by that drift",
                )
                self.log("warning: " + self.idle_notes[0])
                return slices[-1]
        found = [e for e in estimates if e is not None]
        fitted = [(i, e) for i, e in enumerate(found) if e.tau_s is not None]
        if fitted:
            self.idle_notes = tuple(
                f"{self._name(i)} was still cooling down before the run (time constant {e.tau_s:.0f} s, "
                f"{e.residual_w:.1f} W above its floor): its idle power is the floor fitted to the cooling curve"
                for i, e in fitted
            )
        idle = tuple(e.idle_w for e in found)
        waited = f" (settled after {self.clock() - started:.0f} s)" if len(slices) > 2 else ""
        self.log("GPU idle power before the run: " + ", ".join(f"{w:.1f} W" for w in idle) + waited)
        return idle

    def _mean_power_w(self, t0: float, t1: float) -> tuple[float, ...]:
        return tuple(
            window_energy(tl.around(t0, t1), t0, t1, what=self._name(i)).mean_power_w
            for i, tl in enumerate(self.sampler.timelines())
        )

    def _show_progress(self, now: float) -> None:
        if self._t0 is not None and self.progress is not None:
            energy = self.sampler.energy_so_far_j() - self._energy_at_start_j
            self.progress.update("GPU", now - self._t0, self.sampler.power_now_w(), energy)

    def _name(self, position: int) -> str:
        gpu = self.sampler.devices[position]
        return f"GPU {gpu.index} ({gpu.name})"

    def stop(self) -> EnergyReading:
        t0, t1 = self._t0, self.clock()
        if t0 is None:
            raise MeasurementError("stop() without start()")
        self._t0 = None
        if self.progress is not None:
            self.progress.finish()
        self._await_recording(partial(_past, t1 + self._record_around_s()))
        if not self.sampler.running:  # whatever ended its thread, the window was not recorded to its end
            reason = "; ".join(self.sampler.errors) or "its thread ended without recording an error"
            raise MeasurementError(
                "the GPU sampler stopped: " + reason,
                hint="check the GPU with `nvidia-smi`; the run was not measured",
            )
        text = self.phases_path.read_text() if self.phases_path.exists() else ""
        # Marks are stamped with the machine's real clocks, whatever clock this meter was given.
        attribution = attribute(parse_phases(text, time.time() - time.monotonic()), t0, t1, self.spec.phases)
        facts: list[CounterFacts] = []
        gpu = self._gpu_scope(attribution.windows, facts)
        scopes = [gpu]
        if self.cpu_ram is not None:
            scopes += self.cpu_ram.stop(attribution, t0, t1)
        reading = EnergyReading(
            duration_s=attribution.duration_s,
            scopes=tuple(scopes),
            items=attribution.items,
            notes=(
                f"Energy measured over {attribution.describe()}.",
                *self.selection_notes,
                *self.idle_notes,
                *(fact.note() for fact in facts),
                *self._sampling_notes(t0, t1),
                *self._sampler_notes(),
            ),
            phases=self._phases(attribution),
            phases_cpu_s=attribution.cpu_s,
        )
        return apply_scopes(reading, gated_scopes((s.scope for s in scopes), self.spec.scopes, line=self.spec.line))

    def _sampling_notes(self, t0: float, t1: float) -> list[str]:
        """How densely each GPU was sampled over the run, and what the reads cost (measured)."""
        rates = self.sampler.rates(t0, t1)
        sampled = ", ".join(
            f"{self._name(i)} {hz:.0f} Hz (largest gap {gap * 1000:.0f} ms)" for i, (hz, gap) in enumerate(rates)
        )
        return [f"power sampled at: {sampled}; {self.sampler.describe_costs()}"]

    def _sampler_notes(self) -> list[str]:
        """What the sampler noted and the errors it kept going after (a reading dropped), since start():
        each repeat says its own, once; a sampler that was replaced (a new GPU selection) starts afresh."""
        notes, errors = self._said
        if notes > len(self.sampler.notes) or errors > len(self.sampler.errors):
            notes = errors = 0
        return [*self.sampler.notes[notes:], *(f"warning: {e}" for e in self.sampler.errors[errors:])]

    def _phases(self, attribution: Attribution) -> tuple[PhaseEnergy, ...]:
        """Each measured phase apart, when there are several: prefill and decode cost differently per item."""
        if len(attribution.by_phase) < 2:
            return ()
        measured_s = attribution.duration_s
        return tuple(
            PhaseEnergy(
                share.name,
                share.duration_s,
                share.items,
                self._gpu_scope(share.windows).energy_j,
                share.duration_s / measured_s if measured_s > 0 else 0.0,
                cpu_s=share.cpu_s,
            )
            for share in attribution.by_phase
        )

    def _gpu_scope(self, windows: Windows, facts: list[CounterFacts] | None = None) -> ScopeEnergy:
        total_j = idle_j = 0.0
        methods = set()
        active = self.spec.basis == "active"
        idle = self.idle_power_w or ()
        first_s, last_s = min(a for a, _ in windows), max(b for _, b in windows)
        for position, timeline in enumerate(self.sampler.timelines()):
            index = TimelineIndex(timeline.around(first_s, last_s))  # once per GPU for all the windows
            if facts is not None and index.steps:
                k = index.calibration(first_s, last_s)
                facts.append(CounterFacts(self._name(position), k, index.staleness_s, index.staleness_fitted))
            for a, b in windows:
                result = index.window(a, b, what=self._name(position))
                methods.add(result.method)
                total_j += result.energy_j
                idle_j += (idle[position] if position < len(idle) else 0.0) * (b - a)
        # Clamped once over every window and GPU: clamping each one and summing would only ever add
        # (a GPU or a short window a little below its idle figure counts 0, one above counts in full).
        energy_j = active_energy_j(total_j, idle_j, 1.0) if active else total_j
        count = len(self.sampler.devices)
        basis = "; above idle " + "+".join(f"{w:.0f} W" for w in idle) if active else ""
        method = f"{count} GPU{'s' if count > 1 else ''}: {' / '.join(sorted(methods))}{basis}"
        facts = facts or []
        calibrated = [f.calibration for f in facts if f.calibration is not None]
        calibration = tuple(calibrated) if len(calibrated) == count else ()  # per GPU, or none
        staleness = tuple(f.staleness_s for f in facts) if len(facts) == count else ()
        return ScopeEnergy("gpu", energy_j, "measured", method, calibration=calibration, counter_staleness_s=staleness)

    def close(self) -> None:
        self.sampler.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
        close_reader = getattr(self.reader, "close", None)
        if callable(close_reader):
            close_reader()
