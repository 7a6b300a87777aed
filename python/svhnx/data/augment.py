"""Augmentations drawn per sample from a seeded generator."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

ELASTIC_GRID = 4  # control points per side of the elastic displacement field


@dataclass(frozen=True)
class SlotWarp:
    """Random affine distortion of each digit slot (28 x 28 cell) of a sequence image.

    Every slot gets its own rotation, scale, shear and shift (and, with ``elastic_px``, a smooth
    random displacement field); blank slots stay black. This multiplies
    the variety of a small digit bank (e.g. 10,000 training digits) at the cost of one
    ``grid_sample`` per batch.
    """

    rotate_deg: float = 10.0
    scale: tuple[float, float] = (0.9, 1.1)
    shear: float = 0.15
    shift_px: float = 2.0
    #: Largest displacement (pixels) of a smooth random elastic field on top of the affine map; 0 = none.
    elastic_px: float = 0.0

    def scaled(self, factor: float) -> SlotWarp:
        """This warp with every range (rotation, scale around 1, shear, shift, elastic) times ``factor``."""
        lo, hi = self.scale
        return replace(self, rotate_deg=self.rotate_deg * factor, scale=(1 - (1 - lo) * factor, 1 + (hi - 1) * factor),
                       shear=self.shear * factor, shift_px=self.shift_px * factor, elastic_px=self.elastic_px * factor)

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Warp ``images`` (``uint8[B, H, 5W, 1]``, slots of width ``H``) and return a new uint8 tensor."""
        b, h, w, c = images.shape
        slots = w // h
        cells = images.reshape(b, h, slots, h, c).permute(0, 2, 4, 1, 3).reshape(b * slots, c, h, h)
        n = cells.shape[0]

        def uniform(lo: float, hi: float) -> torch.Tensor:
            return torch.empty(n).uniform_(lo, hi, generator=generator)

        angle = uniform(-1, 1) * math.radians(self.rotate_deg)
        scale = uniform(*self.scale)
        shear = uniform(-self.shear, self.shear)
        shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * (2 * self.shift_px / h)
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        theta = torch.stack(
            [
                torch.stack([cos, -sin + shear * cos, shift[:, 0]], dim=1),
                torch.stack([sin, cos + shear * sin, shift[:, 1]], dim=1),
            ],
            dim=1,
        )
        grid = F.affine_grid(theta, [n, c, h, h], align_corners=False)
        if self.elastic_px > 0:
            coarse = torch.rand(n, 2, ELASTIC_GRID, ELASTIC_GRID, generator=generator) * 2 - 1
            field = F.interpolate(coarse, size=(h, h), mode="bicubic", align_corners=True)
            grid = grid + field.permute(0, 2, 3, 1) * (2 * self.elastic_px / h)
        warped = F.grid_sample(cells.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        warped = warped.round_().clamp_(0, 255).to(torch.uint8)
        return warped.reshape(b, slots, c, h, h).permute(0, 3, 1, 4, 2).reshape(b, h, w, c).contiguous()
