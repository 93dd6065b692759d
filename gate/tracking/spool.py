"""Results that could not be logged to MLflow, kept on disk until `green-gate upload` logs them.

One JSON file per run record, named by its result id, in `.green-gate/spool/`, with the MLflow store
it was meant for (`destination`, the tracking URI without credentials), so that `upload` logs it
there and not wherever the environment points later. Uploaded records move to
`.green-gate/spool/uploaded/` with the run id they got; records MLflow refuses (their content, not
an outage) move to `.green-gate/spool/refused/` with the reason, so that no later upload tries them
again and again. Uploading is idempotent: the record's result id is a tag on its run, so a record is
never logged twice (see MlflowStore.log_record).

Two uploads at once (two jobs of one runner, `if: always()` steps) take turns: `locked` holds an
exclusive lock on the spool folder for the whole upload, so neither reads a file the other has just
moved, logs a record the other is logging, or takes the other's unfinished run for an interrupted one.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gate.errors import OutputError, TrackingError
from gate.output.result import write_json
from gate.tracking.schema import RunRecord

REFUSED = "refused"  # the folder, inside the spool, of records MLflow refused
LOCK_FILE = ".lock"
LOCK_WAIT_S = 600.0  # an upload is seconds per record; longer means a hung one holds the spool
LOCK_POLL_S = 0.2


@dataclass(frozen=True)
class Spooled:
    path: Path
    record: RunRecord | None  # None: the file could not be read (see `problem`)
    problem: str | None = None
    destination: str | None = None  # the tracking URI it was meant for, without credentials; None: not recorded


def put(directory: Path, record: RunRecord, *, reason: str, destination: str | None = None) -> Path:
    """Keep `record` for a later upload; `destination` is the tracking URI without its credentials."""
    path = directory / f"{record.result_id}.json"
    extra = {"spooled_because": reason, **({"destination": destination} if destination else {})}
    write_json(path, {**record.to_dict(), **extra})
    return path


def pending(directory: Path) -> list[Spooled]:
    """Spooled records, oldest first; unreadable files are listed with the problem."""
    found: list[Spooled] = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            destination = data.get("destination") if isinstance(data, dict) else None
            found.append(
                Spooled(
                    path, RunRecord.from_dict(data), destination=destination if isinstance(destination, str) else None
                )
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            found.append(Spooled(path, None, f"{type(exc).__name__}: {exc}"))
    return sorted(found, key=lambda s: (s.record.start_time_ms if s.record else 0, s.path.name))


class SpoolBusy(TrackingError):
    """Another upload held the spool for longer than an upload takes."""

    title = "spool busy"


@contextlib.contextmanager
def locked(
    directory: Path, *, wait_s: float = LOCK_WAIT_S, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the spool's lock (an exclusive `flock` on `<spool>/.lock`, released by the kernel when the
    process ends, however it ends); wait up to `wait_s` for another holder. Raises SpoolBusy, or
    OutputError when the folder cannot be written."""
    import fcntl  # POSIX; the gate runs on Linux and macOS runners

    path = directory / LOCK_FILE
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise OutputError(
            f"cannot lock the spool {directory}: {exc.strerror or exc}",
            hint="upload moves the files it logs, so it needs to write there: run it as the user who ran the check",
        ) from None
    try:
        deadline = time.monotonic() + wait_s
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise SpoolBusy(
                        f"another `green-gate upload` has held {path} for over {wait_s:g} s",
                        hint="let it finish, or end it; its lock goes with its process",
                    ) from None
                if not told and on_wait is not None:
                    on_wait(f"another `green-gate upload` is using {directory}: waiting for it")
                    told = True
                time.sleep(LOCK_POLL_S)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def mark_uploaded(spooled: Spooled, run_id: str, destination: str | None = None) -> Path:
    target = spooled.path.parent / "uploaded" / spooled.path.name
    data = json.loads(spooled.path.read_text(encoding="utf-8"))
    write_json(target, {**data, "mlflow_run_id": run_id, **({"uploaded_to": destination} if destination else {})})
    spooled.path.unlink()
    return target


def quarantine(spooled: Spooled, reason: str) -> Path:
    """Move a record MLflow refused to `refused/`, with why; it is kept, never tried again."""
    target = spooled.path.parent / REFUSED / spooled.path.name
    data = json.loads(spooled.path.read_text(encoding="utf-8"))
    write_json(target, {**data, "refused_because": reason})
    spooled.path.unlink()
    return target
