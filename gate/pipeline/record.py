"""Record stage: log the run to MLflow, or keep it in the spool when MLflow is out.

In paired mode the base side is logged first, as a run of its own that never becomes a baseline,
so that the PR's run can name it as its baseline.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from gate import __version__, paths
from gate.compare import baseline_rules
from gate.compare.model import Baseline, Verdict
from gate.config.budget import BenchmarkSpec
from gate.energy.model import RunSummary
from gate.errors import RecordRefused, TrackingError
from gate.github.context import CiContext
from gate.pipeline.plan import Plan
from gate.tracking import credentials, schema, spool

if TYPE_CHECKING:
    from gate.tracking.mlflow_store import MlflowStore


@dataclass(frozen=True)
class Subject:
    """What one record is about: the run's figures, verdict and baseline."""

    experiment: str
    spec: BenchmarkSpec
    summary: RunSummary
    verdict: Verdict
    failed: bool  # the benchmark failed or did not report what the rules need
    baseline: Baseline | None
    started_ms: int
    waiver: str | None = None  # schema.waiver_tag(): a label waived a regression of this run
    baseline_branch: str | None = None  # the branch this run's checks compare against (None: any)
    # The verdict the check reports if MLflow cannot take the run (policy mlflow_unavailable applied):
    # what a spooled run is uploaded with later. None: the same as `verdict`.
    outage_verdict: Verdict | None = None


@dataclass(frozen=True)
class Recorded:
    run_id: str | None = None
    run_url: str | None = None
    notes: tuple[str, ...] = ()
    outage: TrackingError | None = None  # MLflow failed before or while logging


def paired_base(
    store: MlflowStore, plan: Plan, subject: Subject, base: RunSummary, log: Callable[[str], None]
) -> Baseline | None:
    """Log the base side of a paired comparison; the baseline with its MLflow run, None if not logged."""
    baseline = subject.baseline
    if baseline is None or not baseline.paired:
        return None
    context = replace(plan.context, commit=baseline.commit, branch=baseline.branch)
    side = replace(subject, summary=base, verdict="error" if subject.failed else "pass", baseline=None)
    run = run_record(plan, side, context, compared=False, tags={schema.TAG_COMPARISON: "paired-base"})
    logged = log_or_spool(store, plan, run, None, subject.spec.name, log)
    if logged.run_id is None:
        return None
    return replace(baseline, run_id=logged.run_id, url=logged.run_url)


def record(
    store: MlflowStore | None,
    plan: Plan,
    subject: Subject,
    outage: TrackingError | None,
    log: Callable[[str], None],
) -> Recorded:
    # Compared with MLflow's baseline (no outage so far): only then may the run become a baseline.
    tags = {schema.TAG_COMPARISON: "paired" if subject.baseline.paired else "history"} if subject.baseline else {}
    if subject.waiver is not None:
        tags = {**tags, schema.TAG_WAIVER: subject.waiver}
    run = run_record(plan, subject, plan.context, compared=outage is None, tags=tags)
    spooled_run = None
    if subject.outage_verdict is not None and subject.outage_verdict != subject.verdict:
        spooled = replace(subject, verdict=subject.outage_verdict)
        spooled_run = run_record(
            plan, spooled, plan.context, compared=outage is None, tags=tags, result_id=run.result_id
        )
    return log_or_spool(store, plan, run, outage, subject.spec.name, log, spooled_run)


def log_or_spool(
    store: MlflowStore | None,
    plan: Plan,
    run: schema.RunRecord,
    outage: TrackingError | None,
    name: str,
    log: Callable[[str], None],
    spooled_run: schema.RunRecord | None = None,
) -> Recorded:
    """Log `run`; when MLflow is out, spool it (as `spooled_run` when given: the same record with the
    verdict the check then reports, as the mlflow_unavailable policy makes it)."""
    if store is not None and outage is None:
        try:
            run_id, run_url, _ = store.log_record(run, first_write=True)  # made by this check, never sent
            log(f"[{name}] logged MLflow run {run_url or run_id}")
            return Recorded(run_id, run_url)
        except RecordRefused as exc:
            # Not an outage: spooled, it would fail every later upload. Kept aside, with the reason.
            kept = spool.put(paths.spool_dir(plan.cwd) / spool.REFUSED, run, reason=exc.message)
            log(f"[{name}] error: {exc.render()}")
            log(f"[{name}] run kept in {kept} (not spooled for upload: MLflow would refuse it again)")
            return Recorded(
                notes=(f"Not logged to MLflow: it refused the run ({exc.message}); kept in {kept}.",), outage=exc
            )
        except TrackingError as exc:
            outage = exc
    if spooled_run is not None:
        run = spooled_run
    path = spool.put(
        paths.spool_dir(plan.cwd),
        run,
        reason=outage.message if outage else "MLflow unavailable",
        destination=credentials.describe_uri(plan.tracking_uri),
    )
    log(f"[{name}] MLflow unavailable: run spooled in {path} (`green-gate upload` logs it later)")
    note = f"Not logged to MLflow: kept in {path}; `green-gate upload` logs it later."
    return Recorded(notes=(note,), outage=outage)


def run_record(
    plan: Plan,
    subject: Subject,
    context: CiContext,
    *,
    compared: bool,
    tags: Mapping[str, str],
    result_id: str | None = None,
) -> schema.RunRecord:
    spec, opts = subject.spec, plan.options
    try:
        budget_hash: str | None = schema.budget_sha256(opts.budget_path.read_bytes())
    except OSError:
        budget_hash = None
    identity = schema.RunIdentity(
        benchmark=spec.name,
        repository=plan.repository,
        commit=context.commit,
        branch=context.branch,
        base_branch=context.base_branch,
        pr_number=context.pr_number,
        event_name=context.event_name,
        ci_run_url=context.run_url,
        server_url=plan.server_url,
    )
    facts = schema.RunFacts(
        verdict=subject.verdict,
        # Only runs of the baseline branch itself (never a PR's, nor another branch's) that stayed
        # within budget become baselines.
        baseline_eligible=compared
        and context.may_become_baseline
        and (subject.baseline_branch is None or baseline_rules.may_be_baseline(context.branch, subject.baseline_branch))
        and subject.verdict in ("pass", "warn"),
        hardware=plan.hardware.to_dict(),
        command=spec.display_command,
        kind=spec.kind,
        # Adaptive repeats: how many ran, which the summary's statistics rest on.
        repeats=subject.summary.repeats if spec.adaptive else spec.repeats,
        warmup=spec.warmup,
        timeout_s=spec.timeout_s,
        budget_file=str(opts.budget_path),
        budget_sha256=budget_hash,
        gate_version=__version__,
        baseline_run_id=subject.baseline.run_id if subject.baseline else None,
        failed=subject.failed,
        extra_tags=dict(tags),
        unit=spec.unit,
    )
    return schema.build_run_record(
        result_id=result_id or uuid.uuid4().hex,
        experiment=subject.experiment,
        identity=identity,
        facts=facts,
        summary=subject.summary,
        start_time_ms=subject.started_ms,
        end_time_ms=int(time.time() * 1000),
    )
