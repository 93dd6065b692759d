"""`green-gate export --format bmf|gab`: a saved result as Bencher Metric Format or as
github-action-benchmark's `customSmallerIsBetter` JSON (gate.output.export), for the dashboards a
team already runs. Reads the result `check --json` wrote, or the newest one under
`.green-gate/results/`; writes to `--output` or stdout."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gate import paths
from gate.errors import ConfigError, ExitCode, OutputError
from gate.output.export import ExportFormat, export

__all__ = ["ExportFormat", "ExportOptions", "run"]
from gate.output.result import load_document


@dataclass(frozen=True)
class ExportOptions:
    fmt: ExportFormat
    result_path: Path | None = None
    output_path: Path | None = None


def run(opts: ExportOptions, *, cwd: Path, out: Callable[[str], None], err: Callable[[str], None]) -> int:
    try:
        source = opts.result_path or newest_result(cwd)
        document = load_document(source)
        exported = export(document, opts.fmt)
        if not exported:
            raise ConfigError(
                "the result holds no measured figure to export (every benchmark failed before measuring)",
                file=str(source),
                hint="export the result of a check that measured its benchmarks",
            )
        text = json.dumps(exported, indent=2, ensure_ascii=False) + "\n"
        if opts.output_path is None:
            out(text.rstrip("\n"))
        else:
            try:
                opts.output_path.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise OutputError(f"cannot write {opts.output_path}: {exc.strerror or exc}") from None
            err(f"green-gate: wrote {opts.fmt} for {source} to {opts.output_path}")
    except (ConfigError, OutputError) as exc:
        err(f"green-gate: {exc.render()}")
        return int(exc.exit_code)
    return int(ExitCode.OK)


def newest_result(cwd: Path) -> Path:
    found = sorted(paths.results_dir(cwd).glob("check-*.json"))
    if not found:
        raise ConfigError(
            f"no result to export: {paths.results_dir(cwd)} holds none",
            hint="run `green-gate check` first, or pass --result PATH (a file `check --json` wrote)",
        )
    return found[-1]
