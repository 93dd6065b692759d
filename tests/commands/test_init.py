"""`green-gate init`: starter budget and workflow, inferred where possible, never overwriting."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from gate import __version__
from gate.cli import main
from gate.commands import init
from gate.config.load import load_budget, load_schema

WORKFLOW = Path(".github/workflows/green-gate.yml")


def run_init(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["init", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "my-repo"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


def test_writes_a_valid_budget_with_the_schema_modeline(repo: Path) -> None:
    (repo / "bench.py").write_text("print(1)\n", encoding="utf-8")
    code, out, _ = run_init(repo)
    assert code == 0
    text = (repo / "green-budget.yml").read_text(encoding="utf-8")
    assert text.splitlines()[0] == f"# yaml-language-server: $schema={load_schema()['$id']}"
    jsonschema.Draft202012Validator(load_schema()).validate(yaml.safe_load(text))
    budget = load_budget(repo / "green-budget.yml")
    assert budget.warnings == ()
    (bench,) = budget.benchmarks
    assert (bench.name, bench.shell_command, bench.kind, bench.requires_gpu) == (
        "my-repo-inference",
        "python bench.py",
        "inference",
        False,
    )
    assert "wrote green-budget.yml" in out and "[found bench.py]" in out


def test_writes_a_pr_gate_workflow(repo: Path) -> None:
    (repo / "requirements.txt").write_text("numpy\n", encoding="utf-8")
    assert run_init(repo)[0] == 0
    workflow: dict[Any, Any] = yaml.safe_load((repo / WORKFLOW).read_text(encoding="utf-8"))
    assert set(workflow[True]) == {"pull_request", "push"}  # YAML 1.1 reads the key `on` as True
    (job,) = workflow["jobs"].values()
    assert job["timeout-minutes"] == 30
    gate_step = next(step for step in job["steps"] if step.get("id") == "gate")
    assert gate_step["uses"].startswith(f"{init.ACTION_REPOSITORY}@v")
    assert gate_step["with"] == {
        "budget": "green-budget.yml",
        "setup_command": "pip install -r requirements.txt",
        "record": "${{ github.event_name == 'push' }}",
    }


def test_refuses_to_overwrite_and_writes_nothing(repo: Path) -> None:
    (repo / "green-budget.yml").write_text("mine\n", encoding="utf-8")
    code, _, err = run_init(repo)
    assert code == 2
    assert "green-budget.yml already exist" in err and "--force" in err
    assert (repo / "green-budget.yml").read_text(encoding="utf-8") == "mine\n"
    assert not (repo / WORKFLOW).exists()  # all or nothing


def test_force_overwrites(repo: Path) -> None:
    (repo / "green-budget.yml").write_text("mine\n", encoding="utf-8")
    assert run_init(repo, "--force")[0] == 0
    assert load_budget(repo / "green-budget.yml").benchmarks


def test_no_workflow_and_options(repo: Path) -> None:
    code, _, _ = run_init(repo, "--no-workflow", "--command", "python train.py --epochs 1", "--gpu", "--name", "x")
    assert code == 0
    assert not (repo / WORKFLOW).exists()
    (bench,) = load_budget(repo / "green-budget.yml").benchmarks
    assert (bench.name, bench.kind, bench.requires_gpu) == ("x", "training", True)


def test_placeholder_command_is_said_to_be_one(repo: Path) -> None:
    code, out, _ = run_init(repo, "--no-workflow")
    assert code == 0
    assert "python bench.py  [placeholder" in out


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"refs/remotes/origin/HEAD": "origin/trunk", "HEAD": "feature"}, "trunk"),
        # A new repository without a remote, run on a feature branch: main, as the check finds it.
        ({"refs/heads/main": "0" * 40, "HEAD": "feature/more-trees"}, "main"),
        ({"refs/heads/master": "0" * 40, "HEAD": "feature/more-trees"}, "master"),
        ({"HEAD": "develop"}, "develop"),
        ({}, "main"),
    ],
)
def test_default_branch_inference(tmp_path: Path, answers: dict[str, str], expected: str) -> None:
    def git(*args: str) -> str | None:
        return answers.get(args[-1])

    assert init.infer(init.InitOptions(root=tmp_path), git=git).default_branch == expected


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("python bench.py", "python bench.py"),
        ("python b.py --x=1", "python b.py --x=1"),
        ("echo a: b", '"echo a: b"'),
        ("true", '"true"'),
        ("cmd # not a comment", '"cmd # not a comment"'),
        ("-x", '"-x"'),
    ],
)
def test_yaml_scalars_round_trip(value: str, rendered: str) -> None:
    assert init._yaml(value) == rendered
    assert yaml.safe_load(f"k: {rendered}") == {"k": value}


@pytest.mark.parametrize(
    ("branch", "where"),
    [
        ("trunk", "the current branch (no origin/HEAD, main or master)"),
        ("main", "the current branch, no commit yet (no origin/HEAD)"),  # a new repository's unborn main
    ],
)
def test_writes_the_baseline_branch_into_the_budget_and_says_where_it_came_from(
    repo: Path, branch: str, where: str
) -> None:
    subprocess.run(["git", "init", "-q", "-b", branch], cwd=repo, check=True)
    code, out, _ = run_init(repo, "--no-workflow")
    assert code == 0
    assert load_budget(repo / "green-budget.yml").baseline.branch == branch
    assert f"baselines from branch '{branch}'  [{where}]" in out


def test_adds_the_state_folder_to_gitignore_once(repo: Path) -> None:
    assert run_init(repo, "--no-workflow")[0] == 0
    assert (repo / ".gitignore").read_text(encoding="utf-8") == ".green-gate/\n"
    (repo / ".gitignore").write_text("*.pyc", encoding="utf-8")  # no newline at its end
    code, out, _ = run_init(repo, "--no-workflow", "--force")
    assert code == 0 and "appended to .gitignore: .green-gate/" in out
    assert (repo / ".gitignore").read_text(encoding="utf-8") == "*.pyc\n.green-gate/\n"
    assert run_init(repo, "--no-workflow", "--force")[0] == 0
    assert (repo / ".gitignore").read_text(encoding="utf-8") == "*.pyc\n.green-gate/\n"  # idempotent
    (repo / ".gitignore").write_text("/.green-gate\n", encoding="utf-8")
    assert run_init(repo, "--no-workflow", "--force")[0] == 0
    assert (repo / ".gitignore").read_text(encoding="utf-8") == "/.green-gate\n"  # already ignored


def test_gpu_writes_the_setup_and_cli_route(repo: Path) -> None:
    (repo / "requirements-bench.txt").write_text("torch\n", encoding="utf-8")
    (repo / "bench.py").write_text("print(1)\n", encoding="utf-8")
    assert run_init(repo, "--gpu")[0] == 0
    text = (repo / WORKFLOW).read_text(encoding="utf-8")
    workflow: dict[Any, Any] = yaml.safe_load(text)
    (job,) = workflow["jobs"].values()
    uses = [step.get("uses", "") for step in job["steps"]]
    assert f"{init.ACTION_REPOSITORY}/setup@v{__version__}" in uses  # the setup action, as docs/action.md advises
    assert not any(u.startswith(f"{init.ACTION_REPOSITORY}@") for u in uses)  # not the container action
    assert job["env"]["BENCH_PYTHON"]
    setup = next(step for step in job["steps"] if step.get("id") == "setup")
    assert setup["with"] == {"python": "${{ env.BENCH_PYTHON }}"}
    gate_step = next(step for step in job["steps"] if step.get("id") == "gate")
    assert "green-gate check" in gate_step["run"] and "--no-record" in gate_step["run"]
    install = next(step for step in job["steps"] if "pip install" in str(step.get("run", "")))
    assert install["run"] == '"$BENCH_PYTHON" -m pip install -r requirements-bench.txt'
    (bench,) = load_budget(repo / "green-budget.yml").benchmarks
    assert bench.requires_gpu


def test_validate_refuses_the_placeholder_init_wrote_until_it_is_replaced(repo: Path) -> None:
    assert run_init(repo, "--no-workflow")[0] == 0
    result = CliRunner().invoke(main, ["validate"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "green-budget.yml:" in result.stderr and "placeholder `python bench.py`" in result.stderr
    assert "set `command:`" in result.stderr
    (repo / "bench.py").write_text("print(1)\n", encoding="utf-8")  # the script it names now exists
    assert CliRunner().invoke(main, ["validate"], catch_exceptions=False).exit_code == 0


@pytest.mark.parametrize(
    ("command", "own"),
    [("init", "the files were written"), ("validate", "the budget file is valid"), ("comment", "posted")],
)
def test_help_shows_the_commands_own_exit_codes(command: str, own: str) -> None:
    text = CliRunner().invoke(main, [command, "--help"]).output
    assert "Exit codes:" in text and own in text
    assert "budget exceeded" not in text and "the benchmark failed" not in text  # check's table
    assert "budget exceeded" in CliRunner().invoke(main, ["check", "--help"]).output
