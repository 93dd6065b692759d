"""Running the benchmark: child processes, warm-up and repeats, paired base/PR runs, thermal hygiene."""
