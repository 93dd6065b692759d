"""What MLflow's failures mean to the gate: how often to try again, which failures another try
cannot fix, and the TrackingError a person reads (credentials redacted, the next step named).

MLflow raises many types (MlflowException, requests', sqlalchemy's); they are told apart by the
`error_code` MLflow sets, so this module needs no MLflow import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gate import paths
from gate.errors import Cancelled, ConfigError, RecordRefused, TrackingError
from gate.retry import RetryPolicy
from gate.tracking.credentials import describe_uri, redact

ATTEMPTS_ENV = "GREEN_GATE_MLFLOW_ATTEMPTS"
BACKOFF_ENV = "GREEN_GATE_MLFLOW_BACKOFF_S"
DEFAULT_ATTEMPTS = 3
DEFAULT_BACKOFF_S = 0.5
MAX_BACKOFF_S = 8.0  # with MLflow's own HTTP retries off, an outage then costs seconds, not minutes

# MLflow error codes that another attempt cannot fix.
PERMANENT_ERRORS = frozenset(
    {
        "INVALID_PARAMETER_VALUE",
        "RESOURCE_DOES_NOT_EXIST",
        "RESOURCE_ALREADY_EXISTS",
        "BAD_REQUEST",
        "PERMISSION_DENIED",
        "UNAUTHENTICATED",
        "INVALID_STATE",
        "ENDPOINT_NOT_FOUND",
        "FEATURE_DISABLED",
    }
)
CREDENTIAL_ERRORS = frozenset({"UNAUTHENTICATED", "PERMISSION_DENIED"})
# What MLflow answers when it is up but the content itself is wrong: the same record never passes.
CONTENT_ERRORS = frozenset({"INVALID_PARAMETER_VALUE", "BAD_REQUEST"})
_KEPT = (
    f"the measured result is kept in {paths.results_dir(Path()).as_posix()}/ and spooled in "
    f"{paths.spool_dir(Path()).as_posix()}/ for `green-gate upload`"
)


def retry_policy(env: Mapping[str, str]) -> RetryPolicy:
    """GREEN_GATE_MLFLOW_ATTEMPTS (1-10, default 3) tries, backing off from GREEN_GATE_MLFLOW_BACKOFF_S
    (0-30 s, default 0.5 s), doubling up to 8 s."""
    try:
        attempts = int(env.get(ATTEMPTS_ENV, str(DEFAULT_ATTEMPTS)))
        backoff_s = float(env.get(BACKOFF_ENV, str(DEFAULT_BACKOFF_S)))
    except ValueError:
        raise ConfigError(
            f"{ATTEMPTS_ENV} must be a whole number and {BACKOFF_ENV} a number",
            hint=f"unset them for the defaults ({DEFAULT_ATTEMPTS} attempts, {DEFAULT_BACKOFF_S:g} s backoff)",
        ) from None
    return RetryPolicy(
        attempts=max(1, min(attempts, 10)), backoff_s=max(0.0, min(backoff_s, 30.0)), max_backoff_s=MAX_BACKOFF_S
    )


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, (TrackingError, ConfigError)):
        return False
    if schema_mismatch(exc) is not None:  # the database stays at its revision however often we ask
        return False
    return getattr(exc, "error_code", None) not in PERMANENT_ERRORS


# What MLflow says when a database store's schema revision is not the one its code expects
# (mlflow/store/db/utils.py, _verify_schema), whether the database is older or newer than the code.
_SCHEMA_MISMATCH = re.compile(r"out-of-date database schema \(found version (\w+), but expected (\w+)\)")


@dataclass(frozen=True)
class SchemaMismatch:
    found: str  # the store's alembic revision
    expected: str  # the revision this MLflow's code works with
    age: Literal["older", "newer"] | None = None  # of the store, when the client's migrations tell
    client_version: str | None = None  # this gate's MLflow


# Tells, from the client's own migrations, whether a revision is older or newer than its code.
SchemaAge = Callable[[SchemaMismatch], SchemaMismatch]


def schema_mismatch(exc: BaseException) -> SchemaMismatch | None:
    match = _SCHEMA_MISMATCH.search(str(exc))
    return SchemaMismatch(match.group(1), match.group(2)) if match else None


def _schema_error(found: SchemaMismatch, action: str, uri: str) -> TrackingError:
    where = describe_uri(uri)
    client = f"this gate's MLflow {found.client_version}" if found.client_version else "this gate's MLflow"
    upgrade = (
        f"back the database up, then migrate it with `mlflow db upgrade <database URI>` run by MLflow "
        f"{found.client_version or 'of the same version as this gate'} (every MLflow that writes to the store "
        "must then be that version or newer)"
    )
    same_version = (
        "install here the MLflow version that migrated it (`pip install 'mlflow-skinny==<its version>'`), "
        "or run an `mlflow server` of that version on the database and point MLFLOW_TRACKING_URI at it "
        "(http://...): a server serves clients of other versions"
    )
    if found.age == "older":
        what = f"the MLflow database at {where} is older than {client}: its schema is at revision {found.found}"
        fix = upgrade
    elif found.age == "newer":
        what = (
            f"the MLflow database at {where} was migrated by a newer MLflow than {client}: its schema is at "
            f"revision {found.found}, which this MLflow does not know"
        )
        fix = same_version + "; MLflow cannot migrate a database back"
    else:
        what = f"the MLflow database at {where} has schema revision {found.found}"
        fix = f"if the database is older than this gate's MLflow, {upgrade}; if newer, {same_version}"
    return TrackingError(
        redact(f"{what}, {client} expects revision {found.expected} (while {action})"),
        hint=f"{fix}; {_KEPT}",
    )


@contextmanager
def translated(action: str, uri: str, schema_age: SchemaAge | None = None) -> Iterator[None]:
    """Whatever MLflow raises inside leaves as a TrackingError; the gate's own errors pass through."""
    try:
        yield
    except (TrackingError, ConfigError, Cancelled):
        raise
    except Exception as exc:  # MLflow raises many types (MlflowException, requests, sqlalchemy)
        raise translate(exc, action, uri, schema_age=schema_age) from exc


def translate(
    exc: BaseException, action: str, uri: str, attempts: int = 1, *, schema_age: SchemaAge | None = None
) -> TrackingError:
    mismatch = schema_mismatch(exc)
    if mismatch is not None:
        return _schema_error(schema_age(mismatch) if schema_age else mismatch, action, uri)
    text = str(exc).strip()
    first_line = text.splitlines()[0] if text else type(exc).__name__
    tried = f" (after {attempts} attempts)" if attempts > 1 else ""
    if getattr(exc, "error_code", None) in CREDENTIAL_ERRORS:
        check = (
            "check the credentials: MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or "
            "MLFLOW_TRACKING_TOKEN (a user needs EDIT on the experiment to log runs)"
        )
    else:
        check = "check MLFLOW_TRACKING_URI and that the server is up"
    return TrackingError(
        redact(f"MLflow at {describe_uri(uri)} failed while {action}{tried}: {_shorten(first_line)}"),
        hint=f"{check}; {_KEPT}",
    )


def refused(exc: BaseException, action: str, uri: str) -> RecordRefused | None:
    """The RecordRefused for `exc` when MLflow refused the content, else None."""
    if getattr(exc, "error_code", None) not in CONTENT_ERRORS:
        return None
    text = str(exc).strip()
    first_line = text.splitlines()[0] if text else type(exc).__name__
    return RecordRefused(
        redact(f"MLflow at {describe_uri(uri)} refused the run while {action}: {_shorten(first_line)}"),
        hint="the record itself is wrong (a metric, param or tag MLflow rejects); it is not retried. "
        "Rename what the message names in the benchmark's metrics file",
    )


# The cause of an outage is usually at the end of the message ("… connection refused").
_HEAD_CHARS = 150
_TAIL_CHARS = 150


def _shorten(text: str) -> str:
    """`text`, or its start and its end (each cut between words) around an ellipsis."""
    if len(text) <= _HEAD_CHARS + _TAIL_CHARS:
        return text
    head, tail = text[:_HEAD_CHARS], text[-_TAIL_CHARS:]
    if not text[_HEAD_CHARS].isspace() and " " in head:
        head = head.rsplit(" ", 1)[0]
    if not text[-_TAIL_CHARS - 1].isspace() and " " in tail:
        tail = tail.split(" ", 1)[1]
    return f"{head.rstrip()} … {tail.lstrip()}"
