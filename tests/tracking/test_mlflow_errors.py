"""What an MLflow failure says: a long message keeps its start and its end, cut between words."""

from __future__ import annotations

from dataclasses import replace

from gate.tracking.mlflow_errors import SchemaMismatch, is_retryable, translate


def test_a_long_outage_message_keeps_its_end_and_cuts_between_words() -> None:
    words = " ".join(f"word{i:03d}" for i in range(80))
    exc = ConnectionError(f"HTTPConnectionPool(host='mlflow', port=5000): {words}: connection refused")
    message = translate(exc, "connecting", "http://mlflow:5000").message
    detail = message.split("connecting: ", 1)[1]
    assert detail.endswith("connection refused")
    assert detail.startswith("HTTPConnectionPool(host='mlflow'")
    assert " … " in detail and len(detail) <= 320
    head, tail = detail.split(" … ")
    assert {head.split()[-1], tail.split()[0]} <= set(words.split())  # whole words either side


def test_a_short_message_is_kept_whole() -> None:
    message = translate(ConnectionError("connection refused"), "connecting", "http://mlflow:5000").message
    assert message.endswith("connecting: connection refused")


SCHEMA_TEXT = (
    "Detected out-of-date database schema (found version 1f2e3d4c5b6a, but expected dc11669786a5). Take a "
    "backup of your database, then run 'mlflow db upgrade <database_uri>' to migrate your database"
)


class _MlflowError(Exception):
    error_code = "INTERNAL_ERROR"


def test_a_store_schema_older_than_the_client_says_so_and_how_to_migrate_it() -> None:
    def older(found: SchemaMismatch) -> SchemaMismatch:
        return replace(found, age="older", client_version="3.17.2")

    error = translate(_MlflowError(SCHEMA_TEXT), "connecting", "sqlite:///m.db", schema_age=older)
    assert "is older than this gate's MLflow 3.17.2: its schema is at revision 1f2e3d4c5b6a" in error.message
    assert "expects revision dc11669786a5" in error.message
    assert "mlflow db upgrade" in (error.hint or "") and "MLflow 3.17.2" in (error.hint or "")
    assert "server is up" not in error.render()


def test_a_store_schema_newer_than_the_client_says_so_and_names_both_ways_out() -> None:
    def newer(found: SchemaMismatch) -> SchemaMismatch:
        return replace(found, age="newer", client_version="3.17.2")

    error = translate(_MlflowError(SCHEMA_TEXT), "connecting", "sqlite:///m.db", schema_age=newer)
    assert "was migrated by a newer MLflow than this gate's MLflow 3.17.2" in error.message
    hint = error.hint or ""
    assert "mlflow-skinny==" in hint and "mlflow server" in hint and "cannot migrate a database back" in hint
    assert "server is up" not in error.render()
    assert not is_retryable(_MlflowError(SCHEMA_TEXT))  # the database stays at its revision
