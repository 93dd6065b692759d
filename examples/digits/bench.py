"""Inference benchmark: an SVM classifying scikit-learn's bundled handwritten digits.

Trains the classic RBF-SVC of scikit-learn's digits example on half the data, then classifies the
held-out half in a loop of passes, and reports to green-gate through $GREEN_GATE_METRICS how many
predictions it made and how accurate they were.

Make it regress: GREEN_GATE_EXAMPLE_EXTRA_WORK=0.3 makes every prediction cost ~30% more (extra
passes whose predictions are not counted), as a less efficient model would.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from sklearn import datasets, svm
from sklearn.model_selection import train_test_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--passes",
        type=int,
        default=int(os.environ.get("GREEN_GATE_EXAMPLE_PASSES", "120")),
        help="passes over the held-out digits (default 120)",
    )
    parser.add_argument(
        "--extra-work",
        type=float,
        default=float(os.environ.get("GREEN_GATE_EXAMPLE_EXTRA_WORK", "0")),
        help="fraction of extra, uncounted work per prediction (0.3 = +30%%)",
    )
    args = parser.parse_args()

    digits = datasets.load_digits()
    data = digits.images.reshape((len(digits.images), -1))
    x_train, x_test, y_train, y_test = train_test_split(data, digits.target, test_size=0.5, shuffle=False)
    model = svm.SVC(gamma=0.001).fit(x_train, y_train)

    started = time.perf_counter()
    predictions = 0
    correct = 0
    for _ in range(args.passes):
        predicted = model.predict(x_test)
        predictions += len(predicted)
        correct += int((predicted == y_test).sum())
    extra_passes = round(args.passes * args.extra_work)
    for _ in range(extra_passes):
        model.predict(x_test)
    elapsed_s = time.perf_counter() - started

    print(
        f"{predictions} predictions in {elapsed_s:.2f} s ({args.passes} passes + {extra_passes} extra), "
        f"accuracy {correct / predictions:.4f}"
    )
    metrics_path = os.environ.get("GREEN_GATE_METRICS")
    if metrics_path:
        with open(metrics_path, "w", encoding="utf-8") as handle:
            json.dump({"predictions": predictions, "accuracy": correct / predictions}, handle)


if __name__ == "__main__":
    main()
