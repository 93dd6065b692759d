"""Adaptive repeats' stopping rule as the runner asks it: plain values in, a stop reason out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from gate.compare.model import Baseline
from gate.compare.verdict import evaluate
from gate.config.load import parse_budget
from gate.devices.conditions import RepeatConditions, gpu_conditions, medians
from gate.devices.nvml import ConditionSampler
from gate.energy.model import RepeatResult
from gate.energy.summary import summarise
from gate.pipeline.adaptive import AdaptiveRun, Stopping
from tests.fakes.nvml import FakeDriver, Scripted, h100
from tests.helpers import baseline, repeat, summary

BUDGET = """version: 1
benchmarks:
  - name: b
    command: x
    repeats: {min: 3, max: 6}
limits:
  energy_per_prediction_j: {warn: +2%, fail: +5%}
"""
SPEC = parse_budget(BUDGET, Path("green-budget.yml")).benchmarks[0]


def _base(values: tuple[float, ...] = (0.1, 0.1005, 0.0995, 0.1002)) -> Baseline:
    # Measured as these repeats are: a baseline with another energy method is not comparable.
    method = summary([100.0]).energy_method
    return replace(
        baseline(energy_per_prediction_j=0.1), per_repeat={"energy_per_prediction_j": values}, energy_method=method
    )


def _stopping(base: Baseline | None, comparable: bool = True) -> Stopping:
    return Stopping(SPEC, SPEC.rules, base, [], confidence=0.95, comparable=comparable)


def _repeats(*energies_j: float) -> tuple[RepeatResult, ...]:
    return tuple(repeat(e, predictions=1000, index=i) for i, e in enumerate(energies_j))


def test_a_clear_regression_stops_at_min_decided() -> None:
    rule = _stopping(_base())
    assert rule.look_confidence == 1 - 0.05 / 4  # 4 looks: after repeats 3, 4, 5, 6
    assert rule.more(_repeats(150.0, 151.0, 149.0)) is False
    assert rule.result(3) == AdaptiveRun(3, 6, 3, "decided")
    assert rule.result(3).describe() == "Adaptive repeats (3–6): 3 ran, stopped: decided."
    assert rule.result(3).to_dict() == {"min": 3, "max": 6, "repeats_run": 3, "stopped": "decided", "paired": False}


def test_an_undecided_change_runs_to_max() -> None:
    rule = _stopping(_base())
    assert rule.more(_repeats(103.0, 101.0, 105.0)) is True
    assert rule.result(6).stopped == "max reached"
    assert rule.result(6).describe() == "Adaptive repeats (3–6): 6 ran, stopped: max reached."


def test_without_a_baseline_it_runs_max_and_without_an_interval_min() -> None:
    first = _stopping(None)
    assert first.more(_repeats(100.0, 100.0, 100.0)) is True
    assert first.result(6).describe().startswith("Adaptive repeats (3–6): 6 ran, stopped: no baseline")
    other_method = replace(_base(), energy_method=None)  # logged by an older gate: machine-wide CPU
    for rule in (_stopping(_base(())), _stopping(_base(), comparable=False), _stopping(other_method)):
        assert rule.more(_repeats(100.0, 100.0, 100.0)) is False
        assert rule.result(3).stopped == "no interval"


def test_paired_mode_asks_with_both_sides_repeats_and_counts_pairs() -> None:
    rule = Stopping.for_pairs(SPEC, SPEC.rules, 0.95)
    assert rule is not None and Stopping.for_pairs(replace(SPEC, repeats_max=None), SPEC.rules, 0.95) is None
    base = _repeats(100.0, 100.5, 99.5)
    assert rule.more_pairs(_repeats(103.0, 101.0, 105.0), base) is True
    assert rule.more_pairs(_repeats(150.0, 151.0, 149.0), base) is False
    assert rule.result(3).describe() == "Adaptive repeats (3–6): 3 pairs ran, stopped: decided."
    assert rule.result(3).to_dict()["paired"] is True


# A board sampled SAMPLES times per repeat through the stand-in NVML driver; `capped` repeats are
# power-capped for half their samples (a cap that comes and goes mid-run), the others never.
SAMPLES = 10
POWER_CAP = 0x4
RUNNER = RepeatConditions(
    window_s=2.0,
    cpu_pressure_some_pct=5.0,
    cpu_pressure_full_pct=0.0,
    cgroup_cpu_pressure_some_pct=None,
    steal_pct=0.0,
    others_busy_pct=3.0,
    cpu_per_wall=1.0,
    load_avg_1m=0.5,
    speed_index=1300.0,
    speed_before=1300.0,
    speed_after=1300.0,
    probe_cpu_share=1.0,
    threads_max=1,
    cpus=2,
)


def _on_gpu(energies_j: tuple[float, ...], capped: set[int]) -> tuple[RepeatResult, ...]:
    events = [POWER_CAP if i in capped and k % 2 else 0 for i in range(len(energies_j)) for k in range(SAMPLES)]
    clocks = [1410 if event else 1980 for event in events]
    sampler = ConditionSampler(
        {}, nvml=FakeDriver([h100("GPU-a", clock_events=Scripted(*events), sm_clock_mhz=Scripted(*clocks))])
    )
    out = []
    for i, energy_j in enumerate(energies_j):
        samples = [s for _ in range(SAMPLES) for s in sampler.sample()]
        gpus = gpu_conditions(samples, frozenset())
        out.append(replace(repeat(energy_j, predictions=1000, index=i), conditions=replace(RUNNER, gpus=gpus)))
    return tuple(out)


def test_a_throttled_repeat_does_not_count_toward_min() -> None:
    rule = _stopping(_base())
    run = _on_gpu((150.0, 151.0, 149.0, 150.5), capped={1})
    assert summarise(list(run[:3]), None).per_repeat["gpu_disturbed"] == (0.0, 1.0, 0.0)
    assert rule.more(run[:3]) is True  # 2 undisturbed repeats: below min, whatever they say
    assert rule.more(run) is False
    assert rule.result(4).stopped == "decided"


def test_a_throttled_repeat_cannot_keep_it_measuring() -> None:
    # Repeat 3, power-capped, reads +10% where the others read +50%: counted, its spread straddles the
    # fail limit and measuring goes on; left out as the verdict leaves it out, the others decide.
    run = _on_gpu((150.0, 151.0, 110.0, 149.0), capped={2})
    assert _stopping(_base()).more(run) is False
    decision = evaluate(summarise(list(run), None), _base(), SPEC.rules)
    assert decision.verdict == "fail"
    assert any("left out this run's repeat(s) 3" in note for note in decision.notes)
    undisturbed = _on_gpu((150.0, 151.0, 110.0, 149.0), capped=set())
    assert _stopping(_base()).more(undisturbed) is True


def test_a_baseline_with_fewer_than_2_undisturbed_repeats_runs_min() -> None:
    flagged = replace(_base(), per_repeat={**_base().per_repeat, "gpu_disturbed": (1.0, 1.0, 0.0, 1.0)})
    rule = _stopping(flagged)
    assert rule.more(_on_gpu((103.0, 101.0, 105.0), capped=set())) is False
    assert rule.result(3).stopped == "no interval"


def test_paired_a_pair_with_a_throttled_side_counts_toward_nothing() -> None:
    rule = Stopping.for_pairs(SPEC, SPEC.rules, 0.95)
    assert rule is not None
    base = _on_gpu((100.0, 100.5, 99.5, 100.2), capped={1})
    assert rule.more_pairs(_on_gpu((150.0, 151.0, 149.0), capped=set()), base[:3]) is True
    assert rule.more_pairs(_on_gpu((150.0, 151.0, 149.0, 150.4), capped=set()), base) is False


def test_each_look_judges_against_the_baseline_the_conditions_so_far_prefer() -> None:
    # The latest baseline has no per-repeat values: alone it gives no interval, and min would run.
    latest = replace(_base(), per_repeat={})
    quiet = replace(_base(), run_id="q" * 32)
    asked: list[dict[str, float]] = []

    def rematch(found: Mapping[str, float]) -> Baseline | None:
        asked.append(dict(found))
        return quiet

    rule = Stopping(SPEC, SPEC.rules, latest, [], confidence=0.95, comparable=True, rematch=rematch)
    assert rule.stopped == "no interval"
    assert rule.more(_on_gpu((150.0, 151.0, 149.0), capped=set())) is False
    assert rule.baseline is quiet and rule.result(3).stopped == "decided"
    assert asked == [{**medians([RUNNER]), "threads_max": 1.0}]
