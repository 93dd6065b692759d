"""The CLI starts fast: `--help` and `validate` import none of the heavy boundaries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("mlflow", "codecarbon", "pynvml", "pandas", "sqlalchemy")

PROBE = """\
import json, sys
from gate.cli import main
try:
    main(sys.argv[1:], prog_name="green-gate")
except SystemExit:
    pass
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(sys.stdin.readline())))
print("HEAVY=" + json.dumps(heavy), file=sys.stderr)
"""


def imported_heavy(tmp_path: Path, *args: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        input=json.dumps(HEAVY) + "\n",
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    line = next((x for x in proc.stderr.splitlines() if x.startswith("HEAVY=")), None)
    assert line is not None, proc.stderr
    return list(json.loads(line.removeprefix("HEAVY=")))


@pytest.mark.parametrize("args", [("--help",), ("check", "--help"), ("validate",), ("--version",)])
def test_start_up_imports_no_heavy_boundary(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "green-budget.yml").write_text("version: 1\nbenchmarks:\n  - name: b\n    command: python b.py\n")
    assert imported_heavy(tmp_path, *args) == []
