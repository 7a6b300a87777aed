"""What the reader computes in by default, by what the CPU can do."""

import pytest
import torch

from svhnx import doctor, hardware


@pytest.mark.parametrize(
    ("amx", "avx512_bf16", "units", "auto"),
    [
        (True, True, "AMX tiles", "bfloat16"),
        (False, True, "AVX-512 BF16", "bfloat16"),
        (False, False, None, "float32"),  # bfloat16 would be emulated
    ],
)
def test_auto_is_bfloat16_only_where_the_cpu_computes_it_natively(monkeypatch, amx, avx512_bf16, units, auto):
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    assert hardware.bfloat16_units() == units
    assert hardware.resolve_precision("auto") == auto
    assert doctor.reader_precision().startswith(auto)


def test_a_torch_without_the_feature_checks_means_float32(monkeypatch):
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported")
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported")
    assert hardware.bfloat16_units() is None
    assert hardware.resolve_precision("auto") == "float32"
