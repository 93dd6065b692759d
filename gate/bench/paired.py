"""Paired mode: measure the base commit and this one alternately, in one job, on one machine.

The base commit is checked out into a temporary git worktree; the benchmark then runs as
base, PR, PR, base, base, PR, … (pairs in alternating order, so a linear drift such as a warming GPU
cancels within every two pairs), each execution through gate.bench.runner as a single measured repeat.
Repeat i of the PR pairs with repeat i of the base, and the verdict uses the paired interval
(gate.compare.stats.compare_paired). See docs/statistics.md.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from gate import git
from gate.bench import identity
from gate.bench.runner import BenchmarkFailed, run_benchmark
from gate.bench.thermal import ThermalControl
from gate.carbon.model import Intensity
from gate.config.budget import BenchmarkSpec, ComparisonSpec
from gate.config.load import load_budget
from gate.energy.meter import EnergyMeter
from gate.energy.model import RepeatResult, RunSummary
from gate.energy.summary import summarise
from gate.errors import ConfigError

Side = str  # "base" or "candidate"


class PairedError(ConfigError):
    """Paired mode cannot start: no git, no base commit in the clone (the job is set up wrong)."""

    title = "paired comparison unavailable"


@dataclass(frozen=True)
class PairedResult:
    candidate: RunSummary
    base: RunSummary
    order: tuple[Side, ...]  # what ran, in order (measured runs only)


class PairedFailed(BenchmarkFailed):
    """A side failed in pair n: the pairs completed before it are kept (`pairs`, None: none)."""

    def __init__(self, failed: BenchmarkFailed, pairs: PairedResult | None) -> None:
        super().__init__(failed.message, completed=failed.completed, tail=failed.tail, hint=failed.hint)
        self.pairs = pairs


def schedule(repeats: int) -> list[tuple[Side, Side]]:
    """Pairs in alternating order: (base, candidate), (candidate, base), … — A B B A A B …"""
    return [("base", "candidate") if i % 2 == 0 else ("candidate", "base") for i in range(repeats)]


def resolve_base_commit(
    repo: Path,
    comparison: ComparisonSpec,
    base_commit: str | None,
    base_branch: str,
    *,
    candidate: str | None = None,
    branch_origin: str = "the baseline branch",
) -> str:
    """The base as a full SHA: comparison.base_ref, else the PR's base SHA, else origin/<branch>, else
    <branch>. A base that is the candidate commit itself (`candidate`, a SHA) is an error, as is none:
    a commit paired with itself measures nothing but noise."""
    if comparison.base_ref:
        tries = [(comparison.base_ref, f"comparison.base_ref {comparison.base_ref!r}")]
    else:
        tries = [(base_commit, f"the PR's base commit {base_commit}")] if base_commit else []
        tries += [
            (f"origin/{base_branch}", f"origin/{base_branch}"),
            (base_branch, f"{base_branch} ({branch_origin})"),
        ]
    tried: list[str] = []
    for ref, label in tries:
        sha = git.output(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        if not sha:
            tried.append(f"{label}: not a commit in this clone")
            continue
        if candidate and sha == candidate:
            tried.append(f"{label}: {sha[:12]}, this commit itself")
            raise PairedError(
                f"paired comparison: the base resolves to the commit being checked ({sha[:12]}), so it would be "
                f"paired with itself; tried {'; '.join(tried)}",
                hint=PAIRED_HINT,
            )
        return sha
    raise PairedError(f"paired comparison: no base commit found; tried {'; '.join(tried)}", hint=PAIRED_HINT)


PAIRED_HINT = (
    "name the branch to compare with (--base-branch main, or baseline.branch in the budget) or a revision "
    "(comparison.base_ref); in a pull request fetch the base too (actions/checkout with fetch-depth: 0)"
)


def repository_root(path: Path) -> Path:
    root = git.output(path, "rev-parse", "--show-toplevel")
    if not root:
        raise PairedError(
            f"paired comparison needs a git checkout, and {path} is not in one",
            hint="run the gate inside the repository's clone, or use comparison.mode: history",
        )
    return Path(root)


@contextlib.contextmanager
def base_worktree(repo: Path, commit: str) -> Iterator[Path]:
    """A detached worktree of `commit` in a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="green-gate-base-") as parent:
        path = Path(parent) / "base"
        _git(repo, "worktree", "add", "--detach", "--force", str(path), commit)
        who = identity.run_as()
        if who is not None:  # the base's benchmark runs as the workspace's owner too (gate.bench.identity)
            identity.hand_over(Path(parent), who)
        try:
            yield path
        finally:
            git.run(repo, "worktree", "remove", "--force", str(path))
            git.run(repo, "worktree", "prune")


def base_spec(spec: BenchmarkSpec, repo: Path, worktree: Path, budget_path: Path) -> tuple[BenchmarkSpec, str | None]:
    """The benchmark as the base commit defines it (command, env, working directory from the base's
    own budget file), run with this run's protocol (repeats, warm-up, timeout, thermal settings).
    When the base has no such budget or benchmark, this run's definition runs in the base's tree,
    and the second value says so."""
    try:
        relative = spec.working_directory.resolve().relative_to(repo.resolve())
        budget_relative = budget_path.resolve().relative_to(repo.resolve())
    except ValueError:
        raise PairedError(
            f"the benchmark ({spec.working_directory}) or budget file ({budget_path}) is outside the repository {repo}",
            hint="paired mode runs the base commit's copy of the benchmark; keep both inside the repository",
        ) from None
    same_protocol = {
        "repeats": spec.repeats,
        "warmup": spec.warmup,
        "timeout_s": spec.timeout_s,
        "cooldown_s": spec.cooldown_s,
        "max_start_temperature_c": spec.max_start_temperature_c,
    }
    try:
        theirs = load_budget(worktree / budget_relative).benchmark(spec.name)
    except ConfigError as exc:
        note = (
            f"the base commit's budget does not define {spec.name!r} ({exc.message}): this run's definition ran there"
        )
        return replace(spec, working_directory=worktree / relative), note
    return replace(theirs, **same_protocol), None  # type: ignore[arg-type]


def measure(
    spec: BenchmarkSpec,
    base: BenchmarkSpec,
    meter: EnergyMeter,
    intensity: Intensity | None,
    *,
    base_commit: str,
    echo: Callable[[str], None],
    log: Callable[[str], None],
    thermal: ThermalControl | None = None,
    more: Callable[[tuple[RepeatResult, ...], tuple[RepeatResult, ...]], bool] | None = None,
    on_pair: Callable[[PairedResult], None] | None = None,
) -> PairedResult:
    """Warm up both sides, then `spec.repeats` pairs in alternating order; raises BenchmarkFailed.
    Adaptive specs (`repeats_max`): after `repeats` pairs, another while `more(candidate's, base's
    repeats so far)` says so, up to `repeats_max` (without `more`: `repeats_max`)."""
    # Each execution below is one run of its own: the adaptive bound is this loop's, not theirs.
    sides = {"base": replace(base, repeats_max=None), "candidate": replace(spec, repeats_max=None)}
    pairs = spec.repeats_max if spec.repeats_max is not None else spec.repeats
    planned = str(spec.repeats) if spec.repeats_max is None else f"{spec.repeats}–{spec.repeats_max}"
    results: dict[Side, list[RepeatResult]] = {"base": [], "candidate": []}
    order: list[Side] = []

    def run(side: Side, one: BenchmarkSpec) -> list[RepeatResult]:
        try:
            return run_benchmark(one, meter, echo=echo, log=log, thermal=thermal).repeats
        except BenchmarkFailed as exc:
            if side == "candidate":
                raise BenchmarkFailed(
                    exc.message, completed=results["candidate"], tail=exc.tail, hint=exc.hint
                ) from None
            raise BenchmarkFailed(
                f"the base commit {base_commit[:12]} (paired mode): {exc.message}",
                completed=results["candidate"],
                tail=exc.tail,
                hint="the base itself fails to run; fix the base branch or use comparison.mode: history",
            ) from None

    for side in ("base", "candidate"):
        if spec.warmup:
            run(side, replace(sides[side], repeats=0))

    def complete_pairs() -> PairedResult | None:
        """The pairs both sides completed: a repeat whose partner failed or never ran is left out."""
        count = min(len(results["base"]), len(results["candidate"]))
        if count == 0:
            return None
        base_summary = summarise(_reindexed(results["base"][:count]), intensity)
        candidate = summarise(_reindexed(results["candidate"][:count]), intensity)
        return PairedResult(candidate, base_summary, tuple(order[: 2 * count]))

    for pair, sides_in_order in enumerate(schedule(pairs)):
        if pair >= spec.repeats and more is not None and not more(tuple(results["candidate"]), tuple(results["base"])):
            break
        for side in sides_in_order:
            log(f"[{spec.name}] paired {pair + 1}/{planned}: {side}")
            try:
                results[side].append(run(side, replace(sides[side], repeats=1, warmup=0))[0])
            except BenchmarkFailed as exc:
                raise PairedFailed(exc, complete_pairs()) from None
            order.append(side)
        if on_pair is not None:
            done = complete_pairs()
            if done is not None:
                on_pair(done)
    done = complete_pairs()
    assert done is not None  # at least one pair ran: repeats >= 1
    return done


def _reindexed(repeats: Sequence[RepeatResult]) -> list[RepeatResult]:
    return [replace(r, index=i) for i, r in enumerate(repeats)]


def _git(cwd: Path, *args: str) -> str:
    result = git.run(cwd, *args)
    if not result.ok:
        raise PairedError(
            f"paired comparison: `git {' '.join(args)}` failed: {result.stderr[:300]}",
            hint="check that git is installed and that the clone holds the base commit (fetch-depth: 0)",
        )
    return result.stdout
