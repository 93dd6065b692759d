"""The codecarbon boundary for energy: codecarbon as the meter of a window.

codecarbon is imported lazily (it pulls in pandas); its bundled carbon-intensity data is read in
gate.carbon.codecarbon. codecarbon reads the GPU's NVML energy counter (measured), RAPL where the
kernel exposes it (measured), and otherwise estimates CPU power from TDP x load and RAM power from
its size (estimated). Each scope is labelled.
"""

from __future__ import annotations

import csv
import logging
import os
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gate.energy import cpu_attribution
from gate.energy.cpu_attribution import CpuPower
from gate.energy.model import EnergyReading, ScopeEnergy
from gate.errors import MeasurementError
from gate.units import kwh_to_j

# codecarbon CPU modes that read a hardware energy counter; every other mode is a model.
_MEASURED_CPU_MODES = {"intel_rapl", "windows_emi", "intel_power_gadget", "apple_powermetrics"}


class CodecarbonMeter:
    """Measures energy over start()/stop() windows with one offline tracker, a task per window.

    `gpu=False` where the gate's NVML engine measures the GPU: codecarbon then does not track it at
    all, so it does not read every GPU's counter and utilisation each second beside the engine.
    """

    def __init__(self, *, gpu: bool = True) -> None:
        self.gpu = gpu
        self._tracker: Any = None
        self._task = 0

    def _ensure_tracker(self) -> Any:
        if self._tracker is None:
            self._tracker = new_tracker(gpu=self.gpu)
        return self._tracker

    def start(self) -> None:
        tracker = self._ensure_tracker()
        self._task += 1
        tracker.start_task(f"repeat-{self._task}")

    def stop(self) -> EnergyReading:
        tracker = self._tracker
        if tracker is None:
            raise MeasurementError("stop() without start()")
        data = tracker.stop_task()
        if data is None:  # codecarbon swallows its errors and returns None
            raise MeasurementError(
                "codecarbon returned no measurement for the run",
                hint="rerun with CODECARBON_LOG_LEVEL=debug to see why codecarbon failed",
            )
        return reading_from(data, self.describe())

    def describe(self) -> dict[str, tuple[str, str]]:
        """scope -> (provenance, method), from the hardware codecarbon detected."""
        tracker = self._ensure_tracker()
        scopes: dict[str, tuple[str, str]] = {}
        for hw in getattr(tracker, "_hardware", []):
            kind = type(hw).__name__
            if kind == "CPU":
                mode = str(getattr(hw, "_mode", "unknown"))
                if mode in _MEASURED_CPU_MODES:
                    scopes["cpu"] = ("measured", f"codecarbon {mode}")
                else:
                    tdp = getattr(hw, "_tdp", None)
                    scopes["cpu"] = ("estimated", f"codecarbon {mode} model (TDP {tdp} W x load)")
            elif kind == "GPU":
                scopes["gpu"] = ("measured", "NVML energy counter via codecarbon")
            elif kind == "RAM":
                scopes["ram"] = ("estimated", RAM_METHOD)
        return scopes


class ModelMeter:
    """CPU-only runs whose CPU is charged to the process tree and where no RAPL counter is readable.

    Nothing here needs codecarbon's tracker: the CPU figure is the tree's CPU seconds x the power of
    one logical CPU (gate.energy.cpu_attribution, from codecarbon's CPU power table looked up once),
    and codecarbon's RAM model is power from memory size x wall time. So a window costs two clock
    reads instead of the tracker's set-up (CPU detection, a measuring thread) and its task per
    repeat, and the figures are the ones the tracker would give: its CPU reading is replaced by the
    tree's charge either way, and its RAM energy is the same constant power integrated over the window.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._ram_w: float | None = None
        self._started_s: float | None = None

    def start(self) -> None:
        if self._ram_w is None:
            self._ram_w = ram_power_w()  # once: the machine's memory does not change between repeats
        self._started_s = self.clock()

    def stop(self) -> EnergyReading:
        started, self._started_s = self._started_s, None
        if started is None or self._ram_w is None:
            raise MeasurementError("stop() without start()")
        duration_s = max(self.clock() - started, 0.0)
        return EnergyReading(
            duration_s=duration_s,
            scopes=(
                # Charged to the process tree by gate.energy.cpu_attribution once the tree's CPU time is known.
                ScopeEnergy("cpu", 0.0, "estimated", "process CPU time (charged after the run)"),
                ScopeEnergy("ram", self._ram_w * duration_s, "estimated", RAM_METHOD),
            ),
        )


RAM_METHOD = "codecarbon RAM model (power from memory size)"


def ram_power_w() -> float:
    """codecarbon's RAM model for this machine's memory, in watts (what its tracker integrates over time)."""
    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    try:
        from codecarbon.external.ram import RAM
    except ImportError:  # pragma: no cover - a broken install
        raise MeasurementError(
            "codecarbon cannot be imported",
            hint="reinstall green-gate (pip install green-gate) so its dependencies are present",
        ) from None
    return float(RAM(tracking_mode="machine").total_power().W)


def new_tracker(*, gpu: bool = True, gpu_ids: Sequence[str] | None = None) -> Any:
    """The offline tracker exactly as the gate measures with it (also used by the GPU benchmark).

    With `gpu=False` codecarbon's GPU tracking is removed before its first measurement (see
    `_without_gpu_tracking`). `gpu_ids` (NVML indices or UUIDs) limits codecarbon's GPU figure to
    those GPUs; without it codecarbon sums every GPU of the machine.
    """
    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    try:
        from codecarbon import OfflineEmissionsTracker
    except ImportError as exc:  # pragma: no cover - a broken install
        raise MeasurementError(
            f"codecarbon cannot be imported: {exc}",
            hint="reinstall green-gate (pip install green-gate) so its dependencies are present",
        ) from None
    # The country only feeds codecarbon's own emissions figure, which the gate does not use:
    # gCO2eq is computed from kWh and the intensity the budget file names.
    # `save_to_file` is deprecated for `output_methods` in later 3.x releases but is what every
    # release the pin admits (>=3.3,<4) understands; its warning says nothing to a gate user.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The save_to_", category=DeprecationWarning)
        tracker = OfflineEmissionsTracker(
            country_iso_code="USA",
            save_to_file=False,
            log_level="error",
            tracking_mode="machine",
            allow_multiple_runs=True,
            measure_power_secs=1,
            gpu_ids=list(gpu_ids) if gpu_ids is not None else None,
        )
    return tracker if gpu else _without_gpu_tracking(tracker)


def _without_gpu_tracking(tracker: Any) -> Any:
    """The tracker with codecarbon's GPU hardware dropped, so that it never polls NVML.

    codecarbon 3.3 has no option for this: `gpu_ids=[]` still reads every GPU's counter in each
    measurement (GPU.measure_power_and_energy treats an empty selection as "all") and every GPU's
    utilisation in its 1 s monitor. Its hardware list is set up once (`_ensure_hardware_ready`) and
    then only iterated, so the GPU entries are removed from it right after set-up, before any task
    starts. The set-up itself opens the GPUs once (names, memory, one counter read): a one-off, not
    polling. Should a later codecarbon rename these internals, the GPU stays tracked: its figure is
    discarded either way (EstimatedCpuRam keeps cpu and ram), only the polling would come back, and
    tests/energy/test_codecarbon_gpu.py fails on it.
    """
    from codecarbon.external.hardware import GPU

    ready = getattr(tracker, "_ensure_hardware_ready", None)
    if callable(ready) and isinstance(getattr(tracker, "_hardware", None), list):
        ready()
        tracker._hardware = [hw for hw in tracker._hardware if not isinstance(hw, GPU)]
    return tracker


def reading_from(data: Any, scopes: dict[str, tuple[str, str]]) -> EnergyReading:
    """Turn codecarbon's EmissionsData (kWh per scope) into an EnergyReading in joules."""
    energies = {"cpu": data.cpu_energy, "gpu": data.gpu_energy, "ram": data.ram_energy}
    parts = []
    for scope, energy_kwh in energies.items():
        if scope not in scopes:
            continue
        provenance, method = scopes[scope]
        parts.append(ScopeEnergy(scope, kwh_to_j(float(energy_kwh or 0.0)), provenance, method))  # type: ignore[arg-type]
    if not parts:
        raise MeasurementError("codecarbon detected no CPU, GPU or RAM to measure")
    return EnergyReading(duration_s=float(data.duration), scopes=tuple(parts))


PROC_CPUINFO = Path("/proc/cpuinfo")
_BRAND_FIELDS = ("model name", "cpu", "processor", "uarch")


def cpu_model_name(cpuinfo: Path = PROC_CPUINFO) -> str | None:
    """The CPU model codecarbon's detect_cpu_model names: on Linux py-cpuinfo's `brand_raw` is the first
    `model name` of /proc/cpuinfo (its Windows sources come first, and find nothing here), read here
    directly because py-cpuinfo reads it in a child Python it starts, 1-1.5 s of every check. When
    another field names the CPU first (ARM, POWER) or there is no such file, codecarbon's
    detect_cpu_model decides."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, colon, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        # py-cpuinfo's rule: the first line naming one of these fields with a value that is not a number.
        if colon and key in _BRAND_FIELDS and value and not value.isdigit():
            if key == "model name":
                return value
            break  # another field names the CPU (ARM, POWER): codecarbon's own reading decides
    from codecarbon.core.util import detect_cpu_model

    return detect_cpu_model() or None


def cpu_power(cpuinfo: Path = PROC_CPUINFO) -> CpuPower:
    """Active power per logical CPU: the TDP codecarbon's CPU power table gives this CPU model / its threads.

    The table lookup is codecarbon's own fuzzy matcher (the one its TDP model uses); a model it does
    not know gets the documented default (gate.energy.cpu_attribution), never codecarbon's guess.
    """
    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    try:
        from codecarbon.core.cpu import TDP
        from codecarbon.core.util import count_physical_cpus
    except ImportError:  # pragma: no cover - a broken install
        return cpu_attribution.cpu_power(None, None, None)
    try:
        model = cpu_model_name(cpuinfo)
    except Exception:  # cpuinfo fails in odd ways on odd machines; the default is the documented answer
        model = None
    if model is None:
        return cpu_attribution.cpu_power(None, None, None)
    try:
        # TDP() itself would fall back to codecarbon's own per-thread guess; only the table is wanted.
        tdp_w = _registry_tdp_w(TDP.__new__(TDP), model)
        sockets = int(count_physical_cpus() or 1)  # type: ignore[no-untyped-call]
    except Exception:
        return cpu_attribution.cpu_power(model, None, None)
    threads = (os.cpu_count() or 0) // max(sockets, 1)
    return cpu_attribution.cpu_power(model, float(tdp_w) if tdp_w else None, threads or None)


def _registry_tdp_w(tdp: Any, model: str) -> float | None:
    """The TDP codecarbon's CPU power table gives `model`, matched by codecarbon's own matcher.

    codecarbon's `_get_cpu_power_from_registry` does the same through pandas, loading all its
    static data first (a second or more per check); the table is read here with the csv module and
    handed to the same matcher, which only iterates the names.
    """
    from codecarbon.input import DataSource

    with open(DataSource().cpu_power_path, newline="", encoding="utf-8") as handle:  # type: ignore[no-untyped-call]
        rows = list(csv.DictReader(handle))
    table: dict[str, str] = {}
    for row in rows:
        table.setdefault(row["Name"], row["TDP"])  # the first row of a name, as pandas' lookup takes
    match = tdp._get_matching_cpu(model, {"Name": [row["Name"] for row in rows]})
    # A malformed TDP in the table raises ValueError here, as float() does on pandas' value.
    return float(table[match]) if match else None
