"""The hardware the gate reads: NVML GPUs, RAPL counters, and the machine's fingerprint."""
