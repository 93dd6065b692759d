"""The RAPL boundary: CPU package and DRAM energy counters under /sys/class/powercap (Linux).

`intel-rapl:N` is package N (name `package-N`); its subdomain named `dram` is that package's
memory. Counters are in µJ and wrap at `max_energy_range_uj`; poll them more often than they wrap
(minutes at full load). Since 2020 (CVE-2020-8694) `energy_uj` is readable by root only: the
error names the fix. Cloud VMs usually have no powercap at all: then CPU and RAM are estimates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gate.errors import MeasurementError
from gate.series import interpolate

POWERCAP = Path("/sys/class/powercap")
Scope = Literal["cpu", "ram"]
PERMISSION_FIX = (
    "make the counters readable: `sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj "
    "/sys/class/powercap/intel-rapl:*/*/energy_uj` (until reboot), or a udev rule "
    '(ACTION=="add", SUBSYSTEM=="powercap", RUN+="/bin/chmod a+r /sys%p/energy_uj"), or run the gate as root; '
    "in a container, also mount /sys/class/powercap"
)


class RaplUnavailable(MeasurementError):
    """No readable RAPL counter: CPU (and RAM) energy will be estimated. `hint` says how to get them."""

    title = "RAPL counters unavailable"


@dataclass(frozen=True)
class RaplDomain:
    path: Path
    name: str
    scope: Scope
    max_energy_uj: int


def discover(root: Path = POWERCAP) -> tuple[RaplDomain, ...]:
    """Package and DRAM domains under `root`. Raises RaplUnavailable (with the fix) when none is readable."""
    if not root.is_dir():
        raise RaplUnavailable(
            f"{root} does not exist: this machine (often a cloud VM) exposes no RAPL counters",
            hint="nothing to fix on a VM; on bare metal load the intel_rapl_msr / intel_rapl_common kernel modules",
        )
    domains = []
    for zone in sorted(root.glob("intel-rapl:*")):
        if zone.name.count(":") > 2:
            continue
        try:
            name = (zone / "name").read_text().strip()
        except OSError:
            continue
        is_package = zone.name.count(":") == 1 and name.startswith("package")
        if not is_package and name != "dram":
            continue  # core/uncore are parts of the package; psys is the whole platform
        try:
            max_uj = int((zone / "max_energy_range_uj").read_text())
        except (OSError, ValueError):
            continue
        domains.append(RaplDomain(zone, name, "cpu" if is_package else "ram", max_uj))
    if not domains:
        raise RaplUnavailable(f"no RAPL package domain under {root}", hint="this CPU or kernel exposes no RAPL")
    read_uj(domains)  # fail now, with the fix, rather than at the first measurement
    return tuple(domains)


def read_uj(domains: Sequence[RaplDomain]) -> tuple[int, ...]:
    values = []
    for domain in domains:
        try:
            values.append(int((domain.path / "energy_uj").read_text()))
        except PermissionError:
            raise RaplUnavailable(
                f"{domain.path / 'energy_uj'} is readable by root only", hint=PERMISSION_FIX
            ) from None
        except (OSError, ValueError) as exc:
            raise RaplUnavailable(f"cannot read {domain.path / 'energy_uj'}: {exc}") from None
    return tuple(values)


def delta_uj(start_uj: int, end_uj: int, max_energy_uj: int) -> int:
    """Energy between two reads of one counter, across at most one wrap."""
    return end_uj - start_uj if end_uj >= start_uj else end_uj + max_energy_uj + 1 - start_uj


class RaplRecorder:
    """Cumulative energy per scope (J) at each poll; poll() runs in the sampler's hook, ~every 0.5 s."""

    def __init__(self, domains: Sequence[RaplDomain]) -> None:
        self.domains = tuple(domains)
        self.scopes: tuple[Scope, ...] = tuple(sorted({d.scope for d in self.domains}))
        self.t_s: list[float] = []
        self.energy_j: dict[Scope, list[float]] = {s: [] for s in self.scopes}
        self._last: tuple[int, ...] | None = None

    def poll(self, now_s: float) -> None:
        values = read_uj(self.domains)
        totals: dict[Scope, float] = {s: (self.energy_j[s][-1] if self.t_s else 0.0) for s in self.scopes}
        if self._last is not None:
            for domain, before, after in zip(self.domains, self._last, values, strict=True):
                totals[domain.scope] += delta_uj(before, after, domain.max_energy_uj) / 1e6
        self._last = values
        self.t_s.append(now_s)
        for scope in self.scopes:
            self.energy_j[scope].append(totals[scope])

    def window_j(self, scope: Scope, t0_s: float, t1_s: float) -> float:
        """Energy of `scope` in [t0, t1], linear between polls. Raises MeasurementError outside the polls."""
        times, values = self.t_s, self.energy_j[scope]
        if len(times) < 2 or t0_s < times[0] or t1_s > times[-1]:
            raise MeasurementError(f"RAPL polls do not cover [{t0_s:.3f} s, {t1_s:.3f} s]")
        return interpolate(times, values, t1_s) - interpolate(times, values, t0_s)
