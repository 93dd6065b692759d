"""Mermaid charts rendered as a reviewer sees them: the real mermaid package (npm) in headless Chromium.

`.ci/run` installs both (mermaid into MERMAID_DIR, Chromium from Debian). Chromium runs headless,
without sandbox (containers) and with its background networking off: nothing outside is reachable.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

MERMAID_DIR = Path(os.environ.get("GREEN_GATE_MERMAID_DIR", Path.home() / ".cache" / "green-gate" / "mermaid-12"))
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--allow-file-access-from-files",
)
_RESULT = re.compile(r'<pre id="result">(.*?)</pre>', re.S)


@dataclass(frozen=True)
class Rendered:
    ok: bool
    detail: str  # the SVG on success, the parse error otherwise


def mermaid_js() -> Path | None:
    path = MERMAID_DIR / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
    return path if path.is_file() else None


def mermaid_version() -> str | None:
    package = MERMAID_DIR / "node_modules" / "mermaid" / "package.json"
    return str(json.loads(package.read_text())["version"]) if package.is_file() else None


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing() -> str | None:
    """Why charts cannot be rendered here, or None."""
    if chromium() is None:
        return "Chromium is not installed (.ci/run installs Debian's chromium)"
    if mermaid_js() is None:
        return f"the mermaid npm package is not in {MERMAID_DIR} (.ci/run installs it)"
    return None


def _fence_body(chart: str) -> str:
    lines = chart.strip().splitlines()
    return "\n".join(lines[1:-1]) if lines and lines[0].startswith("```") else chart


def render(charts: list[str], timeout_s: float = 60) -> list[Rendered]:
    """Each chart (a ```mermaid block or its body) through mermaid.render in one Chromium page."""
    js, browser = mermaid_js(), chromium()
    assert js is not None and browser is not None, missing()
    sources = json.dumps([_fence_body(c) for c in charts])
    page = f"""<!doctype html><html><body><pre id="result">pending</pre>
<script src="{js.as_uri()}"></script>
<script>
mermaid.initialize({{startOnLoad: false}});
(async () => {{
  const out = [];
  const sources = {sources};
  for (let i = 0; i < sources.length; i++) {{
    try {{ out.push({{ok: true, detail: (await mermaid.render("chart" + i, sources[i])).svg}}); }}
    catch (e) {{ out.push({{ok: false, detail: String(e && e.message || e)}}); }}
  }}
  document.getElementById("result").textContent = JSON.stringify(out);
}})();
</script></body></html>"""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "charts.html"
        path.write_text(page, encoding="utf-8")
        done = subprocess.run(
            [
                browser,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={tmp}/profile",
                "--virtual-time-budget=20000",
                "--dump-dom",
                path.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    match = _RESULT.search(done.stdout)
    assert match is not None, f"Chromium printed no result (exit {done.returncode}): {done.stderr[-2000:]}"
    text = html.unescape(match.group(1))
    assert text != "pending", "mermaid did not finish within the page's time budget"
    return [Rendered(bool(item["ok"]), str(item["detail"])) for item in json.loads(text)]
