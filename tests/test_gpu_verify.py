"""benchmarks/gpu_verify.py: the figures a first GPU run must show. On the stand-in driver in CI; on a
GPU with `pytest -m gpu` (skipped with the reason elsewhere), each held to what the engine assumes."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from gate.devices.gpu import GpuReadError
from gate.devices.nvml import visible_gpus
from tests.fakes.nvml import Board, SimClock, steps

ROOT = Path(__file__).resolve().parents[1]


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_verify_bench", ROOT / "benchmarks" / "gpu_verify.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_verify_bench"] = module
    spec.loader.exec_module(module)
    return module


def _gpu() -> tuple[bool, str]:
    try:
        found = bool(visible_gpus())
    except GpuReadError as exc:  # a broken GPU box: run the tests and let them fail on it
        return shutil.which("nvidia-smi") is not None, f"NVML said: {exc.message}"
    return found, "no NVIDIA GPU visible through NVML (no driver or no device)"


HAS_GPU, NO_GPU = _gpu()
HAS_TORCH_CUDA = importlib.util.find_spec("torch") is not None
gpu = pytest.mark.skipif(not HAS_GPU, reason=NO_GPU)
torch_cuda = pytest.mark.skipif(not HAS_TORCH_CUDA, reason="torch is not installed (pip install torch)")


def test_tick_facts_read_the_counters_tick_and_read_cost_off_back_to_back_reads() -> None:
    clock = SimClock(10.0)
    board = Board(steps((0.0, 300.0)), clock, advance=clock.advance, origin_s=0.037, counter_read_s=0.004)
    facts = load().tick_facts(board.counter_mj, 2.0, clock=clock)
    assert facts["counter_read_ms"] == pytest.approx(4.0)
    assert facts["tick_median_ms"] == pytest.approx(100.0, abs=4.0)  # resolved to a read's cost
    assert 96.0 <= facts["tick_p10_ms"] <= facts["tick_p90_ms"] <= 104.0


def test_the_table_says_each_figure_beside_what_is_expected() -> None:
    figures = {
        "facts": {"tick_median_ms": 100.2, "instant_value_type": 1.0},
        "bursts": [
            {
                "length_s": 1.0,
                "online_vs_offline_pct": 0.12,
                "averaged_vs_instant_pct": -2.5,
                "calibration": 0.99,
                "staleness_ms": 140.0,
                "latency_ms": 92.0,
                "method": "1 GPU: m",
                "averaged_method": "1 GPU: a",
            },
        ],
        "idle": {"idle_w": 75.4, "floor_later_w": 75.0, "settled_after_s": 21.0, "notes": []},
        "end_to_end": {"exit": 0, "verdict": "pass", "method": "1 GPU: m", "repeats_spread_pct": 0.4},
    }
    table = load().markdown(figures)
    assert "| tick_median_ms | 100 | ~100 ms |" in table
    assert "| burst 1 s: online vs offline | +0.12% | within ±0.5% |" in table
    assert "| idle after exit: read / 40 s later | 75.4 W / 75.0 W (after 21 s) | within 1 W, or noted |" in table
    assert "| green-gate check on gpu_matmul | exit 0, pass | exit 0 |" in table


@pytest.mark.skipif(HAS_GPU, reason="a GPU is visible here")
def test_refuses_to_run_without_a_gpu(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        load().main(["--out", str(tmp_path)])
    assert stopped.value.code == 2 and not any(tmp_path.iterdir())


# --- on a GPU: what the first run must show --------------------------------------------------------


@pytest.mark.gpu
@gpu
def test_real_tick_read_costs_and_instant_field_type() -> None:
    import pynvml

    bench = load()
    pynvml.nvmlInit()
    try:
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        facts = {**bench.tick_facts(lambda: pynvml.nvmlDeviceGetTotalEnergyConsumption(handle), 2.0)}
        facts.update(bench.field_facts(pynvml, handle))
    finally:
        pynvml.nvmlShutdown()
    assert 50.0 <= facts["tick_median_ms"] <= 150.0  # the engine's default tick is 100 ms
    assert facts["counter_read_ms"] < 50.0
    assert facts["instant_value_type"] == 1.0 and facts["instant_scope_id"] == 0.0


@pytest.mark.gpu
@torch_cuda
@gpu
def test_real_bursts_online_equal_offline_and_the_fallback_is_within_5_percent() -> None:
    rows = load().bursts([1.0], 2)
    for row in rows:
        assert abs(row["online_vs_offline_pct"]) <= 0.5, row
        assert abs(row["averaged_vs_instant_pct"]) <= 5.0, row
        assert "sub-tick edges from power samples" in row["method"]
        assert "power is a 1 s average" in row["averaged_method"]
        assert row["calibration"] is not None and 0.9 <= row["calibration"] <= 1.1
        assert row["sampler_errors"] == []


@pytest.mark.gpu
@torch_cuda
@gpu
def test_real_idle_after_a_cuda_process_exits_is_its_floor_within_1w_or_noted() -> None:
    idle = load().idle_after_exit()
    assert abs(idle["residual_w"]) <= 1.0 or any("still changing" in n for n in idle["notes"]), idle


@pytest.mark.gpu
@torch_cuda
@gpu
def test_real_green_gate_check_on_gpu_matmul() -> None:
    e2e = load().end_to_end()
    assert e2e["exit"] == 0, e2e
    assert "NVML energy counter, sub-tick edges from power samples" in str(e2e["method"])
    assert e2e["repeats_spread_pct"] <= 3.0 and e2e["warnings"] == []
