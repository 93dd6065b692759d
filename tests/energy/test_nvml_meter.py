"""The NVML meter end to end on a replayed GPU: a real sampler thread, a real child writing phases."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

from gate.bench import runner
from gate.config.budget import EnergySpec
from gate.config.load import parse_budget
from gate.energy.model import EnergyReading, ScopeEnergy
from gate.energy.nvml_meter import EstimatedCpuRam, NvmlMeter
from tests.fakes.traces import PowerProfile, RealTimeTraceReader, Trace

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
    assert meter.idle_power_w is not None
    assert list(meter.idle_power_w) == [pytest.approx(300.0, rel=0.01)]


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
