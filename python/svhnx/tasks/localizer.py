"""``unet`` and ``boxreg``: train a localizer, the U-Net or the box-regression baseline.

Both see the same 64 x 64 views and are scored the same way: the Dice coefficient between the
predicted and the true digit mask (for ``boxreg`` the predicted box drawn as a mask) and the IoU
between the predicted and the true union box of the digits in view (for ``unet`` the best
candidate of :func:`svhnx.inference.localize.mask_to_boxes`).

Data: synthetic street scenes (:class:`svhnx.synth.SceneGenerator`, an endless stream; square
windows around the number and whole scenes shown small, :mod:`svhnx.data.localizer_views`, :mod:`svhnx.synth.views`) and,
for ``--photo-fraction`` of each batch, views of large photos of house fronts
(:class:`svhnx.synth.photos.PhotoGenerator`: scanning windows at the first pass's scale and
close-ups of the number and of other text, which is never in the mask), each
rank drawing from the stream of its ``(seed, rank)`` pair as the other tasks do
(:func:`svhnx.synth.dataset.stream_seed`), validated on the scenes and photos of the
validation stream of ``--val-seed``, which no training rank draws from (metrics of each kind
too: ``scene_*`` and ``photo_*``); or, with ``--svhn-crops FILE``, the 64 x 64 crops of a preprocessed SVHN split
(:mod:`svhnx.data.svhn_preprocess`), a seeded 80/20 split.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from svhnx.argtypes import fraction, non_negative_float, non_negative_int, positive_int
from svhnx.data.localizer_views import PHOTO, PHOTO_VIEWS, SCENE, VIEW_SIZE, LocalizerViews, SvhnViewStream, concat_views, read_svhn_views, views_to_batch
from svhnx.data.streams import Batch, BatchStream, stream_loader
from svhnx.data.svhn_preprocess import count_crops, train_validation_split
from svhnx.inference.localize import mask_to_boxes
from svhnx.metrics.localization import LocalizerMetrics
from svhnx.metrics.segmentation import dice_loss
from svhnx.models.unet import CPU_STEM, CPU_WIDTHS
from svhnx.ops import box_masks
from svhnx.synth.dataset import VALIDATION_STREAM
from svhnx.synth.generator import Realism
from svhnx.synth.views import PhotoViews, SceneViews, SyntheticViewStream
from svhnx.tasks.arguments import add_atlas_argument, check_atlas
from svhnx.tasks.base import Task, register_task
from svhnx.tasks.config import GlyphSource, TrainConfig
from svhnx.viz.localizer import plot_localizations

VIEWS_PER_EPOCH = 26_722  # as many as the SVHN training images (80% of train): what --epochs 1 means
EVAL_BATCH = 256
SCENE_CHUNK = 512  # validation scenes drawn at once


# -- decoders: a model's output as predicted masks and boxes -----------------------------------
def unet_predictions(output: Any) -> tuple[np.ndarray, np.ndarray]:
    """U-Net output -> ``(probabilities float N x 64 x 64, best candidate boxes float32 N x 4)``;
    a view without a candidate gets an all-zero box (IoU 0)."""
    probability = torch.sigmoid(output["mask"].float())[:, 0].cpu().numpy()
    boxes = np.zeros((len(probability), 4), dtype=np.float32)
    for i, p in enumerate(probability):
        candidates = mask_to_boxes(p, max_candidates=1)
        if candidates:
            boxes[i] = candidates[0].box
    return probability, boxes


def boxreg_predictions(output: Any) -> tuple[np.ndarray, np.ndarray]:
    """Box-regressor output -> ``(the box drawn as a 0/1 mask N x 64 x 64, boxes float32 N x 4)``."""
    boxes = (output["box"].float() * VIEW_SIZE).cpu().numpy().astype(np.float32)
    masks = box_masks(boxes, np.ones(len(boxes), dtype=np.int64), (VIEW_SIZE, VIEW_SIZE))
    return masks.astype(np.float32), boxes


# -- tasks -------------------------------------------------------------------------------------
@dataclass
class LocalizerConfig(GlyphSource, TrainConfig):
    """The settings of both localizer tasks (``boxreg``'s)."""

    model: str = "boxreg"
    batch_size: int = 32
    steps: int = 2000
    lr: float = 2e-3
    eval_every: int = 250
    svhn_crops: Path | None = None
    val_fraction: float = 0.2
    annotation: float = 1.0
    whole_fraction: float = 0.5
    close_fraction: float = 0.0
    photo_fraction: float = 0.5
    photo_views: int = 2 * PHOTO_VIEWS
    val_size: int = 1024
    val_photos: int = 128
    val_seed: int = 1234


@dataclass
class UnetConfig(LocalizerConfig):
    """The ``unet`` task's settings."""

    model: str = "unet"
    widths: tuple[int, ...] = CPU_WIDTHS
    stem: int = CPU_STEM
    refine: int = 0
    bce: float = 1.0
    length_head: bool = True
    length_weight: float = 0.2


LocalizerConfigT = TypeVar("LocalizerConfigT", bound=LocalizerConfig)


class LocalizerTask(Task[LocalizerConfigT]):
    """Data of both localizer tasks."""

    images_per_epoch = VIEWS_PER_EPOCH
    metric = "box_iou"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group(cls.name)
        cls.add_model_arguments(group)
        group.add_argument("--svhn-crops", type=Path,
                           help="train on this preprocessed SVHN crops file (svhnx.data.svhn_preprocess) instead of synthetic scenes")
        group.add_argument("--val-fraction", type=fraction, help="of --svhn-crops held out for validation (default: %(default)s)")
        group.add_argument("--annotation", type=fraction,
                           help="amount of loose, uneven digit-box margins in the synthetic scenes, as SVHN's annotators drew "
                                "them (the boxes the mask is drawn from), 0..1; 0: each digit's ink box (default: %(default)s)")
        group.add_argument("--whole-fraction", type=fraction,
                           help="share of synthetic views that show the whole scene small, padded, rather than a "
                                "window around the number (default: %(default)s)")
        group.add_argument("--close-fraction", type=fraction,
                           help="share of synthetic scene views with a number replaced by a close look at it, cut from the view and "
                                "enlarged as CloseLooks reads it (default: %(default)s)")
        group.add_argument("--photo-fraction", type=fraction,
                           help="share of each batch's synthetic views cut from large photos of house fronts (default: %(default)s)")
        group.add_argument("--photo-views", type=positive_int,
                           help=f"views cut from each training photo, a multiple of {PHOTO_VIEWS} (default: %(default)s)")
        group.add_argument("--val-size", type=positive_int, help="synthetic validation scenes (default: %(default)s)")
        group.add_argument("--val-photos", type=non_negative_int,
                           help=f"synthetic validation photos, {PHOTO_VIEWS} views each (default: %(default)s)")
        group.add_argument("--val-seed", type=non_negative_int,
                           help="seed of the synthetic validation scenes, a stream no training rank draws from (default: %(default)s)")
        add_atlas_argument(group)

    @classmethod
    def add_model_arguments(cls, group: argparse._ArgumentGroup) -> None:
        """Flags of the model and its loss (none for the base)."""

    @classmethod
    def check_config(cls, config: LocalizerConfig, parser: argparse.ArgumentParser) -> None:
        if config.svhn_crops is not None and not config.val_fraction > 0:
            parser.error("--val-fraction: expected a fraction in (0, 1) with --svhn-crops")
        if config.photo_views % PHOTO_VIEWS:
            parser.error(f"--photo-views: expected a multiple of {PHOTO_VIEWS}, got {config.photo_views}")
        check_atlas(config, parser)

    @property
    def realism(self) -> Realism:
        """The scene generator's realism: all of it, with ``--annotation`` loose digit boxes."""
        return Realism(annotation=self.config.annotation)

    def _svhn_rows(self, crops: Path) -> tuple[np.ndarray, np.ndarray]:
        """The training and validation rows of the SVHN crops file ``crops`` (``--svhn-crops``)."""
        return train_validation_split(count_crops(crops), self.config.val_fraction, 0)

    def train_batches(self, start_step: int, *, rank: int = 0, device: torch.device | None = None) -> Iterable[Batch]:
        size = self.config.batch_size
        if self.config.svhn_crops is not None:
            views = read_svhn_views(self.config.svhn_crops, self._svhn_rows(self.config.svhn_crops)[0])
            stream: BatchStream = SvhnViewStream(views, size, seed=self.config.seed, start=start_step, rank=rank)
        else:
            per_photo = self.config.photo_views
            photos = round(size * self.config.photo_fraction / per_photo)
            scenes = SceneViews(self.config.data_root, self.config.seed, rank, self.config.whole_fraction, self.realism,
                                atlas=self.config.atlas, close_fraction=self.config.close_fraction)
            photo_source = PhotoViews(self.config.data_root, self.config.seed, rank, per_photo, atlas=self.config.atlas) if photos else None
            stream = SyntheticViewStream(scenes, photo_source, size, photos, start=start_step)
        return stream_loader(stream, self.config.workers, device)

    def predictions(self, output: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(predicted masks or probabilities N x 64 x 64, predicted boxes N x 4)`` of a batch's output."""
        raise NotImplementedError

    def new_metrics(self) -> LocalizerMetrics:
        return LocalizerMetrics(self.predictions)

    @torch.no_grad()
    def plot_predictions(self, model: nn.Module, batches: Iterable[Batch], device: torch.device, path: Any) -> None:
        """Views with the predicted mask (red tint), the predicted box (red) and the true box (green)."""
        model.eval()
        batch = next(iter(batches))
        masks, boxes = self.predictions(model(batch["images"].to(device)))
        plot_localizations(batch["images"].numpy(), masks, boxes, batch["boxes"].numpy(), path)

    def validation_batches(self, *, size: int | None = None, seed: int | None = None) -> Iterator[Batch]:
        key = (size or self.config.val_size, self.config.val_seed if seed is None else seed)
        cache = self.__dict__.setdefault("_validation", {})
        if key not in cache:
            cache[key] = self._validation_views(*key)
        views, kinds = cache[key]
        for a in range(0, len(views.images), EVAL_BATCH):
            yield views_to_batch(LocalizerViews(*(x[a : a + EVAL_BATCH] for x in
                                                  (views.images, views.masks, views.boxes, views.lengths))), kinds[a : a + EVAL_BATCH])

    def _validation_views(self, size: int, seed: int) -> tuple[LocalizerViews, np.ndarray]:
        """The validation views and their kinds: ``size`` scenes (or SVHN crops), then the views of ``--val-photos`` photos."""
        if self.config.svhn_crops is not None:
            rows = self._svhn_rows(self.config.svhn_crops)[1]
            views = read_svhn_views(self.config.svhn_crops, rows[:size])
            return views, np.full(len(views.images), SCENE)
        scenes = SceneViews(self.config.data_root, seed, VALIDATION_STREAM, self.config.whole_fraction, self.realism, atlas=self.config.atlas)
        parts = [scenes.views(a, min(SCENE_CHUNK, size - a)) for a in range(0, size, SCENE_CHUNK)]
        if self.config.val_photos:
            parts.append(PhotoViews(self.config.data_root, seed, VALIDATION_STREAM, atlas=self.config.atlas).views(0, self.config.val_photos))
        views = concat_views(parts)
        return views, np.repeat([SCENE, PHOTO], [size, len(views.images) - size])


def parse_widths(text: str) -> tuple[int, ...]:
    """``--widths``: comma-separated channel counts of the U-Net levels, at least two, all positive."""
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated channel counts, got {text!r}") from None
    if len(widths) < 2 or any(w <= 0 for w in widths):
        raise argparse.ArgumentTypeError(f"expected at least two positive channel counts, got {text!r}")
    return widths


@register_task
class UnetTask(LocalizerTask[UnetConfig]):
    name = "unet"
    description = "U-Net localizer on 64 x 64 views of synthetic scenes and photos (or SVHN crops): Dice loss (+ BCE)"
    Config = UnetConfig

    @classmethod
    def add_model_arguments(cls, group: argparse._ArgumentGroup) -> None:
        group.add_argument("--widths", type=parse_widths,
                           help=f"channels of the U-Net levels, comma-separated (default: {','.join(map(str, CPU_WIDTHS))}, sized "
                                "for a CPU; the study's, at half the original's widths: 32,64,128,256,512)")
        group.add_argument("--stem", type=positive_int,
                           help="space-to-depth block of the input: the levels run at 1/STEM of the resolution (default: %(default)s; 1: none)")
        group.add_argument("--refine", type=non_negative_int,
                           help="channels of a refinement head at the input's resolution that corrects the mask's edges "
                                "(default: %(default)s, none)")
        group.add_argument("--bce", type=non_negative_float, help="weight of the BCE term added to the Dice loss (default: %(default)s)")
        group.add_argument("--length-head", action=argparse.BooleanOptionalAction,
                           help="the 7-way length classifier on the bottleneck and its loss (default: on)")
        group.add_argument("--length-weight", type=non_negative_float,
                           help="weight of the length head's cross-entropy (default: %(default)s)")

    def model_kwargs(self) -> dict[str, Any]:
        return {"widths": list(self.config.widths), "length_head": self.config.length_head, "stem": self.config.stem,
                "refine": self.config.refine}

    def loss(self, output: Any, batch: Batch) -> torch.Tensor:
        loss = dice_loss(output["mask"].float(), batch["masks"], bce_weight=self.config.bce)
        if "length" in output:
            loss = loss + self.config.length_weight * F.cross_entropy(output["length"].float(), batch["lengths"])
        return loss

    def predictions(self, output: Any) -> tuple[np.ndarray, np.ndarray]:
        return unet_predictions(output)


@register_task
class BoxRegressionTask(LocalizerTask[LocalizerConfig]):
    name = "boxreg"
    description = "box-regression baseline (the study's first localizer): L2 on the normalised union box"
    Config = LocalizerConfig

    def loss(self, output: Any, batch: Batch) -> torch.Tensor:
        return F.mse_loss(output["box"].float(), batch["boxes"] / VIEW_SIZE)

    def predictions(self, output: Any) -> tuple[np.ndarray, np.ndarray]:
        return boxreg_predictions(output)


class UnetMetrics(LocalizerMetrics):
    """Alias for one release: ``LocalizerMetrics(unet_predictions)`` (:mod:`svhnx.metrics.localization`)."""

    def __init__(self) -> None:
        super().__init__(unet_predictions)


class BoxMetrics(LocalizerMetrics):
    """Alias for one release: ``LocalizerMetrics(boxreg_predictions)`` (:mod:`svhnx.metrics.localization`)."""

    def __init__(self) -> None:
        super().__init__(boxreg_predictions)
