"""Where the MLflow store is, and how to speak of it without its credentials.

Credentials come from MLflow's own env vars (MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_USERNAME and
_PASSWORD) or sit in the URI's user-info; nothing the gate logs, reports or raises may carry them.
Pure apart from creating the embedded store's folder; no MLflow import.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from gate import paths

SECRET_ENV_VARS = ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_CLIENT_CERT_PATH")
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic)\s+[^\s\"',;]+")
_SECRET_FIELD = re.compile(r"(?i)\b(token|password|secret)([\"']?\s*[:=]\s*[\"']?)[^\s\"',;}]+")


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
    return _URL_CREDENTIALS.sub(r"\g<scheme>***@", uri)


def redact(text: str, env: Mapping[str, str] | None = None) -> str:
    """`text` without credentials: user:password in URLs, bearer tokens, and MLflow's secret env values."""
    env = os.environ if env is None else env
    text = _URL_CREDENTIALS.sub(r"\g<scheme>***@", text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)} ***", text)
    text = _SECRET_FIELD.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    for name in SECRET_ENV_VARS:
        secret = env.get(name)
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
