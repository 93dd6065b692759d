"""The container action's entrypoint: `INPUT_*` variables -> a `green-gate check` command line -> the CLI.

Run as `python -m gate.action` (the image's ENTRYPOINT). Every action input is one row of INPUTS, and
`plan()` is the only place where inputs become CLI options or environment variables, so a step
`uses: green-gate/green-gate@v1` and a local `green-gate check ...` run the same code with the same
options; the entrypoint prints that local command line before it starts.

Inputs are read through one helper, `read_input()`. An empty input means "use the default" (the
runner passes empty strings for inputs left out of `with:` when action.yml has no default, and the
`docker://` route applies no action.yml defaults at all).

Diagnostics and workflow commands go to stderr; stdout carries the report only.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from gate import console
from gate.bench import identity
from gate.config.budget import ComparisonMode
from gate.errors import ConfigError, ExitCode
from gate.github.actions import annotation
from gate.secrets import Secrets

Target = Literal["option", "options", "on_switch", "off_switch", "env", "secret_env", "entrypoint"]

DOCS = "docs/action.md"


@dataclass(frozen=True)
class Input:
    """One action input: its name in action.yml, its default there, and where its value goes.

    target:
      option      -> `<to> VALUE`
      options     -> `<to> ITEM` for each comma/whitespace-separated item
      on_switch   -> boolean input; `<to>` is added when it is true
      off_switch  -> boolean input; `<to>` is added when it is false
      env         -> environment variable `<to>` for the CLI (and the benchmark)
      secret_env  -> like env, and the value is masked in the log first
      entrypoint  -> handled by this module itself (`<to>` says how)
    """

    name: str
    default: str
    target: Target
    to: str


# The one mapping from action inputs to the CLI. action.yml declares the same names and defaults
# (tests/test_action.py holds the two together, and holds the options to `green-gate check`'s own).
INPUTS: tuple[Input, ...] = (
    Input("budget", "green-budget.yml", "option", "--budget"),
    Input("benchmarks", "", "options", "--benchmark"),
    Input("json_file", "", "option", "--json"),
    Input("report_file", "", "option", "--report-file"),
    Input("branch", "", "option", "--branch"),
    Input("base_branch", "", "option", "--base-branch"),
    Input("commit", "", "option", "--commit"),
    Input("baseline_run_id", "", "option", "--baseline-run-id"),
    Input("repeats", "", "option", "--repeats"),
    Input("warmup", "", "option", "--warmup"),
    Input("record", "true", "off_switch", "--no-record"),
    Input("mlflow_tracking_uri", "", "env", "MLFLOW_TRACKING_URI"),
    Input("github_token", "${{ github.token }}", "secret_env", "GITHUB_TOKEN"),
    Input("working_directory", ".", "entrypoint", "directory the check runs in, relative to the workspace"),
    Input("setup_command", "", "entrypoint", "shell command run first, e.g. to install the benchmark's deps"),
    Input("mode", "", "option", "--comparison-mode"),
    Input("comment", "false", "on_switch", "--comment"),
    Input("comment_template", "", "option", "--comment-template"),
    Input("check_run", "false", "on_switch", "--check-run"),
    Input("lenient", "false", "on_switch", "--lenient"),
    Input("results", "", "options", "--result"),
    Input("expect", "", "option", "--expect"),
    Input("gpus", "all", "entrypoint", "NVIDIA_VISIBLE_DEVICES for the NVIDIA container runtime (action.yml)"),
    Input("prometheus_textfile", "", "option", "--prometheus-textfile"),
    Input("pushgateway", "", "option", "--pushgateway"),
)

MODES: tuple[str, ...] = get_args(ComparisonMode)
# Inputs naming files: relative to working_directory, and confined to the workspace (a PR's workflow
# must not make the gate read or write elsewhere in the runner's file system).
PATH_INPUTS: tuple[str, ...] = ("budget", "json_file", "report_file", "comment_template", "prometheus_textfile")
# The budget schema's own bounds: an input cannot ask for more than the budget file could.
COUNT_INPUTS: dict[str, tuple[int, int]] = {"repeats": (1, 1000), "warmup": (0, 100)}
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})

# Messages: cause, fix, where to read more.
BAD_BOOLEAN = "input {name!r} is {value!r}, which is not a boolean. Fix: write true or false. See {docs}."
BAD_MODE = (
    "input 'mode' is {value!r}, which is not a comparison mode. Fix: write one of {modes}, or leave it "
    "empty to use the budget's comparison.mode. See {docs}."
)
NO_DIRECTORY = (
    "input 'working_directory' is {value!r}, which is not a directory in the workspace ({cwd}). "
    "Fix: give a path relative to the repository root (check it out first with actions/checkout). See {docs}."
)
GPUS_NOT_APPLIED = (
    "input 'gpus' is {value!r} but the container sees NVIDIA_VISIBLE_DEVICES={actual!r}: the input only "
    "takes effect through action.yml (`uses: owner/green-gate@TAG`). Fix: with `uses: docker://...`, set "
    "NVIDIA_VISIBLE_DEVICES in the step's `env:` instead. See {docs}, section 'GPUs'."
)
OUTSIDE_WORKSPACE = (
    "input {name!r} is {value!r}, which resolves to {resolved} outside the workspace ({workspace}), "
    "symlinks followed. Fix: give a path inside the repository checkout. See {docs}."
)
BAD_COUNT = (
    "input {name!r} is {value!r}, which is not a whole number from {low} to {high}. "
    "Fix: write a number in that range, or leave it empty to use the budget's. See {docs}."
)
SETUP_FAILED = (
    "the setup_command exited with status {status}, so the benchmark cannot run (exit 3). "
    "Fix: run the command locally; or build your own image FROM the green-gate image with the "
    "dependencies installed. See {docs}, section 'Benchmark dependencies'."
)


class ActionInputError(ConfigError):
    """An input that cannot be turned into a command line."""


@dataclass(frozen=True)
class Plan:
    """What the entrypoint does, derived from the inputs alone."""

    argv: tuple[str, ...]  # arguments after `green-gate check`
    env: dict[str, str] = field(default_factory=dict)
    masks: tuple[str, ...] = ()
    working_directory: str = "."
    setup_command: str | None = None
    gpus: str | None = None  # what NVIDIA_VISIBLE_DEVICES should be (set by action.yml's runs.env)

    def command_line(self) -> str:
        """The equivalent local command (environment variables named, secret values never shown)."""
        env = " ".join(f"{name}=..." for name in sorted(self.env))
        cmd = shlex.join(["green-gate", "check", *self.argv])
        return f"{env} {cmd}" if env else cmd


def read_input(env: Mapping[str, str], name: str) -> str | None:
    """The value of action input `name`, or None when unset or blank.

    Upper-cases the name and tries both spellings the runner may use: `INPUT_BASE_BRANCH` and
    `INPUT_BASE-BRANCH` (the runner keeps hyphens of hyphenated input names).
    """
    key = name.upper()
    spellings = (f"INPUT_{key}", f"INPUT_{key.replace('-', '_')}", f"INPUT_{key.replace('_', '-')}")
    for candidate in dict.fromkeys(spellings):
        value = env.get(candidate)
        if value is not None and value.strip():
            return value.strip()
    return None


def parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ActionInputError(BAD_BOOLEAN.format(name=name, value=value, docs=DOCS))


def plan(read: Callable[[str], str | None]) -> Plan:
    """Turn inputs (via `read`, None meaning "use the default") into a Plan. Pure; raises ActionInputError."""
    argv: list[str] = []
    env: dict[str, str] = {}
    masks: list[str] = []
    values: dict[str, str | None] = {}
    for spec in INPUTS:
        value = read(spec.name)
        if value is None and spec.target == "entrypoint":
            value = spec.default or None
        values[spec.name] = value
        if value is None:
            continue
        if spec.target == "option":
            argv += [spec.to, value]
        elif spec.target == "options":
            for item in value.replace(",", " ").split():
                argv += [spec.to, item]
        elif spec.target == "on_switch":
            if parse_bool(spec.name, value):
                argv.append(spec.to)
        elif spec.target == "off_switch":
            if not parse_bool(spec.name, value):
                argv.append(spec.to)
        elif spec.target in ("env", "secret_env"):
            env[spec.to] = value
            if spec.target == "secret_env":
                masks.append(value)
    for name, (low, high) in COUNT_INPUTS.items():
        _check_count(name, values.get(name), low, high)
    mode = values["mode"]
    if mode is not None and mode.lower() not in MODES:
        # Refused here rather than by the CLI, so the job summary says why before anything starts.
        raise ActionInputError(BAD_MODE.format(value=mode, modes=", ".join(MODES), docs=DOCS))
    uri_secret = _userinfo(env.get("MLFLOW_TRACKING_URI"))
    if uri_secret:
        masks.append(uri_secret)
    return Plan(
        argv=tuple(argv),
        env=env,
        masks=tuple(masks),
        working_directory=values["working_directory"] or ".",
        setup_command=values["setup_command"],
        gpus=values["gpus"],
    )


def _check_count(name: str, value: str | None, low: int, high: int) -> None:
    # Digits only, and few of them, before int(): a 26-digit count is refused, never started.
    if value is None:
        return
    if not (value.isascii() and value.isdigit() and len(value) <= 6 and low <= int(value) <= high):
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise ActionInputError(BAD_COUNT.format(name=name, value=shown, low=low, high=high, docs=DOCS))


def confine(name: str, value: str, base: Path, workspace: Path) -> str | None:
    """The message refusing input `name` (a path relative to `base`) when it resolves outside
    `workspace`, symlinks followed; None when it stays inside."""
    root = workspace.resolve()
    try:
        resolved = (base / value).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte
        resolved = Path("(unresolvable)")
    if resolved == root or root in resolved.parents:
        return None
    return OUTSIDE_WORKSPACE.format(name=name, value=_shown(value), resolved=resolved, workspace=root, docs=DOCS)


def _shown(value: str) -> str:
    """An input as an error message quotes it: a hostile value is cut, not echoed whole."""
    return value if len(value) <= 200 else value[:200] + "…"


def _is_dir(path: Path) -> bool:
    """Whether `path` is a directory; a name the file system refuses (too long, say) is not one."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _userinfo(uri: str | None) -> str | None:
    """The `user:password` part of an http(s) URI, which must not reach the log."""
    if not uri or "://" not in uri:
        return None
    rest = uri.split("://", 1)[1]
    authority = rest.split("/", 1)[0]
    return authority.rsplit("@", 1)[0] if "@" in authority else None


# --- running ------------------------------------------------------------------------------------

Cli = Callable[[Sequence[str], Path, Mapping[str, str]], int]
Shell = Callable[[str, Path, Mapping[str, str]], int]


def run_cli(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> int:
    """`green-gate check ARGV` in this process, in `cwd` with `env` added; returns its exit code."""
    from gate.cli import main as cli_main

    os.environ.update(env)
    os.chdir(cwd)
    try:
        cli_main.main(args=["check", *argv], prog_name="green-gate", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else int(ExitCode.USAGE))
    return 0


def run_shell(command: str, cwd: Path, env: Mapping[str, str]) -> int:
    """Run the setup command like a workflow's `run:` step (bash -e -o pipefail where bash exists)."""
    shell = ["bash", "-e", "-o", "pipefail", "-c"] if _has("bash") else ["sh", "-e", "-c"]
    who = identity.run_as(env)
    child_env = {k: v for k, v in env.items() if k != identity.RUN_AS_ENV}
    # Its output is diagnostics for the log: keep stdout free for the report.
    completed = subprocess.run(
        [*shell, command],
        cwd=cwd,
        env=child_env,
        stdout=sys.stderr,
        check=False,
        user=who.uid if who is not None else None,
        group=who.gid if who is not None else None,
        extra_groups=[] if who is not None else None,
    )
    return completed.returncode


def _has(program: str) -> bool:
    return any((Path(d) / program).is_file() for d in os.environ.get("PATH", "").split(os.pathsep) if d)


def run(
    env: Mapping[str, str],
    *,
    cwd: Path,
    cli: Cli = run_cli,
    shell: Shell = run_shell,
    err: Callable[[str], None] | None = None,
) -> int:
    """The entrypoint's work with its outside world passed in; returns the exit code.

    Whatever way it ends (an exit code, an exception, SystemExit from a signal), what it wrote in
    the workspace `cwd` is handed back to the workspace's owner first (hand_back)."""
    err = err or console.line
    # A second of margin below the clock: file systems with coarse timestamps round down.
    started_s = time.time() - 1.0
    try:
        return _run(env, cwd=cwd, cli=cli, shell=shell, err=err)
    finally:
        handed = hand_back(cwd, since_s=started_s)
        if handed:
            owner = cwd.stat()
            err(f"green-gate: {handed} path(s) written in the workspace handed back to {owner.st_uid}:{owner.st_gid}")


def _run(env: Mapping[str, str], *, cwd: Path, cli: Cli, shell: Shell, err: Callable[[str], None]) -> int:
    try:
        the_plan = plan(lambda name: read_input(env, name))
    except ActionInputError as exc:
        return die(env, exc.message, exc.exit_code, err)
    for secret in the_plan.masks:
        err(f"::add-mask::{secret}")
    outside = confine("working_directory", the_plan.working_directory, cwd, cwd)
    if outside is not None:
        return die(env, outside, ExitCode.USAGE, err)
    workdir = (cwd / the_plan.working_directory).resolve()
    if not _is_dir(workdir):
        message = NO_DIRECTORY.format(value=_shown(the_plan.working_directory), cwd=cwd, docs=DOCS)
        return die(env, message, ExitCode.USAGE, err)
    for name in PATH_INPUTS:
        value = read_input(env, name)
        outside = confine(name, value, workdir, cwd) if value is not None else None
        if outside is not None:
            return die(env, outside, ExitCode.USAGE, err)
    for item in (read_input(env, "results") or "").replace(",", " ").split():
        # A glob stays inside too: the folder it starts from is confined like any path.
        fixed = re.split(r"[*?\[]", item, maxsplit=1)[0]
        outside = confine("results", fixed.rsplit("/", 1)[0] if fixed != item else item, workdir, cwd)
        if outside is not None:
            return die(env, outside, ExitCode.USAGE, err)
    child_env = {**env, **the_plan.env}
    owner = workspace_owner(cwd)
    if owner is not None:  # the PR's code runs as the workspace's owner, out of root's reach
        err(f"green-gate: the benchmark and setup_command run as the workspace's owner, {owner}")
    run_as = {identity.RUN_AS_ENV: owner} if owner is not None else {}
    if the_plan.setup_command is not None:
        err(f"green-gate: setup_command: {the_plan.setup_command}")
        # The setup command is the PR's code as much as the benchmark is: it gets no credentials.
        setup_env = {**Secrets.from_env(child_env).benchmark_env(child_env), **run_as}
        status = shell(the_plan.setup_command, workdir, setup_env)
        if status != 0:
            return die(env, SETUP_FAILED.format(status=status, docs=DOCS), ExitCode.BENCHMARK_FAILED, err)
    actual_gpus = env.get("NVIDIA_VISIBLE_DEVICES", "all")
    if the_plan.gpus is not None and actual_gpus != the_plan.gpus:
        warning = GPUS_NOT_APPLIED.format(value=the_plan.gpus, actual=actual_gpus, docs=DOCS)
        err(annotation("warning", warning, title="green-gate"))
    err(f"green-gate: in {workdir}: {the_plan.command_line()}")
    return cli(the_plan.argv, workdir, {**the_plan.env, **run_as})


def workspace_owner(workspace: Path) -> str | None:
    """`uid:gid` of the workspace's owner, when this process is root and the owner is not: who the
    pull request's code runs as (gate.bench.identity). None: run it as this process's user."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    try:
        info = workspace.stat()
    except OSError:
        return None
    return None if info.st_uid == 0 else f"{info.st_uid}:{info.st_gid}"


def die(env: Mapping[str, str], message: str, code: ExitCode, err: Callable[[str], None]) -> int:
    """Explain a failure in the job summary (Markdown) and as one `::error::` line; return its exit code."""
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as handle:
            handle.write(f"## 💥 green-gate could not start (exit {int(code)})\n\n{message}\n")
    err(annotation("error", message, title="green-gate"))
    return int(code)


def hand_back(workspace: Path, *, since_s: float) -> int:
    """Give the workspace's owner what this process wrote there; returns how many paths it changed.

    A container action runs as root, and the runner's user then cannot clean `.green-gate/`, the
    report or the benchmark's output away: a later actions/checkout on a self-hosted runner fails.
    Changed: paths under `workspace` owned by this process's user whose inode changed at or after
    `since_s` (created or written by this run), never what was there before, and links themselves
    (lchown), never what they point to. Nothing to do unless running as root in a workspace owned by
    someone else (everywhere outside a container)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return 0
    try:
        owner = workspace.stat()
    except OSError:
        return 0
    me = os.geteuid()
    if owner.st_uid == me:
        return 0
    changed = 0
    for folder, dirs, files in os.walk(workspace):  # links to folders are listed, not followed
        for name in (*dirs, *files):
            path = os.path.join(folder, name)
            try:
                info = os.lstat(path)
                if info.st_uid == me and info.st_ctime >= since_s:
                    os.lchown(path, owner.st_uid, owner.st_gid)
                    changed += 1
            except OSError:  # gone meanwhile, or a file system that refuses: leave it
                continue
    return changed


def _exit_on_signal(signum: int, _frame: object) -> None:
    """SIGTERM (job cancelled) outside the check itself: exit through run()'s `finally`, once."""
    for number in CANCEL_SIGNALS:
        signal.signal(number, signal.SIG_IGN)  # a second signal must not cut the hand-back short
    raise SystemExit(128 + signum)


# The check installs its own handlers while it runs (gate.commands.check.cancellable) and puts
# these back after; these cover the setup_command and the hand-back.
CANCEL_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)


def main() -> None:
    for number in CANCEL_SIGNALS:
        signal.signal(number, _exit_on_signal)
    sys.exit(run(os.environ, cwd=Path.cwd()))


if __name__ == "__main__":
    main()
