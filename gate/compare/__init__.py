"""Comparing a run with its baseline: statistics, the verdict, and which run is the baseline."""
