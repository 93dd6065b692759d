#!/usr/bin/env bash
# Decision quality on a GPU through the real CLI: A/A and +5%-work A/B checks of
# benchmarks/gpu_matmul, in history and paired mode, 5 repeats of ≥ 10 s windows each.
# Needs: an NVIDIA GPU with a driver, torch with CUDA, this package's dependencies, git.
# Takes roughly (1 + 2 x TRIALS) x 6 x 12 s for history and 2 x TRIALS x 12 x 12 s for paired:
# about 25 minutes with TRIALS=3. Results (JSON per check) go to $OUT or ./gpu-ab-results.
set -euo pipefail
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,power.limit,temperature.gpu,mig.mode.current --format=csv
OUT="${OUT:-gpu-ab-results}"
rm -f benchmarks/gpu_matmul/.calibration.json  # calibrate on this GPU (the repo copy inherits it)
python benchmarks/gpu_matmul/bench.py --seconds 12
python benchmarks/cli_ab.py --example benchmarks/gpu_matmul --extra-work 0.05 \
  --trials "${TRIALS:-3}" --repeats 5 --warmup 1 --out "$OUT" | tee "$OUT.txt"
