"""Stand-in models whose behaviour is known, so that the reader's decisions can be checked."""

import torch

from svhnx.labels import BLANK


def length_logits(count: int, length: int, certainty: float = 20.0) -> torch.Tensor:
    """Logits of a length head that says ``length`` for each of ``count`` inputs."""
    return torch.nn.functional.one_hot(torch.full((count,), length), 7).float() * certainty


class BrightIsNumber(torch.nn.Module):
    """A localizer whose mask logits are high where the photo is bright; its length head, when
    ``length`` is given, always says ``length``."""

    def __init__(self, length: int | None = None) -> None:
        super().__init__()
        self.length = length

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {"mask": (images.float().mean(dim=3)[:, None] / 255 - 0.5) * 40}
        if self.length is not None:
            out["length"] = length_logits(len(images), self.length)
        return out


class Reads(torch.nn.Module):
    """A recognizer that reads ``number`` in every 54 x 54 crop, with the given certainty per slot."""

    def __init__(self, number: str, certainty: float = 20.0) -> None:
        super().__init__()
        self.number, self.certainty = number, certainty

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        assert images.shape[1:] == (54, 54, 3) and images.dtype == torch.uint8
        digits = torch.zeros(len(images), 5, 11)
        for slot in range(5):
            digits[:, slot, int(self.number[slot]) if slot < len(self.number) else BLANK] = self.certainty
        return {"digits": digits, "length": length_logits(len(images), len(self.number), self.certainty)}
