"""`green-gate init`: write a starter green-budget.yml and a pull-request gate workflow.

It asks nothing: what it can infer from the repository (default branch, benchmark script, the
benchmark's requirements file) it infers, the rest are options with defaults, and it says which is
which. It never overwrites a file unless told to (`--force`), and writes nothing when it refuses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gate import __version__, paths
from gate.errors import ExitCode
from gate.git import output as git_output
from gate.github.context import DEFAULT_BRANCH_NAMES

ACTION_REPOSITORY = "green-gate/green-gate"
DEFAULT_WORKFLOW = Path(".github") / "workflows" / "green-gate.yml"
BENCHMARK_CANDIDATES = ("bench.py", "benchmark.py", "benchmarks/bench.py", "benchmarks/benchmark.py")
REQUIREMENTS_CANDIDATES = ("requirements-bench.txt", "requirements/bench.txt", "requirements.txt")
PLACEHOLDER_SCRIPT = "bench.py"
PLACEHOLDER_COMMAND = f"python {PLACEHOLDER_SCRIPT}"  # `validate` refuses it while the script is missing
STORE_PATH = paths.mlflow_db(Path()).as_posix()  # relative: the workflow caches it in the checkout

Kind = Literal["inference", "training"]


@dataclass(frozen=True)
class InitOptions:
    root: Path
    budget_path: Path = Path("green-budget.yml")
    workflow_path: Path | None = DEFAULT_WORKFLOW  # None: no workflow
    command: str | None = None  # None: infer
    name: str | None = None
    kind: Kind | None = None
    gpu: bool = False
    action_ref: str | None = None
    force: bool = False


@dataclass(frozen=True)
class Inferred:
    """What init found out by itself, each with the reason shown to the user."""

    command: str
    command_source: str
    name: str
    kind: Kind
    default_branch: str
    branch_source: str
    setup_command: str | None


def infer(opts: InitOptions, git: Callable[..., str | None] | None = None) -> Inferred:
    git = git or (lambda *args: git_output(opts.root, *args))
    if opts.command:
        command, source = opts.command, "--command"
    else:
        found = next((c for c in BENCHMARK_CANDIDATES if (opts.root / c).is_file()), None)
        if found:
            command, source = f"python {found}", f"found {found}"
        else:
            command, source = PLACEHOLDER_COMMAND, "placeholder: no bench.py or benchmark.py found; edit it"
    kind: Kind = opts.kind or ("training" if "train" in command.lower() else "inference")
    name = opts.name or _benchmark_name(opts.root, kind)
    branch, branch_source = _default_branch(git)
    requirements = next((r for r in REQUIREMENTS_CANDIDATES if (opts.root / r).is_file()), None)
    setup = f"pip install -r {requirements}" if requirements else None
    return Inferred(command, source, name, kind, branch, branch_source, setup)


def render(opts: InitOptions, inferred: Inferred) -> dict[Path, str]:
    """The files to write, relative to the root, with their text."""
    import jinja2

    from gate.config import published
    from gate.output.report import template_dir

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir() / "init"),
        # `[[ ]]` and `[% %]` so the workflow's own `${{ }}` expressions pass through untouched.
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # YAML, not HTML; values are quoted by `_yaml` where needed
    )
    values = {
        "schema_url": published.schema_url(__version__),
        "name": _yaml(inferred.name),
        "command": _yaml(inferred.command),
        "kind": inferred.kind,
        "requires_gpu": opts.gpu,
        "default_branch": _yaml(inferred.default_branch),
        "runs_on": "[self-hosted, linux, gpu]" if opts.gpu else "ubuntu-latest",
        "store_path": STORE_PATH,
        "action_ref": opts.action_ref or f"{ACTION_REPOSITORY}@v{__version__}",
        "setup_ref": _setup_ref(opts.action_ref or f"{ACTION_REPOSITORY}@v{__version__}"),
        "reference_url": published.reference_url(),
        "action_docs_url": f"https://github.com/{published.REPOSITORY}/blob/v{__version__}/docs/action.md",
        "budget_path": _yaml(opts.budget_path.as_posix()),
        "setup_command": _yaml(inferred.setup_command) if inferred.setup_command else None,
        "bench_install": _yaml(f'"$BENCH_PYTHON" -m {inferred.setup_command}') if inferred.setup_command else None,
    }
    files = {opts.budget_path: env.get_template("green-budget.yml.j2").render(values)}
    if opts.workflow_path is not None:
        files[opts.workflow_path] = env.get_template("green-gate.yml.j2").render(values)
    return files


def _setup_ref(action_ref: str) -> str:
    """The setup action at the same ref as the container action: `owner/name/setup@ref`."""
    name, at, ref = action_ref.partition("@")
    return f"{name}/setup{at}{ref}"


def run(opts: InitOptions, *, out: Callable[[str], None], err: Callable[[str], None]) -> int:
    targets = [opts.budget_path] + ([opts.workflow_path] if opts.workflow_path is not None else [])
    existing = [t for t in targets if (opts.root / t).exists()]
    if existing and not opts.force:
        names = ", ".join(str(t) for t in existing)
        err(f"error: {names} already exist(s); nothing was written")
        err("  fix: pass --force to overwrite, or --budget/--workflow PATH to write elsewhere")
        return int(ExitCode.USAGE)
    inferred = infer(opts)
    files = render(opts, inferred)
    _check_budget(files[opts.budget_path], opts.root / opts.budget_path)
    for relative, text in files.items():
        path = opts.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        out(f"wrote {relative}")
    out(f"  benchmark {inferred.name!r} ({inferred.kind}): {inferred.command}  [{inferred.command_source}]")
    out(f"  baselines from branch {inferred.default_branch!r}  [{inferred.branch_source}]")
    if inferred.setup_command and opts.workflow_path is not None:
        where = "into the runner's environment" if opts.gpu else "in the action"
        out(f"  setup_command: {inferred.setup_command}  [installs the benchmark's dependencies {where}]")
    if opts.gpu and opts.workflow_path is not None:
        out(
            f"  GPU: {opts.workflow_path} installs green-gate into the runner's environment (setup action) and "
            "runs `green-gate check`; set BENCH_PYTHON there to that environment's python"
        )
    ignored = _ignore_state_folder(opts.root)
    if ignored:
        out(f"{ignored} .gitignore: {IGNORED}  [the gate's local store, results and spool]")
    if inferred.command_source.startswith("placeholder"):
        out(f"next: set `command:` in {opts.budget_path} to your benchmark (`validate` refuses the placeholder),")
        out(f"      then run `green-gate check` on {inferred.default_branch} to record a first baseline, and commit.")
    else:
        out(
            f"next: run `green-gate check` on {inferred.default_branch} to record a first baseline, "
            "then commit these files."
        )
    return int(ExitCode.OK)


IGNORED = paths.STATE_DIR.as_posix() + "/"


def _ignore_state_folder(root: Path) -> str | None:
    """Add the gate's state folder to the repository's .gitignore (created if missing); None when it
    is there already, else what was done ("created", "appended to")."""
    path = root / ".gitignore"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        path.write_text(f"{IGNORED}\n", encoding="utf-8")
        return "created"
    entries = {line.strip().lstrip("/").rstrip("/") for line in text.splitlines()}
    if paths.STATE_DIR.as_posix() in entries:
        return None
    separator = "" if not text or text.endswith("\n") else "\n"
    path.write_text(f"{text}{separator}{IGNORED}\n", encoding="utf-8")
    return "appended to"


def _check_budget(text: str, path: Path) -> None:
    """The starter file must load; if not, that is a bug in init (exit 4), not the user's doing."""
    from gate.config.load import parse_budget

    parse_budget(text, path)


def _benchmark_name(root: Path, kind: Kind) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", root.resolve().name).strip("-._") or "benchmark"
    return f"{stem}-{kind}"


def _default_branch(git: Callable[..., str | None]) -> tuple[str, str]:
    """As a check finds the repository's default branch (gate.github.context.default_branch), and
    where there is none yet (a new repository's first branch), the current one."""
    remote_head = git("symbolic-ref", "--short", "-q", "refs/remotes/origin/HEAD")
    if remote_head and "/" in remote_head:
        return remote_head.split("/", 1)[1], "origin's default branch"
    for name in DEFAULT_BRANCH_NAMES:
        if git("rev-parse", "--verify", "-q", f"refs/heads/{name}"):
            return name, f"no origin/HEAD; {name} exists"
    current = git("symbolic-ref", "--short", "-q", "HEAD")
    if current in DEFAULT_BRANCH_NAMES:  # unborn: the loop above found no commit on it
        return current, "the current branch, no commit yet (no origin/HEAD)"
    if current:
        return current, "the current branch (no origin/HEAD, main or master)"
    return "main", "assumed: no git branch found"


_YAML_WORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "~"})
_PLAIN = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./ =+-]*")


def _yaml(value: str) -> str:
    """`value` as a YAML scalar: plain when that is unambiguous, else double-quoted (JSON is valid YAML)."""
    if (
        _PLAIN.fullmatch(value)
        and not value.endswith(" ")
        and value.lower() not in {"true", "false", "null", "yes", "no", "on", "off"}
    ):
        return value
    return json.dumps(value)
