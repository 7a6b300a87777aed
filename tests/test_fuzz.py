"""Fuzzing the readers of untrusted files: ``read_digit_struct``, photo decoding and checkpoint loading.

Random bytes and seeded mutations of the real sample files (bit flips, truncations, overwritten
integers, moved blocks) must each give a result that is right or an error of the documented kind:
no crash, no hang, no garbage. Each reader is fuzzed for a few seconds in a child process, so a
crash or a hang fails its test instead of the whole suite. ``python tests/test_fuzz.py KIND
DATA_ROOT WORK_DIR [SEED]`` runs one by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # seconds per test: run with -m slow, or the whole suite with nox -s tests

SECONDS = 3.0
KINDS = ("digit_struct", "image", "checkpoint")


@pytest.mark.parametrize("kind", KINDS)
def test_fuzzed_files_give_results_or_clear_errors(kind, data_root, tmp_path):
    result = subprocess.run([sys.executable, __file__, kind, str(data_root), str(tmp_path)],
                            capture_output=True, text=True, timeout=60 + 10 * SECONDS)
    assert result.returncode == 0, result.stderr[-3000:]
    counts = json.loads(result.stdout.splitlines()[-1])
    assert counts["cases"] >= 20 and counts["accepted"] > 0 and counts["refused"] > 0, counts


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """A random variant of ``data``: flipped bits, a truncation, an overwritten 8-byte integer, a
    block copied elsewhere, or random bytes (sometimes behind the original's first 16)."""
    out = bytearray(data)
    how = rng.integers(5)
    if how == 0:
        for position in rng.integers(0, len(out), size=rng.integers(1, 5)):
            out[position] ^= int(rng.integers(1, 256))
    elif how == 1:
        del out[rng.integers(0, len(out)):]
    elif how == 2:
        position = int(rng.integers(0, len(out) - 8))
        out[position : position + 8] = rng.integers(0, 256, 8, dtype=np.uint8).tobytes()
    elif how == 3:
        size = int(rng.integers(1, 256))
        source, target = rng.integers(0, len(out) - size, size=2)
        out[target : target + size] = out[source : source + size]
    else:
        noise = rng.integers(0, 256, int(rng.integers(0, 4096)), dtype=np.uint8).tobytes()
        out = bytearray((data[:16] if rng.integers(2) else b"") + noise)
    return bytes(out)


def fuzz(sources: list[bytes], work: Path, suffix: str, check: Callable[[Path, bytes], bool], seed: int) -> Counter:
    """Run ``check(path, original)`` on mutations of ``sources`` for :data:`SECONDS`; it returns
    whether the file was accepted and raises AssertionError on a wrong result."""
    rng = np.random.default_rng(seed)
    counts: Counter = Counter()
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        original = sources[int(rng.integers(len(sources)))]
        path = work / f"case-{counts['cases']}{suffix}"
        path.write_bytes(mutate(original, rng))
        counts["accepted" if check(path, original) else "refused"] += 1
        counts["cases"] += 1
        path.unlink()
    return counts


def digit_struct_check(path: Path, original: bytes) -> bool:
    """Accepted only as h5py reads the file (value by value), with plain names and valid values."""
    from svhnx.data import svhn_digit_struct
    from svhnx.data.svhn_digit_struct import MAX_COORDINATE, DigitStructError, read_digit_struct

    try:
        entries = read_digit_struct(path)
    except DigitStructError:
        return False
    nothing = lambda data, addresses, base=0: tuple(np.zeros(np.asarray(addresses).size, np.int64) for _ in range(3))  # noqa: E731
    with mock.patch.object(svhn_digit_struct, "decode_compact", nothing):
        try:
            reference = read_digit_struct(path)
        except DigitStructError as exc:
            raise AssertionError(f"{path}: accepted, but h5py refuses it: {exc}") from None
    for ours, theirs in zip(entries, reference, strict=True):
        assert ours.name == theirs.name and np.array_equal(ours.labels, theirs.labels) and np.array_equal(ours.boxes, theirs.boxes)
        assert ours.name and "/" not in ours.name and ours.name.isprintable()
        assert ((ours.labels >= 0) & (ours.labels <= 9)).all() and (np.abs(ours.boxes) <= MAX_COORDINATE).all()
    return True


def image_check(path: Path, original: bytes, max_pixels: int = 4_000_000) -> bool:
    """A decoded photo is RGB ``uint8`` within the pixel limit; anything else is ValueError/OSError."""
    from svhnx.image_file import load_image

    try:
        image = load_image(path, max_pixels=max_pixels)
    except (ValueError, OSError):
        return False
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert 0 < image.shape[0] * image.shape[1] <= max_pixels
    return True


def checkpoint_check(path: Path, original: bytes) -> bool:
    """A checkpoint that loads holds exactly the original's model and weights (CRC-checked)."""
    import io

    import torch

    from svhnx.checkpoint import CheckpointError, load_checkpoint, model_from_checkpoint

    try:
        model = model_from_checkpoint(load_checkpoint(path), path)
    except CheckpointError:
        return False
    expected = torch.load(io.BytesIO(original), weights_only=True)["model_state"]
    got = model.state_dict()
    assert got.keys() == expected.keys() and all(torch.equal(got[k], expected[k]) for k in got)
    return True


def sources(kind: str, root: Path, work: Path) -> tuple[list[bytes], str, Callable[[Path, bytes], bool]]:
    sample = root / "svhn-sample"
    if kind == "digit_struct":
        return [p.read_bytes() for p in sorted(sample.glob("*/digitStruct.mat"))], ".mat", digit_struct_check
    if kind == "image":  # the PNGs, and the same photos as BMP and JPEG (formats without checksums)
        import cv2

        pngs = [p.read_bytes() for p in sorted(sample.glob("*/*.png"))]
        photos = [cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR) for png in pngs]
        return pngs + [cv2.imencode(ext, photo)[1].tobytes() for photo in photos for ext in (".bmp", ".jpg")], ".img", image_check
    import torch

    from svhnx.checkpoint import FORMAT, save_checkpoint
    from svhnx.models import create_model

    torch.manual_seed(0)
    kwargs = {"channels": [4, 4, 4, 4], "hidden": 8}
    save_checkpoint(work / "small.pt", {"format": FORMAT, "model": {"name": "mnist-lean", "kwargs": kwargs},
                                        "model_state": create_model("mnist-lean", **kwargs).state_dict()})
    return [(work / "small.pt").read_bytes()], ".pt", checkpoint_check


if __name__ == "__main__":
    kind, root, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    files, suffix, check = sources(kind, root, work)
    print(json.dumps(fuzz(files, work, suffix, check, seed=int(sys.argv[4]) if len(sys.argv) > 4 else 0)))
