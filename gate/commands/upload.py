"""`green-gate upload`: log the spooled results that MLflow could not take at check time.

Each record goes to the MLflow store it was spooled for (its `destination`, kept without
credentials): with MLFLOW_TRACKING_URI unset, there; with MLFLOW_TRACKING_URI set to another store,
nowhere (exit 2, the record stays spooled), unless `--to-current` says to log it to the store the
environment names. Every line that says a record was logged names the store.

A record MLflow refuses (its content, not an outage) is moved to the spool's `refused/` folder with
the reason: the command fails that once, and no later job tries it again.

Idempotent and safe to run twice at once: each record carries a result id that becomes a tag on its
run, so a record that reached MLflow before (even if its spool file survived a crash) is never
logged twice; and two uploads take turns on the spool's lock (gate.tracking.spool.locked).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from gate import paths
from gate.errors import ConfigError, ExitCode, GateError, RecordRefused, TrackingError
from gate.tracking import spool


class DestinationMismatch(ConfigError):
    """A spooled record was meant for another MLflow store than the one the environment names."""

    title = "spooled for another MLflow store"


def run(
    spool_dir: Path | None,
    *,
    env: Mapping[str, str],
    cwd: Path,
    out: Callable[[str], None],
    err: Callable[[str], None],
    to_current: bool = False,
) -> int:
    directory = spool_dir or paths.spool_dir(cwd)
    if not spool.pending(directory):
        out(f"nothing to upload: {directory} holds no spooled results")
        return int(ExitCode.OK)
    try:
        with spool.locked(directory, on_wait=err):
            return _upload(directory, env=env, cwd=cwd, out=out, err=err, to_current=to_current)
    except GateError as exc:
        err(f"error: {exc.render()}")
        return int(exc.exit_code)


def _upload(
    directory: Path,
    *,
    env: Mapping[str, str],
    cwd: Path,
    out: Callable[[str], None],
    err: Callable[[str], None],
    to_current: bool,
) -> int:
    from gate.tracking import credentials, mlflow_store

    items = spool.pending(directory)  # again, under the lock: another upload may have taken some
    if not items:
        out(f"nothing to upload: {directory} holds no spooled results (another upload logged them)")
        return int(ExitCode.OK)
    uploaded = already = refused = 0
    broken = [s for s in items if s.record is None]
    for item in broken:
        err(f"error: cannot read {item.path}: {item.problem} (left in place)")
    readable = [s for s in items if s.record is not None]
    current = credentials.resolve_tracking_uri(env, cwd)
    try:
        plan = [(item, _target(item, current, env, to_current)) for item in readable]
        mismatched = [(item, t) for item, t in plan if isinstance(t, DestinationMismatch)]
        for _, problem in mismatched:
            err(f"error: {problem.render()}")
        stores: dict[str, mlflow_store.MlflowStore] = {}
        for item, target in plan:
            if isinstance(target, DestinationMismatch) or item.record is None:
                continue
            store = stores.get(target) or stores.setdefault(target, mlflow_store.MlflowStore(target))
            where = credentials.describe_uri(target)
            try:
                run_id, url, created = store.log_record(item.record)
            except RecordRefused as exc:
                moved = spool.quarantine(item, exc.message)
                refused += 1
                err(f"error: {exc.render()}")
                err(f"moved {item.path.name} to {moved.parent} (kept there, not tried again)")
                continue
            spool.mark_uploaded(item, run_id, where)
            if created:
                uploaded += 1
                out(f"uploaded {item.path.name} to {where} as MLflow run {url or run_id}")
            else:
                already += 1
                out(f"already in {where} as run {url or run_id}: {item.path.name} (not logged twice)")
    except TrackingError as exc:
        left = len(readable) - uploaded - already - refused
        err(f"error: {exc.render()}")
        err(
            f"{uploaded} uploaded, {already} already there, {left} still spooled in {directory}; run upload again later"
        )
        return int(exc.exit_code)
    refused_note = f", {refused} refused (moved to {directory / 'refused'})" if refused else ""
    mismatch_note = f", {len(mismatched)} left spooled for another store" if mismatched else ""
    stores_used = ", ".join(sorted({credentials.describe_uri(t) for _, t in plan if isinstance(t, str)}))
    out(
        f"{uploaded} uploaded, {already} already in MLflow, {len(broken)} unreadable{refused_note}{mismatch_note}"
        + (f"; MLflow: {stores_used}" if stores_used else "")
    )
    if mismatched:
        return int(ExitCode.USAGE)
    return int(ExitCode.INTERNAL if broken or refused else ExitCode.OK)


def _target(item: spool.Spooled, current: str, env: Mapping[str, str], to_current: bool) -> str | DestinationMismatch:
    """The tracking URI to log `item` to, or why not: its own destination, unless the environment
    names another store (then only with --to-current)."""
    from gate.tracking import credentials

    meant = item.destination
    if meant is None or to_current or credentials.describe_uri(current) == meant:
        return current  # an older spool file names no destination: where the environment points
    if not env.get("MLFLOW_TRACKING_URI") and not _has_masked_credentials(meant):
        return meant  # nothing set here: the store the check meant
    if not env.get("MLFLOW_TRACKING_URI"):
        why = "MLFLOW_TRACKING_URI is unset, and that store's URI had credentials, which the spool does not keep"
        fix = f"set MLFLOW_TRACKING_URI to {meant} with its credentials (or MLflow's token env vars)"
    else:
        why = f"MLFLOW_TRACKING_URI points at {credentials.describe_uri(current)}"
        fix = f"set MLFLOW_TRACKING_URI to {meant}"
    return DestinationMismatch(
        f"{item.path.name} was spooled for {meant}, but {why}; it stays spooled",
        hint=f"{fix} and run upload again, or pass --to-current to log it to {credentials.describe_uri(current)}",
    )


def _has_masked_credentials(uri: str) -> bool:
    from gate.secrets import MASK

    return f"{MASK}@" in uri
