"""What this machine's processor can do, where it changes how svhnx computes."""

from __future__ import annotations

import torch


def amx_available() -> bool:
    """Whether this CPU has AMX tiles, where oneDNN runs bfloat16 convolutions on matrix units
    (elsewhere bfloat16 on the CPU is emulated, and slower than float32)."""
    check = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool(check()) if check is not None else False
