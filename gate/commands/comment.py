"""`green-gate comment --result PATH`: post a saved result as the sticky PR comment.

The `workflow_run` half of the fork pattern (docs/pr-comments.md); the posting itself, shared with
`check --comment`, is gate.github.publish. GitHub being down is exit 4 here, since posting is this
command's only job; a broken user template is exit 2.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from gate import console
from gate.errors import ConfigError, ExitCode
from gate.github import actions, publish
from gate.output.result import load_document


@dataclass(frozen=True)
class CommentOptions:
    result_path: Path
    template_path: Path | None = None
    check_run: bool = False


def run(opts: CommentOptions, *, env: Mapping[str, str], log: Callable[[str], None] | None = None) -> int:
    """`green-gate comment --result PATH`: post a saved result (the `workflow_run` half of the fork pattern)."""
    log = log or console.log
    try:
        document = load_document(opts.result_path)
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
