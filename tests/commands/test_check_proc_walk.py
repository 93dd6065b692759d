"""A benchmark that looks finds no credential: it walks every ancestor's /proc/<pid>/environ, cmdline
and open files, and every file in the workspace, while a real `green-gate check` holding planted
credentials runs it (gate.hardening: the gate's environment block is scrubbed)."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from gate import hardening
from tests.support.cli import run_cli

pytestmark = pytest.mark.slow

WALK = Path(__file__).resolve().parents[1] / "support" / "proc_walk.py"
BUDGET = """\
version: 1
benchmarks:
  - name: walker
    command: python proc_walk.py
    repeats: 1
    warmup: 0
    timeout_s: 60
limits:
  energy_per_prediction_j: {warn: +2%, fail: +5%}
carbon:
  sources:
    - {provider: electricitymaps, zone: DE, token_env: GG_WALK_EM_TOKEN}
    - {provider: fixed, intensity_g_per_kwh: 100}
"""


def test_no_credential_in_any_ancestor_or_file(tmp_path: Path, cli_env: dict[str, str]) -> None:
    if hardening.environment_block() is None:
        pytest.skip("no environment block address in /proc/self/stat (not Linux, or a kernel before 3.5)")
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(WALK, project / "proc_walk.py")
    (project / "green-budget.yml").write_text(BUDGET)
    tag = uuid.uuid4().hex
    planted = {
        "GITHUB_TOKEN": f"ghs_walk{tag}",
        "ACTIONS_RUNTIME_TOKEN": f"runtime-walk-{tag}",
        "MLFLOW_TRACKING_TOKEN": f"mlflow-walk-{tag}",
        "MLFLOW_TRACKING_PASSWORD": f"mlflow-pw-walk-{tag}",
        "GG_WALK_EM_TOKEN": f"em-walk-{tag}",  # a budget's token_env: known only once the budget is read
    }
    uri_password = f"uri-pw-{tag}"
    env = {
        **cli_env,
        **planted,
        "MLFLOW_TRACKING_URI": f"http://walker:{uri_password}@127.0.0.1:9",  # nothing listens: an outage
        "MLFLOW_TRACKING_USERNAME": "walker",
    }
    # A fresh interpreter: a forked one's initial environment block is its forkserver's, which would
    # hold none of the planted credentials whatever the gate did.
    done = run_cli("check", "--no-record", cwd=project, env=env, fresh=True)
    assert done.returncode in (0, 4), done.stderr
    walk = json.loads((project / "proc-walk.json").read_text())
    read = walk["read"]
    assert any(label.endswith("/environ") for label in read)  # the gate's environ was readable (as root)
    text = "\n".join(read.values())
    for name, value in [*planted.items(), ("URI password", uri_password)]:
        assert value not in text, f"{name} found in " + ", ".join(k for k, v in read.items() if value in v)
