"""The budget model: `green-budget.yml` (version 1) as plain, frozen data.

The field defaults here are the budget file's defaults, written nowhere else: the loader
(gate.config.load) passes only the keys a file sets, and tests/config/test_defaults.py holds the
JSON Schema's `default:` values to these fields.
"""

from __future__ import annotations

import fnmatch
import shlex
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from gate.errors import ConfigError

# MLflow experiment per repository and benchmark (docs/mlflow-schema.md); `mlflow.experiment` overrides.
DEFAULT_EXPERIMENT = "green-gate/{repository}/{benchmark}"

KeyPath = tuple[str | int, ...]
Outcome = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class Level:
    """A warn and/or fail threshold, with the budget line that set it."""

    warn: float | None = None
    fail: float | None = None
    line: int | None = None


@dataclass(frozen=True)
class Rules:
    """The rules that apply to one benchmark on one branch, after all overrides."""

    limits_pct: dict[str, Level] = field(default_factory=dict)  # metric -> max increase, percent
    budgets: dict[str, Level] = field(default_factory=dict)  # metric -> absolute max per run
    quality_min: dict[str, tuple[float, int | None]] = field(default_factory=dict)
    quality_max: dict[str, tuple[float, int | None]] = field(default_factory=dict)
    # Relative to the baseline's value of the same metric: this run's / the baseline's, at least / at most.
    quality_min_ratio: dict[str, tuple[float, int | None]] = field(default_factory=dict)
    quality_max_ratio: dict[str, tuple[float, int | None]] = field(default_factory=dict)
    # Quality metric -> limit on the change of energy per item per quality point, percent.
    efficiency_pct: dict[str, Level] = field(default_factory=dict)
    # Per-case limits: a case's (a phase's) name or glob -> its figure (energy_j, energy_per_item_j)
    # -> max increase, percent. An exact name wins over globs; among globs the first in the file.
    cases: dict[str, dict[str, Level]] = field(default_factory=dict)

    def overridden_by(self, override: Rules) -> Rules:
        """These rules with each metric that `override` sets replaced by its entry there."""
        return Rules(
            limits_pct={**self.limits_pct, **override.limits_pct},
            budgets={**self.budgets, **override.budgets},
            quality_min={**self.quality_min, **override.quality_min},
            quality_max={**self.quality_max, **override.quality_max},
            quality_min_ratio={**self.quality_min_ratio, **override.quality_min_ratio},
            quality_max_ratio={**self.quality_max_ratio, **override.quality_max_ratio},
            efficiency_pct={**self.efficiency_pct, **override.efficiency_pct},
            cases={**self.cases, **override.cases},
        )

    def case_limits(self, case: str) -> tuple[str, dict[str, Level]] | None:
        """The `cases:` entry that applies to `case`: its exact name, else the first glob matching it."""
        if case in self.cases:
            return case, self.cases[case]
        for pattern, limits in self.cases.items():
            if fnmatch.fnmatchcase(case, pattern):
                return pattern, limits
        return None


@dataclass(frozen=True)
class ResultsSpec:
    """The `results:` block: where a repeat's count and quality metrics come from (docs/benchmarks.md).

    `format` "metrics" (the default) reads $GREEN_GATE_METRICS; a tool's format reads the
    file the tool writes at `path` (`{repeat}` and globs allowed, relative to the working directory);
    "json" reads any JSON file by JSON Pointers; "stdout" reads the output with regular expressions.
    `count`: the name of one of the format's counts (json: a pointer; stdout: a pattern), None: the
    format's first. `quality`: (quality metric name, the field (pointer, pattern) it is read from) pairs.
    """

    format: str = "metrics"
    path: str | None = None
    count: str | None = None
    quality: tuple[tuple[str, str], ...] = ()  # (metric name, field) in the file's order
    line: int | None = None

    @property
    def reads_tool_output(self) -> bool:
        return self.format != "metrics"


# Keyword-only, so the fields without a budget-file default can stay first, in the file's order.
@dataclass(frozen=True, kw_only=True)
class BenchmarkSpec:
    name: str
    argv: tuple[str, ...] | None  # None: run `shell_command` through the shell
    shell_command: str | None
    kind: Literal["inference", "training"] = "inference"
    repeats: int = 5  # adaptive (`repeats: {min, max}`): the minimum
    # Adaptive repeats: after `repeats`, measure on up to this many while the interval straddles a
    # limit (docs/statistics.md). None: exactly `repeats`, as a plain number in the budget says.
    repeats_max: int | None = None
    warmup: int = 1
    timeout_s: float = 600.0
    unit: str = "prediction"  # what the benchmark counts: J per <unit>, the count reported as its plural
    working_directory: Path
    env: dict[str, str]
    # Credentials the gate withholds from benchmarks (gate.secrets) that this one still inherits.
    pass_env: tuple[str, ...] = ()
    rules: Rules
    line: int | None
    requires_gpu: bool = False  # stop with a clear error when no NVIDIA GPU is visible
    # Measurement hygiene: each measured run starts from the same thermal state.
    cooldown_s: float = 0.0  # pause before each measured run
    max_start_temperature_c: float | None = None  # wait until the GPUs are this cool before each run
    results: ResultsSpec | None = None  # where counts and quality come from; None: the metrics file

    @property
    def adaptive(self) -> bool:
        return self.repeats_max is not None

    @property
    def display_command(self) -> str:
        return self.shell_command if self.shell_command is not None else shlex.join(self.argv or ())


CarbonProvider = Literal["fixed", "codecarbon", "cloud", "electricitymaps"]
DEFAULT_TOKEN_ENV = "ELECTRICITYMAPS_API_TOKEN"

# The keys each carbon source provider reads (besides `provider`).
SOURCE_KEYS: dict[str, tuple[str, ...]] = {
    "fixed": ("intensity_g_per_kwh",),
    "codecarbon": ("country", "region"),
    "cloud": ("cloud", "region"),
    "electricitymaps": ("zone", "token_env", "timeout_s", "cache_ttl_s"),
}


@dataclass(frozen=True)
class SourceSpec:
    """One carbon-intensity source from `carbon.sources` (or the short form)."""

    provider: CarbonProvider
    intensity_g_per_kwh: float | None = None  # fixed
    country: str | None = None  # codecarbon: ISO 3166-1 alpha-3
    region: str | None = None  # codecarbon: state/province/zone; cloud: the cloud region (None: from env)
    cloud: str | None = None  # cloud: gcp | aws | azure
    zone: str | None = None  # electricitymaps
    token_env: str = DEFAULT_TOKEN_ENV  # electricitymaps: NAME of the env var holding the token
    timeout_s: float = 5.0
    cache_ttl_s: float = 900.0
    line: int | None = None

    def describe(self) -> str:
        """Short name for logs and the report's fallback chain, e.g. 'electricitymaps zone DE'."""
        if self.provider == "fixed":
            return f"fixed {self.intensity_g_per_kwh:g} g/kWh"
        if self.provider == "codecarbon":
            return f"codecarbon {self.country}" + (f"/{self.region}" if self.region else "")
        if self.provider == "cloud":
            return f"cloud {self.cloud}" + (f" {self.region}" if self.region else " (region from env)")
        return f"electricitymaps zone {self.zone}"


@dataclass(frozen=True)
class CarbonSpec:
    sources: tuple[SourceSpec, ...] = ()  # tried in order; empty: no gCO2eq
    pue: float = 1.0

    @property
    def intensity_g_per_kwh(self) -> float | None:
        """The short form's fixed value (the first fixed source)."""
        return next((s.intensity_g_per_kwh for s in self.sources if s.provider == "fixed"), None)

    @property
    def country(self) -> str | None:
        """The short form's country (the first codecarbon source)."""
        return next((s.country for s in self.sources if s.provider == "codecarbon"), None)


@dataclass(frozen=True)
class BaselineSpec:
    branch: str | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class Policy:
    missing_baseline: Outcome = "pass"
    mlflow_unavailable: Outcome = "warn"
    not_comparable: Outcome = "warn"  # other hardware, or other runner conditions (never a fail for those)
    inconclusive: Outcome = "warn"  # the interval is wider than the limit: too noisy to judge


ComparisonMode = Literal["history", "paired", "auto"]
# Named, because gate.compare.stats uses them as its own keyword defaults.
DEFAULT_CONFIDENCE = 0.95
DEFAULT_OUTLIER_K = 3.5


@dataclass(frozen=True)
class ComparisonSpec:
    """How relative limits are decided from repeats; see docs/statistics.md."""

    mode: ComparisonMode = "history"
    confidence: float = DEFAULT_CONFIDENCE
    outliers: Literal["keep", "drop"] = "keep"
    outlier_k: float = DEFAULT_OUTLIER_K
    base_ref: str | None = None  # paired mode: git revision of the base


@dataclass(frozen=True)
class BranchRule:
    """One `branches:` entry: its rules override a benchmark's on branches matching `pattern`."""

    pattern: str
    rules: Rules  # only the metrics the entry sets
    baseline: BaselineSpec | None


EnergyScope = Literal["gpu", "cpu", "ram"]


@dataclass(frozen=True)
class EnergySpec:
    """The `energy:` block (docs/measurement.md). `scopes=None`: gpu when a GPU is measured, else cpu.

    RAM is reported but gated only when `scopes` names it: its figure is a model of wall time."""

    scopes: tuple[EnergyScope, ...] | None = None
    basis: Literal["total", "active"] = "total"
    idle_s: float = 3.0
    phases: tuple[str, ...] | None = None
    sample_hz: float = 100.0
    # process: CPU energy charged to the benchmark's process tree; machine: the whole machine's reading
    cpu: Literal["process", "machine"] = "process"
    line: int | None = None


DEFAULT_PROMETHEUS_JOB = "green_gate"


@dataclass(frozen=True)
class PrometheusSpec:
    """The `prometheus:` block: where `check` pushes its gauges (docs/action.md). No URL: no push."""

    pushgateway: str | None = None
    job: str = DEFAULT_PROMETHEUS_JOB


PERMISSIONS = ("read", "triage", "write", "maintain", "admin")  # GitHub's repository roles, weakest first


@dataclass(frozen=True)
class WaiverRule:
    """One entry of the `waivers:` block: which PR label, added by whom, waives which checks, until when."""

    label: str
    checks: Literal["relative", "all"] = "relative"  # all: relative limits and absolute budgets
    permission: str | None = None  # the labeller's repository permission, at least this (PERMISSIONS)
    logins: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()  # org/team-slug
    expires: date | None = None  # the last day it applies
    line: int | None = None


@dataclass(frozen=True)
class Budget:
    path: Path
    benchmarks: tuple[BenchmarkSpec, ...]
    carbon: CarbonSpec = field(default_factory=CarbonSpec)
    baseline: BaselineSpec = field(default_factory=BaselineSpec)
    policy: Policy = field(default_factory=Policy)
    experiment_template: str = DEFAULT_EXPERIMENT
    branch_rules: tuple[BranchRule, ...] = ()
    warnings: tuple[str, ...] = ()
    comparison: ComparisonSpec = field(default_factory=ComparisonSpec)
    _lines: dict[KeyPath, int] = field(repr=False, default_factory=dict)
    energy: EnergySpec = field(default_factory=EnergySpec)
    prometheus: PrometheusSpec = field(default_factory=PrometheusSpec)
    waivers: tuple[WaiverRule, ...] = ()

    def benchmark(self, name: str) -> BenchmarkSpec:
        for spec in self.benchmarks:
            if spec.name == name:
                return spec
        known = ", ".join(b.name for b in self.benchmarks)
        raise ConfigError(
            f"no benchmark named {name!r} in the budget file",
            hint=f"use one of: {known}",
            file=str(self.path),
        )

    def for_branch(self, spec: BenchmarkSpec, branch: str | None) -> tuple[Rules, BaselineSpec]:
        """The benchmark's rules and baseline choice with matching branch overrides applied."""
        rules = spec.rules
        baseline = self.baseline
        for rule in self.branch_rules:
            if branch is None or not fnmatch.fnmatchcase(branch, rule.pattern):
                continue
            rules = rules.overridden_by(rule.rules)
            if rule.baseline is not None:
                baseline = BaselineSpec(
                    branch=rule.baseline.branch or baseline.branch,
                    run_id=rule.baseline.run_id or baseline.run_id,
                )
        return rules, baseline

    def line_of(self, *path: str | int) -> int | None:
        return nearest_line(self._lines, path)

    def sets(self, *path: str | int) -> bool:
        """Whether the file itself writes this key (rather than leaving it to its default)."""
        return tuple(path) in self._lines


def nearest_line(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    """The line of `path`, else of its closest enclosing key that the file has."""
    for end in range(len(path), -1, -1):
        line = lines.get(tuple(path[:end]))
        if line is not None:
            return line
    return None
