"""`green-gate upload`: log the spooled results that MLflow could not take at check time.

A record MLflow refuses (its content, not an outage) is moved to the spool's `refused/` folder with
the reason: the command fails that once, and no later job tries it again.

Idempotent: each record carries a result id that becomes a tag on its run, so a record that reached
MLflow before (even if its spool file survived a crash) is never logged twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from gate import paths
from gate.errors import ExitCode, GateError, RecordRefused, TrackingError
from gate.tracking import spool


def run(
    spool_dir: Path | None, *, env: Mapping[str, str], cwd: Path, out: Callable[[str], None], err: Callable[[str], None]
) -> int:
    directory = spool_dir or paths.spool_dir(cwd)
    items = spool.pending(directory)
    if not items:
        out(f"nothing to upload: {directory} holds no spooled results")
        return int(ExitCode.OK)
    from gate.tracking import credentials, mlflow_store

    uploaded = already = refused = 0
    broken = [s for s in items if s.record is None]
    for item in broken:
        err(f"error: cannot read {item.path}: {item.problem} (left in place)")
    try:
        store = mlflow_store.MlflowStore(credentials.resolve_tracking_uri(env, cwd))
        for item in items:
            if item.record is None:
                continue
            try:
                run_id, url, created = store.log_record(item.record)
            except RecordRefused as exc:
                moved = spool.quarantine(item, exc.message)
                refused += 1
                err(f"error: {exc.render()}")
                err(f"moved {item.path.name} to {moved.parent} (kept there, not tried again)")
                continue
            spool.mark_uploaded(item, run_id)
            if created:
                uploaded += 1
                out(f"uploaded {item.path.name} as MLflow run {url or run_id}")
            else:
                already += 1
                out(f"already in MLflow as run {url or run_id}: {item.path.name} (not logged twice)")
    except TrackingError as exc:
        left = len(items) - len(broken) - uploaded - already - refused
        err(f"error: {exc.render()}")
        err(
            f"{uploaded} uploaded, {already} already there, {left} still spooled in {directory}; run upload again later"
        )
        return int(exc.exit_code)
    except GateError as exc:
        err(f"error: {exc.render()}")
        return int(exc.exit_code)
    refused_note = f", {refused} refused (moved to {directory / 'refused'})" if refused else ""
    out(f"{uploaded} uploaded, {already} already in MLflow, {len(broken)} unreadable{refused_note}")
    return int(ExitCode.INTERNAL if broken or refused else ExitCode.OK)
