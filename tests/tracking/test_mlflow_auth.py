"""Credentials through MLflow's own env vars, against a real `mlflow server --app-name basic-auth`."""

from __future__ import annotations

import uuid

import pytest
import requests

from gate.errors import TrackingError
from gate.retry import RetryPolicy
from gate.tracking.mlflow_store import MlflowStore
from tests.support.mlflow import (
    AUTH_ADMIN,
    AUTH_ADMIN_PASSWORD,
    HW,
    MlflowServer,
    experiment_name,
    record,
)

pytestmark = pytest.mark.slow


def test_credentials_from_mlflow_env_vars_log_and_read_history(
    auth_server: MlflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", AUTH_ADMIN)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", AUTH_ADMIN_PASSWORD)
    store = MlflowStore(auth_server.url)
    exp = experiment_name()
    run_id, _, created = store.log_record(record(exp))
    assert created
    (row,) = store.history(exp)  # the REST read path sends the same credentials
    assert row.run_id == run_id and row.branch == "main"
    baseline = store.find_baseline(exp, branch="main", hardware_id=HW)
    assert baseline is not None and baseline.run_id == run_id

    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")
    in_uri = MlflowStore(auth_server.url.replace("http://", f"http://{AUTH_ADMIN}:{AUTH_ADMIN_PASSWORD}@"))
    assert [r.run_id for r in in_uri.history(exp)] == [run_id]


def test_a_wrong_password_is_a_clear_error_that_never_shows_it(
    auth_server: MlflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", AUTH_ADMIN)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "wrong-secret-value")
    slept: list[float] = []
    store = MlflowStore(auth_server.url, retry=RetryPolicy(attempts=3, backoff_s=0.01), sleep=slept.append)
    for read in (lambda: store.history("any/bench"), lambda: store.log_record(record(experiment_name()))):
        with pytest.raises(TrackingError) as caught:
            read()
        text = caught.value.render()
        assert "wrong-secret-value" not in text and AUTH_ADMIN_PASSWORD not in text
        assert auth_server.url in text and "401" in text
        assert "fix: check the credentials: MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD" in text
    assert slept == []  # refused credentials are not retried


def test_a_read_only_user_reads_history_but_cannot_log_and_is_told_why(
    auth_server: MlflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = (AUTH_ADMIN, AUTH_ADMIN_PASSWORD)
    reader, reader_password = f"release-manager-{uuid.uuid4().hex[:8]}", f"rd-{uuid.uuid4().hex}"
    created = requests.post(
        f"{auth_server.url}/api/2.0/mlflow/users/create",
        json={"username": reader, "password": reader_password},
        auth=admin,
        timeout=10,
    )
    assert created.status_code == 200, created.text
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", AUTH_ADMIN)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", AUTH_ADMIN_PASSWORD)
    exp = experiment_name()
    run_id, _, _ = MlflowStore(auth_server.url).log_record(record(exp))

    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", reader)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", reader_password)
    slept: list[float] = []
    store = MlflowStore(auth_server.url, retry=RetryPolicy(attempts=3, backoff_s=0.01), sleep=slept.append)
    assert [row.run_id for row in store.history(exp)] == [run_id]  # the server's default permission: READ
    with pytest.raises(TrackingError) as caught:
        store.log_record(record(exp))
    text = caught.value.render()
    assert "PERMISSION_DENIED" in text or "403" in text
    assert "a user needs EDIT on the experiment to log runs" in text and reader_password not in text
    assert slept == []
