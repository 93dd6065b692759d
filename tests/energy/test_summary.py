"""From repeats to reported figures: units, geometric means, J/prediction, gCO2eq."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from gate.carbon.model import Intensity
from gate.energy.model import EnergyReading, PhaseEnergy, RepeatResult, ScopeEnergy
from gate.energy.summary import central, summarise
from gate.units import J_PER_KWH, emissions_g, j_to_kwh, kwh_to_j
from tests.helpers import summary


def test_units_convert_both_ways() -> None:
    assert j_to_kwh(3_600_000.0) == 1.0
    assert kwh_to_j(j_to_kwh(123.4)) == pytest.approx(123.4)
    assert emissions_g(2.0, intensity_g_per_kwh=50.0, pue=1.2) == pytest.approx(120.0)


def test_summary_takes_the_geometric_mean_of_the_repeats_per_metric() -> None:
    intensity = Intensity(400.0, "fixed", pue=1.5)
    result = summary([90.0, 130.0, 100.0], predictions=500, quality={"accuracy": 0.9}, intensity=intensity)
    assert result.repeats == 3
    centre = (90.0 * 130.0 * 100.0) ** (1 / 3)  # 105.37, where the median would be 100
    assert result.metrics["energy_j"] == pytest.approx(centre, rel=1e-12)
    assert result.metrics["energy_per_prediction_j"] == pytest.approx(centre / 500, rel=1e-12)
    assert result.metrics["energy_kwh"] == pytest.approx(centre / J_PER_KWH, rel=1e-12)
    assert result.metrics["emissions_g"] == pytest.approx(centre / J_PER_KWH * 1.5 * 400.0, rel=1e-12)
    assert result.metrics["mean_power_w"] == pytest.approx(centre / 2.0, rel=1e-12)  # over 2 s each
    assert result.metrics["grid_intensity_g_per_kwh"] == 400.0  # a constant stays exactly itself
    assert result.per_repeat["energy_j"] == (90.0, 130.0, 100.0)
    assert result.quality == {"accuracy": 0.9}
    assert [(s.scope, s.provenance) for s in result.scopes] == [("cpu", "estimated"), ("ram", "estimated")]
    assert [s.energy_j for s in result.scopes] == pytest.approx([centre / 4, centre * 3 / 4], rel=1e-12)
    assert result.provenance == "estimated"


def test_figures_in_other_units_keep_their_ratio_so_j_and_kwh_rows_never_disagree() -> None:
    current = summary([90.0, 130.0, 100.0, 95.0, 140.0], predictions=500)
    base = summary([60.0, 61.0, 75.0, 59.0, 62.0], predictions=500)
    change = {name: current.metrics[name] / base.metrics[name] for name in ("energy_j", "energy_kwh")}
    assert change["energy_j"] == pytest.approx(change["energy_kwh"], rel=1e-12)


def test_quality_metrics_take_the_median() -> None:
    readings = [EnergyReading(2.0, (ScopeEnergy("cpu", e, "estimated", "tdp"),)) for e in (10.0, 11.0, 12.0)]
    accuracy = (0.9, 0.1, 0.8)
    pairs = enumerate(zip(readings, accuracy, strict=True))
    repeats = [RepeatResult(i, r, 100, {"accuracy": a}) for i, (r, a) in pairs]
    assert summarise(repeats, None).quality == {"accuracy": 0.8}


def test_no_predictions_no_energy_per_prediction_and_no_intensity_no_emissions() -> None:
    result = summary([10.0, 12.0], predictions=None)
    assert "energy_per_prediction_j" not in result.metrics
    assert "emissions_g" not in result.metrics
    assert result.metrics["energy_j"] == pytest.approx(math.sqrt(120.0), rel=1e-12)


def test_central_is_the_geometric_mean_and_handles_zero_repeats() -> None:
    assert central([2.0, 8.0]) == pytest.approx(4.0, rel=1e-12)
    assert central([0.1, 0.1, 0.1]) == 0.1  # exactly: no round trip through logarithms
    # The process-attributed CPU energy of `sleep` is 0 J in every repeat: the figure is 0.
    assert central([0.0, 0.0, 0.0]) == 0.0
    # A geometric mean with one 0 is 0 whatever the rest drew: the median instead.
    assert central([0.0, 0.004, 0.002]) == 0.002
    with pytest.raises(ValueError):
        central([])


def test_an_idle_benchmark_with_zero_process_cpu_energy_summarises_to_zero() -> None:
    cpu = ScopeEnergy("cpu", 0.0, "estimated", "process", attribution="process")
    idle = [RepeatResult(i, EnergyReading(1.0, (cpu,)), None, {}) for i in range(3)]
    result = summarise(idle, None)
    assert result.metrics["energy_j"] == 0.0 and result.metrics["mean_power_w"] == 0.0
    assert result.scopes[0].energy_j == 0.0


def test_energy_method_names_the_gated_scopes_and_how_each_was_obtained() -> None:
    from gate.energy.model import EnergyReading, RepeatResult, ScopeEnergy
    from gate.energy.summary import summarise

    scopes = (
        ScopeEnergy("ram", 5.0, "estimated", "ram model", gated=False),
        ScopeEnergy("cpu", 9.0, "measured", "RAPL × CPU-time share", attribution="process"),
        ScopeEnergy("gpu", 90.0, "measured", "nvml"),
    )
    summary = summarise([RepeatResult(0, EnergyReading(1.0, scopes), 10, {})], None)
    assert summary.energy_method == "cpu:measured:process+gpu:measured"


def _phased_repeat(index: int, gpu_j: float, *, cpu_gated: bool) -> RepeatResult:
    reading = EnergyReading(
        4.0,
        (ScopeEnergy("gpu", gpu_j, "measured", "nvml"), ScopeEnergy("cpu", 40.0, "estimated", "tdp", gated=cpu_gated)),
        items=1088,
        phases=(
            PhaseEnergy("prefill", 1.0, 1024, gpu_j * 0.4, 0.25),
            PhaseEnergy("decode", 3.0, 64, gpu_j * 0.6, 0.75),
        ),
    )
    return RepeatResult(index, reading, 1088, {})


def test_each_phase_gets_its_own_energy_per_item_over_repeats() -> None:
    result = summarise([_phased_repeat(i, j, cpu_gated=False) for i, j in enumerate((100.0, 110.0, 90.0))], None)
    prefill, decode = result.phases
    assert (prefill.name, prefill.items, prefill.duration_s) == ("prefill", 1024, 1.0)
    gpu_j = (100.0 * 110.0 * 90.0) ** (1 / 3)  # the geometric mean of the repeats' GPU energy
    assert prefill.energy_j == pytest.approx(0.4 * gpu_j) and decode.energy_j == pytest.approx(0.6 * gpu_j)
    assert prefill.energy_per_item_j == pytest.approx(0.4 * gpu_j / 1024)
    assert decode.energy_per_item_j == pytest.approx(0.6 * gpu_j / 64)  # decode costs 24x prefill per item here


def test_a_gated_scope_without_a_timeline_is_shared_out_by_phase_duration() -> None:
    result = summarise([_phased_repeat(0, 100.0, cpu_gated=True)], None)
    prefill, decode = result.phases
    assert prefill.energy_j == pytest.approx(40.0 + 40.0 * 0.25)
    assert decode.energy_j == pytest.approx(60.0 + 40.0 * 0.75)


def test_a_phase_missing_from_a_repeat_or_without_items_gives_no_per_item_figure() -> None:
    first, second = _phased_repeat(0, 100.0, cpu_gated=False), _phased_repeat(1, 100.0, cpu_gated=False)
    prefill, decode = second.reading.phases
    second = replace(second, reading=replace(second.reading, phases=(prefill, replace(decode, items=None))))
    without_decode = replace(second, reading=replace(second.reading, phases=(prefill,)))
    (only_prefill,) = summarise([first, without_decode], None).phases
    assert only_prefill.name == "prefill"
    _, no_items = summarise([first, second], None).phases
    assert (no_items.items, no_items.energy_per_item_j) == (None, None)
    assert summarise([first], None).phases and not summary([1.0]).phases  # no phases marked: none


def test_each_phase_figure_has_its_repeats_and_median_under_its_metric_name() -> None:
    from gate.energy.model import EnergyReading, PhaseEnergy, RepeatResult, ScopeEnergy
    from gate.energy.summary import central, phase_figures, summarise

    def run(index: int, decode_j: float) -> RepeatResult:
        phases = (PhaseEnergy("prefill", 1.0, 100, 10.0, 0.25), PhaseEnergy("decode", 3.0, None, decode_j, 0.75))
        reading = EnergyReading(4.0, (ScopeEnergy("gpu", 10.0 + decode_j, "measured", "nvml"),), phases=phases)
        return RepeatResult(index, reading, 100, {})

    summary = summarise([run(0, 30.0), run(1, 34.0), run(2, 32.0)], None)
    assert summary.phase_series == {
        "phase.prefill.energy_j": (10.0, 10.0, 10.0),
        "phase.prefill.energy_per_item_j": (0.1, 0.1, 0.1),
        "phase.decode.energy_j": (30.0, 34.0, 32.0),  # no items counted: no J per item
    }
    assert phase_figures(summary)["phase.decode.energy_j"] == pytest.approx(central((30.0, 34.0, 32.0)))


def test_the_gpu_counter_facts_are_per_gpu_medians_and_warnings_are_said_once() -> None:
    from gate.energy.summary import reading_warnings

    def repeat(index: int, ks: tuple[float, ...], warn: bool) -> RepeatResult:
        gpu = ScopeEnergy("gpu", 100.0, "measured", "2 GPUs", calibration=ks, counter_staleness_s=(0.15, 0.05 * index))
        notes = ("warning: GPU 1: power samples scaled by k = 0.920",) if warn else ()
        return RepeatResult(index, EnergyReading(1.0, (gpu,), notes=notes), None, {})

    repeats = [repeat(0, (1.01, 0.90), True), repeat(1, (1.00, 0.92), True), repeat(2, (1.02, 0.91), False)]
    (gpu,) = summarise(repeats, None).scopes
    assert gpu.calibration == (1.01, 0.91)
    assert gpu.counter_staleness_s == (0.15, 0.05)
    assert reading_warnings(repeats) == ("warning: GPU 1: power samples scaled by k = 0.920",)
