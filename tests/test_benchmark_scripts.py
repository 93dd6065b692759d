"""The benchmark scripts: their statistics and tables (pure); nvml_accuracy.py refusing to run without a
GPU, and its GPU-run pieces (codecarbon per GPU, bursts, instant-power freshness) on the stand-in driver."""

from __future__ import annotations

import importlib.util
import json
import math
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from gate.devices import nvml
from gate.devices.gpu import GpuInfo
from gate.devices.nvml import NvmlReader
from gate.energy.sampler import Sampler, SamplerConfig
from tests.fakes.nvml import Board, FakeDriver, SimClock, h100, seen_by_codecarbon, steps

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "nvml_accuracy.py"


def load(name: str = "nvml_accuracy") -> ModuleType:
    """benchmarks/<name>.py imported as a module (the scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(f"{name}_bench", ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"{name}_bench"] = module  # dataclasses look their module up
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


def test_cpu_attribution_judges_with_the_gates_own_comparison() -> None:
    bench = load("cpu_attribution")
    base = [10.0, 10.1, 9.9, 10.05, 9.95]
    assert bench.verdict(base, [e * 1.10 for e in base]) == "fail"
    assert bench.verdict(base, list(reversed(base))) == "pass"
    assert bench.cv_pct([9.0, 11.0]) == pytest.approx(14.142, rel=1e-3)


def test_cpu_attribution_table() -> None:
    bench = load("cpu_attribution")
    rows = [
        bench.Row("none", "process", 1.2, 2.5, 10, 0, 10, 0.01, "0.40"),
        bench.Row("none", "machine", 8.0, 20.0, 3, 0, 10, 430.0, "0.40"),
    ]
    text = bench.markdown(rows, 20.0, "1.0 1.0 1.0")
    assert "| none | process | 1.2% (2.5%) | 10/10 | 0/10 | 0.0 J |" in text
    assert "| none | machine | 8.0% (20.0%) | 3/10 | 0/10 | 430.0 J |" in text
    assert "wall time per repeat: none 0.40 s" in text


# --- nvml_accuracy.py on the stand-in driver: what its GPU run will do, held without a GPU ----------


@pytest.fixture
def codecarbon_reset() -> Iterator[None]:
    from codecarbon.core import hardware_cache

    hardware_cache.clear_cache()  # codecarbon keeps the hardware it found for the process
    yield
    hardware_cache.clear_cache()


def test_codecarbons_figure_is_the_measured_gpus_not_the_sum_of_all(
    monkeypatch: pytest.MonkeyPatch, codecarbon_reset: None
) -> None:
    """Two GPUs, 100 W and 300 W; the benchmark measures the second: codecarbon must say ~300 W, not 400 W."""
    bench = load()
    boards = [Board(steps((0.0, watts)), time.monotonic) for watts in (100.0, 300.0)]
    driver = FakeDriver([h100(f"GPU-{i}{i}{i}", board=b) for i, b in enumerate(boards)], driver="580.65.06")
    seen_by_codecarbon(monkeypatch, driver)
    tracker = bench.codecarbon_tracker(GpuInfo("NVIDIA H100 80GB HBM3", "GPU-111", "580.65.06", index=1))
    tracker.start_task("one")
    started = time.monotonic()
    time.sleep(1.2)
    data = tracker.stop_task()
    elapsed_s = time.monotonic() - started
    assert bench.codecarbon_gpu_j(data) / elapsed_s == pytest.approx(300.0, rel=0.15)


def sampled_burst(clock: SimClock, board: Board, until_s: float, power_hz: float = 500.0) -> Sampler:
    """The sampler's recording of `board` up to `until_s`, stepped on the fake clock as its thread would."""
    reader = NvmlReader({}, nvml=FakeDriver([h100("GPU-a", board=board)], driver="580.65.06"))
    sampler = Sampler(reader, SamplerConfig(power_hz=power_hz, counter_hz=10), clock=clock)
    while clock() < until_s:
        sampler.step()
        clock.advance(1 / power_hz)
    return sampler


BURST = (10.0, 11.037)  # 126 W idle, a 700 W burst ending mid-tick, then idle again


def burst_board(clock: SimClock, instant_lag_s: float = 0.0) -> Board:
    power = steps((0.0, 126.0), (BURST[0], 700.0), (BURST[1], 126.0))
    return Board(power, clock, advance=clock.advance, origin_s=0.0, instant_lag_s=instant_lag_s)


def test_the_burst_reference_from_idle_lines_is_exact_where_edge_counter_reads_are_not() -> None:
    clock = SimClock(6.0)
    board = burst_board(clock)
    sampler = sampled_burst(clock, board, 14.0)
    timeline = sampler.timelines()[0]
    true_j = board.energy_j(BURST[1]) - board.energy_j(BURST[0])
    ref = load().burst_reference_j(timeline.counter_t_s, timeline.counter_mj, *BURST)
    assert ref.energy_j == pytest.approx(true_j, rel=0.002)
    assert (ref.idle_before_w, ref.idle_after_w) == (pytest.approx(126.0, rel=0.002), pytest.approx(126.0, rel=0.002))
    # The counter read naively at the burst's edges (the nearest reads): a tick of 700 W off.
    naive_j = (board.counter_mj_at(BURST[1]) - board.counter_mj_at(BURST[0])) / 1000
    assert abs(naive_j / true_j - 1) > 0.02


def test_bursts_are_scored_per_length_and_the_engine_is_held_to_the_reference() -> None:
    bench = load()
    clock = SimClock(6.0)
    board = burst_board(clock)
    sampler = sampled_burst(clock, board, 14.0)
    by_window, busy, lags, notes = bench.score_bursts(sampler.timelines()[0], [(*BURST, None, None, None)], [1.0])
    assert notes == []
    (engine,) = by_window[1.0]["engine"]
    assert engine == pytest.approx(1.0, abs=0.005)  # the edges placed by the power samples
    assert busy == [pytest.approx(700.0, rel=0.003)]
    # The stand-in's field is current power: what is left is sampling, paused 4 ms by each counter read.
    assert lags["rise_ms"] <= 6.0 and lags["fall_ms"] <= 6.0


def test_the_step_lags_measure_how_late_the_instant_field_follows_the_power() -> None:
    """Item 21: a field 20 ms behind the board is seen 20 ms late at both edges (500 Hz sampling)."""
    bench = load()
    clock = SimClock(6.0)
    sampler = sampled_burst(clock, burst_board(clock, instant_lag_s=0.020), 14.0)
    _, _, lags, _ = bench.score_bursts(sampler.timelines()[0], [(*BURST, None, None, None)], [1.0])
    assert lags["rise_ms"] == pytest.approx(20.0, abs=2.5)
    assert lags["fall_ms"] == pytest.approx(20.0, abs=2.5)


def test_the_instant_fields_own_timestamp_says_its_age_and_refresh_interval() -> None:
    bench = load()
    board = Board(steps((0.0, 300.0)), time.monotonic, instant_lag_s=0.015, instant_period_s=0.020)
    driver = FakeDriver([h100("GPU-a", board=board)], driver="580.65.06")
    samples = bench.read_instant_field(driver, 0, 150)
    fresh = bench.field_freshness(samples)
    assert fresh["update_ms"] == pytest.approx(20.0, abs=1.0)
    assert 15.0 <= fresh["age_ms"] <= 15.0 + 20.0 + 5.0  # lag + up to one refresh period (+ scheduling)
    assert fresh["latency_us"] == 0


def test_burst_edges_fall_mid_tick_and_the_default_run_fits_a_short_device_budget() -> None:
    bench = load()
    schedule = bench.burst_schedule([0.3, 1.0], 5, random.Random(1))
    assert len(schedule) == 10 and schedule[0] < 0.4 < schedule[1]  # interleaved lengths
    assert len({round(d % 0.1, 3) for d in schedule}) > 5  # ends at varying phases of the counter's tick
    a = bench.build_parser().parse_args([])
    windows, bursts = ([float(x) for x in option.split(",")] for option in (a.windows, a.bursts))
    assert 10.0 in windows and a.workloads.split(",") == ["cap", "burst"]
    # The whole device time is 15 minutes, machine start included: the default run leaves room to rerun it.
    assert bench.estimate_s(a.workloads.split(","), windows, bursts, a.trials, a.overhead_s) < 4 * 60


@pytest.mark.parametrize(("cv", "tau"), [(0.03, 0.05), (0.03, 0.0)])
def test_the_cpu_noise_fit_recovers_the_within_and_job_to_job_noise_of_series_files(
    tmp_path: Path, cv: float, tau: float
) -> None:
    """cpu_attribution.py --series-json files in, the model's CVs out: synthetic checks with a known
    within-check CV and job-to-job offset come back as that CV and tau."""
    bench = load("decision_quality")
    rng = random.Random(7)
    paths = []
    for file in range(4):
        checks = []
        for _ in range(100):
            offset = rng.gauss(0.0, tau)
            checks.append([2.4e-3 * math.exp(offset + rng.gauss(0.0, cv)) for _ in range(5)])
        path = tmp_path / f"run{file}.json"
        path.write_text(json.dumps({"cpus": 2, "conditions": {"2 busy": {"j_per_prediction": checks}}}))
        paths.append(str(path))
    model, line = bench.fit_cpu_series(paths)
    assert model.cv_workload == pytest.approx(cv, rel=0.1)
    assert model.cv_session == pytest.approx(tau, abs=0.006)
    assert line.startswith("400 checks: pooled within-check CV")


def test_online_error_scores_stop_against_the_boards_true_energy_and_checks_the_label() -> None:
    bench = load("online_error")
    # Seed 84: the last counter read falls within the tick's jitter of its report (100 ms latency).
    # Placed on the grid alone it was a whole tick off at the calibration's end: +1.7% on this 1 s run.
    outcome = bench.one_window(0.1, 1.0, True, random.Random(84))
    assert abs(outcome.error) < 0.005
    assert bench.label_true(outcome.method, instant=True)
    averaged = bench.one_window(0.05, 1.0, False, random.Random(3))
    assert abs(averaged.error) < 0.05 and bench.label_true(averaged.method, instant=False)
    rows = bench.run([0.05], [1.0], 2, seed=1)
    assert [row["labels_true"] for row in rows] == [2, 2]
    assert "| instant | 50 ms | 1 s |" in bench.markdown(rows)


def test_busy_runner_labels_each_verdict_as_the_table_counts_it() -> None:
    from collections import Counter

    from gate.compare.model import Check, Decision

    bench = load("busy_runner")

    def decision(status: str, reason: str, inconclusive: bool = False) -> Decision:
        check = Check("energy_per_prediction_j", "relative", status, 1.0, reason=reason, inconclusive=inconclusive)  # type: ignore[arg-type]
        return Decision(status if status != "skip" else "pass", (check,))  # type: ignore[arg-type]

    assert bench.label(decision("warn", "not comparable: the runner was busier than at the baseline (…)")) == (
        "not comparable"
    )
    assert bench.label(decision("warn", "inconclusive: …", inconclusive=True)) == "inconclusive"
    assert bench.label(decision("fail", "+30.0% ± 2.0% exceeds the fail limit of +5%")) == "fail"
    case = bench.Case("A/A", Counter({"pass": 3}), Counter({"pass": 2, "inconclusive": 1}), [4.0, 6.5], [90.0], [])
    assert case.row() == "| A/A | 3 | pass 3 | inconclusive 1, pass 2 |  | 4.0–6.5 | 90%–90% | – |"
    case.auto.update({"pass": 2, "fail": 1})
    assert case.row() == "| A/A | 3 | pass 3 | inconclusive 1, pass 2 | fail 1, pass 2 | 4.0–6.5 | 90%–90% | – |"
    assert bench.describe(decision("fail", "+30.0% ± 2.0% exceeds the fail limit of +5%")) == (
        "fail: +30.0% ± 2.0% exceeds the fail limit of +5%"
    )


def test_conditions_sensitivity_reports_changes_against_the_quiet_run() -> None:
    bench = load("conditions_sensitivity")
    assert bench.change(1.1, 1.0) == "+10.0%" and bench.change(None, 1.0) == "–" and bench.change(1.0, None) == "–"
    rows = [
        bench.Row("blas-1", "none", 1.0, 2.0, 1300.0, 97.0, 0.4, 4.7, 1, False),
        bench.Row("blas-1", "1 CPU hog(s)", 1.05, 3.0, 1200.0, 100.0, 0.16, 5.2, 1, False),
    ]
    table = bench.markdown(rows, 2)
    assert "| blas-1 | 1 CPU hog(s) | 1.05 | +5.0% | 3.00 | 1200 | -7.7% | 100% | 0.16 | 5.2 | 1 | no |" in table


def test_conditions_sensitivity_sweeps_tolerances_over_every_pair_of_conditions() -> None:
    bench = load("conditions_sensitivity")
    rows = [
        bench.Row("python", "none", 1.0, 1.0, 1200.0, 50.0, 0.8, 3.0, 1, False, 0.98, 1.02),
        bench.Row("python", "1 CPU hog(s)", 1.08, 1.5, 1110.0, 98.0, 0.3, 4.0, 1, False),  # 7.5% slower
        bench.Row("python", "2 CPU hog(s)", 1.02, 1.5, 1190.0, 99.0, 0.3, 4.0, 1, False),
    ]
    assert "| python | none | 1.00 (0.98–1.02) |" in bench.markdown(rows, 2, 3.0)
    table = bench.sweep(rows, speed_pcts=(5.0, 10.0), pressure_pts=(30.0, 50.0))
    # 6 ordered pairs; none–hog pairs are 48-49 points apart, the two hog runs 7.2% apart in speed
    assert "| 5% | 30 pts | 0 of 6 | – | 0 | 4 |" in table
    assert "| 5% | 50 pts | 2 of 6 | +2.0% | 0 | 4 |" in table
    assert "| 10% | 50 pts | 6 of 6 | +8.0% | 4 | 0 |" in table


def test_mutation_script_mutates_what_runs_and_never_the_tree() -> None:
    bench = load("mutation")
    before = (ROOT / "gate/tracking/filters.py").read_text()
    mutants = bench.mutants_of("gate/tracking/filters.py")
    described = {(m.line, m.description) for m in mutants}
    assert (33, "'=' -> '!=' in a string") in described  # result_filter's equality
    assert (23, "if-branch dropped (condition False)") in described
    assert all(m.line != 1 for m in mutants)  # the module docstring is not code
    equality = next(m for m in mutants if m.line == 33)
    source = bench.mutant_source(equality)
    assert "tags.`{TAG_RESULT_ID}` != '{quote(result_id)}'" in source
    assert (ROOT / "gate/tracking/filters.py").read_text() == before


def test_mutation_script_maps_every_module_of_the_decision_package() -> None:
    bench = load("mutation")
    assert bench.unmapped() == []
    assert {"gate/compare/cases.py", "gate/compare/conditions.py", "gate/pipeline/decide.py"} <= set(bench.TESTS)


@pytest.mark.slow  # a nested pytest run
def test_suite_cpu_charges_each_test_its_own_and_its_childrens_cpu(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite_cpu = load("suite_cpu")
    tests = tmp_path / "test_costs.py"
    tests.write_text(
        "import subprocess, sys\n"
        "def test_spawns_work():\n"
        "    subprocess.run([sys.executable, '-c', 'sum(i * i for i in range(10_000_000))'], check=True)\n"
        "def test_does_nothing():\n"
        "    pass\n"
    )
    assert suite_cpu.main(["--top", "5", "--", str(tests), "--rootdir", str(tmp_path), "-p", "no:xdist"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 passed"), out
    rows = {line.split()[-1]: [float(x) for x in line.split()[:3]] for line in out.splitlines() if "::test_" in line}
    assert set(rows) == {"test_costs.py::test_spawns_work", "test_costs.py::test_does_nothing"}, out
    spawning, idle = rows["test_costs.py::test_spawns_work"], rows["test_costs.py::test_does_nothing"]
    assert spawning[2] >= 0.3 and idle[2] == 0.0, out  # the child's CPU is its test's, and only its
    assert "  test_costs.py" in out.split("files, CPU-s")[1]
