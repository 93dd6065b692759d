"""The gate's credentials: which they are, what the benchmark inherits, and their redaction at each
place where text leaves the process."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gate import console, secrets
from gate.bench.process import execute
from gate.github import actions
from gate.github.api import GitHubApi
from gate.output import markdown
from gate.output.comment import marker
from gate.output.result import write_json
from gate.secrets import MASK, Secrets
from tests.fakes.github_server import FakeGitHub
from tests.support.documents import document, outcome
from tests.support.github import REPO

ENV = {
    "GITHUB_TOKEN": "ghs_token123",
    "GH_TOKEN": "gh-token-456",
    "INPUT_GITHUB_TOKEN": "ghs_input789",
    "ACTIONS_RUNTIME_TOKEN": "runtime-abc",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-def",
    "MLFLOW_TRACKING_TOKEN": "mlflow-tok-1",
    "MLFLOW_TRACKING_USERNAME": "svc-user",
    "MLFLOW_TRACKING_PASSWORD": "mlflow-pw-2",
    "MLFLOW_TRACKING_CLIENT_CERT_PATH": "/keys/client.pem",
    "MLFLOW_TRACKING_URI": "https://uri-user:uri%40pass@mlflow.example/prefix",
    "ELECTRICITYMAPS_API_TOKEN": "em-default-3",
    "CUSTOM_EM_TOKEN": "em-custom-4",
    "PATH": "/usr/bin",
    "SEED": "7",
}
WITHHELD = [name for name in ENV if name not in ("MLFLOW_TRACKING_URI", "PATH", "SEED")]


@pytest.fixture
def planted() -> Iterator[Secrets]:
    """ENV's secrets, active for the test (as the check activates its own)."""
    found = Secrets.from_env(ENV, ["CUSTOM_EM_TOKEN"])
    secrets.activate(found)
    yield found
    secrets.activate(None)


def test_every_credential_is_found_and_short_values_are_not_secrets() -> None:
    found = Secrets.from_env({**ENV, "GH_TOKEN": "abc"}, ["CUSTOM_EM_TOKEN"])
    for name in WITHHELD:
        assert name in found.names
        assert name == "GH_TOKEN" or ENV[name] in found.values, name
    assert "abc" not in found.values  # under MIN_SECRET_CHARS: replacing it would mangle text
    assert {"uri-user:uri%40pass", "uri-user", "uri%40pass", "uri@pass"} <= set(found.values)
    assert "CUSTOM_EM_TOKEN" not in Secrets.from_env(ENV).names  # only when the budget names it
    assert list(found.values) == sorted(found.values, key=len, reverse=True)


def test_every_value_is_redacted_wherever_it_sits() -> None:
    found = Secrets.from_env(ENV, ["CUSTOM_EM_TOKEN"])
    text = " ".join(f"{name}={value}" for name, value in ENV.items())
    redacted = found.redact(text)
    for name in WITHHELD:
        assert ENV[name] not in redacted and f"{name}={MASK}" in redacted
    assert "uri-user" not in redacted and "uri%40pass" not in redacted
    assert "PATH=/usr/bin SEED=7" in redacted


def test_a_multi_line_secret_is_redacted_whole_and_line_by_line() -> None:
    found = Secrets.from_env({"GITHUB_TOKEN": "-----BEGIN KEY-----\nc2VjcmV0LWtleQ==\n-----END KEY-----\n"})
    whole = found.redact("key: -----BEGIN KEY-----\nc2VjcmV0LWtleQ==\n-----END KEY-----\n.")
    assert whole == f"key: {MASK}."
    assert [found.redact(line) for line in ("-----BEGIN KEY-----", "  c2VjcmV0LWtleQ==", "x")] == [
        MASK,
        f"  {MASK}",
        "x",
    ]
    assert found.mask_values() == ("-----BEGIN KEY-----", "-----END KEY-----", "c2VjcmV0LWtleQ==")


def test_credential_shapes_are_redacted_without_mangling_prose() -> None:
    none = Secrets.from_env({})
    assert none.redact("GET https://u:p@host/api") == f"GET https://{MASK}@host/api"
    assert none.redact("Authorization: Bearer tok-123456") == f"Authorization: Bearer {MASK}"
    assert none.redact("curl -H 'Authorization: token ghp_abcd1234'") == f"curl -H 'Authorization: token {MASK}'"
    assert none.redact("sent Bearer eyJhbGciOi.J9x") == f"sent Bearer {MASK}"
    assert none.redact('{"password": "hunter22"}') == f'{{"password": "{MASK}"}}'
    prose = "a basic model; bearer of news; 2 tokens; token_env: EM_TOKEN; max_tokens=5; git@github.com:o/r"
    assert none.redact(prose) == prose


def test_redact_data_reaches_every_string_before_escaping() -> None:
    found = Secrets.from_env({"GITHUB_TOKEN": 'tok"with\\quote'})
    data = {"tail": ['x tok"with\\quote'], 'tok"with\\quote': (1, 'tok"with\\quote'), "n": 3.5}
    assert found.redact_data(data) == {"tail": [f"x {MASK}"], MASK: (1, MASK), "n": 3.5}


def test_the_benchmark_inherits_no_credential_unless_passed() -> None:
    found = Secrets.from_env(ENV, ["CUSTOM_EM_TOKEN"])
    env = found.benchmark_env(ENV, pass_env=["GH_TOKEN"])
    assert set(env) == {"GH_TOKEN", "MLFLOW_TRACKING_URI", "PATH", "SEED"}
    assert env["GH_TOKEN"] == ENV["GH_TOKEN"]
    assert env["MLFLOW_TRACKING_URI"] == "https://mlflow.example/prefix"
    passed = found.benchmark_env(ENV, pass_env=["MLFLOW_TRACKING_URI"])
    assert passed["MLFLOW_TRACKING_URI"] == ENV["MLFLOW_TRACKING_URI"]


def test_uris_are_described_and_stripped_at_the_last_at_sign() -> None:
    assert secrets.describe_uri("https://u:p@ss@host:5000/x@y") == f"https://{MASK}@host:5000/x@y"
    assert secrets.without_userinfo("https://u:p@ss@host:5000/x") == "https://host:5000/x"
    for uri in ("http://127.0.0.1:5000", "sqlite:////tmp/a@b/mlflow.db", "databricks"):
        assert secrets.describe_uri(uri) == uri == secrets.without_userinfo(uri)


def test_without_activation_the_gates_own_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets.activate(None)
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_from_os_environ")
    assert secrets.redact("t=ghs_from_os_environ") == f"t={MASK}"


# --- the child process ---------------------------------------------------------------------------


def test_the_benchmark_process_gets_no_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, planted: Secrets
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    script = "import json, os; open('env.json', 'w').write(json.dumps(dict(os.environ)))"
    (tmp_path / "bench.py").write_text(script)
    result = execute(
        (sys.executable, "bench.py"),
        None,
        cwd=tmp_path,
        env={"SEED": "8"},
        timeout_s=30,
        echo=lambda _: None,
        pass_env=("GH_TOKEN",),
    )
    assert not result.failed
    seen = json.loads((tmp_path / "env.json").read_text())
    assert [name for name in WITHHELD if name in seen] == ["GH_TOKEN"]
    assert seen["MLFLOW_TRACKING_URI"] == "https://mlflow.example/prefix" and seen["SEED"] == "8"
    assert seen["PATH"] == os.environ["PATH"]


# --- where text leaves the process ---------------------------------------------------------------


def test_stderr_is_redacted_and_masks_go_out_line_by_line(capsys: pytest.CaptureFixture[str], planted: Secrets) -> None:
    console.echo(f"GITHUB_TOKEN={ENV['GITHUB_TOKEN']}")
    console.log(f"uri {ENV['MLFLOW_TRACKING_URI']}")
    actions.add_mask("first-line-1\nsecond-line-2\nab\n")
    _, err = capsys.readouterr()
    assert err == (
        f"  | GITHUB_TOKEN={MASK}\n"
        f"green-gate: uri https://{MASK}@mlflow.example/prefix\n"
        "::add-mask::first-line-1\n"
        "::add-mask::second-line-2\n"
    )


def test_annotations_are_redacted_before_escaping(planted: Secrets) -> None:
    found = Secrets.from_env({"GITHUB_TOKEN": "tok,with:colon%"})
    secrets.activate(found)
    text = actions.annotation("error", "bad tok,with:colon%", file="a.yml", title="x tok,with:colon%")
    assert "tok" not in text and text == f"::error file=a.yml,title=x {MASK}::bad {MASK}"


def test_summary_outputs_and_json_files_are_redacted(tmp_path: Path, planted: Secrets) -> None:
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "GITHUB_OUTPUT": str(tmp_path / "out.txt")}
    actions.append_step_summary(env, f"tail: {ENV['GH_TOKEN']}")
    actions.set_outputs(env, {"verdict": f"x {ENV['MLFLOW_TRACKING_PASSWORD']}"})
    write_json(tmp_path / "r.json", {"tracking_uri": ENV["MLFLOW_TRACKING_URI"], "tail": [ENV["CUSTOM_EM_TOKEN"]]})
    assert (tmp_path / "summary.md").read_text() == f"tail: {MASK}\n"
    assert (tmp_path / "out.txt").read_text() == f"verdict=x {MASK}\n"
    assert json.loads((tmp_path / "r.json").read_text()) == {
        "tracking_uri": f"https://{MASK}@mlflow.example/prefix",
        "tail": [MASK],
    }


def test_the_mask_goes_out_for_every_secret_in_actions(capsys: pytest.CaptureFixture[str]) -> None:
    actions.add_masks(Secrets.from_env({"GITHUB_TOKEN": "one-line-1\ntwo-line-2"}).mask_values())
    _, err = capsys.readouterr()
    assert err.splitlines() == ["::add-mask::one-line-1", "::add-mask::two-line-2"]


@pytest.mark.parametrize("github", [""], indirect=True)
def test_github_request_bodies_are_redacted(github: FakeGitHub, planted: Secrets) -> None:
    api = GitHubApi(ENV["GITHUB_TOKEN"], base_url=github.api_url)
    mark = marker("k1")
    api.upsert_comment(REPO, 2, mark, f"{mark}\ntail: {ENV['GH_TOKEN']}")
    api.create_check_run(
        REPO, name="green-gate", head_sha="a" * 40, conclusion="failure", title="t", summary=ENV["GITHUB_TOKEN"]
    )
    assert github.comments[2][0]["body"] == f"{mark}\ntail: {MASK}"
    assert github.check_runs[0]["output"]["summary"] == MASK


@pytest.mark.parametrize("github", [""], indirect=True)
def test_the_comment_is_rendered_from_a_redacted_result(
    tmp_path: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    from gate.github import publish

    token = "ghs_under_scored_token"  # Markdown escapes `_`: redacting the rendered text would miss it
    doc = document(outcome(error=f"benchmark printed {token}", output_tail=(f"GITHUB_TOKEN={token}",)), "error")
    env = {
        "GITHUB_TOKEN": token,
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": github.api_url,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    secrets.activate(None)  # `green-gate comment`: nothing activated, the secrets come from `env`
    result = publish.post(doc, env, template_path=None, check_run=True, log=lambda _: None)
    assert result.status == "created"
    bodies = [c["body"] for c in github.comments[7]] + [r["output"]["summary"] for r in github.check_runs]
    assert len(bodies) == 2 and all(f"benchmark printed {markdown.md(MASK)}" in body for body in bodies)
    for body in bodies:
        assert token not in body and token.replace("_", "\\_") not in body
    assert f"::add-mask::{token}" in capsys.readouterr().err


def test_a_spooled_run_is_redacted(tmp_path: Path, planted: Secrets) -> None:
    from gate.tracking import spool
    from tests.support.mlflow import experiment_name, record

    run = record(experiment_name())
    run.tags["green_gate.command"] = f"python bench.py --token-file {ENV['MLFLOW_TRACKING_CLIENT_CERT_PATH']}"
    path = spool.put(tmp_path, run, reason=f"MLflow at {ENV['MLFLOW_TRACKING_URI']} refused {ENV['GITHUB_TOKEN']}")
    text = path.read_text()
    assert ENV["MLFLOW_TRACKING_CLIENT_CERT_PATH"] not in text and ENV["GITHUB_TOKEN"] not in text
    assert "uri-user" not in text and f"MLflow at https://{MASK}@mlflow.example/prefix refused {MASK}" in text


@pytest.mark.slow
def test_mlflow_tags_and_params_are_redacted(tmp_path: Path, planted: Secrets) -> None:
    from gate.tracking.mlflow_store import MlflowStore
    from tests.support.mlflow import experiment_name, record, seed_sqlite_store

    run = record(experiment_name())
    run.tags["green_gate.command"] = f"python bench.py --key {ENV['GITHUB_TOKEN']}"
    run.params["note"] = f"pw {ENV['MLFLOW_TRACKING_PASSWORD']}"
    store = MlflowStore(f"sqlite:///{seed_sqlite_store(tmp_path / 'mlflow.db', cwd=tmp_path)}")
    run_id, _, _ = store.log_record(run)
    logged = store._client.get_run(run_id).data
    assert logged.tags["green_gate.command"] == f"python bench.py --key {MASK}"
    assert logged.params["note"] == f"pw {MASK}"


def test_the_action_entrypoint_still_masks_its_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gate import action

    monkeypatch.setenv("INPUT_GITHUB_TOKEN", "ghs_action_input")
    secrets.activate(None)
    env = {"INPUT_GITHUB_TOKEN": "ghs_action_input"}
    assert action.run(env, cwd=tmp_path, cli=lambda argv, cwd, env: 0) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "::add-mask::ghs_action_input"
    assert "ghs_action_input" not in "\n".join(err[1:])


def test_redaction_of_a_long_unbroken_line_is_linear_not_quadratic() -> None:
    """A benchmark may print megabytes on one line; each scheme-like pattern must not rescan it."""
    import time

    secrets_ = Secrets.from_env({"MLFLOW_TRACKING_URI": "https://bob:hunter22@host/x"})
    started = time.perf_counter()
    assert secrets_.redact("x" * 2_000_000) == "x" * 2_000_000
    assert time.perf_counter() - started < 10  # quadratic took over 60 s for 300,000 characters
    assert secrets_.redact("see https://bob:hunter22@host/x") == "see https://***@host/x"


def test_the_benchmark_gets_none_of_the_runners_file_commands() -> None:
    files = {name: f"/runner/_temp/{name.lower()}" for name in secrets.RUNNER_FILE_ENV_VARS}
    env = Secrets.from_env({}).benchmark_env({**files, "HOME": "/home/runner"})
    assert env == {"HOME": "/home/runner"}
