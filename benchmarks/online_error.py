#!/usr/bin/env python3
"""The error of the figure the gate reports for a GPU window, online, on the stand-in NVML driver.

    python benchmarks/online_error.py --out online_error.md

`NvmlMeter.stop()` computes a window's energy when the benchmark has just exited: this scores that
figure, through the meter's real start()/stop() path, the NVML reader and the sampler, against the
true energy of a simulated H100 (tests/fakes/nvml.py `Board`). The board runs in simulated time, so
a 10 s window costs a fraction of a second of CPU, not 10 s.

Each window is a first repeat (`basis: total`: no idle reading, so the sampler starts with the run
and has recorded only the meter's lead-in before it): the benchmark's GPU goes to
700 W 20-100 ms after the start and back to a hot idle of 126 W (cooling to 75 W, time constant
8 s) 0-100 ms before the end, so its edges fall within a tick of the window's; then stop(). The
board's energy counter ticks every 100 ms at a random phase (up to 2 ms late per tick) and reports
each tick `latency` later; its power sensor reads 2% high. Cells: counter latency 0/50/100 ms x
window 0.3/1/3/10 s x the instant power field present (edges from instant power) or absent (only
the 1 s-averaged power: the counter interpolated between reads). Each cell: the worst |error| and
the mean error over `--windows` windows, the staleness the engine fitted, and whether the method
label says what the stand-in did (counter + instant power, or counter + averaged power).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gate.config.budget import EnergySpec  # noqa: E402
from gate.devices.nvml import NvmlReader  # noqa: E402
from gate.energy.nvml_meter import NvmlMeter  # noqa: E402
from gate.energy.sampler import SamplerConfig  # noqa: E402
from gate.energy.timeline import METHOD_COMBINED, METHOD_COUNTER_AVERAGED  # noqa: E402
from tests.fakes.nvml import Board, FakeDriver, SimClock, h100  # noqa: E402
from tests.support.gpu_meter import SteppedSampler, stepping  # noqa: E402

IDLE_W, HOT_IDLE_W, BUSY_W = 75.0, 126.0, 700.0
COOLING_TAU_S = 8.0
POWER_GAIN = 1.02


@dataclass(frozen=True)
class Outcome:
    error: float  # measured / true - 1
    method: str
    staleness_s: float | None


class Workload:
    """True power: idle until the benchmark's GPU starts, busy, then a hot idle cooling down."""

    def __init__(self) -> None:
        self.busy: tuple[float, float] | None = None

    def power_w(self, t: float) -> float:
        if self.busy is None or t < self.busy[0]:
            return IDLE_W
        if t < self.busy[1]:
            return BUSY_W
        return IDLE_W + (HOT_IDLE_W - IDLE_W) * 2.718281828 ** (-(t - self.busy[1]) / COOLING_TAU_S)


def one_window(latency_s: float, window_s: float, instant: bool, rng: random.Random) -> Outcome:
    clock = SimClock(1000.0 + rng.random())
    workload = Workload()
    board = Board(
        workload.power_w,
        clock,
        advance=clock.advance,
        origin_s=clock() - 5.0 - rng.uniform(0.0, 0.1),  # the tick's phase
        counter_latency_s=latency_s,
        tick_jitter_s=0.002,
        power_gain=POWER_GAIN,
        seed=rng.randrange(1 << 30),
    )
    gpu = h100("GPU-a", board=board, **({} if instant else {"instant": -1}))
    reader = NvmlReader({}, nvml=FakeDriver([gpu], driver="580.65.06"))
    sampler = SteppedSampler(reader, SamplerConfig(), clock=clock)
    sleep = stepping(sampler, clock)
    meter = NvmlMeter(reader, EnergySpec(idle_s=3), clock=clock, sleep=sleep, sampler=sampler)
    try:
        meter.start()
        t0 = clock()
        workload.busy = (t0 + rng.uniform(0.02, 0.1), t0 + window_s - rng.uniform(0.0, 0.1))
        sleep(window_s)
        t1 = clock()
        reading = meter.stop()
    finally:
        meter.close()
    true_j = board.energy_j(t1) - board.energy_j(t0)
    gpu_scope = reading.scopes[0]
    staleness = next((n for n in reading.notes if "staleness" in n), None)
    fitted = float(staleness.split("staleness ")[1].split(" s")[0]) if staleness else None
    return Outcome(gpu_scope.energy_j / true_j - 1, gpu_scope.method, fitted)


def label_true(method: str, instant: bool) -> bool:
    """Whether the method names what the stand-in board did: a counter, and instant or averaged power."""
    return (METHOD_COMBINED in method) if instant else (METHOD_COUNTER_AVERAGED in method)


def run(latencies_s: list[float], windows_s: list[float], count: int, seed: int) -> list[dict[str, object]]:
    rows = []
    rng = random.Random(seed)
    for instant in (True, False):
        for latency_s in latencies_s:
            for window_s in windows_s:
                outcomes = [one_window(latency_s, window_s, instant, rng) for _ in range(count)]
                errors = [o.error for o in outcomes]
                fitted = [o.staleness_s for o in outcomes if o.staleness_s is not None]
                rows.append(
                    {
                        "instant": instant,
                        "latency_ms": latency_s * 1000,
                        "window_s": window_s,
                        "worst_pct": max(abs(e) for e in errors) * 100,
                        "mean_pct": statistics.fmean(errors) * 100,
                        "staleness_ms": statistics.median(fitted) * 1000 if fitted else None,
                        "labels_true": sum(label_true(o.method, instant) for o in outcomes),
                        "count": count,
                    }
                )
    return rows


def target_met(row: dict[str, object]) -> str:
    worst, window = float(str(row["worst_pct"])), float(str(row["window_s"]))
    if row["labels_true"] != row["count"]:
        return "no (label)"
    if row["instant"] and window >= 1.0:
        return "yes" if worst <= 1.0 else "no"
    if not row["instant"] and window == 1.0:
        return "yes" if worst <= 5.0 else "no"
    return "—"


def markdown(rows: list[dict[str, object]]) -> str:
    lines = [
        "| power field | counter latency | window | worst \\|error\\| | mean error | staleness fitted (median) "
        "| label true | target met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        staleness = row["staleness_ms"]
        lines.append(
            f"| {'instant' if row['instant'] else '1 s average only'} | {float(str(row['latency_ms'])):.0f} ms "
            f"| {float(str(row['window_s'])):g} s | {float(str(row['worst_pct'])):.2f}% "
            f"| {float(str(row['mean_pct'])):+.2f}% "
            f"| {'—' if staleness is None else f'{float(str(staleness)):.0f} ms'} "
            f"| {row['labels_true']}/{row['count']} | {target_met(row)} |"
        )
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, default=20, help="windows per cell (default 20)")
    parser.add_argument("--latencies-ms", default="0,50,100")
    parser.add_argument("--window-s", default="0.3,1,3,10")
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    latencies = [float(x) / 1000 for x in args.latencies_ms.split(",")]
    windows = [float(x) for x in args.window_s.split(",")]
    started = time.perf_counter()
    rows = run(latencies, windows, args.windows, args.seed)
    table = markdown(rows)
    print(table)
    print(f"{len(rows) * args.windows} windows in {time.perf_counter() - started:.0f} s (simulated time)")
    if args.out:
        args.out.write_text(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
