"""``unet`` and ``boxreg``: train a localizer, the U-Net or the box-regression baseline.

Both see the same 64 x 64 views and are scored the same way: the Dice coefficient between the
predicted and the true digit mask (for ``boxreg`` the predicted box drawn as a mask) and the IoU
between the predicted and the true union box of the digits in view (for ``unet`` the best
candidate of :func:`svhnx.inference.localize.mask_to_boxes`).

Data: synthetic street scenes (:class:`svhnx.synth.SceneGenerator`, an endless stream; square
windows around the number and whole scenes shown small, :mod:`svhnx.train.localizer_data`) and,
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
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from svhnx.data.svhn_preprocess import train_validation_split
from svhnx.inference.localize import mask_to_boxes
from svhnx.metrics.segmentation import box_iou, dice_coefficient, dice_loss
from svhnx.models.unet import CPU_STEM, CPU_WIDTHS
from svhnx.ops import box_masks, pixel_windows
from svhnx.synth import SceneGenerator
from svhnx.synth.dataset import VALIDATION_STREAM, stream_seed
from svhnx.synth.photos import PhotoGenerator
from svhnx.train.arguments import fraction, non_negative_float, non_negative_int, positive_int
from svhnx.train.localizer_data import PHOTO_VIEWS, VIEW_SIZE, LocalizerViews, mixed_views, photo_views, visible_unions
from svhnx.train.task import Batch, MetricAccumulator, Task, register_task
from svhnx.viz.png import save_png

VIEWS_PER_EPOCH = 26_722  # as many as the SVHN training images (80% of train): what --epochs 1 means
EVAL_BATCH = 256
SCENE_CHUNK = 512  # validation scenes drawn at once
SCENE, PHOTO = 0, 1  # kinds of view (the ``kind`` of a batch)
TRAIN_PHOTO_SIDES = (600, 1280)  # long sides of the photos the localizer trains and validates on


def views_to_batch(views: LocalizerViews, kinds: np.ndarray | None = None) -> Batch:
    """The tensors the tasks train on: ``images`` uint8, ``masks`` float ``N x 1 x 64 x 64``,
    ``boxes`` float ``N x 4`` in view pixels, ``lengths`` int64 and ``kind`` int64 (:data:`SCENE`
    or :data:`PHOTO`; all scenes unless ``kinds`` says otherwise)."""
    return {
        "images": torch.from_numpy(views.images),
        "masks": torch.from_numpy(views.masks).unsqueeze(1).float(),
        "boxes": torch.from_numpy(views.boxes),
        "lengths": torch.from_numpy(views.lengths),
        "kind": torch.from_numpy(np.zeros(len(views.images), np.int64) if kinds is None else kinds),
    }


def concat_views(parts: list[LocalizerViews]) -> LocalizerViews:
    """The views of ``parts`` one after the other."""
    return LocalizerViews(*(np.concatenate(x) for x in zip(*((p.images, p.masks, p.boxes, p.lengths) for p in parts))))


# -- data sources ----------------------------------------------------------------------------
class SceneViews:
    """Views of synthetic scenes (:func:`svhnx.train.localizer_data.mixed_views`): scenes
    ``first ..`` of the stream of ``(seed, rank)``, their views drawn from ``(seed, rank, first)``.
    Every pair is its own stream; validation is the pair ``(val_seed, VALIDATION_STREAM)``."""

    def __init__(self, root: Path | None, seed: int, rank: int, whole_fraction: float) -> None:
        self.generator = SceneGenerator.from_data(root)
        self.seed = seed
        self.rank = rank
        self.generator_seed = stream_seed(seed, rank)
        self.whole_fraction = whole_fraction

    def views(self, first: int, count: int) -> LocalizerViews:
        scenes = self.generator.scenes(count, seed=self.generator_seed, first=first)
        counts = scenes.lengths
        boxes = np.concatenate([scenes.boxes[i, :k] for i, k in enumerate(counts.tolist())])
        rng = np.random.default_rng([self.seed, self.rank, first])
        return mixed_views(scenes.images, boxes, counts, rng, self.whole_fraction)


class PhotoViews:
    """Views of large synthetic photos (:func:`svhnx.train.localizer_data.photo_views`,
    ``views_per_photo`` of each, a multiple of 4): photos ``first ..`` of the stream of ``(seed,
    rank)``, views drawn from ``(seed, rank, first)``. Photos are drawn with long sides in
    :data:`TRAIN_PHOTO_SIDES`: every view is shrunk to 64 pixels anyway, and smaller photos are
    quicker to draw."""

    def __init__(self, root: Path | None, seed: int, rank: int, views_per_photo: int = PHOTO_VIEWS) -> None:
        if views_per_photo % PHOTO_VIEWS:
            raise ValueError(f"views_per_photo: expected a multiple of {PHOTO_VIEWS}, got {views_per_photo}")
        self.generator = PhotoGenerator.from_data(root, sides=TRAIN_PHOTO_SIDES)
        self.seed = seed
        self.rank = rank
        self.generator_seed = stream_seed(seed, rank)
        self.rounds = views_per_photo // PHOTO_VIEWS

    def views(self, first: int, count: int) -> LocalizerViews:
        photos = self.generator.photos(count, seed=self.generator_seed, first=first)
        return photo_views(photos, np.random.default_rng([self.seed, self.rank, first, PHOTO]), rounds=self.rounds)


def read_svhn_views(path: Path, rows: np.ndarray) -> LocalizerViews:
    """The 64 x 64 crops of a preprocessed SVHN file (rows ``rows``), with masks and boxes of their
    digits mapped into the crops by the rule :func:`svhnx.ops.crop_resize` cut them with."""
    if not path.is_file():
        raise FileNotFoundError(f"--svhn-crops {path}: no such file (make it with svhnx.data.svhn_preprocess)")
    with h5py.File(path, "r") as f:
        missing = {"images", "image_sizes", "crop_boxes", "digit_boxes", "digit_counts"} - set(f)
        if missing:
            raise ValueError(f"{path}: not an SVHN crops file (no {', '.join(sorted(missing))})")
        images = f["images"][np.sort(rows)]
        sizes, crop_boxes = f["image_sizes"][:], f["crop_boxes"][:]
        digit_boxes, counts = f["digit_boxes"][:], f["digit_counts"][:]
    rows = np.sort(rows)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    boxes = np.concatenate([digit_boxes[offsets[r] : offsets[r + 1]] for r in rows]).astype(np.float64)
    kept_counts = counts[rows]
    x0, y0, x1, y1 = pixel_windows(crop_boxes[rows], sizes[rows]).astype(np.float64).T
    owner = np.repeat(np.arange(len(rows)), kept_counts)
    sx, sy = VIEW_SIZE / (x1 - x0), VIEW_SIZE / (y1 - y0)
    mapped = np.stack(
        [(boxes[:, 0] - x0[owner]) * sx[owner], (boxes[:, 1] - y0[owner]) * sy[owner], boxes[:, 2] * sx[owner], boxes[:, 3] * sy[owner]],
        axis=1,
    ).astype(np.float32)
    masks = box_masks(mapped, kept_counts, (VIEW_SIZE, VIEW_SIZE))
    lengths = np.minimum(kept_counts, 6).astype(np.int64)
    return LocalizerViews(images, masks, visible_unions(mapped, kept_counts, VIEW_SIZE), lengths)


# -- metrics -----------------------------------------------------------------------------------
class LocalizerMetrics(MetricAccumulator):
    """``dice`` (mean per view, of the thresholded prediction), ``box_iou`` (mean over the views
    with a number in view) and, with a length head, ``length_accuracy``; the same for each kind of
    view present (``scene_dice``, ``scene_box_iou``, ``photo_dice``, ``photo_box_iou``) and
    ``photo_false_alarms``, the share of number-free photo views where a box was predicted."""

    def __init__(self) -> None:
        self.dice: list[np.ndarray] = []
        self.iou: list[np.ndarray] = []
        self.kinds: list[np.ndarray] = []
        self.has_number: list[np.ndarray] = []
        self.predicted: list[np.ndarray] = []
        self.lengths_right = 0
        self.lengths_seen = 0

    def add(self, predicted_masks: torch.Tensor, predicted_boxes: np.ndarray, batch: Batch) -> None:
        true_boxes = batch["boxes"].cpu().numpy()
        self.dice.append(dice_coefficient(predicted_masks.float(), batch["masks"]).cpu().numpy())
        self.iou.append(box_iou(predicted_boxes, true_boxes))
        self.kinds.append(batch["kind"].cpu().numpy() if "kind" in batch else np.full(len(true_boxes), SCENE))
        self.has_number.append(true_boxes[:, 2] > 0)
        self.predicted.append(predicted_boxes[:, 2] > 0)

    def add_lengths(self, logits: torch.Tensor, lengths: torch.Tensor) -> None:
        self.lengths_right += int((logits.argmax(dim=1) == lengths).sum())
        self.lengths_seen += len(lengths)

    def compute(self) -> dict[str, float]:
        dice, iou, kinds = np.concatenate(self.dice), np.concatenate(self.iou), np.concatenate(self.kinds)
        has_number, predicted = np.concatenate(self.has_number), np.concatenate(self.predicted)
        out = {"dice": float(dice.mean()), "box_iou": float(iou[has_number].mean()) if has_number.any() else 0.0}
        for kind, name in ((SCENE, "scene"), (PHOTO, "photo")):
            mine = kinds == kind
            if mine.any() and mine.sum() < len(kinds):
                out[f"{name}_dice"] = float(dice[mine].mean())
                out[f"{name}_box_iou"] = float(iou[mine & has_number].mean()) if (mine & has_number).any() else 0.0
        empty_photos = (kinds == PHOTO) & ~has_number
        if empty_photos.any():
            out["photo_false_alarms"] = float(predicted[empty_photos].mean())
        if self.lengths_seen:
            out["length_accuracy"] = self.lengths_right / self.lengths_seen
        return out


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


class UnetMetrics(LocalizerMetrics):
    def update(self, output: Any, batch: Batch) -> None:
        probability, boxes = unet_predictions(output)
        self.add(torch.from_numpy(probability > 0.5).unsqueeze(1), boxes, batch)
        if "length" in output:
            self.add_lengths(output["length"], batch["lengths"])


class BoxMetrics(LocalizerMetrics):
    def update(self, output: Any, batch: Batch) -> None:
        masks, boxes = boxreg_predictions(output)
        self.add(torch.from_numpy(masks).unsqueeze(1), boxes, batch)


# -- tasks -------------------------------------------------------------------------------------
class LocalizerTask(Task):
    """Data of both localizer tasks."""

    images_per_epoch = VIEWS_PER_EPOCH
    metric = "box_iou"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group(cls.name)
        cls.add_model_arguments(group)
        group.add_argument("--svhn-crops", type=Path, default=None,
                           help="train on this preprocessed SVHN crops file (svhnx.data.svhn_preprocess) instead of synthetic scenes")
        group.add_argument("--val-fraction", type=fraction, default=0.2, help="of --svhn-crops held out for validation (default: %(default)s)")
        group.add_argument("--whole-fraction", type=fraction, default=0.5,
                           help="share of synthetic views that show the whole scene small, padded, rather than a "
                                "window around the number (default: %(default)s)")
        group.add_argument("--photo-fraction", type=fraction, default=0.5,
                           help="share of each batch's synthetic views cut from large photos of house fronts (default: %(default)s)")
        group.add_argument("--photo-views", type=positive_int, default=2 * PHOTO_VIEWS,
                           help=f"views cut from each training photo, a multiple of {PHOTO_VIEWS} (default: %(default)s)")
        group.add_argument("--val-size", type=positive_int, default=1024, help="synthetic validation scenes (default: %(default)s)")
        group.add_argument("--val-photos", type=non_negative_int, default=128,
                           help=f"synthetic validation photos, {PHOTO_VIEWS} views each (default: %(default)s)")
        group.add_argument("--val-seed", type=non_negative_int, default=1234,
                           help="seed of the synthetic validation scenes, a stream no training rank draws from (default: %(default)s)")

    @classmethod
    def add_model_arguments(cls, group: argparse._ArgumentGroup) -> None:
        """Flags of the model and its loss (none for the base)."""

    @classmethod
    def check_arguments(cls, args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
        if args.svhn_crops is not None and not args.val_fraction > 0:
            parser.error("--val-fraction: expected a fraction in (0, 1) with --svhn-crops")
        if args.photo_views % PHOTO_VIEWS:
            parser.error(f"--photo-views: expected a multiple of {PHOTO_VIEWS}, got {args.photo_views}")

    def _svhn_rows(self) -> tuple[np.ndarray, np.ndarray]:
        with h5py.File(self.args.svhn_crops, "r") as f:
            count = int(f["images"].shape[0])
        return train_validation_split(count, self.args.val_fraction, 0)

    def train_batches(self, start_step: int, *, rank: int = 0, device: torch.device | None = None) -> Iterable[Batch]:
        size = self.args.batch_size
        if self.args.svhn_crops is not None:
            views = read_svhn_views(self.args.svhn_crops, self._svhn_rows()[0])
            return self._svhn_stream(views, start_step, rank)
        per_photo = self.args.photo_views
        photos = round(size * self.args.photo_fraction / per_photo)
        scenes = SceneViews(self.args.data_root, self.args.seed, rank, self.args.whole_fraction)
        if not photos:
            return (views_to_batch(scenes.views(step * size, size)) for step in _count_from(start_step))
        photo_source = PhotoViews(self.args.data_root, self.args.seed, rank, per_photo)
        count = size - photos * per_photo
        return (
            views_to_batch(concat_views([scenes.views(step * count, count), photo_source.views(step * photos, photos)]),
                           np.repeat([SCENE, PHOTO], [count, photos * per_photo]))
            for step in _count_from(start_step)
        )

    def _svhn_stream(self, views: LocalizerViews, start_step: int, rank: int) -> Iterator[Batch]:
        size, n = self.args.batch_size, len(views.images)
        for step in _count_from(start_step):
            rows = np.random.default_rng([self.args.seed, rank, step]).choice(n, size=size, replace=n < size)
            yield views_to_batch(LocalizerViews(*(np.ascontiguousarray(a[rows]) for a in
                                                   (views.images, views.masks, views.boxes, views.lengths))))

    def predictions(self, output: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(predicted masks or probabilities N x 64 x 64, predicted boxes N x 4)`` of a batch's output."""
        raise NotImplementedError

    @torch.no_grad()
    def plot_predictions(self, model: nn.Module, batches: Iterable[Batch], device: torch.device, path: Any) -> None:
        """Views with the predicted mask (red tint), the predicted box (red) and the true box (green)."""
        model.eval()
        batch = next(iter(batches))
        masks, boxes = self.predictions(model(batch["images"].to(device)))
        plot_localizations(batch["images"].numpy(), masks, boxes, batch["boxes"].numpy(), path)

    def validation_batches(self, *, size: int | None = None, seed: int | None = None) -> Iterator[Batch]:
        key = (size or self.args.val_size, self.args.val_seed if seed is None else seed)
        cache = self.__dict__.setdefault("_validation", {})
        if key not in cache:
            cache[key] = self._validation_views(*key)
        views, kinds = cache[key]
        for a in range(0, len(views.images), EVAL_BATCH):
            yield views_to_batch(LocalizerViews(*(x[a : a + EVAL_BATCH] for x in
                                                  (views.images, views.masks, views.boxes, views.lengths))), kinds[a : a + EVAL_BATCH])

    def _validation_views(self, size: int, seed: int) -> tuple[LocalizerViews, np.ndarray]:
        """The validation views and their kinds: ``size`` scenes (or SVHN crops), then the views of ``--val-photos`` photos."""
        if self.args.svhn_crops is not None:
            rows = self._svhn_rows()[1]
            views = read_svhn_views(self.args.svhn_crops, rows[:size])
            return views, np.full(len(views.images), SCENE)
        scenes = SceneViews(self.args.data_root, seed, VALIDATION_STREAM, self.args.whole_fraction)
        parts = [scenes.views(a, min(SCENE_CHUNK, size - a)) for a in range(0, size, SCENE_CHUNK)]
        if self.args.val_photos:
            parts.append(PhotoViews(self.args.data_root, seed, VALIDATION_STREAM).views(0, self.args.val_photos))
        views = concat_views(parts)
        return views, np.repeat([SCENE, PHOTO], [size, len(views.images) - size])


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated channel counts, got {text!r}") from None
    if len(widths) < 2 or any(w <= 0 for w in widths):
        raise argparse.ArgumentTypeError(f"expected at least two positive channel counts, got {text!r}")
    return widths


def _count_from(start: int) -> Iterator[int]:
    step = start
    while True:
        yield step
        step += 1


@register_task
class UnetTask(LocalizerTask):
    name = "unet"
    description = "U-Net localizer on 64 x 64 views of synthetic scenes and photos (or SVHN crops): Dice loss (+ BCE)"
    defaults = {"model": "unet", "batch_size": 32, "steps": 2000, "lr": 2e-3, "eval_every": 250, "weight_decay": 1e-4}

    @classmethod
    def add_model_arguments(cls, group: argparse._ArgumentGroup) -> None:
        group.add_argument("--widths", type=_widths, default=CPU_WIDTHS,
                           help=f"channels of the U-Net levels, comma-separated (default: {','.join(map(str, CPU_WIDTHS))}, sized "
                                "for a CPU; the study's, at half the original's widths: 32,64,128,256,512)")
        group.add_argument("--stem", type=positive_int, default=CPU_STEM,
                           help="space-to-depth block of the input: the levels run at 1/STEM of the resolution (default: %(default)s; 1: none)")
        group.add_argument("--bce", type=non_negative_float, default=1.0, help="weight of the BCE term added to the Dice loss (default: %(default)s)")
        group.add_argument("--length-head", action=argparse.BooleanOptionalAction, default=True,
                           help="the 7-way length classifier on the bottleneck and its loss (default: on)")
        group.add_argument("--length-weight", type=non_negative_float, default=0.2,
                           help="weight of the length head's cross-entropy (default: %(default)s)")

    def model_kwargs(self) -> dict[str, Any]:
        return {"widths": list(self.args.widths), "length_head": self.args.length_head, "stem": self.args.stem}

    def loss(self, output: Any, batch: Batch) -> torch.Tensor:
        loss = dice_loss(output["mask"].float(), batch["masks"], bce_weight=self.args.bce)
        if "length" in output:
            loss = loss + self.args.length_weight * F.cross_entropy(output["length"].float(), batch["lengths"])
        return loss

    def new_metrics(self) -> MetricAccumulator:
        return UnetMetrics()

    def predictions(self, output: Any) -> tuple[np.ndarray, np.ndarray]:
        return unet_predictions(output)


@register_task
class BoxRegressionTask(LocalizerTask):
    name = "boxreg"
    description = "box-regression baseline (the study's first localizer): L2 on the normalised union box"
    defaults = {"model": "boxreg", "batch_size": 32, "steps": 2000, "lr": 2e-3, "eval_every": 250, "weight_decay": 1e-4}

    def loss(self, output: Any, batch: Batch) -> torch.Tensor:
        return F.mse_loss(output["box"].float(), batch["boxes"] / VIEW_SIZE)

    def new_metrics(self) -> MetricAccumulator:
        return BoxMetrics()

    def predictions(self, output: Any) -> tuple[np.ndarray, np.ndarray]:
        return boxreg_predictions(output)


def plot_localizations(
    images: np.ndarray, masks: np.ndarray, boxes: np.ndarray, true_boxes: np.ndarray, path: Any, *, count: int = 32, columns: int = 8
) -> None:
    """A grid of views: predicted mask as a red tint, predicted box in red, true box in green."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    count = min(count, len(images))
    rows = max(1, -(-count // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.6, rows * 1.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, ax in enumerate(axes.flat[:count]):
        tinted = images[i].astype(np.float32)
        tinted[..., 0] = tinted[..., 0] * (1 - 0.5 * masks[i]) + 255 * 0.5 * masks[i]
        ax.imshow(tinted.astype(np.uint8))
        for box, colour in ((true_boxes[i], "lime"), (boxes[i], "red")):
            if box[2] > 0 and box[3] > 0:
                ax.add_patch(Rectangle((box[0] - 0.5, box[1] - 0.5), box[2], box[3], fill=False, edgecolor=colour, linewidth=1.2))
        ax.set_title(f"IoU {float(box_iou(boxes[i], true_boxes[i])):.2f}", fontsize=7)
    save_png(fig, path)
