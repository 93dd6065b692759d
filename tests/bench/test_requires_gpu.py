"""`requires_gpu`: a budget can say a benchmark needs a GPU, and the gate stops clearly without one."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.bench import runner
from gate.config.load import parse_budget
from gate.devices.nvml import GpuInfo
from gate.energy.model import EnergyReading
from gate.errors import ConfigError, ExitCode, GpuUnavailableError

BUDGET = """\
version: 1
benchmarks:
  - name: gpu-bench
    command: python -c pass
{extra}"""


def budget_with(extra: str) -> str:
    return BUDGET.format(extra=extra)


def test_default_is_false() -> None:
    (spec,) = parse_budget(budget_with(""), Path("b.yml")).benchmarks
    assert spec.requires_gpu is False


def test_true_is_loaded() -> None:
    (spec,) = parse_budget(budget_with("    requires_gpu: true\n"), Path("b.yml")).benchmarks
    assert spec.requires_gpu is True


def test_non_boolean_is_a_config_error_with_its_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_budget(budget_with("    requires_gpu: sometimes\n"), Path("b.yml"))
    assert caught.value.line == 5
    assert "benchmarks[0].requires_gpu" in caught.value.message
    assert caught.value.exit_code == ExitCode.USAGE


class NeverMeter:
    def start(self) -> None:
        raise AssertionError("nothing may be measured without the GPU")

    def stop(self) -> EnergyReading:
        raise AssertionError("nothing may be measured without the GPU")


def test_run_benchmark_stops_before_running_when_no_gpu(tmp_path: Path) -> None:
    text = budget_with("    requires_gpu: true\n").replace("python -c pass", "touch ran")
    (spec,) = parse_budget(text, tmp_path / "b.yml").benchmarks
    with pytest.raises(GpuUnavailableError) as caught:
        runner.run_benchmark(spec, NeverMeter(), echo=lambda _: None, log=lambda _: None, visible_gpus=lambda: ())
    assert not (tmp_path / "ran").exists()
    error = caught.value
    assert error.exit_code == ExitCode.USAGE
    assert "'gpu-bench' has 'requires_gpu: true' but no NVIDIA GPU is visible" in error.message
    assert error.hint is not None and "--gpus all" in error.hint and "NVIDIA_VISIBLE_DEVICES" in error.hint


def test_require_gpu_passes_with_a_gpu_or_without_the_key() -> None:
    (needs,) = parse_budget(budget_with("    requires_gpu: true\n"), Path("b.yml")).benchmarks
    (cpu,) = parse_budget(budget_with(""), Path("b.yml")).benchmarks
    assert (needs.requires_gpu, cpu.requires_gpu) == (True, False)
    h100 = GpuInfo("NVIDIA H100 80GB HBM3", "GPU-0", "580.0")
    probes: list[str] = []

    def one_gpu() -> tuple[GpuInfo, ...]:
        probes.append("needs")
        return (h100,)

    def no_gpu() -> tuple[GpuInfo, ...]:
        probes.append("cpu")
        return ()

    runner.require_gpu(needs, one_gpu)  # raises GpuUnavailableError when it refuses
    runner.require_gpu(cpu, no_gpu)  # without the key no GPU is needed: not even probed for
    assert probes == ["needs"]
