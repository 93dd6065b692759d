"""Fixtures: real `mlflow server`s on 127.0.0.1, the CLI's environment, local fake GitHub and Electricity
Maps servers. What they are built on lives in tests/support/ and tests/fakes/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from gate.bench.conditions import CONDITIONS_ENV
from tests.support.cli import FRESH_CLI_ENV, cli_environment, start_forkserver, stop_forkserver
from tests.support.mlflow import (
    AUTH_ADMIN,
    AUTH_ADMIN_PASSWORD,
    MlflowServer,
    create_postgres_database,
    drop_postgres_database,
    sqlalchemy_url,
    start_basic_auth_server,
    start_mlflow_server,
    stop_mlflow_server,
)

# Fixtures that start a real `mlflow server`: seconds each, so only the slow tier may use them.
SERVER_FIXTURES = frozenset({"mlflow_server", "postgres_mlflow_server", "tracking_server", "auth_server"})


def pytest_collection_finish(session: pytest.Session) -> None:
    # The tests marked slow run `check`, `history` and the like for real, dozens of times: forking
    # those from a Python with MLflow imported saves ~2 CPU-seconds a run (tests/support/cli.py). A
    # session without them (`-m "not slow"`) has a handful of cheap runs: starting one costs more.
    if os.environ.get(FRESH_CLI_ENV) != "1" and any(item.get_closest_marker("slow") for item in session.items):
        start_forkserver()


def pytest_unconfigure(config: pytest.Config) -> None:
    # Wait for this process's CLI forkserver, so that the CPU time of the runs it forked is counted
    # with this process's children like that of any other.
    stop_forkserver()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on a real server that is not marked slow would make `pytest -m "not slow"` slow: refuse it.
    Tests marked `gpu` run one after another on one worker: two at once would measure each other.
    The tests on the basic-auth server, and those on the PostgreSQL-backed one, each run on one
    worker, so that each of those servers starts once (4-8 CPU-seconds a start) rather than once per
    worker."""
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(pytest.mark.xdist_group("gpu"))
        elif "auth_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("mlflow-auth"))
        elif _on_postgres_server(item):
            item.add_marker(pytest.mark.xdist_group("mlflow-postgres"))
    unmarked = [
        item.nodeid
        for item in items
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("slow") is None
    ]
    if unmarked:
        raise pytest.UsageError("these tests start an MLflow server but are not marked slow: " + ", ".join(unmarked))


def _on_postgres_server(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    callspec = getattr(item, "callspec", None)
    via_tracking = (
        "tracking_server" in names and callspec is not None and callspec.params.get("tracking_server") == "postgresql"
    )
    return "postgres_mlflow_server" in names or via_tracking


@pytest.fixture(autouse=True)
def _no_runner_conditions(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shared test machine's load changes between a test's baseline and PR runs, which would make
    them "not comparable" by chance: the runner reads conditions only in the tests about them."""
    monkeypatch.setenv(CONDITIONS_ENV, "off")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, _no_runner_conditions: None) -> Iterator[dict[str, str]]:
    """This process's environment with no GitHub, MLflow or green-gate setting left in it but the
    runner-conditions switch above: a job outside Actions, on the gate's defaults."""
    for name in list(os.environ):
        if name.startswith(("GITHUB", "MLFLOW", "GREEN_GATE")) and name != CONDITIONS_ENV:
            monkeypatch.delenv(name)
    yield dict(os.environ)


@pytest.fixture(autouse=True)
def _no_xdist_worker_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under `pytest -n`, a benchmark suite the gate runs in a child pytest would read the worker's
    variables as its own, and pytest-benchmark turns itself off in an xdist worker."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_check_secrets_active() -> Iterator[None]:
    """A check run in-process activates its secrets for the process (gate.secrets): not for the next test."""
    yield
    from gate import secrets

    secrets.activate(None)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = start_mlflow_server(tmp_path_factory.mktemp("mlflow-server"))
    yield server
    stop_mlflow_server(server)


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """`mlflow server --app-name basic-auth`: every request needs a user; AUTH_ADMIN administers it, a
    user may READ any experiment and manages those it creates. Tests make their own users and
    experiments."""
    server = start_basic_auth_server(
        tmp_path_factory.mktemp("mlflow-auth"),
        admin_username=AUTH_ADMIN,
        admin_password=AUTH_ADMIN_PASSWORD,
        default_permission="READ",
    )
    yield server
    stop_mlflow_server(server)


@pytest.fixture(scope="session")
def postgres_mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    database = create_postgres_database()
    server = start_mlflow_server(tmp_path_factory.mktemp("mlflow-pg-server"), backend_uri=sqlalchemy_url(database))
    yield server
    stop_mlflow_server(server)
    drop_postgres_database(database)


@pytest.fixture(params=["sqlite", "postgresql"])
def tracking_server(request: pytest.FixtureRequest) -> MlflowServer:
    """The same tests against an sqlite-backed and a PostgreSQL-backed `mlflow server`."""
    name = "mlflow_server" if request.param == "sqlite" else "postgres_mlflow_server"
    server: MlflowServer = request.getfixturevalue(name)
    return server


@pytest.fixture
def cli_env() -> dict[str, str]:
    """Environment for CLI runs outside GitHub Actions, as in an activated venv: `python` is ours."""
    return cli_environment()


@pytest.fixture(scope="session")
def _em_server() -> Iterator[Any]:
    from tests.fakes.em_server import serve

    with serve() as fake:
        yield fake


@pytest.fixture
def em_api(_em_server: Any) -> Any:
    """A local Electricity Maps API (tests/fakes/em_server.py), its script reset for each test."""
    _em_server.reset()
    return _em_server


@pytest.fixture(params=["", "/api/v3"], ids=["github.com", "enterprise"])
def github(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A contract-checking GitHub API on 127.0.0.1; `enterprise` serves under /api/v3 like GHES.

    Fails the test if any request or response broke GitHub's OpenAPI description.
    """
    from tests.fakes.github_server import serve

    for gh in serve(prefix=request.param):
        yield gh
        assert gh.violations == [], "contract violations:\n" + "\n".join(gh.violations)
