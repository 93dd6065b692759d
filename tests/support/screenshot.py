"""The screenshot in docs/pr-comment-example.md: the comment of the page's example result
(docs/pr-comment-example.json), rendered as GitHub would
(Markdown to HTML, the ```mermaid block drawn by the real mermaid package) in headless Chromium.

    python -m tests.support.screenshot docs/pr-comment-example.png

Needs what tests/output/test_charts.py needs (see tests/support/mermaid.py) and markdown-it-py.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from gate.output.report import render
from tests.support import mermaid
from tests.support.documents import pr_comment_example

STYLE = """
body { font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328;
       margin: 16px; max-width: 860px; }
table { border-collapse: collapse; } td, th { border: 1px solid #d1d9e0; padding: 4px 10px; }
blockquote { color: #59636e; border-left: 4px solid #d1d9e0; margin: 0; padding: 0 12px; }
code { background: #eff1f3; padding: 1px 4px; border-radius: 4px; }
"""


def page(markdown_text: str) -> str:
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown_text)
    body = body.replace("<details>", "<details open>")  # the screenshot shows the chart
    body = re.sub(
        r'<pre><code class="language-mermaid">(.*?)</code></pre>',
        lambda m: f'<pre class="mermaid">{m.group(1)}</pre>',
        body,
        flags=re.S,
    )
    js = mermaid.mermaid_js()
    assert js is not None, mermaid.missing()
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{STYLE}</style></head><body>{body}"
        f"<script src='{js.as_uri()}'></script>"
        "<script>mermaid.initialize({startOnLoad: false}); mermaid.run();</script></body></html>"
    )


def main(out: str) -> None:
    reason = mermaid.missing()
    if reason:
        sys.exit(reason)
    text = render(pr_comment_example(), "pr_comment.md.j2")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "comment.html"
        path.write_text(page(text), encoding="utf-8")
        browser = mermaid.chromium()
        assert browser is not None
        subprocess.run(
            [
                browser,
                *mermaid.CHROMIUM_FLAGS,
                f"--user-data-dir={tmp}/profile",
                "--virtual-time-budget=10000",
                "--window-size=900,1100",
                "--hide-scrollbars",
                f"--screenshot={Path(out).resolve()}",
                path.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/pr-comment-example.png")
