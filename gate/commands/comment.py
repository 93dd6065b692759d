"""`green-gate comment --result PATH…`: post saved results as the sticky PR comment.

The `workflow_run` half of the fork pattern (docs/pr-comments.md), and the fan-in of a matrix
(docs/scale.md): several results (files, folders such as `actions/download-artifact` writes, globs)
become one comment, one check run and one job summary with one verdict. The posting itself, shared
with `check --comment`, is gate.github.publish.

Exit codes. One result file: posting is the command's only job, so GitHub being down is 4 and
anything else 0. A fan-in (several `--result`s, a folder or a glob, or `--expect`) is the verdict of
the whole matrix: 0 within budget, 1 over it, 3 when a benchmark or an expected job did not complete
(the worst wins); 4 only when all is within budget but GitHub could not be told. A broken user
template, an unreadable result or results about different commits: 2.
"""

from __future__ import annotations

import glob
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gate import console
from gate.errors import ConfigError, ExitCode
from gate.github import actions, publish
from gate.output import fanin, report
from gate.output.result import load_document
from gate.secrets import Secrets

_GLOB_CHARS = frozenset("*?[")
VERDICT_EXIT = {"pass": ExitCode.OK, "warn": ExitCode.OK, "fail": ExitCode.BUDGET_EXCEEDED}


@dataclass(frozen=True)
class CommentOptions:
    result_path: Path | None = None  # one result (the original form); `results` for several
    template_path: Path | None = None
    check_run: bool = False
    results: tuple[str, ...] = ()  # paths, folders and globs
    expect: tuple[str, ...] = ()  # the legs that should report (`--expect a,b,c`)

    @property
    def patterns(self) -> tuple[str, ...]:
        return ((str(self.result_path),) if self.result_path is not None else ()) + self.results

    @property
    def is_fan_in(self) -> bool:
        """Several results may come: decided by the command line, never by how many files matched."""
        patterns = self.patterns
        return len(patterns) > 1 or bool(self.expect) or any(_GLOB_CHARS & set(p) or Path(p).is_dir() for p in patterns)


def run(opts: CommentOptions, *, env: Mapping[str, str], log: Callable[[str], None] | None = None) -> int:
    """`green-gate comment --result PATH…`: post saved results (one, or a matrix's merged into one)."""
    log = log or console.log
    try:
        if opts.is_fan_in:
            return _fan_in(opts, env, log)
        (only,) = opts.patterns
        document = load_document(Path(only))
        outcome = publish.post(
            document,
            env,
            template_path=opts.template_path,
            check_run=opts.check_run or publish.enabled_check_run(env),
            log=log,
        )
    except ConfigError as exc:
        log(f"error: {exc.render()}")
        if actions.in_actions(env):
            actions.annotate("error", exc.message, file=exc.file, line=exc.line, title=exc.title)
        return int(exc.exit_code)
    return int(ExitCode.INTERNAL if outcome.status == "failed" else ExitCode.OK)


def _fan_in(opts: CommentOptions, env: Mapping[str, str], log: Callable[[str], None]) -> int:
    paths = result_files(opts.patterns)
    if not paths:
        legs = expected_legs(opts.expect)
        none = f"none of the {len(legs)} expected jobs reported ({', '.join(legs)}): " if legs else ""
        raise ConfigError(
            f"{none}no result file found in {', '.join(opts.patterns)}",
            hint="pass the files `green-gate check --json` wrote, the folder they were downloaded to, or a glob",
        )
    secrets = Secrets.from_env(env)  # the files come from other jobs: what this job holds is withheld
    if actions.in_actions(env):
        actions.add_masks(secrets.mask_values())
    sources = [fanin.Source(str(p), secrets.redact_data(load_document(p))) for p in paths]
    try:
        document = fanin.merge(sources, expected_legs(opts.expect))
    except fanin.FanInError as exc:
        raise ConfigError(str(exc), hint="merge only the results of one workflow run (one commit)") from None
    exit_code = VERDICT_EXIT.get(document["verdict"], ExitCode.BENCHMARK_FAILED)
    document["exit_code"] = int(exit_code)
    log(f"{document['fanin']['summary']}; verdict: {document['verdict']} ({len(document['benchmarks'])} benchmarks)")
    if document["fanin"]["missing"] and actions.in_actions(env):
        actions.annotate("error", document["fanin"]["summary"], title="green-gate: a job did not report")
    markdown = report.render(document)
    sys.stdout.write(markdown)
    sys.stdout.flush()
    actions.append_step_summary(env, markdown)
    actions.set_outputs(env, {"verdict": document["verdict"], "legs_missing": ",".join(document["fanin"]["missing"])})
    outcome = publish.post(
        document,
        env,
        template_path=opts.template_path,
        check_run=opts.check_run or publish.enabled_check_run(env),
        log=log,
        summary_has_report=True,
        secrets=secrets,
    )
    if exit_code == ExitCode.OK and outcome.status == "failed":
        return int(ExitCode.INTERNAL)
    return int(exit_code)


def result_files(patterns: Sequence[str]) -> list[Path]:
    """The result files `patterns` name, in order, each once: a file as given, a folder's `*.json`
    files (at any depth: `actions/download-artifact` puts each artifact in its own folder), a glob's
    matches. A file named outright must exist; a folder or glob may match nothing (a leg that did not
    report: `--expect` names it)."""
    found: dict[Path, Path] = {}  # resolved -> as named
    for pattern in patterns:
        path = Path(pattern)
        if _GLOB_CHARS & set(pattern):
            matches = [Path(m) for m in sorted(glob.glob(pattern, recursive=True))]
        elif path.is_dir() or path.is_file():
            matches = [path]
        else:
            raise ConfigError("no such result file", file=pattern, hint="check the path, or pass a folder or a glob")
        for match in matches:
            for file in sorted(match.rglob("*.json")) if match.is_dir() else [match]:
                found.setdefault(file.resolve(), file)
    return list(found.values())


def expected_legs(values: Sequence[str]) -> list[str]:
    """`--expect gpu-h100,gpu-l4 --expect cpu` → ['gpu-h100', 'gpu-l4', 'cpu']."""
    return [leg.strip() for value in values for leg in value.split(",") if leg.strip()]
