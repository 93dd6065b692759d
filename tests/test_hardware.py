"""Hardware fingerprint (CPU everywhere) and the NVML boundary (GPU tests skip without a GPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate import gpu_nvml
from gate.hardware import Hardware, _cpu_model, detect, differences


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


def _gpus() -> tuple[gpu_nvml.GpuInfo, ...]:
    return gpu_nvml.visible_gpus()


@pytest.mark.gpu
@pytest.mark.skipif(not _gpus(), reason="no NVIDIA GPU visible through NVML (no driver or no device)")
def test_nvml_lists_the_gpus() -> None:
    gpus = _gpus()
    assert all(g.name and g.uuid.startswith(("GPU-", "MIG-")) and g.driver for g in gpus)
    assert detect().gpu_models == tuple(g.name for g in gpus)


# --- comparability (issue 4: refuse apples to oranges) ----------------------------------------

H100 = Hardware("AMD EPYC 9654", 16, ("NVIDIA H100 80GB HBM3",), (700.0,), ("off",))


def test_power_limit_and_mig_join_the_fingerprint_only_when_known() -> None:
    plain = Hardware("AMD EPYC 9654", 16, ("NVIDIA H100 80GB HBM3",))
    assert Hardware("AMD EPYC 9654", 16, ("NVIDIA H100 80GB HBM3",), (None,), (None,)).fingerprint == plain.fingerprint
    assert H100.fingerprint != plain.fingerprint
    assert H100.fingerprint != Hardware("AMD EPYC 9654", 16, ("NVIDIA H100 80GB HBM3",), (400.0,), ("off",)).fingerprint
    cpu_only = Hardware("Xeon", 4, ())
    assert cpu_only.fingerprint == "7acbcebdadf7"  # unchanged by the new fields: CPU baselines keep matching


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        (
            Hardware("AMD EPYC 9654", 16, ("NVIDIA H100 80GB HBM3",), (400.0,), ("off",)),
            ["GPU power limits (W): 400 vs 700"],
        ),
        (
            Hardware("AMD EPYC 9654", 16, ("NVIDIA H100 80GB HBM3",) * 2, (700.0, 700.0), ("off", "off")),
            [
                "GPU count: 2 vs 1",
                "GPU models: NVIDIA H100 80GB HBM3, NVIDIA H100 80GB HBM3 vs NVIDIA H100 80GB HBM3",
                "GPU power limits (W): 700, 700 vs 700",
                "MIG layout: off, off vs off",
            ],
        ),
        (
            Hardware("AMD EPYC 9654", 16, ("NVIDIA H100 80GB HBM3",), (700.0,), ("3g.40gb+2x1g.10gb",)),
            ["MIG layout: 3g.40gb+2x1g.10gb vs off"],
        ),
        (
            Hardware("AMD EPYC 9654", 16, ("NVIDIA A100-SXM4-80GB",), (700.0,), ("off",)),
            ["GPU models: NVIDIA A100-SXM4-80GB vs NVIDIA H100 80GB HBM3"],
        ),
    ],
)
def test_differences_name_what_changed(other: Hardware, expected: list[str]) -> None:
    assert list(differences(other.to_dict(), other.fingerprint, H100)) == expected


def test_same_or_unknown_hardware_is_comparable() -> None:
    assert differences(H100.to_dict(), H100.fingerprint, H100) == ()
    assert differences(None, None, H100) == ()  # an old run that did not record its hardware
    assert differences(None, "0123456789ab", H100) == ("hardware fingerprint 0123456789ab vs " + H100.fingerprint,)
