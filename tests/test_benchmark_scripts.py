"""benchmarks/nvml_accuracy.py: its statistics and table (pure), and that it refuses to run without a GPU."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from gate.devices import nvml

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "nvml_accuracy.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nvml_accuracy", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["nvml_accuracy"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_stats_of_measured_over_reference_ratios() -> None:
    bench = load()
    s = bench.stats([1.01, 0.99, 1.02, 0.98])
    assert s.trials == 4
    assert s.mean_error_pct == pytest.approx(0.0, abs=1e-9)
    assert s.mean_abs_error_pct == pytest.approx(1.5)
    assert s.cv_pct == pytest.approx(1.8257, rel=1e-3)
    with pytest.raises(ValueError):
        bench.stats([1.0])


def test_markdown_table() -> None:
    bench = load()
    results = bench.Results(
        device="Fake GPU",
        driver="0.0",
        read_cost_ms={"counter read": 4.0, "power read": 0.01},
        ratios={"cap": {1.0: {"engine": [1.001, 0.999], "naive": [1.05, 0.95], "codecarbon": []}}},
        reference_w={"cap": 690.0},
        overhead={"wall_off_s": 60.0, "wall_on_s": 60.3, "sampler_cpu_pct": 1.2},
        notes=["a note"],
    )
    text = bench.markdown(results)
    assert "| cap | 690 W | 1 s | engine | 2 | +0.00% | 0.10% | 0.14% |" in text
    assert "| cap | 690 W | 1 s | naive | 2 | +0.00% | 5.00% | 7.07% |" in text
    assert "| cap | — | 1 s | codecarbon | 0 | — | — | — |" in text
    assert "| Wall-time overhead | +0.50% |" in text
    assert "Read costs: counter read 4.000 ms, power read 0.010 ms." in text


@pytest.mark.skipif(bool(nvml.visible_gpus()), reason="this machine has a GPU: the script would measure it")
def test_refuses_to_run_without_a_gpu(tmp_path: Path) -> None:
    out = tmp_path / "table.md"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 2
    assert "nvml_accuracy: no GPU to measure" in done.stderr
    assert not out.exists()


def load_cpu_attribution() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cpu_attribution_bench", ROOT / "benchmarks" / "cpu_attribution.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["cpu_attribution_bench"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_cpu_attribution_judges_with_the_gates_own_comparison() -> None:
    bench = load_cpu_attribution()
    base = [10.0, 10.1, 9.9, 10.05, 9.95]
    assert bench.verdict(base, [e * 1.10 for e in base]) == "fail"
    assert bench.verdict(base, list(reversed(base))) == "pass"
    assert bench.cv_pct([9.0, 11.0]) == pytest.approx(14.142, rel=1e-3)


def test_cpu_attribution_table() -> None:
    bench = load_cpu_attribution()
    rows = [
        bench.Row("none", "process", 1.2, 2.5, 10, 0, 10, 0.01, "0.40"),
        bench.Row("none", "machine", 8.0, 20.0, 3, 0, 10, 430.0, "0.40"),
    ]
    text = bench.markdown(rows, 20.0, "1.0 1.0 1.0")
    assert "| none | process | 1.2% (2.5%) | 10/10 | 0/10 | 0.0 J |" in text
    assert "| none | machine | 8.0% (20.0%) | 3/10 | 0/10 | 430.0 J |" in text
    assert "wall time per repeat: none 0.40 s" in text
