"""Results that could not be logged to MLflow, kept on disk until `green-gate upload` logs them.

One JSON file per run record, named by its result id, in `.green-gate/spool/`. Uploaded records move
to `.green-gate/spool/uploaded/` with the run id they got; records MLflow refuses (their content, not
an outage) move to `.green-gate/spool/refused/` with the reason, so that no later upload tries them
again and again. Uploading is idempotent: the record's result
id is a tag on its run, so a record is never logged twice (see MlflowStore.log_record).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gate.output.result import write_json
from gate.tracking.schema import RunRecord

REFUSED = "refused"  # the folder, inside the spool, of records MLflow refused


@dataclass(frozen=True)
class Spooled:
    path: Path
    record: RunRecord | None  # None: the file could not be read (see `problem`)
    problem: str | None = None


def put(directory: Path, record: RunRecord, *, reason: str) -> Path:
    path = directory / f"{record.result_id}.json"
    write_json(path, {**record.to_dict(), "spooled_because": reason})
    return path


def pending(directory: Path) -> list[Spooled]:
    """Spooled records, oldest first; unreadable files are listed with the problem."""
    found: list[Spooled] = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            found.append(Spooled(path, RunRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            found.append(Spooled(path, None, f"{type(exc).__name__}: {exc}"))
    return sorted(found, key=lambda s: (s.record.start_time_ms if s.record else 0, s.path.name))


def mark_uploaded(spooled: Spooled, run_id: str) -> Path:
    target = spooled.path.parent / "uploaded" / spooled.path.name
    data = json.loads(spooled.path.read_text(encoding="utf-8"))
    write_json(target, {**data, "mlflow_run_id": run_id})
    spooled.path.unlink()
    return target


def quarantine(spooled: Spooled, reason: str) -> Path:
    """Move a record MLflow refused to `refused/`, with why; it is kept, never tried again."""
    target = spooled.path.parent / REFUSED / spooled.path.name
    data = json.loads(spooled.path.read_text(encoding="utf-8"))
    write_json(target, {**data, "refused_because": reason})
    spooled.path.unlink()
    return target
