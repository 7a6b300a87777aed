"""Read the house number in a whole photo: find it, then read it.

The two-stage reader the original study proposed after its recognizer failed on whole photos:

1. the U-Net localizer finds candidate boxes (:func:`svhnx.inference.localize.localize`, several scales for
   large photos, the largest a cheap low-resolution pass), then looks at each candidate again up
   close at full resolution, twice by default (:func:`svhnx.inference.localize.refine`: a tighter box,
   the length head's answer, and candidates the close look does not confirm are dropped);
2. each box is expanded by 30% about its centre, cropped and resized to 64 x 64, and its centre
   54 x 54 is read by the recognizer (the SVHN crop rule, :mod:`svhnx.ops.crop_rule`); when that
   reading is unsure (a confidence in :data:`UNSURE`), four windows shifted 2 pixels about it
   too, their probabilities averaged (:mod:`svhnx.inference.recognize`);
3. the readings are taken in order of confidence (joint probability); one is rejected when the
   recognizer reads no digits or its confidence is below a threshold, and, with ``check_length``,
   when its length disagrees with the localizer's length head (from the close look; without it,
   run on the reading's crop, only for readings confident enough). The length check is off by
   default: since the recognizer learnt to read words and plaques as "no digits", it costs more
   right readings than it saves wrong ones (docs/whole-photo-reader.md, *The length check, weighed again*);
4. the first reading not rejected wins; if all are, the most confident one is returned with
   ``number=None`` and the reason;
5. with ``retry_scales`` (448 px by default since rule ``early448`` in docs/localizer-experiments.md,
   the first pass looking at 64 and 128 px), a photo of at least that size where steps 1-4 read no
   number is looked at again from step 1, at those scales alone.

``svhnx.read(image)`` is the one-call API; :class:`Reader` keeps the models for many photos. Both
take an image array or an image file's path (read by :func:`svhnx.image_file.load_image`, bounded
by ``$SVHNX_MAX_PIXELS``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from svhnx import pretrained
from svhnx.hardware import resolve_precision
from svhnx.image_file import load_image
from svhnx.inference.backends import in_precision, load_backend
from svhnx.inference.localize import (
    DEFAULT_RETRY_SCALES,
    READER_SCALES,
    REFINE_PASSES,
    Candidate,
    as_rgb,
    check_scales,
    fitting_scales,
    localize,
    refine,
    run_localizer,
)
from svhnx.inference.recognize import DEFAULT_VIEWS, check_unsure, recognize_until_sure
from svhnx.labels import MAX_DIGITS
from svhnx.models.svhn import most_probable_numbers
from svhnx.ops.crop_rule import check_views, number_crops

# Readings less sure than this are rejected. Chosen on synthetic photos (benchmarks/scripts/reader_synthetic.py):
# 0.9 halves the wrong readings reported on number-free photos against 0.5 (4.2% vs 10.8%) and costs
# 0.5 points of right readings; on the nine svhn-sample photos it rejects only a wrong reading.
MIN_CONFIDENCE = 0.9
#: Whether the reader rejects readings whose length the localizer's length head disputes, by default.
CHECK_LENGTH = False
#: How the recognizer computes by default: bfloat16 on CPUs with AMX or AVX-512 BF16, float32
#: elsewhere. With the shipped recognizers bfloat16 read exactly as float32 on every check set, 2.4x
#: faster per crop on AMX (rules rbf16-b and rbf16-avx, docs/recognizer-experiments.md); their
#: threshold was calibrated in float32.
RECOGNIZER_PRECISION = "auto"

#: The band of confidences of a candidate's centre view within which its shifted views are read too;
#: outside it the centre view decides. Since rule sure1 (docs/localizer-experiments.md): on fresh
#: photos 2 fewer right and 3 more wrong readings of 1,000 house fronts, 1 more wrong of 3,000
#: scenes, and a third less time per photo in float32.
UNSURE = (0.3, 0.99)

#: Keys of :meth:`Reading.to_dict`, in order; a stable schema (tests pin it).
READING_KEYS = ("number", "confidence", "box", "length", "rejected")
LOCALIZER_ENV = "SVHNX_LOCALIZER"
RECOGNIZER_ENV = "SVHNX_RECOGNIZER"

#: What the reader reads: an image array, or the path of an image file.
ImageOrPath = np.ndarray | str | os.PathLike[str]


def photo_array(image: ImageOrPath) -> np.ndarray:
    """``image`` as a ``uint8 H x W x 3`` RGB array: a path is read with
    :func:`svhnx.image_file.load_image` (``OSError``/``ValueError`` when it cannot be), an array
    is checked and converted by :func:`svhnx.inference.localize.as_rgb`."""
    if isinstance(image, (str, os.PathLike)):
        return load_image(image)
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image: expected a numpy array or an image file's path, got {type(image).__name__}")
    return as_rgb(image)


@dataclass(frozen=True)
class Reading:
    """What the reader found in a photo.

    Attributes:
        number: the digits read (``"210"``), or ``None`` when no reading was accepted.
        confidence: joint probability of the reading of the best candidate (its length and each
            digit), 0.0 when there was no candidate.
        box: ``(left, top, width, height)`` of the best candidate's number in photo pixels (before
            the 30% expansion), or ``None`` when the localizer found nothing.
        length: the number of digits the localizer's length head sees in that box (``None``
            without a length head or a candidate, and, with the length check off, when no close
            look ran: :meth:`Reader.read_box`, ``refine=False``).
        rejected: why the best candidate's reading was not accepted: ``"no-candidate"`` (the
            localizer found nothing), ``"length-mismatch"`` (the recognizer's length is not the
            localizer's), ``"no-digits"`` (the recognizer read an empty number) or
            ``"low-confidence"``; ``None`` when ``number`` is set.
    """

    number: str | None
    confidence: float
    box: tuple[float, float, float, float] | None
    length: int | None = None
    rejected: str | None = None

    @classmethod
    def empty(cls) -> Reading:
        """The reading of a photo where nothing was found."""
        return cls(None, 0.0, None, None, "no-candidate")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields, keys in the order of :data:`READING_KEYS`."""
        fields = asdict(self)
        fields["box"] = None if self.box is None else [round(float(v), 1) for v in self.box]
        fields["confidence"] = round(float(self.confidence), 4)
        return {key: fields[key] for key in READING_KEYS}

    def to_json(self) -> str:
        """One line of JSON with the keys of :data:`READING_KEYS`."""
        return json.dumps(self.to_dict())


class Reader:
    """A localizer and a recognizer, ready to read photos (see the module docstring).

    Args:
        localizer: a model like :class:`svhnx.models.unet.UNet` (``uint8 N x H x W x 3`` in,
            ``{"mask": logits, "length": logits}`` out); without a length head, no length check.
        recognizer: an SVHN recognizer (``uint8 N x 54 x 54 x 3`` in, ``{"digits": N x 5 x 11,
            "length": N x 7}`` logits out).
        scales: long sides at which the localizer looks at the photo.
        retry_scales: long sides of a second first pass, made only when the first reads no number
            (nothing found, or every reading rejected) and only at those no longer than the photo:
            a finer look for a small number, paid for only by the photos that need it. Empty: none.
        threshold: mask probability above which a pixel belongs to a number.
        min_confidence: readings with a lower joint probability are rejected (default: the
            recognizer's own operating point when its weights file has one, see
            :func:`svhnx.pretrained.operating_point`, else :data:`MIN_CONFIDENCE`).
        max_candidates: how many boxes (best localizer scores first) are read; with ``refine``,
            twice as many first-pass candidates are looked at up close, and the best
            ``max_candidates`` of the close look are read.
        check_length: also reject readings whose length disagrees with the localizer's length
            head (default :data:`CHECK_LENGTH`, off).
        refine: look at each candidate again up close (:func:`svhnx.inference.localize.refine`) before reading it.
        close_looks: how many close looks, each around the box of the one before (default
            :data:`svhnx.inference.localize.REFINE_PASSES`); only with ``refine``.
        views: how many views of each crop the recognizer reads, 1 to 5 (default
            :data:`svhnx.inference.recognize.DEFAULT_VIEWS`): the centre, then shifted windows.
        unsure: ``(low, high)``: a crop's shifted views are read only when its centre view's
            reading has a confidence in this band (both ends included); outside it the centre
            view's reading stands (:func:`svhnx.inference.recognize.recognize_until_sure`; default
            :data:`UNSURE`; ``(0, 1)`` reads every view of every candidate).
        precision: how the localizer computes, one of :data:`svhnx.hardware.PRECISIONS`
            (``"auto"``: bfloat16 on CPUs with AMX or AVX-512 BF16, float32 elsewhere).
        recognizer_precision: how the recognizer computes, the same choices (default
            :data:`RECOGNIZER_PRECISION`).

    A torch localizer is put in eval mode and in channels-last memory format (faster convolutions
    on the CPU), in place; for a model in bfloat16 the reader keeps a copy with bfloat16 weights
    (:func:`svhnx.inference.backends.in_precision`).
    """

    def __init__(
        self,
        localizer: nn.Module,
        recognizer: nn.Module,
        *,
        scales: Sequence[int] = READER_SCALES,
        retry_scales: Sequence[int] = DEFAULT_RETRY_SCALES,
        threshold: float = 0.5,
        min_confidence: float | None = None,
        max_candidates: int = 3,
        check_length: bool = CHECK_LENGTH,
        refine: bool = True,
        close_looks: int = REFINE_PASSES,
        views: int = DEFAULT_VIEWS,
        unsure: tuple[float, float] = UNSURE,
        precision: str = "auto",
        recognizer_precision: str = RECOGNIZER_PRECISION,
    ) -> None:
        if min_confidence is None:
            min_confidence = getattr(recognizer, "pretrained_cfg", {}).get("min_confidence", MIN_CONFIDENCE)
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence: expected a probability in [0, 1], got {min_confidence}")
        if max_candidates < 1:
            raise ValueError(f"max_candidates: expected at least 1, got {max_candidates}")
        self.precision = resolve_precision(precision)
        self.localizer = in_precision(localizer.eval(), self.precision).to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stub lacks it
        self.recognizer_precision = resolve_precision(recognizer_precision)
        self.recognizer = in_precision(recognizer.eval(), self.recognizer_precision)
        self.scales = check_scales(scales)
        self.retry_scales = check_scales(retry_scales) if len(retry_scales) else ()
        self.threshold = threshold
        self.min_confidence = min_confidence
        self.max_candidates = max_candidates
        self.check_length = check_length
        self.refine = refine
        if close_looks < 1:
            raise ValueError(f"close_looks: expected at least 1, got {close_looks}")
        self.close_looks = close_looks
        self.views = check_views(views)
        self.unsure = check_unsure(unsure)

    @classmethod
    def from_checkpoints(
        cls,
        localizer: str | os.PathLike[str] | None = None,
        recognizer: str | os.PathLike[str] | None = None,
        *,
        backend: str = "torch",
        threads: int | None = None,
        **options: Any,
    ) -> Reader:
        """A reader from two training checkpoints (``best.pt``/``last.pt`` of ``python -m
        svhnx.train``, or their run directories); ``None`` means the path in ``$SVHNX_LOCALIZER`` /
        ``$SVHNX_RECOGNIZER``, else the model shipped with the package (:mod:`svhnx.pretrained`,
        torch only). ``backend="onnx"`` runs their ONNX exports (:mod:`svhnx.inference.backends`).
        ``threads`` sets the intra-op threads (for torch with ``torch.set_num_threads``, which is
        global); ``None`` keeps the engine's default, one per core."""
        if threads is not None:
            if threads < 1:
                raise ValueError(f"threads: expected at least 1, got {threads}")
            torch.set_num_threads(threads)
        models = [
            _load_model(path, env, what, backend, threads)
            for path, env, what in ((localizer, LOCALIZER_ENV, "localizer"), (recognizer, RECOGNIZER_ENV, "recognizer"))
        ]
        return cls(*models, **options)

    @torch.inference_mode()
    def read(self, image: ImageOrPath) -> Reading:
        """Read the number in a ``uint8`` photo, ``H x W`` or ``H x W x C`` (C = 1, 3 or 4, RGB), or in
        the image file at a path."""
        image = photo_array(image)
        return self.retry(image, self.read_at(image, self.scales))

    @torch.inference_mode()
    def read_at(self, image: np.ndarray, scales: Sequence[int]) -> Reading:
        """What :meth:`read` reads in an RGB photo with one first pass, at ``scales``, and no retry."""
        candidates, lengths = self.close_look(image, self.first_pass(image, scales))
        if not candidates:
            return Reading.empty()
        return self._read_candidates(image, candidates, lengths)

    @torch.inference_mode()
    def retry(self, image: np.ndarray, reading: Reading) -> Reading:
        """``reading`` (of the first pass) after the retry at :attr:`retry_scales`: made only when
        ``reading`` holds no number and a retry scale is no longer than the photo; the retry's
        reading when it holds one, else ``reading`` if it has a box (its rejection), else the retry's."""
        scales = self.retry_scales_for(image)
        if reading.number is not None or not scales:
            return reading
        second = self.read_at(image, scales)
        return second if second.number is not None or reading.box is None else reading

    def first_pass(self, image: np.ndarray, scales: Sequence[int] | None = None) -> list[Candidate]:
        """The localizer's candidates in an RGB photo at ``scales`` (default :attr:`scales`), best
        first (twice ``max_candidates`` when a close look follows)."""
        count = 2 * self.max_candidates if self.refine else self.max_candidates
        scales = self.scales if scales is None else scales
        return localize(self.localizer, image, scales=scales, threshold=self.threshold, max_candidates=count, precision=self.precision)

    def close_look(self, image: np.ndarray, candidates: list[Candidate]) -> tuple[list[Candidate], list[int | None] | None]:
        """The best ``max_candidates`` candidates after :func:`svhnx.inference.localize.refine` and their
        lengths; without ``refine``, the candidates as they are and no lengths."""
        if not self.refine:
            return candidates, None
        looks = refine(self.localizer, image, candidates, threshold=self.threshold, precision=self.precision, passes=self.close_looks)
        refined = looks[: self.max_candidates]
        return [r.candidate for r in refined], [r.length for r in refined]

    @torch.inference_mode()
    def read_box(self, image: ImageOrPath, box: Sequence[float]) -> Reading:
        """Read the number in a known ``box`` (``left, top, width, height`` in photo pixels) of a
        ``uint8`` photo, skipping the localizer: the same crop, recognizer and rejections as
        :meth:`read` (to tell the localizer's errors from the recognizer's)."""
        image = photo_array(image)
        box = tuple(float(v) for v in box)
        if len(box) != 4 or not (box[2] > 0 and box[3] > 0):
            raise ValueError(f"box: expected (left, top, width, height) with a positive width and height, got {box}")
        return self._read_candidates(image, [Candidate(box, 1.0)])

    @torch.inference_mode()
    def read_crops(self, crops: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Each ``uint8 N x 64 x 64 x 3`` number crop's most probable number, its length and its
        confidence, read as :meth:`read` reads its candidates (:attr:`views`, the :attr:`unsure` band,
        :attr:`recognizer_precision`), before any rejection."""
        return decode_readings(recognize_until_sure(self.recognizer, crops, self.views, self.unsure, precision=self.recognizer_precision))

    def retry_scales_for(self, image: np.ndarray) -> tuple[int, ...]:
        """The :attr:`retry_scales` a retry would look at ``image`` with: those no longer than its long side."""
        return fitting_scales(self.retry_scales, max(image.shape[:2]))

    def _read_candidates(self, image: np.ndarray, candidates: list[Candidate], lengths: list[int | None] | None = None) -> Reading:
        """The first reading of ``candidates`` not rejected, in order of confidence (module docstring);
        ``lengths``: the localizer's length for each candidate when known (from :func:`svhnx.inference.localize.refine`)."""
        crops = self._crops(image, candidates)
        numbers, read_lengths, confidences = self.read_crops(crops)
        best_rejected: Reading | None = None
        for i in np.argsort(-confidences, kind="stable"):
            rejected, length = None, lengths[i] if lengths is not None else None
            if not numbers[i]:
                rejected = "no-digits"
            elif confidences[i] < self.min_confidence:
                rejected = "low-confidence"
            if self.check_length and length is None and (rejected is None or best_rejected is None):
                # the length head on this crop, only where it decides the reading or is reported with it
                length = self._localizer_length(crops[i : i + 1])
            if rejected is None and self.check_length and length is not None and length != read_lengths[i]:
                rejected = "length-mismatch"
            if rejected is None:
                return Reading(numbers[i], float(confidences[i]), candidates[i].box, length, None)
            if best_rejected is None:
                best_rejected = Reading(None, float(confidences[i]), candidates[i].box, length, rejected)
        assert best_rejected is not None
        return best_rejected

    def _crops(self, image: np.ndarray, candidates: list[Candidate]) -> np.ndarray:
        """The 64 x 64 crops of the candidates' boxes expanded by 30%."""
        boxes = np.array([c.box for c in candidates], dtype=np.float32)
        return number_crops([image] * len(boxes), boxes)

    def _localizer_length(self, crop: np.ndarray) -> int | None:
        """The localizer length head's answer for one 64 x 64 crop, or ``None`` without a length head."""
        out = run_localizer(self.localizer, torch.from_numpy(np.ascontiguousarray(crop)), self.precision)
        return int(out["length"].argmax(dim=1)[0]) if "length" in out else None


def decode_readings(output: Mapping[str, torch.Tensor]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The most probable number of each recognizer output (:func:`svhnx.models.svhn.most_probable_numbers`):
    ``(numbers as strings, length classes int64 N, joint probabilities float N)``."""
    digits, lengths, confidence = most_probable_numbers(output)
    numbers = ["".join(str(d) for d in row[: min(n, MAX_DIGITS)]) for row, n in zip(digits.tolist(), lengths.tolist())]
    return numbers, lengths.numpy(), confidence.numpy()


def _load_model(path: str | os.PathLike[str] | None, env: str, what: str, backend: str, threads: int | None) -> nn.Module:
    """The ``what`` model: the checkpoint given, else the one ``$env`` names, else the shipped one."""
    if path is None and not os.environ.get(env):
        if not set(pretrained.members(what)) <= set(pretrained.available()):
            raise ValueError(f"no {what} checkpoint: pass one (--{what} CKPT) or set ${env} (no shipped {what} is installed)")
        if backend != "torch":
            raise ValueError(f"the shipped {what} runs with the torch backend; pass its ONNX export (--{what} FILE) for {backend}")
        return pretrained.load_as_one(what)
    return load_backend(_checkpoint_path(path, env, what), backend, threads=threads, role=what).as_module()


def _checkpoint_path(path: str | os.PathLike[str] | None, env: str, what: str) -> Path:
    """The checkpoint given, or the one ``$env`` names; a clear error when there is none."""
    if path is None:
        path = os.environ.get(env)
        if not path:
            raise ValueError(f"no {what} checkpoint: pass one (--{what} CKPT) or set ${env}")
    path = Path(path)
    if not os.path.lexists(path):  # a broken link or a link loop is reported when it is opened
        raise FileNotFoundError(f"{what} checkpoint {path}: no such file or run directory")
    return path


_default_reader: Reader | None = None


def read(image: ImageOrPath, **options: Any) -> Reading:
    """Read the number in a photo (``uint8 H x W`` or ``H x W x C``, RGB, or an image file's path) with the checkpoints
    named by ``$SVHNX_LOCALIZER`` and ``$SVHNX_RECOGNIZER``, else the shipped models (loaded once). Keyword ``options``
    (those of :class:`Reader`, or ``localizer=``/``recognizer=`` checkpoint paths) build a new
    reader instead of the shared one."""
    global _default_reader
    if options:
        return Reader.from_checkpoints(**options).read(image)
    if _default_reader is None:
        _default_reader = Reader.from_checkpoints()
    return _default_reader.read(image)
