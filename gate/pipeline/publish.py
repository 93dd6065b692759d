"""Publish stage: the result document and every output made from it.

The result file, `--json`, the report file and stdout, the job summary, the step outputs,
annotations and the PR comment. Each is written independently of the others; posting the comment
never changes what the check decided (only a broken user template does: exit 2).

They are all made from one result document, redacted with the check's secrets (gate.secrets) when it
is built, so that no rendering (Markdown or JSON escaping) can carry a secret past the redaction.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gate import console, paths
from gate.compare import verdict
from gate.compare.model import Verdict
from gate.config.budget import PrometheusSpec
from gate.devices.hardware import Hardware
from gate.errors import BenchmarkError, Cancelled, ConfigError, ExitCode, GateError, OutputError
from gate.github import actions
from gate.github.context import CiContext
from gate.output import prometheus, report
from gate.output.result import (
    BenchmarkOutcome,
    build_document,
    finite_data,
    write_atomically,
    write_error,
    write_json,
)
from gate.pipeline.plan import CheckOptions, Plan, Survey
from gate.secrets import Secrets, active_secrets, describe_uri


@dataclass(frozen=True)
class Snapshot:
    """What the check knows so far: enough for a result document at any point, a failure included.

    Replaced, never changed, as the stages complete."""

    options: CheckOptions
    context: CiContext | None = None
    hardware: Hardware | None = None
    notes: tuple[str, ...] = ()
    tracking_uri: str | None = None
    result_path: Path | None = None
    outcomes: tuple[BenchmarkOutcome, ...] = ()
    secrets: Secrets | None = None  # None until the budget is read: the gate's own environment's
    prometheus: PrometheusSpec = field(default_factory=PrometheusSpec)

    def surveyed(self, survey: Survey) -> Snapshot:
        return replace(
            self,
            context=survey.context,
            hardware=survey.hardware,
            notes=survey.notes,
            secrets=survey.secrets,
            prometheus=survey.budget.prometheus,
        )

    def planned(self, plan: Plan) -> Snapshot:
        return replace(self, notes=plan.notes, tracking_uri=plan.tracking_uri)

    def adding(self, outcome: BenchmarkOutcome) -> Snapshot:
        return replace(self, outcomes=(*self.outcomes, outcome))

    @property
    def verdict(self) -> Verdict:
        return verdict.worst([o.verdict for o in self.outcomes])

    def document(self, verdict_: Verdict, exit_code: int | None, error: GateError | None = None) -> dict[str, Any]:
        hw = self.hardware
        document = build_document(
            verdict=verdict_,
            exit_code=exit_code,
            budget_file=str(self.options.budget_path),
            tracking_uri=describe_uri(self.tracking_uri) if self.tracking_uri else None,
            context=self.context.to_dict() if self.context else {},
            hardware={**hw.to_dict(), "description": hw.describe()}
            if hw
            else {"description": "not detected", "fingerprint": "-"},
            outcomes=list(self.outcomes),
            notes=list(self.notes),
            error={"title": error.title, "message": error.render(), "hint": None} if error else None,
            # A check stopped by a signal did not run to its end, whatever it measured.
            complete=exit_code is not None and not isinstance(error, Cancelled),
        )
        return self.redactor.redact_data(document)

    @property
    def redactor(self) -> Secrets:
        return self.secrets or active_secrets()


def save(seen: Snapshot) -> None:
    """The partial result, after each repeat: nothing measured is lost, whatever happens next.

    A partial save that cannot be written only warns: the check goes on, and its last write reports
    the failure with the whole result."""
    if seen.result_path is not None:
        try:
            write_json(seen.result_path, seen.document(seen.verdict, None))
        except OutputError as exc:
            console.log(f"warning: {exc.render()}")


def finish(seen: Snapshot, env: Mapping[str, str], cwd: Path, log: Callable[[str], None]) -> int:
    overall = seen.verdict
    exit_code = _verdict_exit(overall)
    document = seen.document(overall, int(exit_code))
    unwritten, written = _outputs(seen, document, env, cwd, log)
    _prometheus(seen, document, unwritten, env, log)
    for outcome in seen.outcomes:
        _annotate_checks(seen.options, outcome, env)
    comment_exit = _comment(seen.options, document, env, log, seen.redactor)
    final = int(unwritten[0].exit_code) if unwritten else int(exit_code) if comment_exit is None else comment_exit
    if final != exit_code:
        # The files already written said the verdict's exit code: they must not contradict the process.
        why = [e.message for e in unwritten] or ["the PR comment's template could not be rendered (the log says why)"]
        document = exit_code_changed(document, final, why)
        for path in written:
            _write(path, document, [], env, log)
    if unwritten:
        _rescue(document, log)
    return final


def failure(seen: Snapshot, exc: GateError, env: Mapping[str, str], log: Callable[[str], None]) -> int:
    seen = seen if seen.secrets is not None else replace(seen, secrets=Secrets.from_env(env))
    log(f"error: {exc.render()}")
    _annotate_error(exc, env)
    document = seen.document("error", int(exc.exit_code), exc)
    unwritten: list[OutputError] = []
    for path in (seen.result_path, seen.options.json_path):
        if path is not None:
            _write(path, document, unwritten, env, log)
    if seen.outcomes:
        _prometheus(seen, document, unwritten, env, log)
    if unwritten:
        _rescue(document, log)
    if isinstance(exc, BenchmarkError) or seen.outcomes:
        actions.append_step_summary(env, report.render(document))
    actions.set_outputs(env, {"verdict": "error"})
    return int(exc.exit_code)


def exit_code_changed(document: dict[str, Any], exit_code: int, why: list[str]) -> dict[str, Any]:
    """The result with the process's final exit code, and a note saying what changed it."""
    note = f"exit code {exit_code}, not {document['exit_code']}: {'; '.join(why)}"
    return {**document, "exit_code": exit_code, "notes": [*document["notes"], note]}


def _write(
    path: Path,
    document: dict[str, Any],
    unwritten: list[OutputError],
    env: Mapping[str, str],
    log: Callable[[str], None],
) -> bool:
    """Write one result file; a failure is logged and kept in `unwritten`, and the other outputs still written."""
    try:
        write_json(path, document)
    except OutputError as exc:
        log(f"error: {exc.render()}")
        _annotate_error(exc, env)
        unwritten.append(exc)
        return False
    return True


def _prometheus(
    seen: Snapshot,
    document: dict[str, Any],
    unwritten: list[OutputError],
    env: Mapping[str, str],
    log: Callable[[str], None],
) -> None:
    """The gauges: the textfile (a file that cannot be written is like the report's), then the push
    (a Pushgateway that does not answer only warns: the result is already written)."""
    url = seen.options.pushgateway or seen.prometheus.pushgateway
    if seen.options.prometheus_textfile is None and url is None:
        return
    found = prometheus.samples(document)
    textfile = seen.options.prometheus_textfile
    if textfile is not None:
        try:
            write_atomically(textfile, prometheus.render(found), mode=0o644)  # node_exporter reads it
        except OSError as exc:
            error = write_error(textfile, exc)
            log(f"error: {error.render()}")
            _annotate_error(error, env)
            unwritten.append(error)
    if url is not None:
        from gate.output import pushgateway

        try:
            pushgateway.push(url, seen.prometheus.job, found)
        except OutputError as exc:
            log(f"warning: {seen.redactor.redact(exc.render())}")
            if actions.in_actions(env):
                actions.annotate("warning", seen.redactor.redact(exc.message), title="Pushgateway unavailable")


def _rescue(document: dict[str, Any], log: Callable[[str], None]) -> None:
    """The result document on stderr as one JSON line, when a file that should hold it could not be written."""
    log("the result document follows on one line, as the result file would hold it")
    document, _ = finite_data(active_secrets().redact_data(document))
    sys.stderr.write(json.dumps(document, separators=(",", ":"), allow_nan=False) + "\n")
    sys.stderr.flush()


def _outputs(
    seen: Snapshot, document: dict[str, Any], env: Mapping[str, str], cwd: Path, log: Callable[[str], None]
) -> tuple[list[OutputError], list[Path]]:
    """Every output of a finished check; returns the files that could not be written, and the result
    files that were."""
    opts = seen.options
    unwritten: list[OutputError] = []
    written: list[Path] = []
    for path in (seen.result_path, opts.json_path):
        if path is not None and _write(path, document, unwritten, env, log):
            written.append(path)
    markdown = seen.redactor.redact(report.render(document))
    report_path = opts.report_path or paths.report_file(cwd)
    try:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(markdown, encoding="utf-8")
    except OSError as exc:
        error = write_error(report_path, exc)
        log(f"error: {error.render()}")
        _annotate_error(error, env)
        unwritten.append(error)
    sys.stdout.write(markdown)
    sys.stdout.flush()
    actions.append_step_summary(env, markdown, full_at=str(report_path))
    outputs = {"verdict": document["verdict"], "report_path": str(report_path)}
    if seen.result_path is not None:
        outputs["result_path"] = str(seen.result_path)
    outputs.update(_headline_outputs(document))
    actions.set_outputs(env, outputs)
    log(f"verdict: {document['verdict']} (report: {report_path})")
    return unwritten, written


def _headline_outputs(document: dict[str, Any]) -> dict[str, str]:
    """The first benchmark's energy per prediction and its change, for workflow steps that follow."""
    first = document["benchmarks"][0] if document["benchmarks"] else None
    if not first:
        return {}
    outputs = {}
    if "energy_per_prediction_j" in first["metrics"]:
        outputs["energy_per_prediction_j"] = f"{first['metrics']['energy_per_prediction_j']:.6g}"
        outputs["unit"] = str(first.get("unit", "prediction"))
    changes = [
        c["change_pct"]
        for c in first["checks"]
        if c["metric"] == "energy_per_prediction_j" and c["change_pct"] is not None
    ]
    if changes:
        outputs["change_pct"] = f"{changes[0]:.2f}"
    return outputs


def _annotate_checks(opts: CheckOptions, outcome: BenchmarkOutcome, env: Mapping[str, str]) -> None:
    if not actions.in_actions(env) or outcome.decision is None:
        return
    for check in outcome.decision.checks:
        if check.status in ("warn", "fail"):
            actions.annotate(
                "error" if check.status == "fail" else "warning",
                f"{outcome.name}: {check.metric} {check.reason} ({check.limit})",
                file=str(opts.budget_path),
                line=check.source_line,
                title=f"green-gate {check.status}",
            )


def _annotate_error(exc: GateError, env: Mapping[str, str]) -> None:
    if actions.in_actions(env):
        actions.annotate("error", exc.message, file=exc.file, line=exc.line, title=exc.title)


def _comment(
    opts: CheckOptions,
    document: dict[str, Any],
    env: Mapping[str, str],
    log: Callable[[str], None],
    redactor: Secrets,
) -> int | None:
    """The PR comment, after every output is written: only a broken user template changes the exit code."""
    from gate.github import publish

    if not publish.enabled(env, opts.comment):
        if opts.fan_in:
            log("warning: --result merges other jobs' results into the PR comment: without --comment it does nothing")
        return None
    verdict_exit: int | None = None
    try:
        if opts.fan_in:
            document = _merged(opts, document, redactor, log)
            verdict_exit = int(_verdict_exit(document["verdict"]))
            document["exit_code"] = verdict_exit
            actions.append_step_summary(env, redactor.redact(report.render(document)))
        publish.post(
            document,
            env,
            template_path=opts.comment_template,
            check_run=opts.check_run or publish.enabled_check_run(env),
            log=log,
            summary_has_report=True,
            secrets=redactor,
        )
    except ConfigError as exc:
        log(f"error: {exc.render()}")
        _annotate_error(exc, env)
        return int(exc.exit_code)
    return verdict_exit


def _merged(
    opts: CheckOptions, document: dict[str, Any], redactor: Secrets, log: Callable[[str], None]
) -> dict[str, Any]:
    """This check's result and the other jobs' (`--result`) as one document (gate.output.fanin)."""
    from gate.commands.comment import expected_legs, result_files
    from gate.output import fanin
    from gate.output.result import load_document

    others = [fanin.Source(str(p), redactor.redact_data(load_document(p))) for p in result_files(opts.fan_in)]
    try:
        merged = fanin.merge([fanin.Source("this check", document), *others], expected_legs(opts.expect))
    except fanin.FanInError as exc:
        raise ConfigError(str(exc), hint="merge only the results of one workflow run (one commit)") from None
    log(f"{merged['fanin']['summary']}; merged verdict: {merged['verdict']}")
    return merged


def _verdict_exit(verdict_: Verdict) -> ExitCode:
    if verdict_ == "error":
        return ExitCode.BENCHMARK_FAILED
    return ExitCode.BUDGET_EXCEEDED if verdict_ == "fail" else ExitCode.OK
