"""Result documents as the report and the PR comment render them: one benchmark on a fixed machine,
in a fixed PR, under a fixed budget (the golden files in tests/golden/ are rendered from these)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gate.carbon.model import Intensity
from gate.compare.model import Verdict
from gate.config.budget import Level, Rules
from gate.output import result
from gate.output.result import BenchmarkOutcome, build_document

RULES = Rules(
    limits_pct={"energy_per_prediction_j": Level(warn=2.0, fail=5.0, line=12)},
    budgets={"energy_kwh": Level(warn=0.0005, fail=0.001, line=16)},
    quality_min={"accuracy": (0.95, 20)},
)
INTENSITY = Intensity(
    369.5,
    "codecarbon offline data, United States annual average (2023)",
    "USA",
    1.0,
    provider="codecarbon",
    basis="annual_average",
    timestamp="2023",
)
HARDWARE = {
    "cpu_model": "AMD EPYC",
    "cpu_count": 2,
    "gpu_models": [],
    "fingerprint": "ff2ecbfdf6e1",
    "description": "AMD EPYC (2 CPUs), no GPU",
}
CONTEXT = {
    "commit": "9f2c4e1d0b7a",
    "branch": "feature/faster",
    "base_branch": "main",
    "pr_number": 7,
    "repository": "acme/models",
    "event_name": "pull_request",
    "run_url": None,
}


def document(outcome: BenchmarkOutcome, verdict: Verdict, notes: list[str] | None = None) -> dict[str, Any]:
    doc = build_document(
        verdict=verdict,
        exit_code=0,
        budget_file="green-budget.yml",
        tracking_uri="http://mlflow",
        context=CONTEXT,
        hardware=HARDWARE,
        outcomes=[outcome],
        notes=notes or [],
    )
    doc["created_at"] = "2026-11-23T12:00:00Z"
    return doc


def outcome(**kwargs: Any) -> BenchmarkOutcome:
    return BenchmarkOutcome(
        name="digits-svc-inference",
        kind="inference",
        command="python bench.py",
        repeats=3,
        warmup=1,
        baseline_branch="main",
        **kwargs,
    )


# A matrix of jobs on two kinds of hardware, for the fan-in: each leg's result as `check --json` writes it.
H100 = {
    "cpu_model": "AMD EPYC 9554",
    "cpu_count": 32,
    "gpu_models": ["NVIDIA H100 80GB HBM3"],
    "fingerprint": "5d0c7a11e2b4",
    "description": "NVIDIA H100 80GB HBM3, AMD EPYC 9554 (32 CPUs)",
}
L4 = {
    "cpu_model": "Intel Xeon Platinum 8481C",
    "cpu_count": 8,
    "gpu_models": ["NVIDIA L4"],
    "fingerprint": "9e41b07c3f28",
    "description": "NVIDIA L4, Intel Xeon Platinum 8481C (8 CPUs)",
}


def measured(name: str, energy_j: float, base_energy_j: float, predictions: int = 1000) -> BenchmarkOutcome:
    """A benchmark measured at `energy_j` per repeat against a baseline of `base_energy_j`, judged by RULES."""
    import zlib

    from gate.compare.model import Baseline
    from gate.compare.verdict import evaluate
    from tests.helpers import summary

    current = summary(
        [energy_j * 0.999, energy_j, energy_j * 1.001],
        predictions=predictions,
        quality={"accuracy": 0.97},
        intensity=INTENSITY,
        power_w=250.0,
    )
    base = Baseline(
        run_id=f"{zlib.crc32(name.encode()):08x}" + "0" * 24,
        metrics={
            "energy_per_prediction_j": base_energy_j / predictions,
            "energy_j": base_energy_j,
            "energy_kwh": base_energy_j / 3.6e6,
        },
        commit="4b1e0c2aa",
        branch="main",
        start_time_ms=0,
    )
    return BenchmarkOutcome(
        name=name,
        kind="inference",
        command=f"python bench.py {name}",
        repeats=3,
        warmup=1,
        baseline_branch="main",
        summary=current,
        baseline=base,
        decision=evaluate(current, base, RULES),
    )


def leg_document(
    leg: str,
    hardware: dict[str, Any],
    outcomes: list[BenchmarkOutcome],
    *,
    runner: str | None = None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One matrix leg's result document (a copy, as read back from its file)."""
    import json

    from gate.compare.verdict import worst

    verdict = worst([o.verdict for o in outcomes])
    doc = build_document(
        verdict=verdict,
        exit_code={"fail": 1, "error": 3}.get(verdict, 0),
        budget_file="green-budget.yml",
        tracking_uri="http://mlflow",
        context={**CONTEXT, "job": "energy", "leg": leg, "runner": runner or f"{leg}-runner-1", **(context or {})},
        hardware=hardware,
        outcomes=outcomes,
        notes=[],
    )
    doc["created_at"] = "2026-11-23T12:00:00Z"
    loaded: dict[str, Any] = json.loads(json.dumps(doc))
    return loaded


def benchmark_set(count: int, offset: int = 0) -> list[BenchmarkOutcome]:
    """`count` benchmarks of a monorepo: about one in 17 over its fail limit, one in 11 warned, the rest within."""
    outcomes = []
    for i in range(offset, offset + count):
        base = 60.0 + (i * 37) % 90
        change = 1.08 if i % 17 == 3 else 1.03 if i % 11 == 5 else 1.0 + ((i * 7) % 5 - 2) / 400
        outcomes.append(measured(f"svc-{i:03d}-inference", base * change, base))
    return outcomes


def monorepo_documents(count: int) -> list[dict[str, Any]]:
    """`count` benchmarks split over an H100 leg and an L4 leg (all on the H100 leg when one)."""
    if count == 1:
        return [leg_document("gpu-h100", H100, benchmark_set(1))]
    half = count // 2
    return [
        leg_document("gpu-h100", H100, benchmark_set(half)),
        leg_document("gpu-l4", L4, benchmark_set(count - half, offset=half)),
    ]


def result_schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        Path(result.__file__).with_name(result.RESULT_SCHEMA).read_text(encoding="utf-8")
    )
    return loaded


def validate_result(document: dict[str, Any]) -> None:
    """Check a result document against the result schema, with every problem listed, not only the first."""
    import jsonschema

    errors = sorted(jsonschema.Draft202012Validator(result_schema()).iter_errors(document), key=lambda e: list(e.path))
    problems = ["/".join(str(p) for p in e.absolute_path) + ": " + e.message for e in errors]
    assert problems == [], "\n".join(problems)


PR_COMMENT_EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "pr-comment-example.json"


def pr_comment_example() -> dict[str, Any]:
    """The result of a real run that docs/pr-comment-example.md and its screenshot show."""
    document: dict[str, Any] = json.loads(PR_COMMENT_EXAMPLE.read_text(encoding="utf-8"))
    return document
