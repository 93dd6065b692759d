"""An MLflow database at a schema revision other than the gate's MLflow expects: the error says which
way it differs and the fix, not "check MLFLOW_TRACKING_URI and that the server is up".

The newer store is a real database taken to a revision this MLflow does not know by a real alembic
migration, as a newer MLflow's `mlflow db upgrade` leaves it: MLflow's own migration scripts plus one
more on top."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gate.errors import ExitCode
from gate.tracking import mlflow_errors
from gate.tracking.mlflow_store import schema_age
from tests.support.cli import cli_environment, run_cli

pytestmark = pytest.mark.slow  # creating and migrating an MLflow database: seconds

BUDGET = """version: 1
benchmarks:
  - name: bench
    command: python -c pass
"""
NEWER_REVISION = "ffee00aa1234"
NEWER_MIGRATION = f'''"""a later MLflow's migration: one more column"""
import sqlalchemy as sa
from alembic import op

revision = "{NEWER_REVISION}"
down_revision = "{{head}}"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("experiments") as batch_op:
        batch_op.add_column(sa.Column("added_by_a_newer_mlflow", sa.String(32), nullable=True))


def downgrade():
    pass
'''


def _alembic_config(db_url: str, alembic_dir: str | None = None) -> Any:
    from mlflow.store.db.utils import _get_alembic_config

    return _get_alembic_config(db_url, alembic_dir)  # type: ignore[no-untyped-call]


def _revision(database: Path) -> str:
    with sqlite3.connect(database) as con:
        (row,) = con.execute("SELECT version_num FROM alembic_version").fetchall()
    return str(row[0])


def test_a_store_migrated_by_a_newer_mlflow_names_the_versions_and_the_fix(tmp_path: Path) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory
    from mlflow.version import VERSION

    database = tmp_path / "mlflow.db"
    uri = f"sqlite:///{database}"
    (tmp_path / "green-budget.yml").write_text(BUDGET)
    env = {**cli_environment(), "MLFLOW_TRACKING_URI": uri}
    # A store at this MLflow's head revision (in a child process: MLflow keeps one store per URI).
    assert run_cli("history", cwd=tmp_path, env=env).returncode == 0
    head = ScriptDirectory.from_config(_alembic_config(db_url="")).get_current_head()
    assert _revision(database) == head

    scripts = tmp_path / "newer-migrations"
    shutil.copytree(Path(_alembic_config(db_url="").get_main_option("script_location") or ""), scripts)
    (scripts / "versions" / f"{NEWER_REVISION}_newer.py").write_text(NEWER_MIGRATION.replace("{head}", head or ""))
    command.upgrade(_alembic_config(uri, alembic_dir=str(scripts)), "heads")
    assert _revision(database) == NEWER_REVISION

    result = run_cli("history", cwd=tmp_path, env=env)
    assert result.returncode == ExitCode.INTERNAL, result.stderr
    assert f"error: the MLflow database at {uri} was migrated by a newer MLflow than " in result.stderr
    assert f"this gate's MLflow {VERSION}" in result.stderr
    assert f"revision {NEWER_REVISION}" in result.stderr and f"expects revision {head}" in result.stderr
    assert "mlflow-skinny==" in result.stderr and "server is up" not in result.stderr
    assert "Traceback" not in result.stderr


def test_the_client_s_own_migrations_tell_an_older_revision_from_a_newer_one() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_alembic_config(db_url=""))
    head = scripts.get_current_head() or ""
    parent = scripts.get_revision(head).down_revision
    assert isinstance(parent, str)
    assert schema_age(mlflow_errors.SchemaMismatch(parent, head)).age == "older"
    assert schema_age(mlflow_errors.SchemaMismatch(NEWER_REVISION, head)).age == "newer"
