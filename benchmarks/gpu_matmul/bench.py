"""GPU inference-like benchmark for the decision-quality A/A and A/B runs (benchmarks/gpu_ab.sh).

Repeated fp16 matrix products on the first CUDA device for about --seconds (default 12 s, so each
measured window is ≥ 10 s, where NVML's energy counter reads within ~0.5%), reporting the products
as `predictions`. GREEN_GATE_EXAMPLE_EXTRA_WORK=0.05 adds 5% uncounted products: +5% energy per
prediction, the regression the gate must catch.

The products run inside `phase("inference")`, so torch's import, CUDA init and `randn` (about
300-400 J) do not dilute the measured window. Needs torch with CUDA. The work per run is fixed
(calibrated once, stored next to this file), so every run does the same work whatever the clock says.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

try:  # the gate's phase helper: only the products are measured, not torch's import, CUDA init, randn
    from gate.phase import phase
except ImportError:  # run outside the repository: the whole run is the window
    from contextlib import nullcontext

    def phase(name: str, items: int | None = None) -> nullcontext[None]:  # type: ignore[misc]
        return nullcontext()


SIZE = 8192
CALIBRATION = Path(__file__).with_name(".calibration.json")


def products_for(seconds: float, a: torch.Tensor, b: torch.Tensor) -> int:
    if CALIBRATION.exists():
        return int(json.loads(CALIBRATION.read_text())["products"])
    for _ in range(10):
        torch.mm(a, b)
    torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(50):
        torch.mm(a, b)
    torch.cuda.synchronize()
    products = int(seconds * 50 / (time.perf_counter() - started))
    CALIBRATION.write_text(json.dumps({"products": products, "seconds": seconds}))
    return products


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    extra = float(os.environ.get("GREEN_GATE_EXAMPLE_EXTRA_WORK", "0"))
    device = torch.device("cuda")
    a = torch.randn(SIZE, SIZE, device=device, dtype=torch.float16)
    b = torch.randn(SIZE, SIZE, device=device, dtype=torch.float16)
    products = products_for(args.seconds, a, b)
    torch.cuda.synchronize()
    with phase("inference", items=products):  # waits for the queued products before its end mark
        for _ in range(products + round(products * extra)):
            torch.mm(a, b)
        torch.cuda.synchronize()
    metrics_path = os.environ.get("GREEN_GATE_METRICS")
    if metrics_path:
        with open(metrics_path, "w", encoding="utf-8") as handle:
            json.dump({"predictions": products}, handle)
    print(f"{products} products (+{round(products * extra)} extra) of {SIZE}x{SIZE} fp16")


if __name__ == "__main__":
    main()
