"""`green-gate history`: a benchmark's runs over a branch or a range of commits (table, CSV, JSON)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gate import secrets
from gate.commands import _target
from gate.errors import ConfigError, ExitCode, GateError
from gate.github import context
from gate.tracking import history as history_format

Format = Literal["table", "csv", "json"]
MAX_RUNS = 50_000  # MLflow's own ceiling for one search


@dataclass(frozen=True)
class HistoryOptions:
    budget_path: Path
    benchmark: str | None = None
    branch: str | None = None  # None: every branch
    commits: str | None = None  # a git revision range, e.g. v1.2..main
    hardware_id: str | None = None
    limit: int = 100
    output_format: Format = "table"
    output_path: Path | None = None


def run(
    opts: HistoryOptions, *, env: Mapping[str, str], cwd: Path, out: Callable[[str], None], err: Callable[[str], None]
) -> int:
    try:
        target = _target.resolve(
            budget_path=opts.budget_path, benchmark=opts.benchmark, branch=None, base_branch=None, env=env, cwd=cwd
        )
        since_ms: int | None = None
        commits: list[str] | None = None
        if opts.commits:
            found = context.commits_in_range(cwd, opts.commits)
            if found is None:
                raise ConfigError(
                    f"{opts.commits!r} is not a revision range git knows here",
                    hint="use A..B with commits, tags or branches of this repository (e.g. v1.2..main), "
                    "and fetch them first in shallow CI checkouts (fetch-depth: 0)",
                )
            commits = [sha for sha, _ in found]
            # A run starts after its commit exists: search no further back than the oldest commit.
            since_ms = min((t for _, t in found), default=0) * 1000
        from gate.tracking import credentials, mlflow_store

        store = mlflow_store.MlflowStore(credentials.resolve_tracking_uri(env, cwd))
        rows = (
            []
            if commits == []
            else store.history(
                target.experiment,
                branch=opts.branch,
                hardware_id=opts.hardware_id,
                since_ms=since_ms,
                max_runs=MAX_RUNS if commits is not None else opts.limit,
            )
        )
    except GateError as exc:
        err(f"error: {exc.render()}")
        return int(exc.exit_code)
    if commits is not None:
        rows = history_format.only_commits(rows, commits)[: opts.limit]
    if opts.output_format == "csv":
        text = history_format.render_csv(rows)
    elif opts.output_format == "json":
        text = history_format.render_json(rows)
    else:
        text = history_format.render_table(rows)
    if opts.output_path is not None:
        opts.output_path.parent.mkdir(parents=True, exist_ok=True)
        # Redacted like stdout: a run's tags (its branch, its command) are the PR's text.
        opts.output_path.write_text(secrets.redact(text), encoding="utf-8")
        err(f"wrote {len(rows)} run(s) of {target.experiment} to {opts.output_path}")
    else:
        out(text.rstrip("\n"))
        if opts.output_format == "table":
            err(f"{len(rows)} run(s) of {target.experiment}, newest first")
    return int(ExitCode.OK)
