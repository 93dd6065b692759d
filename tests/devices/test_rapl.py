"""RAPL on a fake sysfs tree (this machine has no /sys/class/powercap)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gate.devices.rapl import RaplDomain, RaplRecorder, RaplUnavailable, delta_uj, discover, read_uj

MAX_UJ = 262_143_328_850


def zone(root: Path, name: str, label: str, energy_uj: int, max_uj: int = MAX_UJ) -> Path:
    path = root / name
    path.mkdir(parents=True)
    (path / "name").write_text(label + "\n")
    (path / "energy_uj").write_text(f"{energy_uj}\n")
    (path / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return path


def fake_powercap(root: Path) -> dict[str, Path]:
    return {
        "pkg0": zone(root, "intel-rapl:0", "package-0", 1_000_000),
        "core0": zone(root, "intel-rapl:0/intel-rapl:0:0", "core", 5),
        "dram0": zone(root, "intel-rapl:0/intel-rapl:0:1", "dram", 2_000_000),
        "pkg1": zone(root, "intel-rapl:1", "package-1", MAX_UJ - 500_000),
        "psys": zone(root, "intel-rapl:2", "psys", 7),
    }


def link_subzones(root: Path) -> None:
    # The kernel shows subzones both nested and at the top level; the glob sees the top-level links.
    for sub in root.glob("intel-rapl:*/intel-rapl:*"):
        os.symlink(sub, root / sub.name)


def test_discovers_packages_and_dram_not_core_or_psys(tmp_path: Path) -> None:
    fake_powercap(tmp_path)
    link_subzones(tmp_path)
    domains = discover(tmp_path)
    assert [(d.name, d.scope) for d in domains] == [("package-0", "cpu"), ("dram", "ram"), ("package-1", "cpu")]


def test_delta_handles_wrap_around() -> None:
    assert delta_uj(100, 300, MAX_UJ) == 200
    assert delta_uj(MAX_UJ - 100, 50, MAX_UJ) == 151


def test_recorder_accumulates_across_a_wrap_and_interpolates_windows(tmp_path: Path) -> None:
    zones = fake_powercap(tmp_path)
    link_subzones(tmp_path)
    recorder = RaplRecorder(discover(tmp_path))
    recorder.poll(0.0)
    (zones["pkg0"] / "energy_uj").write_text(f"{1_000_000 + 30_000_000}\n")  # 30 J
    (zones["pkg1"] / "energy_uj").write_text(f"{29_499_999}\n")  # wrapped: 30 J
    (zones["dram0"] / "energy_uj").write_text(f"{2_000_000 + 4_000_000}\n")  # 4 J
    recorder.poll(1.0)
    assert recorder.window_j("cpu", 0.0, 1.0) == pytest.approx(60.0)
    assert recorder.window_j("ram", 0.25, 0.75) == pytest.approx(2.0)
    with pytest.raises(Exception, match="do not cover"):
        recorder.window_j("cpu", 0.0, 2.0)


def test_missing_powercap_says_it_is_a_vm(tmp_path: Path) -> None:
    with pytest.raises(RaplUnavailable, match="exposes no RAPL counters"):
        discover(tmp_path / "nothing")


def test_unreadable_counter_names_the_permission_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_powercap(tmp_path)
    real_read_text = Path.read_text

    def root_only(path: Path, *args: object, **kwargs: object) -> str:
        if path.name == "energy_uj":  # what the kernel does for non-root users since CVE-2020-8694
            raise PermissionError(13, "Permission denied", str(path))
        return real_read_text(path)

    monkeypatch.setattr(Path, "read_text", root_only)
    with pytest.raises(RaplUnavailable) as caught:
        discover(tmp_path)
    assert "readable by root only" in caught.value.message
    assert caught.value.hint is not None and "chmod a+r" in caught.value.hint and "udev" in caught.value.hint


def test_garbage_counter_is_an_error(tmp_path: Path) -> None:
    zones = fake_powercap(tmp_path)
    (zones["pkg0"] / "energy_uj").write_text("n/a\n")
    with pytest.raises(RaplUnavailable, match="cannot read"):
        read_uj([RaplDomain(zones["pkg0"], "package-0", "cpu", MAX_UJ)])
