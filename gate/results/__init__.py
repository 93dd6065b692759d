"""What benchmark tools already write, read as the gate's counts and quality metrics.

One pure parser per tool format (text in, a `ToolOutput` out); `formats.py` names them and the
counts each offers; `read.py` finds a repeat's file, refuses a missing, stale or malformed one, and
picks the budget's count and quality metrics from it (the budget's `results:` block).
"""
