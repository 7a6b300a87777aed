"""The localizer's endless sources of training views: synthetic scenes and large synthetic photos,
each ``(seed, rank)`` pair its own stream (:func:`svhnx.synth.dataset.stream_seed`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from svhnx.data.localizer_views import PHOTO, PHOTO_VIEWS, SCENE, LocalizerViews, close_look_views, concat_views, mixed_views, photo_views, views_to_batch
from svhnx.data.streams import Batch, BatchStream
from svhnx.synth.dataset import stream_seed
from svhnx.synth.generator import Realism, SceneGenerator
from svhnx.synth.photos import PhotoGenerator

TRAIN_PHOTO_SIDES = (600, 1280)  # long sides of the photos the localizer trains and validates on


class SceneViews:
    """Views of synthetic scenes (:func:`svhnx.data.localizer_views.mixed_views`): scenes
    ``first ..`` of the stream of ``(seed, rank)``, their views drawn from ``(seed, rank, first)``.
    Every pair is its own stream; validation is the pair ``(val_seed, VALIDATION_STREAM)``.
    ``realism``: the generator's (default: all of it, annotator-loose digit boxes included);
    ``atlas``: a saved glyph atlas to draw from (default: this machine's fonts); ``close_fraction``:
    the share of views with a number replaced by a close look at it
    (:func:`svhnx.data.localizer_views.close_look_views`; none by default)."""

    def __init__(self, root: Path | None, seed: int, rank: int, whole_fraction: float, realism: Realism | None = None, *,
                 atlas: Path | None = None, close_fraction: float = 0.0) -> None:
        self.generator = SceneGenerator.from_data(root, realism=realism, atlas=atlas)
        self.seed = seed
        self.rank = rank
        self.generator_seed = stream_seed(seed, rank)
        self.whole_fraction = whole_fraction
        self.close_fraction = close_fraction

    def views(self, first: int, count: int) -> LocalizerViews:
        scenes = self.generator.scenes(count, seed=self.generator_seed, first=first)
        counts = scenes.lengths
        boxes = np.concatenate([scenes.boxes[i, :k] for i, k in enumerate(counts.tolist())])
        rng = np.random.default_rng([self.seed, self.rank, first])
        views = mixed_views(scenes.images, boxes, counts, rng, self.whole_fraction)
        return close_look_views(views, rng, self.close_fraction) if self.close_fraction else views


class PhotoViews:
    """Views of large synthetic photos (:func:`svhnx.data.localizer_views.photo_views`,
    ``views_per_photo`` of each, a multiple of 4): photos ``first ..`` of the stream of ``(seed,
    rank)``, views drawn from ``(seed, rank, first)``. Photos are drawn with long sides in
    :data:`TRAIN_PHOTO_SIDES`: every view is shrunk to 64 pixels anyway, and smaller photos are
    quicker to draw. ``atlas``: as :class:`SceneViews`'."""

    def __init__(self, root: Path | None, seed: int, rank: int, views_per_photo: int = PHOTO_VIEWS, *, atlas: Path | None = None) -> None:
        if views_per_photo % PHOTO_VIEWS:
            raise ValueError(f"views_per_photo: expected a multiple of {PHOTO_VIEWS}, got {views_per_photo}")
        self.generator = PhotoGenerator.from_data(root, atlas=atlas, sides=TRAIN_PHOTO_SIDES)
        self.seed = seed
        self.rank = rank
        self.generator_seed = stream_seed(seed, rank)
        self.rounds = views_per_photo // PHOTO_VIEWS

    def views(self, first: int, count: int) -> LocalizerViews:
        photos = self.generator.photos(count, seed=self.generator_seed, first=first)
        return photo_views(photos, np.random.default_rng([self.seed, self.rank, first, PHOTO]), rounds=self.rounds)


class SyntheticViewStream(BatchStream):
    """The localizer's training batches of synthetic views: batch ``index`` holds the views of
    scenes ``index * S ..`` (``S``: the batch less the photos' views) and of photos ``index * P ..``
    (``P = photos_per_batch``; none without ``photos``), a pure function of the sources' ``(seed,
    rank)`` and ``index``, so that DataLoader workers can share the stream out."""

    def __init__(self, scenes: SceneViews, photos: PhotoViews | None, batch_size: int, photos_per_batch: int = 0, *,
                 start: int = 0) -> None:
        super().__init__(batch_size, seed=scenes.seed, start=start, rank=scenes.rank)
        self.scenes, self.photos = scenes, photos
        self.photo_count = photos_per_batch if photos is not None else 0
        self.photo_views = self.photo_count * PHOTO_VIEWS * (photos.rounds if photos is not None else 0)
        self.scene_count = batch_size - self.photo_views
        if self.photo_count < 0 or self.scene_count < 0:
            raise ValueError(f"photos_per_batch: {photos_per_batch} photos' views do not fit in a batch of {batch_size}")

    def batch(self, index: int) -> Batch:
        scenes = self.scenes.views(index * self.scene_count, self.scene_count)
        if not self.photo_count:
            return views_to_batch(scenes)
        photos = self.photos.views(index * self.photo_count, self.photo_count)  # type: ignore[union-attr]
        return views_to_batch(concat_views([scenes, photos]), np.repeat([SCENE, PHOTO], [self.scene_count, self.photo_views]))
