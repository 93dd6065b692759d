"""Processes a benchmark moves out of its group (setsid) are found, ended, reaped and counted, and the
gate's other children keep their exit status."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gate.bench import subreaper

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_CHILD_SUBREAPER is Linux only")

# Run in a child interpreter so that this test process does not itself become a subreaper. The
# benchmark starts a grandchild in a session of its own that spins 0.3 s of CPU, writes its pid and
# sleeps; the benchmark waits for the pid and exits, leaving the grandchild running.
_SCRIPT = textwrap.dedent(
    """
    import json, os, shlex, subprocess, sys, threading, time
    from pathlib import Path
    from gate.bench import process, subreaper

    ok = subreaper.become_subreaper()
    here = Path.cwd()
    py = shlex.quote(sys.executable)
    grandchild = (
        "import os, time\\n"
        "end = time.process_time() + 0.3\\n"
        "while time.process_time() < end: pass\\n"
        "open('pid.tmp', 'w').write(str(os.getpid())); os.replace('pid.tmp', 'pid.txt')\\n"
        "time.sleep(600)\\n"
    )
    Path("grandchild.py").write_text(grandchild)
    # The gate's own children: one started before the benchmark and one while it runs, from another
    # thread; each exits with a status of its own, which a wait for any child would take from it.
    before = subprocess.Popen(["sh", "-c", "exit 3"])
    during = {}

    def start_during():
        while not Path("started.txt").exists():
            time.sleep(0.01)
        during["proc"] = subprocess.Popen(["sh", "-c", "sleep 1; exit 4"])
        Path("during.txt").write_text(str(during["proc"].pid))

    starter = threading.Thread(target=start_during)
    starter.start()
    command = (
        f"touch started.txt; setsid {py} grandchild.py & "
        "while [ ! -s pid.txt ] || [ ! -s during.txt ]; do sleep 0.05; done"
    )
    logged = []
    execution = process.execute(None, command, cwd=here, env={}, timeout_s=120, echo=lambda _l: None,
                                log=logged.append)
    starter.join()
    pid = int(Path("pid.txt").read_text())
    print(json.dumps({
        "ok": ok,
        "returncode": execution.returncode,
        "cpu_s": execution.cpu_s,
        "grandchild_exists": os.path.exists(f"/proc/{pid}"),
        "logged": logged,
        "before": before.wait(timeout=30),
        "during": during["proc"].wait(timeout=30),
    }))
    """
)


@pytest.mark.slow
@linux_only
def test_a_setsid_grandchild_left_running_is_ended_reaped_and_counted(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] is True
    assert result["returncode"] == 0
    assert result["grandchild_exists"] is False  # ended and reaped: not even a zombie is left
    assert result["cpu_s"] >= 0.25  # the grandchild's 0.3 s, charged to the benchmark
    assert result["logged"] == ["ended 1 process the benchmark left running"]
    # The gate's other children were neither signalled nor reaped by the benchmark's cleanup.
    assert result["before"] == 3
    assert result["during"] == 4


# Without a subreaper the orphan goes to init: nothing finds it once the benchmark's main process has
# exited, but while that process still runs (a timeout) its whole tree is found and ended.
_TIMEOUT_SCRIPT = textwrap.dedent(
    """
    import json, os, shlex, sys
    from pathlib import Path
    from gate.bench import process

    py = shlex.quote(sys.executable)
    Path("grandchild.py").write_text(
        "import os, time\\n"
        "open('pid.tmp', 'w').write(str(os.getpid())); os.replace('pid.tmp', 'pid.txt')\\n"
        "time.sleep(600)\\n"
    )
    command = f"setsid {py} grandchild.py & while [ ! -s pid.txt ]; do sleep 0.05; done; sleep 600"
    execution = process.execute(None, command, cwd=Path.cwd(), env={}, timeout_s=5, echo=lambda _l: None)
    pid = int(Path("pid.txt").read_text())
    alive = os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    print(json.dumps({"timed_out": execution.timed_out, "alive": alive}))
    """
)


@pytest.mark.slow
@linux_only
def test_a_timeout_ends_a_setsid_grandchild_even_without_a_subreaper(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _TIMEOUT_SCRIPT], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"timed_out": True, "alive": False}


def test_without_a_subreaper_the_log_says_once_what_is_out_of_reach(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subreaper, "_active", False)
    monkeypatch.setattr(sys, "platform", "darwin")
    logged: list[str] = []
    assert subreaper.enable(logged.append) is False
    assert len(logged) == 1
    assert "no child subreaper" in logged[0] and "setsid" in logged[0]


def test_strays_are_the_children_in_the_benchmark_s_group_or_with_its_marker_never_the_others(
    tmp_path: Path,
) -> None:
    other = subprocess.Popen(["sleep", "30"])  # the gate's own: its group, no marker
    in_group = subprocess.Popen(["sleep", "30"], start_new_session=True)  # leads the "benchmark" group
    marked = subprocess.Popen(
        ["sleep", "30"], start_new_session=True, env={"GREEN_GATE_METRICS": str(tmp_path / "metrics.json")}
    )
    try:
        marker = subreaper.Marker("GREEN_GATE_METRICS", str(tmp_path / "metrics.json"))
        found = {p.pid for p in subreaper.strays(None, in_group.pid, marker, frozenset())}
        assert in_group.pid in found and marked.pid in found and other.pid not in found
        known = frozenset({in_group.pid, marked.pid})
        assert {p.pid for p in subreaper.strays(None, in_group.pid, marker, known)}.isdisjoint(known)
    finally:
        for child in (other, in_group, marked):
            child.kill()
            child.wait()
