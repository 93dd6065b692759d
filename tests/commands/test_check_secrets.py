"""Secrets never leave the process: a real `green-gate check` with every credential the gate knows
planted in its environment, a benchmark that prints its whole environment, an authenticated MLflow
server, the PR comment and the check run; then every output the gate wrote is searched for them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fakes.em_server import FakeElectricityMaps
from tests.fakes.github_server import EVENTS, FakeGitHub
from tests.support.cli import CliResult, run_cli
from tests.support.github import REPO
from tests.support.mlflow import AUTH_ADMIN, AUTH_ADMIN_PASSWORD, MlflowServer, search_runs

pytestmark = pytest.mark.slow

URI_USER = f"gg-uri-user-{uuid.uuid4().hex[:10]}"
URI_PASSWORD = f"gg-uri-pw-{uuid.uuid4().hex}"

# Prints every variable (`NAME=value`, a multi-line value over several lines), then the
# credential-like ones as one JSON line (the whole environment would pass the output tail's
# per-line cap on a machine with a large environment, and be cut); keeps a copy for the test;
# fails on its second execution when BENCH_FAIL is set.
BENCH = """\
import json, os, sys
from pathlib import Path
for name, value in sorted(os.environ.items()):
    print(f"{name}={value}")
CREDENTIAL_LIKE = ("TOKEN", "MLFLOW", "PASSWORD", "SECRET", "CERT")
print(json.dumps({k: v for k, v in os.environ.items() if any(w in k for w in CREDENTIAL_LIKE)}, sort_keys=True))
Path("bench-env.json").write_text(json.dumps(dict(os.environ)))
runs = Path("runs.txt")
count = int(runs.read_text()) + 1 if runs.exists() else 1
runs.write_text(str(count))
if os.environ.get("BENCH_FAIL") and count > 1:
    sys.exit(3)
json.dump({"predictions": 1000}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""

BUDGET = """\
version: 1
benchmarks:
  - name: leaky
    command: python bench.py
    repeats: 2
    warmup: 0
    timeout_s: 60
    pass_env: [GH_TOKEN]
limits:
  energy_per_prediction_j: {{warn: +2%, fail: +5%}}
carbon:
  sources:
    - {{provider: electricitymaps, zone: DE, token_env: GG_TEST_EM_TOKEN}}
    - {{provider: fixed, intensity_g_per_kwh: 100}}
mlflow:
  experiment: {experiment}/{{benchmark}}
"""


@dataclass(frozen=True)
class Planted:
    """The credentials in the gate's environment, by variable name."""

    env: dict[str, str]
    passed: frozenset[str]  # named in the budget's pass_env

    def values(self) -> dict[str, str]:
        """Every value that must not appear, each line of a multi-line one on its own."""
        found: dict[str, str] = {}
        for name, value in self.env.items():
            for line in [value, *value.splitlines()]:
                found[line] = name
        found[URI_PASSWORD] = "the URI's password"
        found[f"{URI_USER}:{URI_PASSWORD}"] = "the URI's userinfo"
        return found


@pytest.fixture(scope="module")
def uri_user(auth_server: MlflowServer) -> str:
    """A user of the shared basic-auth server whose credentials the tracking URI carries."""
    created = requests.post(
        f"{auth_server.url}/api/2.0/mlflow/users/create",
        json={"username": URI_USER, "password": URI_PASSWORD},
        auth=(AUTH_ADMIN, AUTH_ADMIN_PASSWORD),
        timeout=10,
    )
    assert created.status_code == 200, created.text
    return URI_USER


def planted(tmp_path: Path, server: MlflowServer) -> Planted:
    tag = uuid.uuid4().hex[:12]
    cert = tmp_path / f"client-cert-{tag}.pem"
    cert.write_text("not a certificate: MLflow passes the path to requests, which sends it only over TLS\n")
    return Planted(
        env={
            "GITHUB_TOKEN": f"ghs_planted{tag}",
            "GH_TOKEN": f"gh-cli-line-one-{tag}\ngh-cli-line-two-{tag}",  # multi-line, and passed
            "ACTIONS_RUNTIME_TOKEN": f"runtime-{tag}",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": f"oidc-{tag}",
            "MLFLOW_TRACKING_TOKEN": f"mlflow-token-{tag}",
            "MLFLOW_TRACKING_USERNAME": AUTH_ADMIN,
            "MLFLOW_TRACKING_PASSWORD": AUTH_ADMIN_PASSWORD,
            "MLFLOW_TRACKING_CLIENT_CERT_PATH": str(cert),
            "ELECTRICITYMAPS_API_TOKEN": f"em-default-{tag}",
            "GG_TEST_EM_TOKEN": f"em-budget-{tag}",
        },
        passed=frozenset({"GH_TOKEN"}),
    )


def project(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "project"
    root.mkdir()
    experiment = f"secrets-{uuid.uuid4().hex[:8]}"
    (root / "bench.py").write_text(BENCH)
    (root / "green-budget.yml").write_text(BUDGET.format(experiment=experiment))
    return root, f"{experiment}/leaky"


def check(
    root: Path,
    secrets: Planted,
    server: MlflowServer,
    gh: FakeGitHub,
    em: FakeElectricityMaps,
    env: dict[str, str],
) -> CliResult:
    host = server.url.removeprefix("http://")
    env = {
        **env,
        **secrets.env,
        "MLFLOW_TRACKING_URI": f"http://{URI_USER}:{URI_PASSWORD}@{host}",
        "GREEN_GATE_ELECTRICITYMAPS_URL": em.url,
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(EVENTS / "pull_request.opened.json"),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": gh.api_url,
        "GITHUB_STEP_SUMMARY": str(root / "summary.md"),
        "GITHUB_OUTPUT": str(root / "outputs.txt"),
        "GREEN_GATE_COMMENT": "true",
    }
    return run_cli("check", "--check-run", "--json", "out.json", cwd=root, env=env)


def outputs(root: Path, result: CliResult, gh: FakeGitHub, runs: list[dict[str, Any]]) -> dict[str, str]:
    """Every text the gate wrote or sent, by where it went; `::add-mask::` lines (the runner reads
    them and never prints them) are left out of stderr and checked apart."""
    found = {
        "stdout": result.stdout,
        "stderr": "\n".join(line for line in result.stderr.splitlines() if not line.startswith("::add-mask::")),
        "--json file": (root / "out.json").read_text(),
        "GITHUB_STEP_SUMMARY": (root / "summary.md").read_text(),
        "GITHUB_OUTPUT": (root / "outputs.txt").read_text(),
        "GitHub comment bodies": json.dumps(gh.comments, ensure_ascii=False),
        "GitHub check-run bodies": json.dumps(gh.check_runs, ensure_ascii=False),
        "GitHub request paths": "\n".join(gh.log),
        "MLflow runs": json.dumps(runs, ensure_ascii=False),
    }
    for path in sorted((root / ".green-gate").rglob("*")):
        if path.is_file():
            found[str(path.relative_to(root))] = path.read_bytes().decode("utf-8", errors="replace")
    return found


def assert_no_secret_in(found: dict[str, str], secrets: Planted) -> None:
    leaks = [
        f"{what} ({len(value)} chars) in {where}"
        for value, what in secrets.values().items()
        for where, text in found.items()
        if value in text
    ]
    assert leaks == []


def assert_benchmark_env_is_clean(root: Path, secrets: Planted) -> None:
    seen: dict[str, str] = json.loads((root / "bench-env.json").read_text())
    for name, value in secrets.env.items():
        if name in secrets.passed:
            assert seen.get(name) == value, f"{name} is named in pass_env but did not reach the benchmark"
        else:
            assert name not in seen, f"the benchmark got {name}"
            assert value not in json.dumps(seen), f"the benchmark got the value of {name}"
    assert URI_PASSWORD not in json.dumps(seen) and URI_USER not in json.dumps(seen)
    assert seen["MLFLOW_TRACKING_URI"].startswith("http://127.0.0.1:"), "the URI without its userinfo"


@pytest.mark.parametrize("github", [""], indirect=True)
@pytest.mark.parametrize("fails", [True, False], ids=["failing", "passing"])
def test_no_planted_secret_reaches_any_output_or_the_benchmark(
    tmp_path: Path,
    fails: bool,
    auth_server: MlflowServer,
    uri_user: str,
    github: FakeGitHub,
    em_api: FakeElectricityMaps,
    cli_env: dict[str, str],
) -> None:
    root, experiment = project(tmp_path)
    secrets = planted(tmp_path, auth_server)
    env = {**cli_env, "BENCH_FAIL": "1"} if fails else cli_env
    result = check(root, secrets, auth_server, github, em_api, env)

    assert result.returncode == (3 if fails else 0), result.stderr
    assert "Traceback" not in result.stderr
    runs = search_runs(auth_server, experiment, auth=(AUTH_ADMIN, AUTH_ADMIN_PASSWORD))
    assert len(runs) == 1, "the run was logged to the authenticated server (a failed run too: one repeat completed)"
    assert len(github.comments[2]) == 1 and len(github.check_runs) == 1
    assert (root / ".green-gate" / "report.md").is_file()
    if fails:
        assert "exited with status 3" in (root / "out.json").read_text()
        assert "Last " in github.comments[2][0]["body"], "the comment shows the output tail"
    found = outputs(root, result, github, runs)
    assert_no_secret_in(found, secrets)
    assert_benchmark_env_is_clean(root, secrets)
    # The benchmark's own output reached the log (and a failure's output tail), redacted, not dropped.
    assert "  | GH_TOKEN=***" in result.stderr.splitlines()
    if fails:
        tail = json.loads(found["--json file"])["benchmarks"][0]["output_tail"]
        assert json.loads(tail[-1])["GH_TOKEN"] == "***\n***"  # the environment's JSON line

    masked = {
        line.removeprefix("::add-mask::") for line in result.stderr.splitlines() if line.startswith("::add-mask::")
    }
    for name, value in secrets.env.items():
        assert set(value.splitlines()) <= masked, f"{name} is not masked line by line"
    assert {URI_PASSWORD, f"{URI_USER}:{URI_PASSWORD}"} <= masked
