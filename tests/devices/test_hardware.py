"""Hardware fingerprint and detection (GPUs from a stand-in NVIDIA driver, tests/fakes/nvml.py)."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import replace
from pathlib import Path

import pynvml
import pytest

from gate.devices import nvml
from gate.devices.hardware import Hardware, _cpu_model, detect, differences
from tests.fakes.nvml import FakeDriver, Proc, h100, installed


def test_fingerprint_is_stable_and_changes_with_what_decides_energy() -> None:
    a = Hardware("AMD EPYC 9654", 16, ("NVIDIA H100 80GB HBM3",))
    assert a.fingerprint == Hardware("AMD EPYC 9654", 16, ("NVIDIA H100 80GB HBM3",)).fingerprint
    assert len(a.fingerprint) == 12
    assert a.fingerprint != Hardware("AMD EPYC 9654", 16, ("NVIDIA H200",)).fingerprint
    assert a.fingerprint != Hardware("AMD EPYC 9654", 16, ("NVIDIA H100 80GB HBM3",) * 2).fingerprint
    assert a.fingerprint != Hardware("AMD EPYC 9654", 8, ("NVIDIA H100 80GB HBM3",)).fingerprint


def test_description_reads_well() -> None:
    assert Hardware("Xeon", 4, ()).describe() == "Xeon (4 CPUs), no GPU"
    assert Hardware("Xeon", 4, ("H100", "H100")).describe() == "2 x H100; Xeon (4 CPUs)"


def test_cpu_model_from_cpuinfo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n")
    assert _cpu_model(info) == "AMD EPYC 7B13"
    # Without /proc/cpuinfo (macOS, some containers): the platform's facts, and a name even without them.
    monkeypatch.setattr(platform, "processor", lambda: "")
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    assert _cpu_model(tmp_path / "missing") == "aarch64"
    monkeypatch.setattr(platform, "machine", lambda: "")
    assert _cpu_model(tmp_path / "missing") == "unknown CPU"


def test_detect_reports_the_gpus_the_driver_lists_with_their_details(monkeypatch: pytest.MonkeyPatch) -> None:
    installed(
        monkeypatch,
        FakeDriver([h100("GPU-aaaa", compute=[Proc(4242)]), h100("GPU-bbbb", limit_mw=400_000)], driver="580.65.06"),
    )
    hw = detect({})
    assert hw.cpu_count == os.cpu_count() and hw.cpu_model == _cpu_model()
    assert hw.gpu_models == ("NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3")
    assert [(g.uuid, g.power_limit_w, g.other_pids) for g in hw.gpus] == [
        ("GPU-aaaa", 700.0, (4242,)),
        ("GPU-bbbb", 400.0, ()),
    ]
    assert hw.describe().startswith("2 x NVIDIA H100 80GB HBM3 (power limit 400 W, 700 W), driver 580.65.06; ")
    assert hw.warnings()[0].startswith("Other processes were using GPU 0 (NVIDIA H100 80GB HBM3)")

    only_second = detect({"CUDA_VISIBLE_DEVICES": "1,9"})  # what the benchmark may use is what is recorded
    assert [g.uuid for g in only_second.gpus] == ["GPU-bbbb"]
    assert only_second.notes == (
        "CUDA_VISIBLE_DEVICES: '9' matches no visible GPU; it and the entries after it are ignored",
    )
    assert only_second.fingerprint != hw.fingerprint  # one GPU to compare with, not two


def test_detect_without_a_driver_is_a_machine_without_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    installed(monkeypatch, FakeDriver([h100("GPU-aaaa")], init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND))
    hw = detect({})
    assert (hw.gpu_models, hw.gpus, hw.notes) == ((), (), ())
    assert hw.describe().endswith(", no GPU")
    assert hw.fingerprint == Hardware(hw.cpu_model, hw.cpu_count, ()).fingerprint


H100 = nvml.GpuInfo("NVIDIA H100 80GB HBM3", "GPU-aaaa", "580.65.06", index=0, power_limit_w=700.0, mig_mode=False)


def test_fingerprints_without_gpu_details_are_what_they_always_were() -> None:
    # Pinned: baselines recorded before GPU details existed must still match.
    assert Hardware("AMD EPYC 9654", 16, ("NVIDIA H100 80GB HBM3",)).fingerprint == "d0b5ef4cf5bd"
    assert Hardware("Xeon", 4, ()).fingerprint == "7acbcebdadf7"


def test_gpu_uuid_and_driver_are_recorded_but_power_limit_and_mig_decide_the_match() -> None:
    base = Hardware("EPYC", 16, (H100.name,), (H100,))
    other_card = Hardware("EPYC", 16, (H100.name,), (replace(H100, uuid="GPU-bbbb", driver="590.0"),))
    capped = Hardware("EPYC", 16, (H100.name,), (replace(H100, power_limit_w=500.0),))
    mig = Hardware("EPYC", 16, (H100.name,), (replace(H100, mig_mode=True),))
    assert base.fingerprint == other_card.fingerprint
    assert len({base.fingerprint, capped.fingerprint, mig.fingerprint}) == 3
    recorded = json.loads(json.dumps(base.to_dict()))  # as the result file and MLflow tag hold it
    assert recorded["gpus"] == [
        {
            "name": "NVIDIA H100 80GB HBM3",
            "uuid": "GPU-aaaa",
            "driver": "580.65.06",
            "index": 0,
            "power_limit_w": 700.0,
            "mig_mode": False,
            "mig_uuids": [],
            "other_pids": [],
        }
    ]
    assert base.describe() == "1 x NVIDIA H100 80GB HBM3 (power limit 700 W), driver 580.65.06; EPYC (16 CPUs)"


def test_other_processes_on_the_gpu_are_warned_about() -> None:
    busy = Hardware("EPYC", 16, (H100.name,), (replace(H100, other_pids=(4242, 4343)),), notes=("a MIG note",))
    assert busy.warnings() == [
        "Other processes were using GPU 0 (NVIDIA H100 80GB HBM3) when the check started (PIDs 4242, 4343): "
        "its energy includes their work.",
        "GPU selection: a MIG note.",
    ]
    assert Hardware("EPYC", 16, ()).warnings() == []


# --- comparability: refuse apples to oranges ----------------------------------------------------


def _h100s(power_limit_w: float = 700.0, mig_mode: bool = False, count: int = 1, name: str = H100.name) -> Hardware:
    gpu = replace(H100, name=name, power_limit_w=power_limit_w, mig_mode=mig_mode)
    return Hardware("AMD EPYC 9654", 16, (name,) * count, (gpu,) * count)


BASE = _h100s()


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        (_h100s(power_limit_w=400.0), ["GPU power limits (W): 400 vs 700"]),
        (
            _h100s(count=2),
            [
                "GPU count: 2 vs 1",
                "GPU models: NVIDIA H100 80GB HBM3, NVIDIA H100 80GB HBM3 vs NVIDIA H100 80GB HBM3",
                "GPU power limits (W): 700, 700 vs 700",
                "MIG mode: off, off vs off",
            ],
        ),
        (_h100s(mig_mode=True), ["MIG mode: on vs off"]),
        (_h100s(name="NVIDIA A100-SXM4-80GB"), ["GPU models: NVIDIA A100-SXM4-80GB vs NVIDIA H100 80GB HBM3"]),
    ],
)
def test_differences_name_what_changed(other: Hardware, expected: list[str]) -> None:
    recorded = json.loads(json.dumps(other.to_dict()))  # as the baseline run's MLflow tag holds it
    assert list(differences(recorded, other.fingerprint, BASE)) == expected


def test_same_or_unknown_hardware_is_comparable() -> None:
    assert differences(BASE.to_dict(), BASE.fingerprint, BASE) == ()
    assert differences(None, None, BASE) == ()  # an old run that did not record its hardware
    assert differences(None, "0123456789ab", BASE) == ("hardware fingerprint 0123456789ab vs " + BASE.fingerprint,)
