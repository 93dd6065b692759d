"""Hardware fingerprint (CPU everywhere) and the NVML boundary (GPU tests skip without a GPU)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from gate.devices import nvml
from gate.devices.hardware import Hardware, _cpu_model, detect, differences


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


def test_cpu_model_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n")
    assert _cpu_model(info) == "AMD EPYC 7B13"
    assert _cpu_model(tmp_path / "missing")  # falls back to platform facts, never empty


def test_detect_on_this_machine() -> None:
    hw = detect()
    assert hw.cpu_count >= 1 and hw.cpu_model


def _gpus() -> tuple[nvml.GpuInfo, ...]:
    return nvml.visible_gpus()


@pytest.mark.gpu
@pytest.mark.skipif(not _gpus(), reason="no NVIDIA GPU visible through NVML (no driver or no device)")
def test_nvml_lists_the_gpus() -> None:
    gpus = _gpus()
    assert all(g.name and g.uuid.startswith(("GPU-", "MIG-")) and g.driver for g in gpus)
    assert detect().gpu_models == tuple(g.name for g in gpus)


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
