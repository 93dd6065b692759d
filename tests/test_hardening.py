"""The gate's own process: credentials out of its environment block, not dumpable. Each test runs in
a child interpreter, as both change the process for good."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl are Linux's")

SCRIPT = textwrap.dedent(
    """
    import json, os, subprocess
    from gate import hardening
    before = open("/proc/self/environ", "rb").read()
    hardening.enable(["GG_TOKEN"], ["piece-of-uri-pw"])
    after = open("/proc/self/environ", "rb").read()
    child = subprocess.run(["sh", "-c", "printf %s \\"$GG_TOKEN\\""], capture_output=True, text=True).stdout
    print(json.dumps({
        "before": before.count(b"token-value-1234"), "after": after.count(b"token-value-1234"),
        "uri_after": after.count(b"piece-of-uri-pw"), "other": after.count(b"GG_KEEP=kept-value"),
        "python_sees": os.environ["GG_TOKEN"], "child_sees": child, "dumpable": hardening.dumpable(),
    }))
    """
)


@linux_only
def test_scrubbed_from_the_block_kept_for_the_gate() -> None:
    env = {
        **os.environ,
        "GG_TOKEN": "token-value-1234",
        "GG_URI": "https://u:piece-of-uri-pw@host",
        "GG_KEEP": "kept-value",
    }
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    assert result["before"] == 1 and result["after"] == 0 and result["uri_after"] == 0
    assert result["other"] == 1  # the rest of the environment as it was
    assert result["python_sees"] == "token-value-1234"  # the gate still reads its credentials
    assert result["child_sees"] == ""  # a process started without an explicit environment gets none
    assert result["dumpable"] is False


@linux_only
def test_scrub_does_nothing_until_enabled() -> None:
    """A check run inside a test's own process (not through the CLI) leaves that process alone."""
    script = (
        "from gate import hardening\n"
        "hardening.scrub(['GG_TOKEN'], [])\n"
        "print(open('/proc/self/environ', 'rb').read().count(b'token-value-1234'), hardening.dumpable())\n"
    )
    env = {**os.environ, "GG_TOKEN": "token-value-1234"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["1", "True"]
