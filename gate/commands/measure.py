"""`green-gate measure --out DIR`: the measuring half of a two-half check.

Runs in the pull request's job with no credentials: the benchmark (in paired mode the base commit
too), every repeat kept, written with where it was measured (head commit, run id, the budget file's
hash and text) to DIR/measurement.json for `green-gate judge` in a `workflow_run` job. It never asks
MLflow anything and never opens a local store: nothing the pull request's code can write decides
the comparison. The artifact is rewritten after each benchmark, so a cancelled job still leaves
what it measured.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from gate import console
from gate.config.budget import ComparisonMode
from gate.energy.meter import EnergyMeter
from gate.errors import ConfigError, ExitCode, GateError
from gate.files import read_regular
from gate.github import actions
from gate.output import measurement as artifact
from gate.pipeline import measure as measure_stage
from gate.pipeline import paired, plan
from gate.pipeline.measure import Measurement
from gate.pipeline.plan import CheckOptions, Plan
from gate.secrets import Secrets

NO_CREDENTIALS_NEEDED = (
    "{names} set in the measuring job: `green-gate measure` needs no credentials, and the pull "
    "request's code runs in this job; remove them (the judging job holds them)"
)
AUTO_NOTE = (
    "comparison.mode auto: the measuring job cannot read history, so it measured for a history comparison; "
    "set comparison.mode: paired to measure the base commit in the same job."
)
ADAPTIVE_NOTE = "Adaptive repeats: the measuring job cannot read the baseline, so it ran the maximum, {n}."


@dataclass(frozen=True)
class MeasureOptions:
    budget_path: Path
    out_dir: Path
    benchmarks: tuple[str, ...] = ()
    repeats: int | None = None
    warmup: int | None = None
    comparison_mode: ComparisonMode | None = None


def run(
    opts: MeasureOptions,
    *,
    env: Mapping[str, str],
    cwd: Path,
    meter: EnergyMeter | None = None,
    log: Callable[[str], None] | None = None,
) -> int:
    log = log or console.log
    check_opts = CheckOptions(
        budget_path=opts.budget_path,
        benchmarks=opts.benchmarks,
        repeats=opts.repeats,
        warmup=opts.warmup,
        comparison_mode=opts.comparison_mode,
        record=False,
    )
    written: artifact.Artifact | None = None
    try:
        survey = plan.survey(check_opts, env=env, cwd=cwd, log=log)
        _warn_credentials(env, log)
        the_plan = _plan(survey, env, cwd, log)
        if meter is None:
            from gate.energy import meters

            meter = meters.choose_meter(the_plan.budget.energy, env=env, log=log)
        written = _empty(the_plan, env)
        artifact.write(opts.out_dir, written)
        for spec in the_plan.benchmarks:
            before = written

            def keep(partial: Measurement, before: artifact.Artifact = before, name: str = spec.name) -> None:
                # After each repeat: a cancelled job still hands over the repeats it measured.
                nonlocal written
                written = replace(before, benchmarks=(*before.benchmarks, _measured(name, partial)))
                artifact.write(opts.out_dir, written)

            measured = _measure(plan.job(the_plan, spec), meter, log, keep)
            written = replace(before, benchmarks=(*before.benchmarks, _measured(spec.name, measured)))
            artifact.write(opts.out_dir, written)
        written = replace(written, complete=True)
        path = artifact.write(opts.out_dir, written)
    except GateError as exc:
        log(f"error: {exc.render()}")
        if actions.in_actions(env):
            actions.annotate("error", exc.message, file=exc.file, line=exc.line, title=exc.title)
        if written is not None:  # what was measured before the error or the signal is kept
            artifact.write(opts.out_dir, replace(written, notes=(*written.notes, f"stopped: {exc.message}")))
        return int(exc.exit_code)
    failed = [b.name for b in written.benchmarks if b.error is not None]
    log(f"measured {len(written.benchmarks)} benchmark(s) into {path}; the judging workflow decides the verdict")
    lines = [f"green-gate measured {len(written.benchmarks)} benchmark(s); the judging workflow decides the verdict."]
    for b in written.benchmarks:
        lines.append(f"- {b.name}: " + ("failed" if b.error else f"{b.summary.repeats if b.summary else 0} repeats"))
    actions.append_step_summary(env, "\n".join(lines) + "\n")
    actions.set_outputs(env, {"measurement_path": str(path)})
    return int(ExitCode.BENCHMARK_FAILED if failed else ExitCode.OK)


def _plan(survey: plan.Survey, env: Mapping[str, str], cwd: Path, log: Callable[[str], None]) -> Plan:
    """The check's plan without a tracking store: the measuring half never opens MLflow, local or remote."""
    from gate.carbon import intensity as carbon
    from gate.carbon import sources

    intensity = carbon.resolve(survey.budget.carbon, sources.providers(env, cwd), log)
    notes = survey.notes if intensity is not None else (*survey.notes, plan.NO_CARBON_SOURCE)
    specs = tuple(
        replace(spec, repeats=spec.repeats_max, repeats_max=None) if spec.repeats_max is not None else spec
        for spec in survey.benchmarks
    )
    adaptive = [ADAPTIVE_NOTE.format(n=spec.repeats_max) for spec in survey.benchmarks if spec.repeats_max is not None]
    survey = replace(survey, benchmarks=specs)
    if survey.budget.comparison.mode == "auto":
        notes = (*notes, AUTO_NOTE)
    return Plan(
        survey,
        intensity,
        tracking_uri="",  # never opened
        repository=survey.context.repository,
        result_path=cwd / ".green-gate" / "results" / "unused.json",
        notes=(*notes, *adaptive),
        cwd=cwd,
        server_url=env.get("GITHUB_SERVER_URL", "https://github.com"),
    )


def _measure(
    job: plan.Job, meter: EnergyMeter, log: Callable[[str], None], keep: Callable[[Measurement], None]
) -> Measurement:
    if job.plan.budget.comparison.mode == "paired":
        return paired.measure_paired(job, meter, log, on_repeat=keep)
    return measure_stage.measure(job, meter, log, on_repeat=keep)


def _measured(name: str, measured: Measurement) -> artifact.MeasuredBenchmark:
    return artifact.MeasuredBenchmark(
        name=name,
        summary=measured.summary,
        error=measured.error,
        output_tail=measured.output_tail,
        notes=measured.notes,
        baseline=measured.baseline if measured.paired else None,
        base=measured.base,
    )


def _empty(the_plan: Plan, env: Mapping[str, str]) -> artifact.Artifact:
    budget_path = the_plan.options.budget_path
    try:
        text = read_regular(budget_path, artifact.MAX_BUDGET_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:  # read a moment ago by the survey: only a race lands here
        raise ConfigError(f"cannot read the budget file again: {exc}", file=str(budget_path)) from None
    ctx = the_plan.context
    provenance = artifact.Provenance(
        repository=ctx.repository,
        head_sha=ctx.commit,
        run_id=env.get("GITHUB_RUN_ID"),
        run_attempt=env.get("GITHUB_RUN_ATTEMPT"),
        event_name=ctx.event_name,
        pr_number=ctx.pr_number,
        head_branch=ctx.branch,
        base_branch=ctx.base_branch,
        base_sha=ctx.base_commit,
        budget_file=str(budget_path),
        budget_sha256=artifact.budget_sha256(text),
    )
    return artifact.Artifact(provenance, text, the_plan.hardware, notes=the_plan.notes)


def _warn_credentials(env: Mapping[str, str], log: Callable[[str], None]) -> None:
    found = Secrets.from_env(env)
    names = sorted(name for name in found.names if env.get(name))
    if names:
        message = NO_CREDENTIALS_NEEDED.format(names=", ".join(names))
        log(f"warning: {message}")
        if actions.in_actions(env):
            actions.annotate("warning", message, title="green-gate: credentials in the measuring job")
