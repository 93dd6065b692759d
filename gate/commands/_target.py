"""What the release-manager commands act on: a benchmark's experiment, branch and hardware."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gate.compare import baseline_rules
from gate.config.budget import BaselineSpec, BenchmarkSpec, Budget
from gate.config.load import load_budget
from gate.errors import ConfigError
from gate.github import context as ci
from gate.tracking import schema


@dataclass(frozen=True)
class Target:
    budget: Budget
    spec: BenchmarkSpec
    experiment: str
    branch: str | None  # the branch whose check this is about
    baseline_spec: BaselineSpec  # the budget's baseline choice after branch overrides
    baseline_branch: str


def resolve(
    *,
    budget_path: Path,
    benchmark: str | None,
    branch: str | None,
    base_branch: str | None,
    env: Mapping[str, str],
    cwd: Path,
) -> Target:
    budget = load_budget(budget_path)
    if benchmark:
        spec = budget.benchmark(benchmark)
    elif len(budget.benchmarks) == 1:
        spec = budget.benchmarks[0]
    else:
        names = ", ".join(b.name for b in budget.benchmarks)
        raise ConfigError(
            f"the budget file has {len(budget.benchmarks)} benchmarks",
            hint=f"pass --benchmark NAME (one of: {names})",
            file=str(budget_path),
        )
    context = ci.detect(env, cwd)
    branch = branch or context.branch
    _, baseline_spec = budget.for_branch(spec, branch)
    repository = context.repository or schema.repository_from_remote(ci.remote_url(cwd))
    return Target(
        budget=budget,
        spec=spec,
        experiment=schema.experiment_name(budget.experiment_template, spec.name, repository),
        branch=branch,
        baseline_spec=baseline_spec,
        baseline_branch=baseline_rules.baseline_branch(
            baseline_spec.branch, context.base_branch, context.default_branch, branch, cli_branch=base_branch
        ),
    )
