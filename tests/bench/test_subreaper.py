import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_CHILD_SUBREAPER is Linux only"),
]

# Run in a child interpreter so that this test process does not itself become a subreaper.
_SCRIPT = textwrap.dedent(
    """
    import json, os, subprocess, sys, time
    from gate.bench.subreaper import become_subreaper, reap_exited
    ok = become_subreaper()
    grandchild = (
        "import os, time\\n"
        "os.setsid()\\n"
        "end = time.process_time() + 0.3\\n"
        "while time.process_time() < end: pass\\n"
    )
    # The child starts a setsid() grandchild and exits at once: the grandchild becomes an orphan.
    child = subprocess.Popen([sys.executable, "-c",
        "import subprocess, sys; subprocess.Popen([sys.executable, '-c', sys.argv[1]])", grandchild])
    child.wait()
    deadline = time.monotonic() + 20
    reaped = reap_exited(frozenset())
    count, cpu_s = reaped.count, reaped.cpu_s
    while count == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
        reaped = reap_exited(frozenset())
        count, cpu_s = count + reaped.count, cpu_s + reaped.cpu_s
    print(json.dumps({"ok": ok, "count": count, "cpu_s": cpu_s}))
    """
)


def test_a_setsid_grandchild_is_reaped_by_the_subreaper_with_its_cpu_time() -> None:
    done = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(done.stdout)
    assert result["ok"] is True
    assert result["count"] == 1
    assert result["cpu_s"] >= 0.25


_KILL_SCRIPT = textwrap.dedent(
    """
    import json, os, subprocess, sys, time
    from gate.bench.subreaper import become_subreaper, kill_children, reap_exited
    become_subreaper()
    sleeper = "import os, time; os.setsid(); time.sleep(600)"
    child = subprocess.Popen([sys.executable, "-c",
        "import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', sys.argv[1]]);"
        " print(p.pid, flush=True)", sleeper], stdout=subprocess.PIPE, text=True)
    grandchild = int(child.stdout.readline())
    child.wait()
    kill_children([grandchild])
    deadline = time.monotonic() + 20
    count = 0
    while count == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
        count += reap_exited(frozenset()).count
    print(json.dumps({"count": count, "alive": os.path.exists(f"/proc/{grandchild}")}))
    """
)


def test_a_setsid_grandchild_left_sleeping_is_killed_and_reaped() -> None:
    done = subprocess.run([sys.executable, "-c", _KILL_SCRIPT], capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(done.stdout)
    assert result == {"count": 1, "alive": False}
