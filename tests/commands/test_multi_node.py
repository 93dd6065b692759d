"""A benchmark spanning two machines, as two `green-gate check` processes here (one per "node"), then
the fan-in summing them: energy summed, items counted once (docs/scale.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.output.markdown import quantity
from tests.support.cli import busy_project, run_cli, start_cli

pytestmark = pytest.mark.slow


def test_two_nodes_of_one_run_are_one_benchmark(tmp_path: Path, cli_env: dict[str, str]) -> None:
    nodes = []
    for rank in (0, 1):
        project = busy_project(tmp_path / f"node{rank}")
        env = {
            **cli_env,
            "GREEN_GATE_LEG": "train",
            "GREEN_GATE_NODE_GROUP": "train-run-7",
            "GREEN_GATE_NODE_RANK": str(rank),
            "GREEN_GATE_NODES": "2",
        }
        result_path = tmp_path / "results" / f"node{rank}" / "green-gate.json"
        nodes.append(start_cli("check", "--no-record", "--json", str(result_path), cwd=project, env=env))
    for proc in nodes:  # both "nodes" run at once, as on two machines
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    parts = [json.loads((tmp_path / "results" / f"node{r}" / "green-gate.json").read_text()) for r in (0, 1)]
    assert [p["context"]["node_rank"] for p in parts] == [0, 1]
    energies = [p["benchmarks"][0]["metrics"]["energy_j"] for p in parts]

    merged = run_cli("comment", "--result", str(tmp_path / "results"), cwd=tmp_path, env=cli_env)
    assert merged.returncode == 0, merged.stderr
    assert "PR comment: not a pull request" in merged.stderr
    report = merged.stdout
    assert report.count("### busy · ") == 1  # one benchmark, not one per node
    assert "2 nodes of multi-node run train-run-7 (ranks 0, 1): energy summed, items counted once" in report
    total_j = sum(energies)
    # The summed energy per prediction: both nodes' joules over the run's 1000 predictions (not 2000).
    assert f"| Energy per prediction (J) | — | {quantity(total_j / 1000, 'J')} |" in report
    assert f"| Energy per run (J) | — | {quantity(total_j, 'J')} |" in report
    assert "× 2 nodes | 1 | ✅ pass |" in report  # the legs table: one job, two nodes, one benchmark
