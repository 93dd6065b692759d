"""Error families, one per area, and the exit code each maps to (see README "Exit codes").

This is the one place an error's exit code is chosen: a module raises its area's family, or a
subclass of it that refines the title or carries data, never one that sets its own code.

    family                   exit  area
    ConfigError              2     the budget file, command-line options, action inputs, user
                                   templates; a GPU the budget requires but the job lacks
                                   (GpuUnavailableError); paired mode that cannot start
    BenchmarkError           3     the benchmark: its process, its metrics and phase files
    MeasurementError         4     the energy readers: NVML, RAPL, codecarbon
    TrackingError            4     MLflow
    CarbonSourceUnavailable  4     carbon-intensity sources (Electricity Maps, codecarbon's data)
    GitHubError              4     the GitHub REST API
    OutputError              4     writing the result file, `--json`, the report file
    Cancelled                128+N the check stopped by signal N: 129 SIGHUP, 130 SIGINT, 143 SIGTERM

GateError itself (exit 4) is the root, not raised by itself. The CLI turns any other exception
into exit 4 with its traceback: a bug, not a known failure.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # within budget (warnings allowed)
    BUDGET_EXCEEDED = 1
    USAGE = 2  # invalid configuration or usage
    BENCHMARK_FAILED = 3  # non-zero exit, timeout, killed, unreadable metrics file
    INTERNAL = 4  # the gate itself could not work (nothing measurable, unexpected error)
    # Cancelled: 128 + the signal's number, what a shell reports for a process a signal ended.
    HANGUP = 129  # SIGHUP: the terminal or session went away
    INTERRUPTED = 130  # SIGINT: Ctrl-C
    TERMINATED = 143  # SIGTERM: the CI job was cancelled or timed out


# A message quotes enough of a user's value or key to find it, never a whole pasted blob.
QUOTE_CHARS = 200


def cut(text: str, limit: int = QUOTE_CHARS) -> str:
    """`text`, or its first `limit` characters and an ellipsis."""
    return text if len(text) <= limit else text[:limit] + "…"


def quoted(value: object, limit: int = QUOTE_CHARS) -> str:
    """`value` as a message quotes it (its repr), cut to `limit` characters."""
    try:
        return cut(repr(value), limit)
    except ValueError:  # an int with more digits than Python converts to text
        return "(a number too long to show)"


class GateError(Exception):
    """A known failure: a message for people, where it happened, how to fix it."""

    exit_code: ExitCode = ExitCode.INTERNAL
    title: str = "green-gate error"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.file = file
        self.line = line

    def render(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        text = f"{where}{self.message}"
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text


class ConfigError(GateError):
    exit_code = ExitCode.USAGE
    title = "invalid configuration"


class BenchmarkError(GateError):
    exit_code = ExitCode.BENCHMARK_FAILED
    title = "benchmark failed"


class MeasurementError(GateError):
    exit_code = ExitCode.INTERNAL
    title = "energy could not be measured"


class TrackingError(GateError):
    """MLflow unreachable or erroring; what it costs the verdict is budget policy."""

    exit_code = ExitCode.INTERNAL
    title = "MLflow unavailable"


class RecordRefused(TrackingError):
    """MLflow is up but refuses this run's content (a metric or param it rejects): trying the same
    record again can never succeed, so it is not an outage and is not retried."""

    title = "MLflow refused the run"


class GpuUnavailableError(ConfigError):
    """The budget says a benchmark needs a GPU and this process sees none: the job is set up wrong."""

    title = "no GPU visible"


class CarbonSourceUnavailable(GateError):
    """One carbon-intensity source could not answer (no token, network, API error, region unknown).

    The next source in `carbon.sources` is tried; when none answers, the check stops.
    """

    exit_code = ExitCode.INTERNAL
    title = "carbon intensity unavailable"


class GitHubError(GateError):
    """The GitHub REST API refused or failed a request; `status` is the HTTP status when there was one."""

    exit_code = ExitCode.INTERNAL
    title = "GitHub API error"

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class OutputError(GateError):
    """An output file could not be written (unwritable folder, disk full); the measurement itself is kept."""

    exit_code = ExitCode.INTERNAL
    title = "cannot write output"


# The signals the check stops on, by number, and the exit code each gives.
CANCEL_EXIT_CODES = {1: ExitCode.HANGUP, 2: ExitCode.INTERRUPTED, 15: ExitCode.TERMINATED}
CANCEL_SIGNAL_NAMES = {1: "SIGHUP", 2: "SIGINT", 15: "SIGTERM"}


class Cancelled(GateError):
    """The check was stopped by a signal (a cancelled CI job, Ctrl-C); what was measured is kept."""

    title = "cancelled"

    def __init__(self, signum: int) -> None:
        name = CANCEL_SIGNAL_NAMES.get(signum, f"signal {signum}")
        super().__init__(
            f"cancelled by {name}: the benchmark's processes were stopped; the result holds the repeats "
            "measured before it",
            hint="run the check again to measure every repeat",
        )
        self.signum = signum
        self.exit_code = CANCEL_EXIT_CODES.get(signum, ExitCode.INTERNAL)
