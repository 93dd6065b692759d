import sys
from pathlib import Path

import pytest

from gate.bench.process import execute

pytestmark = pytest.mark.slow

PY = sys.executable


def _run(tmp_path: Path, code: str) -> float:
    (tmp_path / "bench.py").write_text(code)
    return execute((PY, "bench.py"), None, cwd=tmp_path, env={}, timeout_s=60, echo=lambda _line: None).cpu_s


def test_cpu_time_of_a_busy_benchmark_is_counted(tmp_path: Path) -> None:
    busy = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass\n"
    assert _run(tmp_path, busy) >= 0.45


def test_a_sleeping_benchmark_uses_almost_no_cpu_time(tmp_path: Path) -> None:
    assert _run(tmp_path, "import time\ntime.sleep(1.0)\n") < 0.3
