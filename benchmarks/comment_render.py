#!/usr/bin/env python3
"""How long the fan-in takes to turn a monorepo's results into its PR comment and job summary.

    python benchmarks/comment_render.py [--benchmarks 200] [--rounds 5]

Writes the results of two matrix legs (an H100 leg and an L4 leg, `--benchmarks` in all, about one in
17 over its fail limit and one in 11 warned) as `green-gate check --json` would, then times what
`green-gate comment --result DIR` does with them before it talks to GitHub: read and schema-check each
file, merge them, render the sticky comment (cut to GitHub's limit) and the job summary, and build the
check run's annotations. The first round includes loading Jinja and compiling the templates, as a
fresh `green-gate comment` process pays; the rest are warm. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gate.commands.comment import result_files  # noqa: E402
from gate.github.publish import check_annotations, render_body  # noqa: E402
from gate.output import fanin, report  # noqa: E402
from gate.output.result import load_document, write_json  # noqa: E402
from tests.support.documents import monorepo_documents  # noqa: E402


def one_round(folder: Path) -> dict[str, float]:
    started = time.perf_counter()
    sources = [fanin.Source(str(p), load_document(p)) for p in result_files([str(folder)])]
    loaded = time.perf_counter()
    merged = fanin.merge(sources, [s.document["context"]["leg"] for s in sources])
    body = render_body(merged, None, report_url="https://github.com/acme/models/actions/runs/1")
    rendered = time.perf_counter()
    summary = report.render(merged)
    annotations = check_annotations(merged)
    done = time.perf_counter()
    return {
        "load_s": loaded - started,
        "comment_s": rendered - loaded,
        "summary_s": done - rendered,
        "total_s": done - started,
        "comment_chars": len(body),
        "summary_chars": len(summary),
        "annotations": len(annotations),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmarks", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for doc in monorepo_documents(args.benchmarks):
            write_json(folder / f"green-gate-{doc['context']['leg']}" / "green-gate.json", doc)
        rounds = [one_round(folder) for _ in range(args.rounds)]
    warm = rounds[1:] or rounds
    print(
        json.dumps(
            {
                "benchmarks": args.benchmarks,
                "first_round_s": round(rounds[0]["total_s"], 3),
                "warm_median_s": round(statistics.median(r["total_s"] for r in warm), 3),
                "warm_median_comment_s": round(statistics.median(r["comment_s"] for r in warm), 3),
                "warm_median_load_s": round(statistics.median(r["load_s"] for r in warm), 3),
                "comment_chars": rounds[0]["comment_chars"],
                "summary_chars": rounds[0]["summary_chars"],
                "annotations": rounds[0]["annotations"],
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
