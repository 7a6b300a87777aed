"""What this machine's processor can do, where it changes how svhnx computes."""

from __future__ import annotations

import torch

#: How a model computes at inference: ``"auto"`` is ``"bfloat16"`` on CPUs that compute it natively
#: (:func:`bfloat16_units`) and ``"float32"`` elsewhere (:func:`resolve_precision`).
PRECISIONS = ("auto", "float32", "bfloat16")


def _cpu_has(check_name: str) -> bool:
    """The answer of one of ``torch.cpu``'s private feature checks, ``False`` where this torch lacks it."""
    check = getattr(torch.cpu, check_name, None)
    return bool(check()) if check is not None else False


def amx_available() -> bool:
    """Whether this CPU has AMX tiles, where oneDNN runs bfloat16 convolutions on matrix units."""
    return _cpu_has("_is_amx_tile_supported")


def avx512_bf16_available() -> bool:
    """Whether this CPU has the AVX-512 BF16 dot-product instructions (Intel Cooper Lake, Sapphire Rapids and later;
    AMD Zen 4 and later), which oneDNN uses for bfloat16 convolutions where there are no AMX tiles."""
    return _cpu_has("_is_avx512_bf16_supported")


def bfloat16_units() -> str | None:
    """What this CPU computes bfloat16 with: ``"AMX tiles"``, ``"AVX-512 BF16"``, or ``None`` where
    bfloat16 is emulated, and slower than float32."""
    if amx_available():
        return "AMX tiles"
    if avx512_bf16_available():
        return "AVX-512 BF16"
    return None


def resolve_precision(precision: str) -> str:
    """``"float32"`` or ``"bfloat16"`` for one of :data:`PRECISIONS` (``"auto"`` decided by :func:`bfloat16_units`)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        return "bfloat16" if bfloat16_units() is not None else "float32"
    return precision


def autocast_for(model: torch.nn.Module, precision: str) -> torch.autocast:
    """CPU bfloat16 autocast, on when ``precision`` resolves to bfloat16 or when the model's weights
    are bfloat16 already (a copy cast once); off otherwise. A model that is not torch (an ONNX
    backend) is not affected by it either way."""
    weight = next(model.parameters(), None)
    bfloat16 = resolve_precision(precision) == "bfloat16" or (weight is not None and weight.dtype == torch.bfloat16)
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16)


def check_amp(amp: bool | None, device: torch.device) -> None:
    """``ValueError`` when mixed precision is asked for (``amp=True``) on a CPU that would emulate
    bfloat16; it is used on CUDA, and on CPUs with AMX tiles or AVX-512 BF16 (bfloat16)."""
    if amp and device.type != "cuda" and bfloat16_units() is None:
        raise ValueError("mixed precision (--amp): this CPU has neither AMX tiles nor AVX-512 BF16, where bfloat16 would be "
                         "emulated and slower than float32; mixed precision is used on CUDA and on CPUs with either")
