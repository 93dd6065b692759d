"""Plan stage: what this check will do, and where, decided before anything runs.

`survey` reads the budget and the surroundings (CI context, hardware); `complete` adds what needs
outside sources (carbon intensity, the tracking URI). Two steps, so that a carbon source that fails
still leaves the context and hardware in the error's result document.

`survey` also settles the check's secrets (gate.secrets) as soon as the budget names its carbon
tokens: from then on the benchmark inherits none of them and every output is redacted with them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from gate import hardening
from gate.carbon.model import Intensity
from gate.compare import baseline_rules
from gate.config.budget import BaselineSpec, BenchmarkSpec, Budget, ComparisonMode, Rules
from gate.config.load import load_budget
from gate.devices import hardware as hardware_detection
from gate.devices.hardware import Hardware
from gate.github import actions
from gate.github import context as ci
from gate.github.context import CiContext
from gate.output.result import local_result_path
from gate.secrets import Secrets, activate
from gate.tracking import schema

NO_CARBON_SOURCE = "No carbon source in the budget file: gCO2eq not computed."


@dataclass(frozen=True)
class CheckOptions:
    """What the command line asked for."""

    budget_path: Path
    benchmarks: tuple[str, ...] = ()
    json_path: Path | None = None
    report_path: Path | None = None
    branch: str | None = None
    base_branch: str | None = None
    commit: str | None = None
    baseline_run_id: str | None = None
    repeats: int | None = None
    warmup: int | None = None
    comparison_mode: ComparisonMode | None = None  # overrides the budget's comparison.mode
    record: bool = True
    comment: bool = False  # post the sticky PR comment (also GREEN_GATE_COMMENT=true)
    comment_template: Path | None = None
    check_run: bool = False
    prometheus_textfile: Path | None = None  # the gauges in the text exposition format, written here
    pushgateway: str | None = None  # overrides the budget's prometheus.pushgateway
    lenient: bool = False  # a misspelt budget key warns instead of stopping the check
    # Other jobs' saved results (files, folders, globs) merged with this one's into the comment and verdict
    fan_in: tuple[str, ...] = ()
    expect: tuple[str, ...] = ()  # the matrix legs that should report, with fan_in


@dataclass(frozen=True)
class Survey:
    options: CheckOptions
    budget: Budget  # with the command line's overrides applied
    benchmarks: tuple[BenchmarkSpec, ...]
    context: CiContext
    hardware: Hardware
    notes: tuple[str, ...]  # for the whole check (other processes on the GPU, GPU selection)
    secrets: Secrets  # the credentials in the environment, the budget's carbon tokens among them


@dataclass(frozen=True)
class Plan:
    survey: Survey
    intensity: Intensity | None  # None: the budget names no carbon source
    tracking_uri: str
    repository: str | None  # owner/name, for experiment names
    result_path: Path  # the local result file, written after each measurement
    notes: tuple[str, ...]
    cwd: Path
    server_url: str  # GitHub's, for links in MLflow

    @property
    def options(self) -> CheckOptions:
        return self.survey.options

    @property
    def budget(self) -> Budget:
        return self.survey.budget

    @property
    def context(self) -> CiContext:
        return self.survey.context

    @property
    def hardware(self) -> Hardware:
        return self.survey.hardware

    @property
    def benchmarks(self) -> tuple[BenchmarkSpec, ...]:
        return self.survey.benchmarks

    @property
    def secrets(self) -> Secrets:
        return self.survey.secrets


@dataclass(frozen=True)
class Job:
    """One benchmark of the plan: its rules on this branch and the branch its baseline comes from."""

    plan: Plan
    spec: BenchmarkSpec
    rules: Rules
    baseline_rule: BaselineSpec
    baseline_branch: str


def job(the_plan: Plan, spec: BenchmarkSpec) -> Job:
    ctx = the_plan.context
    rules, rule = the_plan.budget.for_branch(spec, ctx.branch)
    chosen = baseline_rules.baseline_branch(
        rule.branch, ctx.base_branch, ctx.default_branch, ctx.branch, cli_branch=the_plan.options.base_branch
    )
    return Job(the_plan, spec, rules, rule, chosen)


def with_comparison_mode(budget: Budget, mode: ComparisonMode) -> tuple[Budget, str | None]:
    """The command line's (the action's `mode` input's) comparison mode wins over the budget's; when
    the budget file chose another mode itself, the returned warning says which one was overridden."""
    chosen = budget.comparison.mode
    warning = None
    if budget.sets("comparison", "mode") and chosen != mode:
        where = f"{budget.path}:{budget.line_of('comparison', 'mode')}"
        warning = (
            f"comparison mode {mode} (--comparison-mode, the action's `mode` input) overrides "
            f"comparison.mode: {chosen} in {where}; remove one of them to silence this"
        )
    return replace(budget, comparison=replace(budget.comparison, mode=mode)), warning


def survey(opts: CheckOptions, *, env: Mapping[str, str], cwd: Path, log: Callable[[str], None]) -> Survey:
    budget = load_budget(opts.budget_path, lenient=opts.lenient)
    found = check_secrets(budget, env)
    for warning in budget.warnings:
        log(f"warning: {warning}")
    if opts.comparison_mode is not None:
        budget, override = with_comparison_mode(budget, opts.comparison_mode)
        if override:
            log(f"warning: {override}")
    chosen = [budget.benchmark(name) for name in opts.benchmarks] if opts.benchmarks else list(budget.benchmarks)
    detected = ci.detect(env, cwd)
    context = replace(
        detected,
        branch=opts.branch or detected.branch,
        base_branch=opts.base_branch or detected.base_branch,
        commit=opts.commit or detected.commit,
    )
    hw = hardware_detection.detect()
    specs = tuple(_override(spec, opts) for spec in chosen)
    return Survey(opts, budget, specs, context, hw, tuple(hw.warnings()), found)


def check_secrets(budget: Budget, env: Mapping[str, str]) -> Secrets:
    """The check's secrets, activated for this process; in GitHub Actions also masked in the log, before
    anything (the benchmark's output above all) could print one."""
    found = Secrets.from_env(env, [source.token_env for source in budget.carbon.sources])
    activate(found)
    hardening.scrub(found.names, found.values)  # out of /proc/<gate>/environ, where a benchmark could look
    if actions.in_actions(env):
        actions.add_masks(found.mask_values())
    return found


def complete(found: Survey, *, env: Mapping[str, str], cwd: Path, log: Callable[[str], None]) -> Plan:
    from gate.carbon import intensity as carbon
    from gate.carbon import sources  # heavy boundaries, imported on use
    from gate.tracking import credentials

    intensity = carbon.resolve(found.budget.carbon, sources.providers(env, cwd), log)
    notes = found.notes if intensity is not None else (*found.notes, NO_CARBON_SOURCE)
    repository = found.context.repository or schema.repository_from_remote(ci.remote_url(cwd))
    uri = credentials.resolve_tracking_uri(env, cwd)
    server_url = env.get("GITHUB_SERVER_URL", "https://github.com")
    return Plan(found, intensity, uri, repository, local_result_path(cwd), notes, cwd, server_url)


def _override(spec: BenchmarkSpec, opts: CheckOptions) -> BenchmarkSpec:
    return replace(
        spec,
        repeats=opts.repeats if opts.repeats is not None else spec.repeats,
        # --repeats N asks for exactly N: it turns adaptive repeats off.
        repeats_max=None if opts.repeats is not None else spec.repeats_max,
        warmup=opts.warmup if opts.warmup is not None else spec.warmup,
    )
