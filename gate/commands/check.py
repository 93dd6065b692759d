"""`green-gate check`: run, measure, record, compare, report.

Order matters for "nothing measured is lost": the local result file is written as soon as a
benchmark is measured, before MLflow is asked anything.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate import __version__
from gate.bench.runner import BenchmarkFailed, EnergyMeter, run_benchmark
from gate.carbon import intensity as carbon
from gate.compare import baseline_rules, verdict
from gate.compare.model import Verdict
from gate.config.budget import BenchmarkSpec, Budget, Outcome, Policy, Rules, load_budget
from gate.devices import hardware
from gate.energy import meters
from gate.energy.summary import summarise
from gate.errors import BenchmarkError, ConfigError, ExitCode, GateError, TrackingError
from gate.github import actions as github_actions
from gate.github import context as ci
from gate.output import report
from gate.output.result import BenchmarkOutcome, build_document, local_result_path, write_json
from gate.tracking import schema, spool

if TYPE_CHECKING:
    from gate.bench.thermal import ThermalControl

DEFAULT_REPORT = Path(".green-gate") / "report.md"


@dataclass(frozen=True)
class CheckOptions:
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
    comparison_mode: str | None = None  # overrides the budget's comparison.mode
    record: bool = True
    comment: bool = False  # post the sticky PR comment (also GREEN_GATE_COMMENT=true)
    comment_template: Path | None = None
    check_run: bool = False


@dataclass
class _Session:
    """What one check has learned so far; turned into the result document at any point."""

    opts: CheckOptions
    env: Mapping[str, str]
    cwd: Path
    budget: Budget | None = None
    context: ci.CiContext | None = None
    hardware: hardware.Hardware | None = None
    tracking_uri: str | None = None
    outcomes: list[BenchmarkOutcome] | None = None
    notes: list[str] | None = None
    result_path: Path | None = None

    def document(self, verdict_: Verdict, exit_code: int | None, error: GateError | None = None) -> dict[str, Any]:
        hw = self.hardware
        return build_document(
            verdict=verdict_,
            exit_code=exit_code,
            budget_file=str(self.opts.budget_path),
            tracking_uri=self.tracking_uri,
            context=self.context.to_dict() if self.context else {},
            hardware={**hw.to_dict(), "description": hw.describe()}
            if hw
            else {"description": "not detected", "fingerprint": "-"},
            outcomes=self.outcomes or [],
            notes=self.notes or [],
            error={"title": error.title, "message": error.render(), "hint": None} if error else None,
        )


def run(
    opts: CheckOptions,
    *,
    env: Mapping[str, str],
    cwd: Path,
    meter: EnergyMeter | None = None,
    log: Callable[[str], None] | None = None,
) -> int:
    log = log or _stderr
    session = _Session(opts, env, cwd, outcomes=[], notes=[])
    try:
        return _check(session, meter, log)
    except GateError as exc:
        _report_error(session, exc, log)
        return int(exc.exit_code)


def _check(session: _Session, meter: EnergyMeter | None, log: Callable[[str], None]) -> int:
    opts, env, cwd = session.opts, session.env, session.cwd
    budget = session.budget = load_budget(opts.budget_path)
    for warning in budget.warnings:
        log(f"warning: {warning}")
    specs = [budget.benchmark(name) for name in opts.benchmarks] if opts.benchmarks else list(budget.benchmarks)
    specs = [_override(spec, opts) for spec in specs]

    context = ci.detect(env, cwd)
    context = session.context = replace(
        context,
        branch=opts.branch or context.branch,
        base_branch=opts.base_branch or context.base_branch,
        commit=opts.commit or context.commit,
    )
    hw = session.hardware = hardware.detect()
    session.notes = [*(session.notes or []), *hw.warnings()]  # other processes on the GPU, GPU selection
    from gate.carbon import sources as carbon_sources  # heavy boundaries, imported on use
    from gate.tracking import mlflow_store as tracking_mlflow

    intensity = carbon.resolve(budget.carbon, carbon_sources.providers(env, cwd), log)
    if intensity is None:
        session.notes = [*(session.notes or []), "No carbon source in the budget file: gCO2eq not computed."]
    uri = session.tracking_uri = tracking_mlflow.resolve_tracking_uri(env, cwd)
    meter = meter or meters.choose_meter(budget.energy, env=env, log=log)  # NVML engine with GPUs, else codecarbon
    session.result_path = local_result_path(cwd)
    store: tracking_mlflow.MlflowStore | None = None
    store_error: TrackingError | None = None

    log(f"budget {opts.budget_path}: {len(specs)} benchmark(s); hardware {hw.describe()} [{hw.fingerprint}]")
    log(f"MLflow: {tracking_mlflow.describe_uri(uri)}")
    repository = context.repository or schema.repository_from_remote(ci.remote_url(cwd))
    for spec in specs:
        rules, baseline_spec = budget.for_branch(spec, context.branch)
        outcome = BenchmarkOutcome(
            name=spec.name,
            kind=spec.kind,
            command=spec.display_command,
            repeats=spec.repeats,
            warmup=spec.warmup,
            baseline_branch=baseline_rules.baseline_branch(baseline_spec.branch, context.base_branch, context.branch),
        )
        assert session.outcomes is not None
        session.outcomes.append(outcome)
        started_ms = int(time.time() * 1000)
        if budget.comparison.mode == "paired":
            _measure_paired(session, outcome, spec, meter, intensity, log, why="comparison.mode: paired")
        else:
            _measure(outcome, spec, meter, rules, intensity, log)
        _save_local(session)  # nothing measured is lost, whatever happens next

        if store is None and store_error is None:
            try:
                store = tracking_mlflow.MlflowStore(uri)
            except TrackingError as exc:
                store_error = exc
        experiment = schema.experiment_name(budget.experiment_template, spec.name, repository)
        outage: TrackingError | None = store_error
        if store is not None and outcome.error is None and not _is_paired(outcome):
            try:
                outcome.baseline = store.find_baseline(
                    experiment,
                    branch=outcome.baseline_branch,
                    hardware_id=hw.fingerprint,
                    pinned_run_id=opts.baseline_run_id,
                    budget_run_id=baseline_spec.run_id,
                )
                outcome.history = store.trend(experiment, branch=outcome.baseline_branch, hardware_id=hw.fingerprint)
            except TrackingError as exc:
                outage = exc
        _decide(outcome, rules, budget, hw, outage)
        if budget.comparison.mode == "auto" and outcome.error is None and outcome.decision is not None:
            _auto_paired(session, outcome, spec, meter, rules, intensity, hw, outage, log)
        if opts.record and outcome.summary is not None:
            if store is not None and outage is None:
                _log_paired_base(store, experiment, outcome, spec, session, repository, started_ms, log)
            # Compared with MLflow's baseline (no outage so far): only then may the run become a baseline.
            record = _run_record(experiment, outcome, spec, session, repository, started_ms, outage is None)
            outage = _log_or_spool(store, record, outcome, outage, session, log)
        if outage is not None and outcome.decision is not None:
            policy = budget.policy.mlflow_unavailable
            log(f"warning: {outage.render()}")
            outcome.decision = verdict.apply_outage(
                outcome.decision,
                policy,
                f"MLflow unavailable ({outage.message}); policy mlflow_unavailable: {policy} decided. "
                f"The result is kept in {session.result_path}.",
            )
        _save_local(session)

    return _finish(session, log)


def _override(spec: BenchmarkSpec, opts: CheckOptions) -> BenchmarkSpec:
    return replace(
        spec,
        repeats=opts.repeats if opts.repeats is not None else spec.repeats,
        warmup=opts.warmup if opts.warmup is not None else spec.warmup,
    )


def _missing_policy(policy: Policy, outage: TrackingError | None) -> Outcome:
    # Without MLflow there is no baseline either; the outage policy then speaks for it.
    return "pass" if outage is not None else policy.missing_baseline


def _measure(
    outcome: BenchmarkOutcome,
    spec: BenchmarkSpec,
    meter: EnergyMeter,
    rules: Rules,
    intensity: Any,
    log: Callable[[str], None],
) -> None:
    thermal = _thermal(spec)
    try:
        bench_run = run_benchmark(spec, meter, echo=_echo, log=log, thermal=thermal)
        repeats = bench_run.repeats
    except BenchmarkFailed as exc:
        outcome.error = exc.render()
        outcome.output_tail = exc.tail
        repeats = exc.completed
    outcome.notes.extend(thermal.notes if thermal else [])
    if repeats:
        outcome.summary = summarise(repeats, intensity)
    if outcome.error is None and outcome.summary is not None:
        missing = verdict.missing_inputs(rules, outcome.summary)
        if missing:
            outcome.error = "; ".join(missing)


def _run_record(
    experiment: str,
    outcome: BenchmarkOutcome,
    spec: BenchmarkSpec,
    session: _Session,
    repository: str | None,
    started_ms: int,
    compared: bool,
    extra_tags: Mapping[str, str] | None = None,
) -> schema.RunRecord:
    summary = outcome.summary
    assert summary is not None and session.context is not None and session.hardware is not None
    ctx = session.context
    try:
        budget_hash: str | None = schema.budget_sha256(session.opts.budget_path.read_bytes())
    except OSError:
        budget_hash = None
    identity = schema.RunIdentity(
        benchmark=spec.name,
        repository=repository,
        commit=ctx.commit,
        branch=ctx.branch,
        base_branch=ctx.base_branch,
        pr_number=ctx.pr_number,
        event_name=ctx.event_name,
        ci_run_url=ctx.run_url,
        server_url=session.env.get("GITHUB_SERVER_URL", "https://github.com"),
    )
    facts = schema.RunFacts(
        verdict=outcome.verdict,
        baseline_eligible=compared and _baseline_eligible(ctx, outcome),
        hardware=session.hardware.to_dict(),
        command=spec.display_command,
        kind=spec.kind,
        repeats=spec.repeats,
        warmup=spec.warmup,
        timeout_s=spec.timeout_s,
        budget_file=str(session.opts.budget_path),
        budget_sha256=budget_hash,
        gate_version=__version__,
        baseline_run_id=outcome.baseline.run_id if outcome.baseline else None,
        failed=outcome.error is not None,
        extra_tags={**_comparison_tag(outcome), **(extra_tags or {})},
    )
    return schema.build_run_record(
        result_id=uuid.uuid4().hex,
        experiment=experiment,
        identity=identity,
        facts=facts,
        summary=summary,
        start_time_ms=started_ms,
        end_time_ms=int(time.time() * 1000),
    )


def _log_or_spool(
    store: Any,
    record: schema.RunRecord,
    outcome: BenchmarkOutcome,
    outage: TrackingError | None,
    session: _Session,
    log: Callable[[str], None],
) -> TrackingError | None:
    """Log the run to MLflow; when MLflow is out, keep it in the spool for `green-gate upload`."""
    if store is not None and outage is None:
        try:
            outcome.mlflow_run_id, outcome.mlflow_run_url, _ = store.log_record(record)
            log(f"[{outcome.name}] logged MLflow run {outcome.mlflow_run_url or outcome.mlflow_run_id}")
            return None
        except TrackingError as exc:
            outage = exc
    path = spool.put(spool.spool_dir(session.cwd), record, reason=outage.message if outage else "MLflow unavailable")
    outcome.notes.append(f"Not logged to MLflow: kept in {path}; `green-gate upload` logs it later.")
    log(f"[{outcome.name}] MLflow unavailable: run spooled in {path} (`green-gate upload` logs it later)")
    return outage


def _baseline_eligible(ctx: ci.CiContext, outcome: BenchmarkOutcome) -> bool:
    """Only runs of a branch itself (never a PR's) that stayed within budget become baselines."""
    return not ctx.is_pull_request and outcome.verdict in ("pass", "warn")


def _finish(session: _Session, log: Callable[[str], None]) -> int:
    outcomes = session.outcomes or []
    overall = verdict.worst([o.verdict for o in outcomes])
    if overall == "error":
        exit_code = ExitCode.BENCHMARK_FAILED
    elif overall == "fail":
        exit_code = ExitCode.BUDGET_EXCEEDED
    else:
        exit_code = ExitCode.OK
    document = session.document(overall, int(exit_code))
    _publish(session, document, log)
    for outcome in outcomes:
        _annotate_checks(session, outcome)
    comment_exit = _comment(session, document, log)
    return int(exit_code) if comment_exit is None else comment_exit


def _comment(session: _Session, document: dict[str, Any], log: Callable[[str], None]) -> int | None:
    """The PR comment, after every output is written: only a broken user template changes the exit code."""
    from gate.commands import comment

    opts, env = session.opts, session.env
    if not comment.enabled(env, opts.comment):
        return None
    try:
        comment.publish(
            document,
            env,
            template_path=opts.comment_template,
            check_run=opts.check_run or comment.enabled_check_run(env),
            log=log,
            summary_has_report=True,
        )
    except ConfigError as exc:
        log(f"error: {exc.render()}")
        if github_actions.in_actions(env):
            github_actions.annotate("error", exc.message, file=exc.file, line=exc.line, title=exc.title)
        return int(exc.exit_code)
    return None


def _publish(session: _Session, document: dict[str, Any], log: Callable[[str], None]) -> None:
    """Write every output; each is independent of the others."""
    env, cwd, opts = session.env, session.cwd, session.opts
    if session.result_path is not None:
        write_json(session.result_path, document)
    if opts.json_path is not None:
        write_json(opts.json_path, document)
    markdown = report.render(document)
    report_path = opts.report_path or cwd / DEFAULT_REPORT
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(markdown, encoding="utf-8")
    sys.stdout.write(markdown)
    sys.stdout.flush()
    github_actions.append_step_summary(env, markdown)
    outputs = {"verdict": document["verdict"], "report_path": str(report_path)}
    if session.result_path is not None:
        outputs["result_path"] = str(session.result_path)
    first = document["benchmarks"][0] if document["benchmarks"] else None
    if first and "energy_per_prediction_j" in first["metrics"]:
        outputs["energy_per_prediction_j"] = f"{first['metrics']['energy_per_prediction_j']:.6g}"
    if first:
        changes = [
            c["change_pct"]
            for c in first["checks"]
            if c["metric"] == "energy_per_prediction_j" and c["change_pct"] is not None
        ]
        if changes:
            outputs["change_pct"] = f"{changes[0]:.2f}"
    github_actions.set_outputs(env, outputs)
    log(f"verdict: {document['verdict']} (report: {report_path})")


def _annotate_checks(session: _Session, outcome: BenchmarkOutcome) -> None:
    if not github_actions.in_actions(session.env) or outcome.decision is None:
        return
    for check in outcome.decision.checks:
        if check.status in ("warn", "fail"):
            github_actions.annotate(
                "error" if check.status == "fail" else "warning",
                f"{outcome.name}: {check.metric} {check.reason} ({check.limit})",
                file=str(session.opts.budget_path),
                line=check.source_line,
                title=f"green-gate {check.status}",
            )


def _save_local(session: _Session) -> None:
    if session.result_path is not None:
        outcomes = session.outcomes or []
        write_json(session.result_path, session.document(verdict.worst([o.verdict for o in outcomes]), None))


def _report_error(session: _Session, exc: GateError, log: Callable[[str], None]) -> None:
    log(f"error: {exc.render()}")
    if github_actions.in_actions(session.env):
        github_actions.annotate("error", exc.message, file=exc.file, line=exc.line, title=exc.title)
    document = session.document("error", int(exc.exit_code), exc)
    if session.result_path is not None:
        write_json(session.result_path, document)
    if session.opts.json_path is not None:
        write_json(session.opts.json_path, document)
    if isinstance(exc, BenchmarkError) or session.outcomes:
        markdown = report.render(document)
        github_actions.append_step_summary(session.env, markdown)
    github_actions.set_outputs(session.env, {"verdict": "error"})


def _echo(line: str) -> None:
    sys.stderr.write(f"  | {line}\n")
    sys.stderr.flush()


def _stderr(message: str) -> None:
    sys.stderr.write(f"green-gate: {message}\n")
    sys.stderr.flush()


# --- noise-aware comparison: hardware check, thermal control, paired mode (issue 4) -----------


def _decide(
    outcome: BenchmarkOutcome, rules: Rules, budget: Budget, hw: hardware.Hardware, outage: TrackingError | None
) -> None:
    if outcome.error is None and outcome.summary is not None:
        outcome.decision = verdict.evaluate(
            outcome.summary,
            outcome.baseline,
            rules,
            missing_baseline=_missing_policy(budget.policy, outage),
            comparison=budget.comparison,
            hardware_differences=_hardware_differences(outcome, hw),
            not_comparable=budget.policy.not_comparable,
        )


def _hardware_differences(outcome: BenchmarkOutcome, hw: hardware.Hardware) -> tuple[str, ...]:
    base = outcome.baseline
    return () if base is None else hardware.differences(base.hardware, base.hardware_id, hw)


def _is_paired(outcome: BenchmarkOutcome) -> bool:
    return outcome.baseline is not None and outcome.baseline.paired


def _thermal(spec: BenchmarkSpec) -> ThermalControl | None:
    from gate.bench.thermal import ThermalControl
    from gate.devices import nvml as gpu_nvml

    control = ThermalControl(spec.cooldown_s, spec.max_start_temperature_c, gpu_nvml.temperatures_c)
    return control if control.active else None


def _auto_paired(
    session: _Session,
    outcome: BenchmarkOutcome,
    spec: BenchmarkSpec,
    meter: EnergyMeter,
    rules: Rules,
    intensity: Any,
    hw: hardware.Hardware,
    outage: TrackingError | None,
    log: Callable[[str], None],
) -> None:
    """`mode: auto`: when history cannot settle it, measure paired and decide on that instead."""
    from gate.bench import paired

    why = paired.auto_reason(outcome.baseline, outcome.decision, rules, _hardware_differences(outcome, hw))
    if why is None:
        return
    history = outcome.decision
    if _measure_paired(session, outcome, spec, meter, intensity, log, why=f"comparison.mode: auto, {why}"):
        assert session.budget is not None
        _decide(outcome, rules, session.budget, hw, outage)
    elif history is not None:
        outcome.decision = history


def _measure_paired(
    session: _Session,
    outcome: BenchmarkOutcome,
    spec: BenchmarkSpec,
    meter: EnergyMeter,
    intensity: Any,
    log: Callable[[str], None],
    *,
    why: str,
) -> bool:
    """Measure base and PR alternately; outcome gets the PR's summary and a paired baseline.
    Returns False (with a note) when auto mode cannot pair; in paired mode that is an error."""
    from gate.bench import paired

    budget, ctx, hw = session.budget, session.context, session.hardware
    assert budget is not None and ctx is not None and hw is not None
    try:
        repo = paired.repository_root(spec.working_directory)
        base_commit = paired.resolve_base_commit(repo, budget.comparison, ctx.base_commit, outcome.baseline_branch)
    except paired.PairedError as exc:
        if budget.comparison.mode == "paired":
            raise
        outcome.notes.append(f"Paired comparison not run ({why}): {exc.message}.")
        return False
    if budget.comparison.mode == "auto" and ctx.commit and base_commit.startswith(ctx.commit):
        outcome.notes.append(f"Paired comparison not run ({why}): the base is this commit.")
        return False
    log(f"[{spec.name}] paired with base {base_commit[:12]} ({why})")
    thermal = _thermal(spec)
    with paired.base_worktree(repo, base_commit) as tree:
        base_spec, fallback = paired.base_spec(spec, repo, tree, session.opts.budget_path)
        if fallback:
            outcome.notes.append(f"Paired comparison: {fallback}.")
        try:
            result = paired.measure(
                spec,
                base_spec,
                meter,
                intensity,
                base_commit=base_commit,
                base_branch=outcome.baseline_branch,
                hardware_id=hw.fingerprint,
                hardware=hw.to_dict(),
                echo=_echo,
                log=log,
                thermal=thermal,
            )
        except BenchmarkFailed as exc:
            if budget.comparison.mode == "auto":  # the history measurement and verdict stand
                outcome.notes.append(f"Paired comparison failed ({why}): {exc.message}. The history comparison stands.")
            else:
                outcome.error, outcome.output_tail = exc.render(), exc.tail
            return False
        finally:
            outcome.notes.extend(thermal.notes if thermal else [])
    outcome.summary, outcome.baseline, outcome.paired_base = result.candidate, result.baseline, result.base
    missing = verdict.missing_inputs(budget.for_branch(spec, ctx.branch)[0], result.candidate)
    if missing:
        outcome.error = "; ".join(missing)
    outcome.notes.append(
        f"Paired comparison ({why}): base {base_commit[:7]} and this commit ran alternately on this machine, "
        f"{spec.repeats} pairs in the order {' '.join('B' if s == 'base' else 'P' for s in result.order)} "
        "(B base, P this PR)."
    )
    return True


def _comparison_tag(outcome: BenchmarkOutcome) -> dict[str, str]:
    if outcome.baseline is None:
        return {}
    return {schema.TAG_COMPARISON: "paired" if outcome.baseline.paired else "history"}


def _log_paired_base(
    store: Any,
    experiment: str,
    outcome: BenchmarkOutcome,
    spec: BenchmarkSpec,
    session: _Session,
    repository: str | None,
    started_ms: int,
    log: Callable[[str], None],
) -> None:
    """Log the base side of a paired comparison as its own run (never a baseline for later checks)."""
    from gate.compare.model import Decision

    base = outcome.baseline
    if base is None or not base.paired or outcome.paired_base is None or session.context is None:
        return
    base_outcome = replace(outcome, summary=outcome.paired_base, baseline=None, decision=Decision("pass", ()), notes=[])
    base_session = replace(session, context=replace(session.context, commit=base.commit, branch=base.branch))
    record = _run_record(
        experiment,
        base_outcome,
        spec,
        base_session,
        repository,
        started_ms,
        False,
        {schema.TAG_COMPARISON: "paired-base"},
    )
    _log_or_spool(store, record, base_outcome, None, session, log)
    if base_outcome.mlflow_run_id:
        outcome.baseline = replace(base, run_id=base_outcome.mlflow_run_id, url=base_outcome.mlflow_run_url)
