"""Energy of a run: meters, the GPU sampler and timeline maths, phases, scopes, per-run summaries."""
