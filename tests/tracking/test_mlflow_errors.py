"""What an MLflow failure says: a long message keeps its start and its end, cut between words."""

from __future__ import annotations

from gate.tracking.mlflow_errors import translate


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
