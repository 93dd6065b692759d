"""Merging result documents (gate.output.fanin): plain documents in, one document out."""

from __future__ import annotations

import pytest

from gate.output.fanin import FanInError, Source, leg_name, merge, reported_line
from tests.support.documents import H100, L4, leg_document, measured


def sources(*docs: dict) -> list[Source]:  # type: ignore[type-arg]
    return [Source(f"{i}.json", d) for i, d in enumerate(docs)]


def test_the_same_benchmark_on_two_kinds_of_hardware_stays_two_rows() -> None:
    h100 = leg_document("gpu-h100", H100, [measured("resnet", 80.0, 80.0)])
    l4 = leg_document("gpu-l4", L4, [measured("resnet", 130.0, 120.0)])
    doc = merge(sources(h100, l4), ["gpu-h100", "gpu-l4"])
    assert [(b["name"], b["where"]["leg"], b["metrics"]["energy_j"]) for b in doc["benchmarks"]] == [
        ("resnet", "gpu-h100", h100["benchmarks"][0]["metrics"]["energy_j"]),
        ("resnet", "gpu-l4", l4["benchmarks"][0]["metrics"]["energy_j"]),
    ]
    assert doc["benchmarks"][1]["where"]["hardware"] == L4["description"]
    assert doc["verdict"] == "fail" and doc["hardware"]["fingerprint"] == "several"
    assert doc["fanin"]["summary"] == "2 of 2 jobs reported"
    assert "leg" not in doc["context"] and doc["context"]["commit"] == h100["context"]["commit"]


def test_worst_verdict_wins_and_a_missing_leg_is_an_error() -> None:
    ok = leg_document("cpu", H100, [measured("a", 80.0, 80.0)])
    warn = leg_document("gpu-l4", L4, [measured("b", 103.0, 100.0)])
    assert merge(sources(ok, warn))["verdict"] == "warn"
    doc = merge(sources(ok, warn), ["cpu", "gpu-l4", "gpu-h100"])
    assert doc["verdict"] == "error" and doc["fanin"]["missing"] == ["gpu-h100"]
    assert doc["fanin"]["summary"] == "2 of 3 jobs reported; gpu-h100 did not"


def test_reported_line() -> None:
    assert reported_line(3, [], []) == "3 jobs reported"
    assert reported_line(2, ["a", "b", "c"], ["c"]) == "2 of 3 jobs reported; c did not"


def test_a_leg_is_named_by_leg_then_job_then_hardware() -> None:
    doc = leg_document("gpu-h100", H100, [measured("a", 1.0, 1.0)])
    assert leg_name(doc) == "gpu-h100"
    doc["context"]["leg"] = None
    assert leg_name(doc) == "energy"
    doc["context"]["job"] = None
    assert leg_name(doc) == H100["description"]


def test_results_of_two_commits_are_not_one_verdict() -> None:
    a = leg_document("a", H100, [measured("x", 1.0, 1.0)])
    b = leg_document("b", H100, [measured("x", 1.0, 1.0)], context={"commit": "0" * 39 + "1"})
    with pytest.raises(FanInError, match="different commits"):
        merge(sources(a, b))


def node(rank: int, energy_j: float, base_j: float, predictions: int = 1000, count: int = 2) -> dict:  # type: ignore[type-arg]
    context = {"node_group": "train-42", "node_rank": rank, "node_count": count}
    return leg_document("gpu-h100", H100, [measured("llm-train", energy_j, base_j, predictions)], context=context)


def test_the_nodes_of_one_run_are_summed_and_items_counted_once() -> None:
    doc = merge(sources(node(1, 300.0, 290.0), node(0, 100.0, 100.0)))
    (bench,) = doc["benchmarks"]
    rank0, rank1 = node(0, 100.0, 100.0)["benchmarks"][0], node(1, 300.0, 290.0)["benchmarks"][0]
    total_j = rank0["metrics"]["energy_j"] + rank1["metrics"]["energy_j"]
    assert bench["metrics"]["energy_j"] == pytest.approx(total_j)
    assert bench["metrics"]["energy_per_prediction_j"] == pytest.approx(total_j / 1000)  # not / 2000
    assert bench["metrics"]["duration_s"] == max(rank0["metrics"]["duration_s"], rank1["metrics"]["duration_s"])
    assert bench["baseline"]["metrics"]["energy_j"] == pytest.approx(390.0)
    (relative,) = [c for c in bench["checks"] if c["rule"] == "relative"]
    assert relative["change_pct"] == pytest.approx((total_j / 390.0 - 1) * 100)
    assert bench["where"]["nodes"] == 2 and doc["fanin"]["legs"][0]["nodes"] == 2
    assert bench["notes"][0].startswith("2 nodes of multi-node run train-42 (ranks 0, 1): energy summed")
    cpu = next(s for s in bench["scopes"] if s["scope"] == "cpu")
    assert cpu["energy_j"] == pytest.approx(
        sum(next(s for s in b["scopes"] if s["scope"] == "cpu")["energy_j"] for b in (rank0, rank1))
    )


def test_a_node_that_did_not_report_makes_the_run_an_error() -> None:
    doc = merge(sources(node(0, 100.0, 100.0, count=3), node(1, 100.0, 100.0, count=3)))
    (bench,) = doc["benchmarks"]
    assert bench["verdict"] == "error" and "2 of 3 nodes reported" in bench["error"]
    assert "gpu-h100: 2 of 3 nodes of multi-node run train-42 reported" in doc["notes"]
