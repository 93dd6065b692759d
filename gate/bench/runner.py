"""Warm-up and measured repeats of one benchmark, each a fresh child process."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gate.bench import process
from gate.bench.conditions import RepeatWatch, reads_conditions
from gate.bench.thermal import ThermalControl
from gate.config.budget import BenchmarkSpec
from gate.devices import nvml
from gate.energy import cpu_attribution
from gate.energy.meter import ChildEnvMeter, EnergyMeter, GpuSelectingMeter
from gate.energy.model import METRICS, EnergyReading, RepeatResult
from gate.errors import BenchmarkError, GateError, GpuUnavailableError, MeasurementError
from gate.results import read as results
from gate.units import plural


class BenchmarkFailed(BenchmarkError):
    """The benchmark failed; carries what was measured before it did, and its output tail."""

    def __init__(self, message: str, *, completed: list[RepeatResult], tail: tuple[str, ...], hint: str | None = None):
        super().__init__(message, hint=hint)
        self.completed = completed
        self.tail = tail


@dataclass
class BenchmarkRun:
    spec: BenchmarkSpec
    repeats: list[RepeatResult] = field(default_factory=list)


GPU_HELP = "docs/action.md, section 'GPUs'"


def require_gpu(spec: BenchmarkSpec, visible_gpus: Callable[[], tuple[nvml.GpuInfo, ...]]) -> None:
    """Raise GpuUnavailableError when the budget marks `spec` as needing a GPU and NVML sees none."""
    if spec.requires_gpu and not visible_gpus():
        raise GpuUnavailableError(
            f"benchmark {spec.name!r} has 'requires_gpu: true' but no NVIDIA GPU is visible "
            "(NVML found no device); nothing was measured",
            hint="run the job on a GPU runner and give the container the GPU: NVIDIA runtime as Docker's "
            "default runtime (the action sets NVIDIA_VISIBLE_DEVICES), or a job-level `container:` with "
            f"`options: --gpus all` running `green-gate check`; see {GPU_HELP}",
        )


def run_benchmark(
    spec: BenchmarkSpec,
    meter: EnergyMeter,
    *,
    echo: Callable[[str], None],
    log: Callable[[str], None],
    visible_gpus: Callable[[], tuple[nvml.GpuInfo, ...]] = nvml.visible_gpus,
    thermal: ThermalControl | None = None,
    on_repeat: Callable[[tuple[RepeatResult, ...]], None] | None = None,
    more: Callable[[tuple[RepeatResult, ...]], bool] | None = None,
) -> BenchmarkRun:
    """Run `warmup` unmeasured then `repeats` measured executions; raise BenchmarkFailed on failure.

    Raises GpuUnavailableError (exit 2) before running anything when a GPU is required but absent.
    `thermal` (cool-down, start temperature) acts before each measured execution; `on_repeat` gets
    the repeats so far after each measured one (to save them before the next can be lost).
    Adaptive specs (`repeats_max`) run `repeats`, then one more while `more(repeats so far)` says so,
    up to `repeats_max`; without `more` they run `repeats_max`.
    """
    require_gpu(spec, visible_gpus)
    if isinstance(meter, GpuSelectingMeter):  # the GPUs this benchmark's own env (CUDA_VISIBLE_DEVICES) uses
        meter.select_gpus({**os.environ, **spec.env})
    run = BenchmarkRun(spec)
    step = 0
    while _another(spec, step, run, more):
        warm = step < spec.warmup
        label = f"warm-up {step + 1}/{spec.warmup}" if warm else f"repeat {step - spec.warmup + 1}/{_planned(spec)}"
        step += 1
        log(f"[{spec.name}] {label}: {spec.display_command}")
        repeat = step - spec.warmup  # 1-based measured repeat; warm-ups count 1-warmup .. 0
        watch = None if warm or not reads_conditions(os.environ) else RepeatWatch({**os.environ, **spec.env})
        if not warm:
            if thermal is not None:
                thermal.before_measured_run(label)
            if watch is not None:
                watch.before()  # the speed probe and the counters, ahead of the measured window
            meter.start()
        started_wall_s = time.time()
        # The window ends when the benchmark's main process does, before what it left behind is ended.
        stopped: list[EnergyReading] = []
        unmeasured: list[GateError] = []

        def stop(
            stopped: list[EnergyReading] = stopped,
            unmeasured: list[GateError] = unmeasured,
            watch: RepeatWatch | None = watch,
        ) -> None:
            try:
                stopped.append(meter.stop())
            except (BenchmarkError, MeasurementError) as exc:  # raised below, after the benchmark's own failure
                unmeasured.append(exc)
            if watch is not None:
                watch.ended()

        def say(message: str, label: str = label) -> None:
            log(f"[{spec.name}] {label}: {message}")

        try:
            execution = process.execute(
                spec.argv,
                spec.shell_command,
                cwd=spec.working_directory,
                env={
                    **spec.env,
                    results.REPEAT_ENV: str(repeat) if not warm else f"warmup-{step}",
                    **(meter.child_env() if isinstance(meter, ChildEnvMeter) else {}),
                },
                timeout_s=spec.timeout_s,
                echo=echo,
                pass_env=spec.pass_env,
                on_exit=None if warm else stop,
                log=say,
                on_start=watch.started if watch is not None else None,
            )
        finally:
            if watch is not None:  # a command that never started, or a cancelled check
                watch.close()
        reading = stopped[0] if stopped else None
        if reading is not None:
            # The meter saw the machine; the benchmark is charged its own process tree's CPU time.
            reading = cpu_attribution.attribute(reading, execution.cpu_s)
        also = f"; then the measurement failed: {unmeasured[0].message}" if unmeasured else ""
        if execution.failed:  # e.g. inside a phase: its cause and output tail, not "never ended"
            raise BenchmarkFailed(
                f"benchmark {spec.name!r} {process.describe_failure(execution, spec.timeout_s)} ({label}){also}",
                completed=run.repeats,
                tail=execution.tail,
                hint=(
                    f"raise the benchmark's timeout_s in the budget file (now {spec.timeout_s:g} s, per run), or make "
                    "the run shorter; the output tail is in the report"
                    if execution.timed_out
                    else "the output tail is in the report; run the command by hand to reproduce"
                ),
            )
        if unmeasured:
            raise unmeasured[0]
        try:
            metrics = process.parse_metrics(
                execution.metrics_text, reserved=frozenset(METRICS), count_key=plural(spec.unit)
            )
            counts = (
                results.read_repeat(
                    spec.results,
                    cwd=spec.working_directory,
                    repeat=repeat,
                    started_wall_s=started_wall_s,
                    output=execution.tail,
                )
                if reading is not None and spec.results is not None and spec.results.reads_tool_output
                else None
            )
        except BenchmarkError as exc:
            where = f"{exc.file}: " if exc.file else ""
            raise BenchmarkFailed(
                f"{where}{exc.message}", completed=run.repeats, tail=execution.tail, hint=exc.hint
            ) from None
        if reading is not None:
            run.repeats.append(
                RepeatResult(
                    index=len(run.repeats),
                    reading=reading,
                    predictions=counts.count if counts is not None else (metrics.predictions or reading.items),
                    quality={**metrics.quality, **(counts.quality if counts is not None else {})},
                    conditions=watch.finish(execution.cpu_s, execution.duration_s) if watch is not None else None,
                )
            )
            for note in reading.notes:
                log(f"[{spec.name}] {label}: {note}")
            log(f"[{spec.name}] {label}: {reading.energy_j:.4g} J in {reading.duration_s:.3g} s")
            if on_repeat is not None:
                on_repeat(tuple(run.repeats))
    return run


def _planned(spec: BenchmarkSpec) -> str:
    return str(spec.repeats) if spec.repeats_max is None else f"{spec.repeats}–{spec.repeats_max}"


def _another(
    spec: BenchmarkSpec, step: int, run: BenchmarkRun, more: Callable[[tuple[RepeatResult, ...]], bool] | None
) -> bool:
    """Run another execution? The warm-up and the first `repeats` always; adaptive ones as `more` says."""
    done = step - spec.warmup
    if done < spec.repeats:
        return True
    if spec.repeats_max is None or done >= spec.repeats_max:
        return False
    return more is None or more(tuple(run.repeats))
