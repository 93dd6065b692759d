"""The NVML meter end to end on a replayed GPU: a real sampler thread, a real child writing phases."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pynvml
import pytest

from gate.bench import runner
from gate.config.budget import EnergySpec
from gate.config.load import parse_budget
from gate.devices.nvml import NvmlReader
from gate.energy.model import EnergyReading, ScopeEnergy
from gate.energy.nvml_meter import RECORD_AROUND_S, RECORD_BEFORE_S, EstimatedCpuRam, NvmlMeter
from gate.energy.sampler import Sampler, SamplerConfig
from gate.energy.timeline import METHOD_COMBINED, METHOD_COUNTER_AVERAGED
from tests.fakes.nvml import Board, CudaQueue, FakeDriver, SimClock, cooling_idle, h100, steps
from tests.fakes.traces import PowerProfile, RealTimeTraceReader, Trace
from tests.support.gpu_meter import RunOnBoard, SteppedSampler, stepping, write_marks

ROOT = Path(__file__).resolve().parents[2]
CHILD = (
    "import time; from gate.phase import phase\n"
    "time.sleep(0.3)\n"
    "with phase('inference', items=64):\n"
    "    time.sleep(0.6)\n"
    "time.sleep(0.2)\n"
)
PREFILL_DECODE = (
    "import time; from gate.phase import phase\n"
    "time.sleep(0.2)\n"
    "with phase('prefill', items=512):\n"
    "    time.sleep(0.3)\n"
    "with phase('decode', items=32):\n"
    "    time.sleep(0.6)\n"
)


class FixedCpuRam:
    """A stand-in for codecarbon's estimate: 100 W CPU, 10 W RAM over whatever ran."""

    def __init__(self) -> None:
        self.duration_s = 0.0

    def start(self) -> None:
        pass

    def stop(self) -> EnergyReading:
        return EnergyReading(
            2.0,
            (
                ScopeEnergy("cpu", 200.0, "estimated", "codecarbon TDP model"),
                ScopeEnergy("ram", 20.0, "estimated", "codecarbon RAM model"),
                ScopeEnergy("gpu", 999.0, "measured", "codecarbon's own GPU reading, not used"),
            ),
        )


def run_once(
    tmp_path: Path, spec: EnergySpec, watts: float = 300.0, child: str = CHILD
) -> tuple[runner.BenchmarkRun, NvmlMeter]:
    (tmp_path / "child.py").write_text(child)
    budget = f"version: 1\nbenchmarks:\n  - name: b\n    command: [{sys.executable!r}, child.py]\n    repeats: 1\n"
    budget += f"    warmup: 0\n    env:\n      PYTHONPATH: {str(ROOT)!r}\n"
    (bench,) = parse_budget(budget, tmp_path / "green-budget.yml").benchmarks
    reader = RealTimeTraceReader((Trace(PowerProfile.steady(watts)),))
    meter = NvmlMeter(reader, spec, cpu_ram=EstimatedCpuRam(FixedCpuRam()), clock=reader.clock)
    try:
        run = runner.run_benchmark(bench, meter, echo=lambda _: None, log=lambda _: None, visible_gpus=reader.devices)
    finally:
        meter.close()
    return run, meter


@pytest.mark.slow  # a real-time trace and a benchmark process
def test_energy_is_attributed_to_the_marked_phase_only(tmp_path: Path) -> None:
    run, meter = run_once(tmp_path, EnergySpec(idle_s=0.5))
    (repeat,) = run.repeats
    reading = repeat.reading
    assert 0.6 <= reading.duration_s < 0.6 + 0.3  # the phase, not the 1.1 s run
    gpu, cpu, ram = reading.scopes
    assert (ram.scope, ram.gated) == ("ram", False)  # codecarbon's own GPU figure is dropped
    assert (gpu.scope, gpu.gated, gpu.provenance) == ("gpu", True, "measured")
    assert gpu.energy_j == pytest.approx(300.0 * reading.duration_s, rel=0.02)
    assert "sub-tick edges from power samples" in gpu.method
    # CPU/RAM estimates are reported, scaled to the phase's share of the run, and not gated.
    assert (cpu.scope, cpu.gated, cpu.provenance) == ("cpu", False, "estimated")
    assert cpu.method.endswith("(scaled to the measured phases)")
    assert (
        0 < cpu.energy_j <= 200.0 * reading.duration_s / (reading.duration_s + 0.5)
    )  # 0.5 s of the run is not the phase
    assert reading.energy_j == gpu.energy_j
    assert repeat.predictions == 64  # from the phase's items: the benchmark wrote no metrics file
    assert reading.notes[0] == "Energy measured over phase 'inference' (1 window)."
    assert meter.idle_power_w is None  # basis: total needs no idle reading


@pytest.mark.slow  # a real-time trace and a benchmark process
def test_prefill_and_decode_are_measured_apart_each_with_its_items(tmp_path: Path) -> None:
    run, _ = run_once(tmp_path, EnergySpec(idle_s=0), child=PREFILL_DECODE)
    (repeat,) = run.repeats
    reading = repeat.reading
    prefill, decode = reading.phases
    assert (prefill.name, prefill.items, decode.name, decode.items) == ("prefill", 512, "decode", 32)
    assert 0.3 <= prefill.duration_s < 0.3 + 0.25 and 0.6 <= decode.duration_s < 0.6 + 0.25
    for phase in (prefill, decode):
        assert phase.gpu_j == pytest.approx(300.0 * phase.duration_s, rel=0.02)
        assert phase.share == pytest.approx(phase.duration_s / reading.duration_s)
    assert prefill.gpu_j + decode.gpu_j == pytest.approx(reading.scopes[0].energy_j, rel=1e-6)
    assert repeat.predictions == 544  # the run's count: both phases' items


@pytest.mark.slow  # a real-time trace and a benchmark process
def test_active_basis_subtracts_idle_and_budget_scopes_can_include_cpu(tmp_path: Path) -> None:
    run, _ = run_once(tmp_path, EnergySpec(idle_s=0.5, basis="active", scopes=("gpu", "cpu", "ram")))
    reading = run.repeats[0].reading
    gpu = reading.scopes[0]
    assert gpu.energy_j == pytest.approx(0.0, abs=300.0 * 0.6 * 0.02)  # steady power: nothing above idle
    # The idle figure is read off a real-time trace, as exact as the energy above (2%) on a busy machine.
    idle = re.search(r"above idle (\d+(?:\.\d+)?) W$", gpu.method)
    assert idle is not None and float(idle.group(1)) == pytest.approx(300.0, rel=0.02)
    assert all(s.gated for s in reading.scopes)


def test_stop_after_a_lost_gpu_is_an_error_not_zero(tmp_path: Path) -> None:
    from gate.devices.gpu import GpuLostError
    from gate.errors import MeasurementError

    class LostReader(RealTimeTraceReader):
        def power_w(self, position: int) -> float:
            raise GpuLostError("fell off the bus")

    reader = LostReader((Trace(PowerProfile.steady(300.0)),))
    meter = NvmlMeter(reader, EnergySpec(idle_s=0), clock=reader.clock)
    try:
        meter.start()
        deadline = time.monotonic() + 5
        while meter.sampler.running and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(MeasurementError, match=r"the GPU sampler stopped: .*fell off the bus"):
            meter.stop()
    finally:
        meter.close()


# --- idle on the stand-in driver's simulated board (tests/fakes/nvml.py) -----------------------------


def meter_on_boards(
    powers: Sequence[Callable[[float], float]], spec: EnergySpec
) -> tuple[NvmlMeter, SimClock, Callable[[float], None]]:
    """A meter on simulated boards (one per power curve) and a sleep that steps the sampler."""
    clock = SimClock(100.0)
    boards = [Board(power, clock, advance=clock.advance) for power in powers]
    gpus = [h100(f"GPU-{chr(ord('a') + i)}", board=board) for i, board in enumerate(boards)]
    reader = NvmlReader({}, nvml=FakeDriver(gpus, driver="580.65.06"))
    sampler = SteppedSampler(reader, SamplerConfig(), clock=clock)
    sleep = stepping(sampler, clock)
    return NvmlMeter(reader, spec, clock=clock, sleep=sleep, sampler=sampler), clock, sleep


def meter_on_board(power: Callable[[float], float], spec: EnergySpec) -> tuple[NvmlMeter, SimClock]:
    meter, clock, _ = meter_on_boards([power], spec)
    return meter, clock


@pytest.mark.parametrize("tau_s", [8.0, 15.0, 30.0])
def test_idle_of_a_gpu_cooling_down_after_the_warm_up_exits_is_its_floor_within_1w(tau_s: float) -> None:
    """The warm-up's CUDA process exited just now: the board cools from 126 W to 75 W. A slope test
    stopped about tau/3 W above the floor (+2.5 W at tau 8 s, +9.7 W at 30 s); the fitted floor is within 1 W."""
    power = cooling_idle(75.0, 126.0, since_s=100.0, tau_s=tau_s)
    meter, clock = meter_on_board(power, EnergySpec(idle_s=3, basis="active"))
    meter.start()
    (idle_w,) = meter.idle_power_w or ()
    assert idle_w == pytest.approx(75.0, abs=1.0)
    assert clock() - 100.0 < 60.0
    (note,) = meter.idle_notes
    assert "still cooling down" in note and f"time constant {tau_s:.0f} s" in note
    meter.close()


def test_idle_cooling_too_slowly_to_be_told_is_noted() -> None:
    meter, _ = meter_on_board(
        cooling_idle(75.0, 126.0, since_s=100.0, tau_s=60.0), EnergySpec(idle_s=3, basis="active")
    )
    meter.start()
    (idle_w,) = meter.idle_power_w or ()
    assert abs(idle_w - 75.0) <= 1.0 or "idle power was still changing after" in meter.idle_notes[0]
    meter.close()


def test_idle_is_read_only_when_the_active_basis_needs_it() -> None:
    meter, clock = meter_on_board(steps((0.0, 80.0)), EnergySpec(idle_s=3))  # basis: total
    meter.start()
    assert meter.idle_power_w is None and clock() - 100.0 <= RECORD_BEFORE_S + 0.1  # the lead-in only
    meter.close()


def test_a_steady_idle_costs_about_idle_s_and_one_that_never_settles_is_noted() -> None:
    meter, clock = meter_on_board(steps((0.0, 80.0)), EnergySpec(idle_s=3, basis="active"))
    meter.start()
    (idle_w,) = meter.idle_power_w or ()
    assert idle_w == pytest.approx(80.0, rel=0.01)
    assert 3.0 <= clock() - 100.0 <= 4.5 + RECORD_AROUND_S + 0.1  # two or three slices, the counter read past them
    assert meter.idle_notes == ()
    meter.close()

    rising = meter_on_board(lambda t: 75.0 + 0.5 * (t - 100.0), EnergySpec(idle_s=3, basis="active"))
    meter, clock = rising
    meter.start()
    assert 57.0 < clock() - 100.0 <= 61.0
    assert meter.idle_notes and "idle power was still changing after" in meter.idle_notes[0]
    meter.close()


def two_gpu_driver(clock: Callable[[], float], advance: Callable[[float], None] | None) -> FakeDriver:
    """GPU 0 idles at 100 W, GPU 1 (the benchmark's, by its CUDA_VISIBLE_DEVICES) draws 300 W."""
    boards = [Board(steps((0.0, watts)), clock, advance=advance) for watts in (100.0, 300.0)]
    return FakeDriver([h100(f"GPU-{i}", board=b) for i, b in enumerate(boards)], driver="580.65.06")


def test_the_benchmarks_cuda_visible_devices_chooses_the_gpus_measured() -> None:
    clock = SimClock(100.0)
    reader = NvmlReader({}, nvml=two_gpu_driver(clock, clock.advance))  # the gate itself sees both
    meter = NvmlMeter(reader, EnergySpec(idle_s=0), clock=clock, sampler=SteppedSampler(reader, clock=clock))
    meter.select_gpus({"CUDA_VISIBLE_DEVICES": "1"})
    assert [g.uuid for g in meter.sampler.devices] == ["GPU-1"]
    meter.sleep = stepping(meter.sampler, clock)  # the new selection's sampler
    meter.start()
    meter.sleep(2.0)
    reading = meter.stop()
    assert reading.scopes[0].energy_j == pytest.approx(600.0, rel=0.01)  # both GPUs would be 800 J
    assert reading.scopes[0].method.startswith("1 GPU: ")
    meter.close()


def test_a_benchmark_env_leaving_no_gpu_is_a_clear_error() -> None:
    from gate.errors import ConfigError

    clock = SimClock(100.0)
    reader = NvmlReader({}, nvml=two_gpu_driver(clock, clock.advance))
    meter = NvmlMeter(reader, EnergySpec(idle_s=0), clock=clock, sampler=SteppedSampler(reader, clock=clock))
    with pytest.raises(ConfigError, match="leaves it no GPU"):  # exit 2, before anything runs
        meter.select_gpus({"CUDA_VISIBLE_DEVICES": ""})
    meter.close()


@pytest.mark.slow  # a real sampler thread on real time, and a benchmark process
def test_the_runner_measures_the_gpus_of_the_benchmarks_own_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")  # the gate's own: the budget's env: for the benchmark wins
    (tmp_path / "child.py").write_text("import time; time.sleep(1.0)\n")
    budget = f"version: 1\nbenchmarks:\n  - name: b\n    command: [{sys.executable!r}, child.py]\n    repeats: 1\n"
    budget += "    warmup: 0\n    env:\n      CUDA_VISIBLE_DEVICES: '1'\n"
    (bench,) = parse_budget(budget, tmp_path / "green-budget.yml").benchmarks
    reader = NvmlReader({}, nvml=two_gpu_driver(time.monotonic, None))
    meter = NvmlMeter(reader, EnergySpec(idle_s=0))
    try:
        run = runner.run_benchmark(bench, meter, echo=lambda _: None, log=lambda _: None, visible_gpus=reader.devices)
    finally:
        meter.close()
    gpu = run.repeats[0].reading.scopes[0]
    assert gpu.method.startswith("1 GPU: ")
    assert gpu.energy_j / run.repeats[0].reading.duration_s == pytest.approx(300.0, rel=0.03)


def test_a_benchmark_failing_inside_a_phase_reports_its_own_failure_and_output(tmp_path: Path) -> None:
    (tmp_path / "child.py").write_text(
        "import sys; from gate.phase import phase\n"
        "with phase('inference'):\n"
        "    print('CUDA error: out of memory', flush=True)\n"
        "    sys.stdout.flush(); import os; os._exit(3)\n"
    )
    budget = f"version: 1\nbenchmarks:\n  - name: b\n    command: [{sys.executable!r}, child.py]\n    repeats: 1\n"
    budget += f"    warmup: 0\n    env:\n      PYTHONPATH: {str(ROOT)!r}\n"
    (bench,) = parse_budget(budget, tmp_path / "green-budget.yml").benchmarks
    meter, _ = meter_on_board(steps((0.0, 300.0)), EnergySpec(idle_s=0))
    with pytest.raises(runner.BenchmarkFailed) as caught:
        runner.run_benchmark(bench, meter, echo=lambda _: None, log=lambda _: None, visible_gpus=meter.reader.devices)
    meter.close()
    assert "exit" in caught.value.message and "3" in caught.value.message
    assert "then the measurement failed" in caught.value.message and "never ended" in caught.value.message
    assert any("out of memory" in line for line in caught.value.tail)


def test_active_energy_is_clamped_over_all_gpus_not_per_gpu() -> None:
    """GPU 0 ends up 10 W below its idle figure, GPU 1 10 W above: 0 J above idle in all, not +10 W."""
    powers = [steps((0.0, 100.0), (103.0, 90.0)), steps((0.0, 300.0), (103.0, 310.0))]
    meter, clock, sleep = meter_on_boards(powers, EnergySpec(idle_s=1, basis="active"))
    meter.start()
    assert clock() < 103.0  # idle was read before the change
    sleep(107.0 - clock())
    gpu = meter.stop().scopes[0]
    meter.close()
    assert gpu.energy_j == pytest.approx(0.0, abs=2.0)  # clamped per GPU: 4 s x 10 W = 40 J


@pytest.mark.slow  # a real sampler thread on real time
@pytest.mark.parametrize("sync", [True, False])
def test_gpu_work_queued_in_a_phase_is_measured_inside_it(sync: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The block queues 0.8 s of 700 W work and exits at once; the phase waits for the GPU before its end."""
    from gate.phase import PHASES_ENV, phase

    queue = CudaQueue(time.monotonic, 100.0)
    board = Board(queue.power_w, time.monotonic)
    reader = NvmlReader({}, nvml=FakeDriver([h100("GPU-a", board=board)], driver="580.65.06"))
    meter = NvmlMeter(reader, EnergySpec(idle_s=0))
    monkeypatch.setenv(PHASES_ENV, str(meter.phases_path))
    monkeypatch.setitem(sys.modules, "torch", queue.as_torch())
    try:
        meter.start()
        time.sleep(0.3)
        with phase("inference", sync=sync):
            queue.launch(0.8, 700.0)
        time.sleep(1.2)
        reading = meter.stop()
    finally:
        meter.close()
    if sync:
        assert reading.duration_s == pytest.approx(0.8, abs=0.05)
        assert reading.scopes[0].energy_j == pytest.approx(700.0 * 0.8, rel=0.03)
    else:  # the end mark before the GPU finished: almost nothing measured
        assert reading.scopes[0].energy_j < 0.1 * 700.0 * 0.8


def test_stop_after_the_sampler_thread_ended_without_an_error_is_still_an_error() -> None:
    from gate.errors import MeasurementError

    class EndsAtOnce(Sampler):
        def _run(self) -> None:
            return  # a thread that ended and said nothing

    clock = SimClock(100.0)
    board = Board(steps((0.0, 300.0)), clock, advance=clock.advance)
    reader = NvmlReader({}, nvml=FakeDriver([h100("GPU-a", board=board)], driver="580.65.06"))
    meter = NvmlMeter(reader, EnergySpec(idle_s=0), clock=clock, sampler=EndsAtOnce(reader, clock=clock))
    meter.start()
    time.sleep(0.05)
    with pytest.raises(MeasurementError, match="ended without recording an error"):
        meter.stop()
    meter.close()


# --- the figure stop() reports, online, on a board timed like the hardware ---------------------------


@pytest.mark.parametrize("latency_s", [0.0, 0.05, 0.1])
@pytest.mark.parametrize("instant", [True, False], ids=["instant-power", "averaged-power"])
def test_the_figure_stop_reports_for_a_1s_run_is_its_energy_whatever_the_counters_latency(
    latency_s: float, instant: bool
) -> None:
    """The GPU works until 30 ms before the benchmark exits, as a run that ends on its last kernel does:
    computed at the window's end, the counter path was refused (-41%, "no energy counter") or its
    calibration ended at the edge (up to -10.7% at 100 ms). Three tick phases each."""
    for phase_s in (0.013, 0.047, 0.081):
        run = RunOnBoard(latency_s=latency_s, phase_s=phase_s, instant=instant)
        reading, true_j = run.run(1.0)
        run.meter.close()
        gpu = reading.scopes[0]
        assert gpu.energy_j == pytest.approx(true_j, rel=0.01 if instant else 0.05), phase_s
        expected = METHOD_COMBINED if instant else METHOD_COUNTER_AVERAGED
        assert gpu.method == f"1 GPU: {expected}"  # says what happened: a counter, and which power


def test_stop_lets_the_counter_be_read_past_the_windows_end_and_start_before_its_start() -> None:
    run = RunOnBoard(
        latency_s=0.1, phase_s=0.05, spec=EnergySpec(idle_s=0)
    )  # no idle reading: the sampler starts with the run
    run.meter.start()
    t0 = run.clock()
    (before,) = run.meter.sampler.timelines()
    assert before.counter_t_s[0] <= t0 - RECORD_BEFORE_S
    run.meter.sleep(1.0)
    t1 = run.clock()
    run.meter.stop()
    (after,) = run.meter.sampler.timelines()
    assert after.counter_t_s[-1] >= t1 + RECORD_AROUND_S
    assert run.clock() - t1 < RECORD_AROUND_S + 0.15  # and not much longer (reads are 0.1 s apart)
    run.meter.close()


def test_the_counter_staleness_is_fitted_from_the_trace_and_k_is_in_the_reading() -> None:
    run = RunOnBoard(latency_s=0.1, phase_s=0.02, power_gain=1.02)
    reading, _ = run.run(3.0)
    run.meter.close()
    (note,) = [n for n in reading.notes if "counter staleness" in n]
    fitted = re.search(r"k = ([\d.]+), counter staleness ([\d.]+) s \(fitted from the trace\)", note)
    assert fitted is not None, note
    assert float(fitted.group(1)) == pytest.approx(1 / 1.02, abs=0.003)
    assert 0.1 <= float(fitted.group(2)) <= 0.1 + 0.1 + 0.01  # latency + up to one tick
    assert not note.startswith("warning")


def test_a_power_sensor_off_by_more_than_5_percent_is_a_visible_warning() -> None:
    run = RunOnBoard(latency_s=0.0, phase_s=0.02, power_gain=1.08)
    reading, true_j = run.run(3.0)
    run.meter.close()
    assert reading.scopes[0].energy_j == pytest.approx(true_j, rel=0.01)  # the counter corrects it
    (note,) = [n for n in reading.notes if "counter staleness" in n]
    assert note.startswith("warning: ") and re.search(r"disagrees with the energy counter by \+8\.\d%", note)


@pytest.mark.parametrize("instant", [True, False], ids=["instant-power", "averaged-power"])
def test_a_counter_refused_mid_run_is_said_and_the_label_says_what_was_done(instant: bool) -> None:
    from gate.energy.timeline import METHOD_POWER_AVERAGED_UNREAD

    run = RunOnBoard(latency_s=0.05, phase_s=0.03, instant=instant)
    run.meter.start()
    run.meter.sleep(0.5)
    run.driver.gpus[0]["energy_mj"] = pynvml.NVMLError(pynvml.NVML_ERROR_NO_PERMISSION)  # refused from now on
    run.meter.sleep(1.0)
    reading = run.meter.stop()
    run.meter.close()
    # Instant power keeps its scale from the counter steps read before; the averaged power cannot place
    # edges with a counter that stopped, so it is integrated, and the label says the counter was not read.
    expected = METHOD_COMBINED if instant else METHOD_POWER_AVERAGED_UNREAD
    assert reading.scopes[0].method == f"1 GPU: {expected}"
    assert any(n.startswith("warning: GPU 0") and "energy counter failed" in n for n in reading.notes)


@pytest.mark.parametrize("code", [pynvml.NVML_ERROR_GPU_IS_LOST, pynvml.NVML_ERROR_RESET_REQUIRED])
def test_a_gpu_lost_or_needing_a_reset_mid_run_fails_the_measurement(code: int) -> None:
    from gate.errors import MeasurementError

    run = RunOnBoard(latency_s=0.0, phase_s=0.0, lost_at_s=103.0, lost_code=code)
    run.meter.start()
    assert run.clock() < 103.0
    run.meter.sleep(2.0)
    with pytest.raises(MeasurementError, match=r"the GPU sampler stopped: .*(energy counter|power)"):
        run.meter.stop()
    run.meter.close()


def test_a_thousand_phases_are_computed_from_one_index_per_gpu() -> None:
    """A run with one phase per batch: each window from the GPU's one index, not a timeline's maths each."""
    run = RunOnBoard(latency_s=0.05, phase_s=0.03, spec=EnergySpec(idle_s=0))
    run.meter.start()
    t0 = run.clock()
    run.meter.sleep(200.0)
    write_marks(run.meter, *((t0 + 0.5 + i * 0.19, t0 + 0.6 + i * 0.19) for i in range(1000)), name="batch")
    started = time.perf_counter()
    reading = run.meter.stop()
    elapsed_s = time.perf_counter() - started
    run.meter.close()
    assert reading.duration_s == pytest.approx(100.0, rel=1e-6)
    assert elapsed_s < 10.0  # one index and one staleness fit: ~0.3 s; one per window: 44 s and more
