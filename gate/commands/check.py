"""`green-gate check`: the check as a pipeline of stages (docs/architecture.md).

plan, then for each benchmark: measure (history or paired), save, find the baseline, decide,
pair when auto mode needs it, record, apply the outage policy; then publish. Each stage returns
frozen data; only this module strings them together. The local result file is written after each
measured repeat and again once a benchmark is measured, before MLflow is asked anything.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from gate import console
from gate.compare.model import Baseline, Decision
from gate.devices import conditions
from gate.energy.meter import ChildEnvMeter, EnergyMeter, GpuSelectingMeter
from gate.energy.model import EnergyReading
from gate.errors import CANCEL_EXIT_CODES, Cancelled, GateError
from gate.output.result import BenchmarkOutcome
from gate.pipeline import baseline, decide, measure, paired, plan, publish, record, waive
from gate.pipeline.adaptive import Stopping
from gate.pipeline.measure import Measurement
from gate.pipeline.plan import CheckOptions, Job, Plan
from gate.pipeline.publish import Snapshot
from gate.tracking import schema

__all__ = ["CheckOptions", "cancellable", "run"]


@contextlib.contextmanager
def cancellable() -> Iterator[None]:
    """SIGTERM, SIGINT and SIGHUP raise gate.errors.Cancelled in the main thread while the check runs.

    The exception unwinds through the benchmark's `finally` (its process group ended, its temporary
    folder removed) to the check's error path, which writes the result with what was measured. A
    second signal while that happens is ignored, so that the cleanup it would cut short completes.
    """
    fired = False

    def handler(signum: int, _frame: object) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        raise Cancelled(signum)

    numbers = [n for n in CANCEL_EXIT_CODES if n in {s.value for s in signal.Signals}]
    previous = {n: signal.signal(n, handler) for n in numbers}
    try:
        yield
    finally:
        for number, before in previous.items():
            signal.signal(number, before)


def run(
    opts: CheckOptions,
    *,
    env: Mapping[str, str],
    cwd: Path,
    meter: EnergyMeter | None = None,
    log: Callable[[str], None] | None = None,
) -> int:
    log = log or console.log
    seen = Snapshot(opts)
    try:
        survey = plan.survey(opts, env=env, cwd=cwd, log=log)
        seen = seen.surveyed(survey)
        the_plan = plan.complete(survey, env=env, cwd=cwd, log=log)
        seen = seen.planned(the_plan)
        if meter is None:
            from gate.energy import meters  # the NVML engine with GPUs, else codecarbon

            meter = meters.choose_meter(the_plan.budget.energy, env=env, log=log)
        seen = replace(seen, result_path=the_plan.result_path)
        _announce(the_plan, log)
        tracking = baseline.Tracking(the_plan.tracking_uri, create=the_plan.options.record)
        gathered = waive.gather(the_plan, env, log)
        for spec in the_plan.benchmarks:
            job = plan.job(the_plan, spec)
            before = seen
            seen = before.adding(_outcome(job, Measurement(None)))

            def keep(outcome: BenchmarkOutcome, before: Snapshot = before) -> None:
                # The latest partial outcome is what the error path writes if the check stops here.
                nonlocal seen
                seen = before.adding(outcome)
                publish.save(seen)

            seen = before.adding(_benchmark(job, meter, tracking, keep, log, gathered))
            publish.save(seen)
        return publish.finish(seen, env, cwd, log)
    except GateError as exc:
        return publish.failure(seen, exc, env, log)


def _benchmark(
    job: Job,
    meter: EnergyMeter,
    tracking: baseline.Tracking,
    save: Callable[[BenchmarkOutcome], None],
    log: Callable[[str], None],
    gathered: waive.Gathered = waive.NOTHING_GATHERED,
) -> BenchmarkOutcome:
    """One benchmark through the stages, from its measurement to its recorded outcome."""
    the_plan, spec = job.plan, job.spec
    budget = the_plan.budget
    started_ms = int(time.time() * 1000)
    experiment = schema.experiment_name(budget.experiment_template, spec.name, the_plan.repository)
    # Adaptive repeats decide after each repeat whether to measure another: the baseline first.
    early = _early_lookup(job, tracking, experiment) if spec.adaptive and budget.comparison.mode != "paired" else None
    if budget.comparison.mode == "paired":
        measured = paired.measure_paired(job, meter, log, on_repeat=lambda partial: save(_outcome(job, partial)))
    else:
        stopping = _stopping(job, early, tracking) if early is not None else None
        if spec.warmup > 0:
            # MLflow's import and the store's opening overlap the unmeasured warm-up, and end before
            # the first measured repeat starts.
            tracking.open_soon()
            meter = Prepared(meter, tracking.wait)
        measured = measure.measure(
            job, meter, log, on_repeat=lambda partial: save(_outcome(job, partial)), stopping=stopping
        )
    save(_outcome(job, measured))  # nothing measured is lost, whatever happens next
    return judged(job, measured, tracking, log, gathered, meter=meter, early=early, started_ms=started_ms)


def judged(
    job: Job,
    measured: Measurement,
    tracking: baseline.Tracking,
    log: Callable[[str], None],
    gathered: waive.Gathered = waive.NOTHING_GATHERED,
    *,
    meter: EnergyMeter | None = None,
    early: baseline.Lookup | None = None,
    started_ms: int | None = None,
) -> BenchmarkOutcome:
    """A measurement through the rest of the stages: its baseline, the verdict, the record.

    `green-gate check` measures then calls this; `green-gate judge` calls it with a measurement read
    from the measuring job's artifact, and no `meter`: it runs nothing, so `mode: auto` cannot pair.
    """
    the_plan, spec = job.plan, job.spec
    budget, hw = the_plan.budget, the_plan.hardware
    started_ms = started_ms if started_ms is not None else int(time.time() * 1000)
    experiment = schema.experiment_name(budget.experiment_template, spec.name, the_plan.repository)
    store, store_error = tracking.open()
    if early is not None:
        # Read before measuring; judged against the baseline the lookup prefers under the run's conditions.
        summary = measured.summary
        found = conditions.medians(summary.conditions) if summary is not None else {}
        lookup = baseline.rematch(store, early, found) if store is not None else early
    elif store is not None and measured.error is None and not measured.paired:
        summary = measured.summary
        lookup = baseline.find(store, job, experiment, conditions.medians(summary.conditions) if summary else None)
    else:
        lookup = baseline.Lookup(outage=store_error)
    decision = decide.decide(
        measured, measured.baseline or lookup.baseline, job.rules, budget, hw, lookup.outage, lookup.past_runs
    )
    if budget.comparison.mode == "auto" and measured.error is None and decision is not None and not measured.paired:
        if meter is not None:
            measured, decision = paired.auto(job, meter, measured, lookup, decision, log)
        else:
            note = "comparison.mode: auto judged on history: the measuring job ran no paired comparison."
            measured = replace(measured, notes=(*measured.notes, note))
    against = measured.baseline or lookup.baseline
    decision, applied = waive.waive(decision, the_plan, gathered)

    recorded = record.Recorded(outage=lookup.outage)
    if the_plan.options.record and measured.summary is not None:
        draft = _outcome(job, measured, baseline=against, decision=decision)
        subject = record.Subject(
            experiment,
            spec,
            measured.summary,
            draft.verdict,
            measured.error is not None,
            against,
            started_ms,
            baseline_branch=job.baseline_branch,
            outage_verdict=decide.outage_verdict(draft.verdict, budget),
        )
        if applied is not None:
            subject = replace(subject, waiver=schema.waiver_tag(applied.label, applied.login, applied.reason))
        if store is not None and lookup.outage is None and measured.base is not None:
            against = record.paired_base(store, the_plan, subject, measured.base, log) or against
            subject = replace(subject, baseline=against)
        recorded = record.record(store, the_plan, subject, lookup.outage, log)
    if recorded.outage is not None and decision is not None:
        log(f"warning: {recorded.outage.render()}")
    decision = decide.with_outage(decision, budget, recorded.outage, the_plan.result_path)
    return _outcome(job, measured, baseline=against, decision=decision, history=lookup.history, recorded=recorded)


class Prepared:
    """A meter whose first window waits for `ready()`: work started during the warm-up ends before
    anything is measured. It is the meter it wraps in every other respect."""

    def __init__(self, meter: EnergyMeter, ready: Callable[[], None]) -> None:
        self.meter = meter
        self._ready: Callable[[], None] | None = ready

    def start(self) -> None:
        ready, self._ready = self._ready, None
        if ready is not None:
            ready()
        self.meter.start()

    def stop(self) -> EnergyReading:
        return self.meter.stop()

    def child_env(self) -> dict[str, str]:
        return self.meter.child_env() if isinstance(self.meter, ChildEnvMeter) else {}

    def select_gpus(self, env: Mapping[str, str]) -> None:
        if isinstance(self.meter, GpuSelectingMeter):
            self.meter.select_gpus(env)


def _early_lookup(job: Job, tracking: baseline.Tracking, experiment: str) -> baseline.Lookup:
    store, store_error = tracking.open()
    return baseline.find(store, job, experiment) if store is not None else baseline.Lookup(outage=store_error)


def _stopping(job: Job, lookup: baseline.Lookup, tracking: baseline.Tracking) -> Stopping:
    the_plan = job.plan
    store, _ = tracking.open()
    read: dict[str, Baseline] = {}

    def rematch(found: Mapping[str, float]) -> Baseline | None:
        return baseline.rematch(store, lookup, found, read).baseline if store is not None else None

    return Stopping(
        job.spec,
        job.rules,
        lookup.baseline,
        lookup.past_runs,
        confidence=the_plan.budget.comparison.confidence,
        comparable=not decide.hardware_differences(lookup.baseline, the_plan.hardware),
        intensity=the_plan.intensity,
        rematch=rematch,
    )


def _outcome(
    job: Job,
    measured: Measurement,
    *,
    baseline: Baseline | None = None,
    decision: Decision | None = None,
    history: tuple[dict[str, object], ...] = (),
    recorded: record.Recorded | None = None,
) -> BenchmarkOutcome:
    recorded = recorded or record.Recorded()
    spec = job.spec
    return BenchmarkOutcome(
        name=spec.name,
        kind=spec.kind,
        command=spec.display_command,
        repeats=measured.adaptive.repeats_run if measured.adaptive is not None else spec.repeats,
        warmup=spec.warmup,
        baseline_branch=job.baseline_branch,
        unit=spec.unit,
        summary=measured.summary,
        baseline=baseline or measured.baseline,
        decision=decision,
        error=measured.error,
        output_tail=measured.output_tail,
        mlflow_run_id=recorded.run_id,
        mlflow_run_url=recorded.run_url,
        notes=(*measured.notes, *recorded.notes),
        history=history,
        paired_base=measured.base,
        adaptive=measured.adaptive.to_dict() if measured.adaptive is not None else None,
    )


def _announce(the_plan: Plan, log: Callable[[str], None]) -> None:
    from gate.tracking import credentials

    hw, opts = the_plan.hardware, the_plan.options
    count = len(the_plan.benchmarks)
    log(f"budget {opts.budget_path}: {count} benchmark(s); hardware {hw.describe()} [{hw.fingerprint}]")
    log(f"MLflow: {credentials.describe_uri(the_plan.tracking_uri)}")
