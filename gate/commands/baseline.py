"""`green-gate baseline show|pin|unpin`: what the gate compares with, and a release manager's say in it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gate.commands import _target
from gate.compare import baseline_rules
from gate.devices import hardware
from gate.energy.model import METRICS
from gate.errors import ConfigError, ExitCode, GateError
from gate.tracking import schema
from gate.tracking.credentials import describe_uri

if TYPE_CHECKING:
    from gate.tracking.mlflow_store import MlflowStore

Out = Callable[[str], None]


@dataclass(frozen=True)
class Selection:
    budget_path: Path
    benchmark: str | None = None
    branch: str | None = None
    base_branch: str | None = None

    def resolve(self, env: Mapping[str, str], cwd: Path) -> _target.Target:
        return _target.resolve(
            budget_path=self.budget_path,
            benchmark=self.benchmark,
            branch=self.branch,
            base_branch=self.base_branch,
            env=env,
            cwd=cwd,
        )


def show(
    sel: Selection,
    *,
    hardware_id: str | None,
    env: Mapping[str, str],
    cwd: Path,
    out: Out,
    err: Out,
) -> int:
    """Print the baseline a check would use now, and the rule that chose it."""
    try:
        target = sel.resolve(env, cwd)
        fingerprint = hardware_id or hardware.detect().fingerprint
        store = _store(env, cwd)
        choice, baseline = store.choose_baseline(
            target.experiment,
            branch=target.baseline_branch,
            hardware_id=fingerprint,
            budget_run_id=target.baseline_spec.run_id,
            with_per_repeat=False,
        )
    except GateError as exc:
        err(f"error: {exc.render()}")
        return int(exc.exit_code)
    out(f"benchmark:       {target.spec.name}")
    out(f"experiment:      {target.experiment}")
    out(f"branch:          {target.branch or '(none)'} -> baselines from `{target.baseline_branch}`")
    out(f"hardware:        [{fingerprint}]")
    out(f"rule:            {choice.source}: {choice.reason}")
    if choice.ignored_pin is not None:
        out(f"ignored pin:     run {choice.ignored_pin.run_id} (a higher rule wins: {choice.source})")
    if baseline is None:
        out("baseline:        none yet (relative limits are not applied; policy.missing_baseline decides)")
        return int(ExitCode.OK)
    out(f"baseline run:    {baseline.run_id}")
    out(f"  commit:        {baseline.commit or '-'} on {baseline.branch or '-'}")
    out(f"  started:       {_utc(baseline.start_time_ms)}")
    if baseline.url:
        out(f"  url:           {baseline.url}")
    if baseline.reason and baseline.reason != choice.reason:
        out(f"  note:          {baseline.reason}")
    for name, info in METRICS.items():
        if name in baseline.metrics:
            out(f"  {name + ':':<28} {baseline.metrics[name]:.6g} {info.unit}")
    return int(ExitCode.OK)


def pin(
    run_id: str,
    *,
    branch: str | None,
    note: str | None,
    env: Mapping[str, str],
    cwd: Path,
    out: Out,
    err: Out,
) -> int:
    """Make `run_id` the baseline of its experiment for `branch` (default: the run's own branch)."""
    try:
        store = _store(env, cwd)
        run = store.get_run(_full_run_id(store, run_id))
        target_branch = branch or run.tags.get(schema.TAG_GIT_BRANCH)
        if not target_branch:
            raise ConfigError(
                f"run {run_id} has no {schema.TAG_GIT_BRANCH} tag, so its branch is unknown",
                hint="pass --branch BRANCH: the branch whose checks should compare with this run",
            )
        if run.status != "FINISHED":
            raise ConfigError(
                f"run {run_id} is {run.status}, not FINISHED: its figures are incomplete",
                hint="pin a finished run; `green-gate history` lists them",
            )
        verdict = run.tags.get(schema.TAG_VERDICT)
        if verdict not in (None, "pass", "warn"):
            err(f"warning: run {run_id} has verdict {verdict!r}; pinned anyway, as asked")
        if run.tags.get(schema.TAG_PR):
            err(f"warning: run {run_id} is from PR #{run.tags[schema.TAG_PR]}; pinned anyway, as asked")
        old = store.get_pin(run.experiment_id, target_branch)
        new = schema.Pin(
            run_id=run.run_id,
            pinned_by=env.get("GITHUB_ACTOR") or env.get("USER") or None,
            pinned_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            note=note,
        )
        store.set_pin(run.experiment_id, target_branch, new)
    except GateError as exc:
        err(f"error: {exc.render()}")
        return int(exc.exit_code)
    was = f" (was: run {old.run_id})" if old is not None and old.run_id != run.run_id else ""
    out(f"pinned run {run.run_id} as the baseline for `{target_branch}`{was}")
    out(f"  {baseline_rules.describe_pin(target_branch, new)}")
    return int(ExitCode.OK)


RUN_ID_CHARS = 32  # MLflow's run ids: 32 hexadecimal characters; reports and `history` show 8
MIN_PREFIX_CHARS = 4


def _full_run_id(store: MlflowStore, given: str) -> str:
    """`given`, or the one run id it abbreviates (as the report and `history` show them)."""
    run_id = given.strip().lower()
    if len(run_id) >= RUN_ID_CHARS or any(c not in "0123456789abcdef" for c in run_id):
        return given  # a whole id, or not one: MLflow's own answer says which
    if len(run_id) < MIN_PREFIX_CHARS:
        raise ConfigError(
            f"run id {given!r} is too short to find one run",
            hint=f"give at least {MIN_PREFIX_CHARS} characters, e.g. the 8 that `green-gate history` shows",
        )
    found = store.run_ids_starting_with(run_id, limit=10)
    if len(found) == 1:
        return found[0]
    if not found:
        raise ConfigError(
            f"no MLflow run id starts with {run_id!r} at {describe_uri(store.uri)}",
            hint="check MLFLOW_TRACKING_URI points at the store the run is in; `green-gate history` lists the runs",
        )
    shown = ", ".join(found[:5]) + (", …" if len(found) > 5 else "")
    raise ConfigError(
        f"{run_id!r} is the start of {len(found)}{'+' if len(found) >= 10 else ''} run ids ({shown})",
        hint="give more characters of the run id, or all 32",
    )


def unpin(
    sel: Selection,
    *,
    env: Mapping[str, str],
    cwd: Path,
    out: Out,
    err: Out,
) -> int:
    """Remove the pin for the baseline branch: checks go back to the latest passing run."""
    try:
        target = sel.resolve(env, cwd)
        store = _store(env, cwd)
        experiment_id = store.experiment_id(target.experiment, create=False)
        old = store.remove_pin(experiment_id, target.baseline_branch) if experiment_id is not None else None
    except GateError as exc:
        err(f"error: {exc.render()}")
        return int(exc.exit_code)
    if old is None:
        out(f"no pin for `{target.baseline_branch}` in {target.experiment}: nothing to do")
    else:
        out(f"unpinned run {old.run_id} for `{target.baseline_branch}` in {target.experiment}")
        out("  checks now compare with the latest run that passed its budget on the same hardware")
    return int(ExitCode.OK)


def _store(env: Mapping[str, str], cwd: Path) -> MlflowStore:
    from gate.tracking import credentials, mlflow_store

    return mlflow_store.MlflowStore(credentials.resolve_tracking_uri(env, cwd))


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
