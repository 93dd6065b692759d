"""The gate's credentials: kept from the benchmark, and redacted from every text the gate writes.

The gate holds credentials the benchmark (a pull request's code) must not get: GitHub's tokens,
MLflow's (its env vars, and the user-info of the tracking URI) and each carbon source's API token.
`Secrets.from_env` names them and collects their values once; `benchmark_env` is the environment a
benchmark starts from, without them unless the budget's `pass_env` names one; `redact` replaces
every value (each line of a multi-line one too, since output is read line by line) and the shapes
credentials take in text (URL user-info, `Authorization:` and bearer values, `token=` fields).

The check activates its Secrets once it has read the budget (gate.pipeline.plan); the few places
where text leaves the process (stderr, JSON files, the job summary and outputs, GitHub request
bodies, MLflow tags) redact with `active_secrets()`. Before that, or in other commands, it reads
the gate's own environment with the built-in names.

Values shorter than MIN_SECRET_CHARS are not treated as secrets: replacing every "1" or "ci" in a
report would mangle it and hide nothing an attacker could not guess. No I/O and no third-party
import: the CLI imports this at start-up, through gate.console.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import unquote

from gate.config.budget import DEFAULT_TOKEN_ENV

GITHUB_TOKEN_ENV_VARS = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "INPUT_GITHUB_TOKEN",  # the container action's `github_token` input, as the runner passes it
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
)
MLFLOW_CREDENTIAL_ENV_VARS = (
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_CLIENT_CERT_PATH",
)
# Passed to the benchmark without their user-info: the server's address is no secret, and a
# benchmark that reads it keeps working against a server that needs no credentials.
URI_ENV_VARS = ("MLFLOW_TRACKING_URI", "INPUT_MLFLOW_TRACKING_URI")
# The runner's file commands: a benchmark that writes to them would set the gate step's outputs,
# its summary, or the environment and PATH of every later step. Not secrets (their paths are no
# use to anyone else), so not redacted; withheld from the benchmark like the credentials.
RUNNER_FILE_ENV_VARS = ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE", "GITHUB_STEP_SUMMARY")
MIN_SECRET_CHARS = 4
MASK = "***"

# A scheme starts where no scheme character precedes it and is at most 32 characters, so a long
# unbroken line (a benchmark may print megabytes) is scanned in linear time, not quadratic.
_URL_USERINFO = re.compile(r"(?<![a-zA-Z0-9+.-])(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]{0,31}://)[^/@\s]{1,512}@")
# The scheme is taken whole when present (possessive), so that it is never read as the value.
_AUTHORIZATION = re.compile(r"(?i)\b(authorization\s*[:=]\s*(?:(?:bearer|basic|token)\s+)?+)[^\s\"',;]{4,}")
# A bearer/basic value only when it looks like one (8+ token characters with a digit), so that
# prose such as "a basic model" stays as it is.
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic)(\s+)(?=[^\s]*\d)[A-Za-z0-9._~+/=-]{8,}")
_SECRET_FIELD = re.compile(r"(?i)\b(token|password|secret)([\"']?\s*[:=]\s*[\"']?)[^\s\"',;}]{4,}")

T = TypeVar("T")


@dataclass(frozen=True)
class Secrets:
    names: frozenset[str]  # variables the benchmark does not inherit (unless the budget passes them)
    values: tuple[str, ...] = ()  # what is redacted, longest first

    @classmethod
    def from_env(cls, env: Mapping[str, str], extra_names: Iterable[str] = ()) -> Secrets:
        """The credentials `env` holds: the built-in names, `extra_names` (the budget's `token_env`s)
        and the tracking URI's user-info."""
        names = frozenset((*GITHUB_TOKEN_ENV_VARS, *MLFLOW_CREDENTIAL_ENV_VARS, DEFAULT_TOKEN_ENV, *extra_names))
        found: set[str] = set()
        for name in names:
            found.update(_pieces(env.get(name) or ""))
        for name in URI_ENV_VARS:
            found.update(_userinfo_pieces(env.get(name) or ""))
        values = sorted((v for v in found if len(v) >= MIN_SECRET_CHARS), key=lambda v: (-len(v), v))
        return cls(names, tuple(values))

    def redact(self, text: str) -> str:
        """`text` with every secret value and every credential-shaped string replaced by ***."""
        literal = _literal_pattern(self.values)
        if literal is not None:
            text = literal.sub(MASK, text)
        text = _URL_USERINFO.sub(rf"\g<scheme>{MASK}@", text)
        text = _AUTHORIZATION.sub(rf"\g<1>{MASK}", text)
        text = _AUTH_SCHEME.sub(rf"\g<1>\g<2>{MASK}", text)
        return _SECRET_FIELD.sub(rf"\g<1>\g<2>{MASK}", text)

    def redact_data(self, data: T) -> T:
        """JSON-like data with every string in it redacted (keys too), before it is serialised:
        escaping (JSON, Markdown, workflow commands) could otherwise hide a value from `redact`."""
        return cast(T, self._redact_any(data))

    def _redact_any(self, data: Any) -> Any:
        if isinstance(data, str):
            return self.redact(data)
        if isinstance(data, dict):
            return {self._redact_any(k): self._redact_any(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self._redact_any(v) for v in data]
        if isinstance(data, tuple):
            return tuple(self._redact_any(v) for v in data)
        return data

    def mask_values(self) -> tuple[str, ...]:
        """The values for `::add-mask::`, one line each: the runner masks line by line, so a
        multi-line value registered whole would match no log line."""
        return tuple(v for v in self.values if "\n" not in v and "\r" not in v)

    def benchmark_env(self, base: Mapping[str, str], pass_env: Collection[str] = ()) -> dict[str, str]:
        """`base` without the credentials, except those `pass_env` names; URIs without user-info."""
        env: dict[str, str] = {}
        for name, value in base.items():
            if name in pass_env:
                env[name] = value
            elif name in self.names or name in RUNNER_FILE_ENV_VARS:
                continue
            elif name in URI_ENV_VARS:
                env[name] = without_userinfo(value)
            else:
                env[name] = value
        return env


def without_userinfo(uri: str) -> str:
    """`uri` without `user:password@`."""
    parts = _split_userinfo(uri)
    return uri if parts is None else parts[0] + parts[2]


def describe_uri(uri: str) -> str:
    """`uri` with `user:password@` shown as `***@`, for logs and reports."""
    parts = _split_userinfo(uri)
    return uri if parts is None else f"{parts[0]}{MASK}@{parts[2]}"


_active: Secrets | None = None


def activate(secrets: Secrets | None) -> None:
    """Redact with `secrets` from now on, in this process (None: back to the gate's own environment)."""
    global _active
    _active = secrets


def active_secrets() -> Secrets:
    """The activated Secrets, else those of the gate's own environment with the built-in names."""
    return _active if _active is not None else Secrets.from_env(os.environ)


def redact(text: str) -> str:
    """`text` redacted with the active secrets."""
    return active_secrets().redact(text)


def _pieces(value: str) -> set[str]:
    """A value, trimmed, and each of its lines."""
    return {piece for piece in (value, value.strip(), *(line.strip() for line in value.splitlines())) if piece}


def _userinfo_pieces(uri: str) -> set[str]:
    """`user:password` of a URI, its parts, and each percent-decoded."""
    parts = _split_userinfo(uri.strip())
    if parts is None:
        return set()
    user, _, password = parts[1].partition(":")
    return {piece for raw in (parts[1], user, password) for piece in (raw, unquote(raw)) if piece}


def _split_userinfo(uri: str) -> tuple[str, str, str] | None:
    """(`scheme://`, `user:password`, the rest after `@`) of a URI with user-info, else None. The last
    `@` of the authority ends the user-info, as in urllib: a password may hold an unescaped `@`."""
    scheme, sep, rest = uri.partition("://")
    if not sep or not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9+.-]*", scheme):
        return None
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    userinfo, at, _ = authority.rpartition("@")
    if not at:
        return None
    return f"{scheme}://", userinfo, rest[len(userinfo) + 1 :]


@functools.lru_cache(maxsize=16)
def _literal_pattern(values: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation of the values, longest first, so that a value containing another is replaced whole."""
    return re.compile("|".join(re.escape(v) for v in values)) if values else None
