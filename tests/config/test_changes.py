"""What a pull request changed in its budget, as the judging half names it."""

from __future__ import annotations

from gate.config.changes import changed_keys, describe

BASE = {
    "version": 1,
    "benchmarks": [{"name": "infer", "command": "python b.py", "repeats": 5, "pass_env": ["A"]}],
    "limits": {"energy_per_prediction_j": {"warn": "+2%", "fail": "+5%"}},
    "mlflow": {"experiment": "x/{benchmark}"},
}


def test_nothing_changed() -> None:
    assert changed_keys(BASE, BASE) == []


def test_each_loosening_is_named() -> None:
    pull = {
        "version": 1,
        "benchmarks": [{"name": "infer2", "command": "python b.py", "repeats": 5}],
        "limits": {"energy_per_prediction_j": {"warn": "+2%", "fail": "+500%"}},
        "mlflow": {"experiment": "y/{benchmark}"},
        "baseline": {"branch": "old-heavy"},
    }
    assert changed_keys(BASE, pull) == [
        "benchmarks[infer] (removed or renamed)",
        "benchmarks[infer2] (added)",
        "limits.energy_per_prediction_j.fail",
        "mlflow.experiment",
        "baseline (added)",
    ]


def test_a_benchmarks_own_keys_by_name() -> None:
    pull = {**BASE, "benchmarks": [{"name": "infer", "command": "python b.py", "repeats": 1, "pass_env": ["A", "T"]}]}
    assert changed_keys(BASE, pull) == ["benchmarks[infer].repeats", "benchmarks[infer].pass_env"]


def test_a_file_that_is_not_a_mapping() -> None:
    assert changed_keys(BASE, "text") == ["(the whole file)"]


def test_the_note_is_bounded() -> None:
    note = describe([f"k{i}" for i in range(50)], "green-budget.yml")
    assert "k19" in note and "k20" not in note and "and 30 more" in note and "base branch's budget" in note
