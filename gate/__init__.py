"""green-gate: an energy and carbon budget gate for ML benchmarks in CI."""

__version__ = "0.1.0"
