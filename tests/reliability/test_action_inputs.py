"""Property: whatever `INPUT_*` values the runner hands the container action, the entrypoint ends in a
defined exit code (the CLI's, or 2 for a refused input) with a bounded message; never a traceback.
When it goes on, its command line parses as `green-gate check` options, and every path it names
stays inside the workspace."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gate import action
from gate.cli import check as check_command
from tests.reliability.strategies import EDGE_TEXT, REPRODUCIBLE_THOUSAND

pytestmark = pytest.mark.slow  # 1,000 generated cases take a few seconds

MAX_MESSAGE_CHARS = 2_000
ENV_TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=30)
PLAUSIBLE = st.sampled_from(
    [
        "true", "false", "yes", "0", "1", "5", "1000", "1001", "-1", "1e3", "9" * 30, "history", "paired",
        "auto", "Paired", ".", "..", "sub", "/etc", "/etc/passwd", "../outside/x", "link-out/x", "sub/../..",
        "green-budget.yml", "a,b c", "--help", "--json=/etc/x", "-", "http://u:p@h:1", "sqlite:///x.db",
    ]
)  # fmt: skip
VALUES = st.one_of(PLAUSIBLE, EDGE_TEXT.filter(lambda t: "\x00" not in t), ENV_TEXT)
NAMES = [spec.name for spec in action.INPUTS]


@st.composite
def input_envs(draw: st.DrawFn) -> dict[str, str]:
    chosen = draw(st.lists(st.sampled_from(NAMES), max_size=8, unique=True))
    env = {f"INPUT_{name.upper()}": draw(VALUES) for name in chosen}
    if draw(st.booleans()):  # the hyphenated spelling the runner keeps for hyphenated names
        env.update(
            {
                f"INPUT_{name.upper().replace('_', '-')}": draw(VALUES)
                for name in draw(st.lists(st.sampled_from(NAMES), max_size=2))
            }
        )
    return env


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("workspace")
    (root / "sub").mkdir()
    outside = tmp_path_factory.mktemp("outside")
    (root / "link-out").symlink_to(outside)
    yield root


class Recorder:
    def __init__(self) -> None:
        self.argv: tuple[str, ...] | None = None

    def cli(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> int:
        self.argv = tuple(argv)
        return 0


def _inside(path: Path, root: Path) -> bool:
    resolved = path.resolve()
    return resolved == root.resolve() or root.resolve() in resolved.parents


@REPRODUCIBLE_THOUSAND
@given(input_envs())
def test_any_inputs_end_in_a_defined_exit_code(workspace: Path, env: dict[str, str]) -> None:
    recorder, lines = Recorder(), list[str]()
    code = action.run(env, cwd=workspace, cli=recorder.cli, shell=lambda *_: 0, err=lines.append)
    assert code in (0, 2)
    assert all(len(line) <= MAX_MESSAGE_CHARS for line in lines), max(lines, key=len)[:300]
    if code == 2:
        assert recorder.argv is None
        assert lines[-1].startswith("::error title=green-gate::")
        return
    assert recorder.argv is not None
    ctx: Any
    try:
        ctx = check_command.make_context("check", list(recorder.argv))
    except click.UsageError:
        return  # the CLI refuses it itself, with exit 2 and its usage message
    workdir = workspace / (action.read_input(env, "working_directory") or ".")
    assert _inside(workdir, workspace)
    for name in action.PATH_INPUTS:
        value = action.read_input(env, name)
        if value is not None:
            assert _inside(workdir / value, workspace), (name, value)
    assert ctx.params["repeats"] is None or 1 <= ctx.params["repeats"] <= 1000
