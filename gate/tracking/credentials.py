"""Where the MLflow store is, and how to speak of it without its credentials.

Credentials come from MLflow's own env vars (MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_USERNAME and
_PASSWORD) or sit in the URI's user-info; nothing the gate logs, reports or raises may carry them
(gate.secrets names them and redacts them). Pure apart from creating the embedded store's folder;
no MLflow import.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gate import paths, secrets


def resolve_tracking_uri(env: Mapping[str, str], cwd: Path) -> str:
    """MLFLOW_TRACKING_URI, else the embedded sqlite store under `cwd` (its folder created)."""
    uri = env.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    path = paths.mlflow_db(cwd).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def describe_uri(uri: str) -> str:
    """The URI without credentials, for logs and reports."""
    return secrets.describe_uri(uri)


def redact(text: str, env: Mapping[str, str] | None = None) -> str:
    """`text` without credentials: those of `env` (None: the check's, gate.secrets.active_secrets) and
    the shapes credentials take in text (URL user-info, bearer values, `token=` fields)."""
    return (secrets.active_secrets() if env is None else secrets.Secrets.from_env(env)).redact(text)
