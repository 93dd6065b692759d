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
