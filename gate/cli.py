"""Command line: parse, dispatch, map errors to exit codes. Heavy modules load inside commands."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import cast, get_args

import click

from gate import __version__, paths, secrets
from gate.config.budget import ComparisonMode
from gate.errors import GateError

EXIT_CODES_HELP = """\b
Exit codes:
  0  within budget (warnings allowed)
  1  budget exceeded
  2  invalid configuration or usage
  3  the benchmark failed (non-zero exit, timeout, killed, bad metrics file)
  4  the gate itself could not work (e.g. energy could not be measured)
  129, 130, 143  cancelled by SIGHUP, SIGINT or SIGTERM (what was measured is kept)
"""

# Each command's help lists the exit codes that command can end with; `check`'s table is the one above.
VALIDATE_EXIT_CODES_HELP = """\b
Exit codes:
  0  the budget file is valid (warnings allowed)
  2  it is not: the error names the file, line and key, and how to fix it
"""

INIT_EXIT_CODES_HELP = """\b
Exit codes:
  0  the files were written
  2  nothing written: a file exists (--force overwrites it) or an option is wrong
  4  internal error
"""

COMMENT_EXIT_CODES_HELP = """\b
Exit codes:
  0  posted, or skipped/degraded with a reason (not a PR, a fork's read-only token)
  1  several results merged (a fan-in): one of them failed its budget
  2  a result file or the template is invalid, or the results are of different commits
  3  several results merged: a benchmark errored, or an expected leg did not report
  4  GitHub could not take the comment (it was down or refused it)
"""

_lenient_option = click.option(
    "--lenient",
    is_flag=True,
    help="A misspelt budget key (a close match of a known one) only warns instead of failing "
    "(as `strict: false` in the budget file).",
)


@click.group(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="green-gate")
def main() -> None:
    """green-gate: run an ML benchmark, measure its energy, compare it with the baseline in MLflow,
    and fail the build when green-budget.yml is exceeded."""


@main.command(epilog=EXIT_CODES_HELP)
@click.option(
    "-b",
    "--budget",
    "budget_path",
    type=click.Path(path_type=Path),
    default="green-budget.yml",
    show_default=True,
    help="Budget file.",
)
@click.option("--benchmark", "benchmarks", multiple=True, help="Run only this benchmark (repeatable). Default: all.")
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the machine-readable result here.",
)
@click.option(
    "--report-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help=f"Write the Markdown report here. Default: {paths.report_file(Path()).as_posix()}",
)
@click.option("--branch", help="Branch of this run. Default: from GitHub's env, else git.")
@click.option(
    "--base-branch",
    help="Branch whose runs are baselines (and paired mode's base). Default: baseline.branch in the budget, "
    "else the PR's base, else the repository's default branch (origin/HEAD, else main or master).",
)
@click.option("--commit", help="Commit of this run. Default: from GitHub's env, else git.")
@click.option("--baseline-run-id", help="Compare with this MLflow run instead of searching for one.")
@click.option("--repeats", type=click.IntRange(min=1, max=1000), help="Override the budget's repeats.")
@click.option("--warmup", type=click.IntRange(min=0, max=100), help="Override the budget's warm-up runs.")
@click.option(
    "--comparison-mode",
    type=click.Choice(get_args(ComparisonMode), case_sensitive=False),
    help="Override the budget's comparison.mode: history (a recorded baseline run), paired (run the base "
    "commit here too), auto (paired only when history cannot decide).",
)
@click.option("--no-record", is_flag=True, help="Do not log this run to MLflow (compare only).")
@_lenient_option
@click.option(
    "--comment", is_flag=True, help="Post the sticky PR comment (needs GITHUB_TOKEN; or GREEN_GATE_COMMENT=true)."
)
@click.option(
    "--comment-template",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Render the PR comment with this Jinja template (sandboxed; see docs/templates.md).",
)
@click.option(
    "--check-run", is_flag=True, help="Also create a check run with the verdict (or GREEN_GATE_CHECK_RUN=true)."
)
@click.option(
    "--result",
    "fan_in",
    multiple=True,
    help="With --comment: other jobs' results (files `check --json` wrote, folders, globs) to merge with this "
    "one's into one comment, check run and verdict (the exit code is the merged verdict's).",
)
@click.option("--expect", multiple=True, help="With --result: the matrix legs that should report (comma-separated).")
@click.option(
    "--prometheus-textfile",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the gauges in Prometheus' text format here (for node_exporter's textfile collector).",
)
@click.option(
    "--pushgateway", metavar="URL", help="Push the gauges to this Pushgateway (overrides prometheus.pushgateway)."
)
def check(
    budget_path: Path,
    benchmarks: tuple[str, ...],
    json_path: Path | None,
    report_file: Path | None,
    branch: str | None,
    base_branch: str | None,
    commit: str | None,
    baseline_run_id: str | None,
    repeats: int | None,
    warmup: int | None,
    comparison_mode: str | None,
    no_record: bool,
    comment: bool,
    comment_template: Path | None,
    check_run: bool,
    fan_in: tuple[str, ...],
    expect: tuple[str, ...],
    prometheus_textfile: Path | None,
    pushgateway: str | None,
    lenient: bool,
) -> None:
    """Run the benchmarks, measure energy, log to MLflow, compare with the baseline, report."""
    from gate.commands import check as check_command

    options = check_command.CheckOptions(
        budget_path=budget_path,
        benchmarks=benchmarks,
        json_path=json_path,
        report_path=report_file,
        branch=branch,
        base_branch=base_branch,
        commit=commit,
        baseline_run_id=baseline_run_id,
        repeats=repeats,
        warmup=warmup,
        comparison_mode=cast(ComparisonMode | None, comparison_mode),  # click.Choice allows only these
        record=not no_record,
        comment=comment,
        comment_template=comment_template,
        check_run=check_run,
        prometheus_textfile=prometheus_textfile,
        pushgateway=pushgateway,
        lenient=lenient,
        fan_in=fan_in,
        expect=expect,
    )

    def cancellable_check() -> int:
        from gate import console
        from gate.bench import subreaper

        # Processes a benchmark moves out of its group are then reparented to the gate, which ends them.
        subreaper.enable(console.log)
        _harden()
        with check_command.cancellable():
            return check_command.run(options, env=os.environ, cwd=Path.cwd())

    _exit(cancellable_check)


@main.command(epilog=COMMENT_EXIT_CODES_HELP)
@click.option(
    "-b",
    "--budget",
    "budget_path",
    type=click.Path(path_type=Path),
    default="green-budget.yml",
    show_default=True,
    help="Budget file.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder to write measurement.json to: upload it as the artifact `green-gate judge` reads.",
)
@click.option("--benchmark", "benchmarks", multiple=True, help="Run only this benchmark (repeatable). Default: all.")
@click.option("--repeats", type=click.IntRange(min=1, max=1000), help="Override the budget's repeats.")
@click.option("--warmup", type=click.IntRange(min=0, max=100), help="Override the budget's warm-up runs.")
@click.option(
    "--comparison-mode",
    type=click.Choice(get_args(ComparisonMode), case_sensitive=False),
    help="Override the budget's comparison.mode (paired: measure the base commit in this job too).",
)
def measure(
    budget_path: Path,
    out_dir: Path,
    benchmarks: tuple[str, ...],
    repeats: int | None,
    warmup: int | None,
    comparison_mode: str | None,
) -> None:
    """Measure only, with no credentials: the pull request's half of a two-half check (`judge` decides)."""
    from gate.commands import check as check_command
    from gate.commands import measure as measure_command

    options = measure_command.MeasureOptions(
        budget_path=budget_path,
        out_dir=out_dir,
        benchmarks=benchmarks,
        repeats=repeats,
        warmup=warmup,
        comparison_mode=cast(ComparisonMode | None, comparison_mode),
    )

    def cancellable_measure() -> int:
        from gate import console
        from gate.bench import subreaper

        subreaper.enable(console.log)
        _harden()
        with check_command.cancellable():
            return measure_command.run(options, env=os.environ, cwd=Path.cwd())

    _exit(cancellable_measure)


@main.command(epilog=EXIT_CODES_HELP)
@click.option(
    "--artifact",
    "artifact_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="The folder `green-gate measure --out` wrote, downloaded from the triggering run.",
)
@click.option(
    "-b",
    "--budget",
    "budget_path",
    type=click.Path(path_type=Path),
    default="green-budget.yml",
    show_default=True,
    help="Budget file of this job's checkout (the base branch's): it judges, not the pull request's.",
)
@click.option("--benchmark", "benchmarks", multiple=True, help="Judge only this benchmark (repeatable). Default: all.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False), help="Write the result here.")
@click.option("--report-file", type=click.Path(path_type=Path, dir_okay=False), help="Write the Markdown report here.")
@click.option("--no-record", is_flag=True, help="Do not log the run to MLflow.")
@click.option("--no-comment", is_flag=True, help="Do not post the sticky PR comment.")
@click.option("--no-check-run", is_flag=True, help="Do not create the check run on the PR's head commit.")
@click.option(
    "--comment-template",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Render the PR comment with this Jinja template (sandboxed; see docs/templates.md).",
)
def judge(
    artifact_dir: Path,
    budget_path: Path,
    benchmarks: tuple[str, ...],
    json_path: Path | None,
    report_file: Path | None,
    no_record: bool,
    no_comment: bool,
    no_check_run: bool,
    comment_template: Path | None,
) -> None:
    """Judge a measurement in a `workflow_run` job: baseline, verdict, MLflow, comment and check run."""
    from gate.commands import judge as judge_command

    options = judge_command.JudgeOptions(
        artifact_dir=artifact_dir,
        budget_path=budget_path,
        benchmarks=benchmarks,
        json_path=json_path,
        report_path=report_file,
        record=not no_record,
        comment=not no_comment,
        comment_template=comment_template,
        check_run=not no_check_run,
    )
    _exit(lambda: judge_command.run(options, env=os.environ, cwd=Path.cwd()))


def _harden() -> None:
    """The gate's process before it runs the pull request's code: credentials out of its environment
    block, not dumpable (gate.hardening)."""
    from gate import hardening

    found = secrets.Secrets.from_env(os.environ)
    hardening.enable(found.names, found.values)


@main.command(epilog=COMMENT_EXIT_CODES_HELP)
@click.option(
    "--result",
    "results",
    multiple=True,
    required=True,
    help="A result file written by `green-gate check --json`, a folder of them or a glob; repeat it to "
    "merge a matrix's results into one comment, check run and verdict.",
)
@click.option(
    "--expect",
    multiple=True,
    help="The matrix legs that should report (GREEN_GATE_LEG of each job), comma-separated: one that did "
    "not is named, and the verdict is error.",
)
@click.option(
    "--template",
    "template_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Render with this Jinja template (sandboxed; see docs/templates.md).",
)
@click.option("--check-run", is_flag=True, help="Also create a check run with the verdict.")
def comment(results: tuple[str, ...], expect: tuple[str, ...], template_path: Path | None, check_run: bool) -> None:
    """Post saved results as the sticky PR comment: one (e.g. from a `workflow_run` job for fork PRs),
    or a matrix's merged into one verdict (the exit code is then the verdict's, as for `check`)."""
    from gate.commands import comment as comment_command

    options = comment_command.CommentOptions(
        template_path=template_path, check_run=check_run, results=results, expect=expect
    )
    _exit(lambda: comment_command.run(options, env=os.environ))


@main.command(epilog=VALIDATE_EXIT_CODES_HELP)
@click.argument("path", type=click.Path(path_type=Path), default="green-budget.yml")
@_lenient_option
def validate(path: Path, lenient: bool) -> None:
    """Check a budget file: exit 0 when valid, 2 when not."""
    from gate.commands import validate as validate_command

    _exit(lambda: validate_command.run(path, out=_out, err=_err, lenient=lenient))


@main.command(epilog=INIT_EXIT_CODES_HELP)
@click.option(
    "--budget",
    "budget_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default="green-budget.yml",
    show_default=True,
    help="Budget file to write.",
)
@click.option(
    "--workflow",
    "workflow_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=".github/workflows/green-gate.yml",
    show_default=True,
    help="Pull-request gate workflow to write.",
)
@click.option("--no-workflow", is_flag=True, help="Write only the budget file.")
@click.option("--command", help="Benchmark command. Default: python bench.py or benchmark.py if found.")
@click.option("--name", help="Benchmark name. Default: <folder>-<kind>.")
@click.option("--kind", type=click.Choice(["inference", "training"]), help="Default: from the command's name.")
@click.option("--gpu", is_flag=True, help="The benchmark needs an NVIDIA GPU (requires_gpu, a GPU runner).")
@click.option("--action-ref", help="`uses:` reference in the workflow. Default: this version's release.")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
def init(
    budget_path: Path,
    workflow_path: Path,
    no_workflow: bool,
    command: str | None,
    name: str | None,
    kind: str | None,
    gpu: bool,
    action_ref: str | None,
    force: bool,
) -> None:
    """Write a starter green-budget.yml and a PR-gate workflow (asks nothing; never overwrites without --force)."""
    from gate.commands import init as init_command

    options = init_command.InitOptions(
        root=Path.cwd(),
        budget_path=budget_path,
        workflow_path=None if no_workflow else workflow_path,
        command=command,
        name=name,
        kind="training" if kind == "training" else ("inference" if kind == "inference" else None),
        gpu=gpu,
        action_ref=action_ref,
        force=force,
    )
    _exit(lambda: init_command.run(options, out=_out, err=_err))


@main.command(epilog=EXIT_CODES_HELP)
@click.option(
    "--zone", help="Electricity Maps zone, e.g. DE, FR, US-CAL-CISO. Default: the budget's electricitymaps source."
)
@click.option(
    "--below",
    "below",
    type=click.FloatRange(min=0, min_open=True),
    help="Proceed once the live intensity is under this (gCO2eq/kWh).",
)
@click.option("--max-wait", default="2h", show_default=True, help="Longest wait, e.g. 45m, 2h, 1h30m.")
@click.option("--poll", default="5m", show_default=True, help="Time between live readings.")
@click.option(
    "--forecast/--no-forecast",
    default=True,
    show_default=True,
    help="Also proceed when the forecast's best hour within the wait arrives.",
)
@click.option(
    "--token-env",
    help="NAME of the env var holding the API token. Default: the budget source's, else ELECTRICITYMAPS_API_TOKEN.",
)
@click.option(
    "-b",
    "--budget",
    "budget_path",
    type=click.Path(path_type=Path),
    help="Budget file to read the zone from. Default: green-budget.yml when present.",
)
@click.option(
    "--on-unavailable",
    type=click.Choice(["proceed", "fail"]),
    default="proceed",
    show_default=True,
    help="When the intensity cannot be read: go on (exit 0) or fail (exit 4).",
)
def wait(
    zone: str | None,
    below: float | None,
    max_wait: str,
    poll: str,
    forecast: bool,
    token_env: str | None,
    budget_path: Path | None,
    on_unavailable: str,
) -> None:
    """Wait until the grid is cleaner (under --below, or the forecast's best hour), at most --max-wait; exit 0."""
    from gate.carbon.wait import parse_duration_s
    from gate.commands import wait as wait_command

    try:
        max_wait_s, poll_s = parse_duration_s(max_wait), parse_duration_s(poll)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    options = wait_command.WaitOptions(
        max_wait_s=max_wait_s,
        below_g_per_kwh=below,
        zone=zone,
        poll_s=max(poll_s, 1.0),
        use_forecast=forecast,
        token_env=token_env,
        budget_path=budget_path,
        on_unavailable="fail" if on_unavailable == "fail" else "proceed",
    )
    _exit(lambda: wait_command.run(options, env=os.environ, cwd=Path.cwd()))


# --- release-manager commands: baselines, history, spooled uploads (docs/release-manager.md) ---------

_budget_option = click.option(
    "-b",
    "--budget",
    "budget_path",
    type=click.Path(path_type=Path),
    default="green-budget.yml",
    show_default=True,
    help="Budget file (names the benchmarks and their MLflow experiment).",
)
_benchmark_option = click.option("--benchmark", help="Benchmark name. Default: the budget's only benchmark.")


@main.group()
def baseline() -> None:
    """Show, pin or unpin the baseline run that checks compare with."""


@baseline.command("show", epilog=EXIT_CODES_HELP)
@_budget_option
@_benchmark_option
@click.option("--branch", help="Branch being checked. Default: from GitHub's env, else git.")
@click.option("--base-branch", help="A PR's base branch (whose runs are baselines).")
@click.option("--hardware", "hardware_id", help="Hardware fingerprint. Default: this machine's.")
def baseline_show(
    budget_path: Path, benchmark: str | None, branch: str | None, base_branch: str | None, hardware_id: str | None
) -> None:
    """The baseline a check would use now, and why it was chosen."""
    from gate.commands import baseline as command

    sel = command.Selection(budget_path, benchmark, branch, base_branch)
    _exit(lambda: command.show(sel, hardware_id=hardware_id, env=os.environ, cwd=Path.cwd(), out=_out, err=_err))


@baseline.command("pin", epilog=EXIT_CODES_HELP)
@click.argument("run_id")
@click.option("--branch", help="Branch whose checks compare with this run. Default: the run's own branch.")
@click.option("--note", help="Why (shown by `baseline show`), e.g. 'v1.4 release'.")
def baseline_pin(run_id: str, branch: str | None, note: str | None) -> None:
    """Pin RUN_ID (all 32 characters, or a start of it such as the 8 that `history` shows) as the baseline
    of its benchmark for a branch."""
    from gate.commands import baseline as command

    _exit(lambda: command.pin(run_id, branch=branch, note=note, env=os.environ, cwd=Path.cwd(), out=_out, err=_err))


@baseline.command("unpin", epilog=EXIT_CODES_HELP)
@_budget_option
@_benchmark_option
@click.option("--branch", help="Baseline branch to unpin. Default: the current branch's baseline branch.")
def baseline_unpin(budget_path: Path, benchmark: str | None, branch: str | None) -> None:
    """Remove a pin: checks compare with the latest passing run again."""
    from gate.commands import baseline as command

    sel = command.Selection(budget_path, benchmark, branch, branch)
    _exit(lambda: command.unpin(sel, env=os.environ, cwd=Path.cwd(), out=_out, err=_err))


@main.command(epilog=EXIT_CODES_HELP)
@_budget_option
@_benchmark_option
@click.option("--branch", help="Only runs of this branch. Default: every branch.")
@click.option("--commits", help="Only runs of commits in this git revision range, e.g. v1.2..main.")
@click.option("--hardware", "hardware_id", help="Only runs on hardware with this fingerprint.")
@click.option("--limit", type=click.IntRange(min=1, max=50_000), default=100, show_default=True, help="Most runs.")
@click.option(
    "--format", "output_format", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@click.option("-o", "--output", "output_path", type=click.Path(path_type=Path, dir_okay=False), help="Write here.")
def history(
    budget_path: Path,
    benchmark: str | None,
    branch: str | None,
    commits: str | None,
    hardware_id: str | None,
    limit: int,
    output_format: str,
    output_path: Path | None,
) -> None:
    """A benchmark's runs in MLflow, newest first: table, CSV or JSON."""
    from gate.commands import history as command

    opts = command.HistoryOptions(
        budget_path=budget_path,
        benchmark=benchmark,
        branch=branch,
        commits=commits,
        hardware_id=hardware_id,
        limit=limit,
        output_format=cast(command.Format, output_format),  # click.Choice allows only these
        output_path=output_path,
    )
    _exit(lambda: command.run(opts, env=os.environ, cwd=Path.cwd(), out=_out, err=_err))


@main.command(epilog=EXIT_CODES_HELP)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["bmf", "gab"]),
    required=True,
    help="bmf: Bencher Metric Format; gab: github-action-benchmark's customSmallerIsBetter JSON.",
)
@click.option(
    "--result",
    "result_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A result file `check --json` wrote. Default: the newest under .green-gate/results/.",
)
@click.option("--output", "-o", "output_path", type=click.Path(path_type=Path, dir_okay=False), help="Default: stdout.")
def export(fmt: str, result_path: Path | None, output_path: Path | None) -> None:
    """Write a result as Bencher or github-action-benchmark JSON: energy per item, kWh, gCO2eq and
    duration, per benchmark and per case."""
    from gate.commands import export as command

    options = command.ExportOptions(cast(command.ExportFormat, fmt), result_path, output_path)
    _exit(lambda: command.run(options, cwd=Path.cwd(), out=_out, err=_err))


@main.command(epilog=EXIT_CODES_HELP)
@click.option(
    "--spool",
    "spool_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help=f"Default: {paths.spool_dir(Path()).as_posix()}",
)
@click.option(
    "--to-current",
    is_flag=True,
    help="Log every record to the store MLFLOW_TRACKING_URI names now (else the embedded store), even one "
    "spooled for another store.",
)
def upload(spool_dir: Path | None, to_current: bool) -> None:
    """Log results spooled while MLflow was unavailable to the store each was meant for (never twice)."""
    from gate.commands import upload as command

    _exit(lambda: command.run(spool_dir, env=os.environ, cwd=Path.cwd(), out=_out, err=_err, to_current=to_current))


def _out(message: str) -> None:
    """A command's data on stdout, redacted: MLflow tags, spool files and budget values can hold a
    credential (a branch named after a token), and stdout ends up in CI logs and files."""
    click.echo(secrets.redact(message))


def _err(message: str) -> None:
    click.echo(secrets.redact(message), err=True)


def _exit(command: Callable[[], int]) -> None:
    try:
        code = command()
    except KeyboardInterrupt:
        click.echo("green-gate: interrupted", err=True)
        code = 130
    except GateError as exc:  # one the command could not turn into its exit code (a signal as it ended)
        _err(f"green-gate: {exc.render()}")
        code = int(exc.exit_code)
    except Exception:  # a bug: show everything (but the credentials), with its own exit code
        _err(traceback.format_exc().rstrip("\n"))
        click.echo("green-gate: internal error (exit 4); please report it with the traceback above", err=True)
        code = 4
    sys.exit(code)
