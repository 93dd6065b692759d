"""Files of the repository checked against their schemas: budgets, workflows, the runtime lock."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement

from gate.config.load import load_budget, load_schema

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".git", ".tools", ".venv", "venv", "node_modules", ".green-gate"}


def repo_files(pattern: str) -> list[Path]:
    return sorted(p for p in ROOT.rglob(pattern) if not SKIP_DIRS & set(p.relative_to(ROOT).parts))


BUDGETS = repo_files("green-budget.yml")
WORKFLOWS = repo_files("*.yml")
WORKFLOWS = [p for p in WORKFLOWS if p.parent.name == "workflows"]


def test_there_are_budgets_and_workflows() -> None:
    assert ROOT / "examples" / "digits" / "green-budget.yml" in BUDGETS
    assert len(WORKFLOWS) >= 7


@pytest.mark.parametrize("path", BUDGETS, ids=lambda p: str(p.relative_to(ROOT)))
def test_budget_files_match_the_schema(path: Path) -> None:
    jsonschema.Draft202012Validator(load_schema()).validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert load_budget(path).warnings == ()


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(load_schema())


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_workflows_have_timeouts_and_pinned_actions(path: Path) -> None:
    workflow: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert workflow.get("name")
    for name, job in workflow["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int), f"{path.name}: job {name} has no timeout-minutes"
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses and not uses.startswith("./"):
                assert re.search(r"@v\d|:v\d", uses), f"{path.name}: {uses} is not pinned to a version"


def test_must_fail_job_is_checked_through_its_outcome() -> None:
    text = (ROOT / ".github" / "workflows" / "self-test.yml").read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    steps = workflow["jobs"]["digits"]["steps"]
    regression = next(s for s in steps if s.get("id") == "regression")
    assert regression["uses"] == "./" and regression["continue-on-error"] is True
    assert regression["env"] == {"GREEN_GATE_EXAMPLE_EXTRA_WORK": "0.3"}
    assert "steps.regression.outcome" in text


def _lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements" / "runtime.lock").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_runtime_lock_pins_every_dependency_within_pyproject() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pins = _lock()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in pins, f"{name} missing from requirements/runtime.lock"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} violates {spec}"
    assert pins["mlflow-skinny"] == "3.17.2"
    assert "mlflow" not in pins  # the full server package stays out of the image


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint not installed (scripts/static-checks.sh)")
def test_hadolint_accepts_the_dockerfiles() -> None:
    done = subprocess.run(
        ["hadolint", "Dockerfile", "examples/docker/Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
