"""The synthetic sequence stream and the validation set."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from svhnx.data import sequences
from svhnx.data.augment import SlotWarp
from svhnx.data.mnist import load_mnist
from svhnx.data.sequences import SequenceStream, mnist_validation_set
from svhnx.data.streams import batch_seed, iterate_batches
from svhnx.labels import BLANK


@pytest.fixture(scope="module")
def train_digits(data_root):
    return load_mnist("train", data_root / "mnist")


@pytest.fixture(scope="module")
def test_digits(data_root):
    return load_mnist("test", data_root / "mnist")


def slot_patches(images):
    """``N x 28 x 140 x 1`` -> ``N x 5 x 28 x 28``."""
    n = len(images)
    return images[..., 0].reshape(n, 28, 5, 28).transpose(0, 2, 1, 3)


def bank_index(bank):
    """Map from a digit's bytes to its indices in the bank."""
    index = {}
    for i, digit in enumerate(bank):
        index.setdefault(digit.tobytes(), []).append(i)
    return index


def take(loader, count):
    out = []
    for batch in loader:
        out.append(batch)
        if len(out) == count:
            return out


def test_stream_labels_match_the_pixels(train_digits):
    digits, labels = train_digits
    index = bank_index(digits)
    batch = SequenceStream(digits, labels, 64, seed=5).batch(3)
    assert batch["images"].shape == (64, 28, 140, 1) and batch["images"].dtype == torch.uint8
    patches = slot_patches(batch["images"].numpy())
    targets = batch["digits"].numpy()
    assert ((targets != BLANK).sum(axis=1) == batch["lengths"].numpy()).all()
    for patch_row, target_row in zip(patches, targets):
        for patch, target in zip(patch_row, target_row):
            if target == BLANK:
                assert not patch.any()
            else:
                found = index.get(patch.tobytes())
                assert found is not None, "every non-blank slot is a digit of the training bank"
                assert target in {labels[i] for i in found}


def test_a_batch_is_a_function_of_seed_rank_and_index(train_digits):
    digits, labels = train_digits
    stream = SequenceStream(digits, labels, 8, seed=1, warp=SlotWarp())
    again = SequenceStream(digits, labels, 8, seed=1, warp=SlotWarp())
    for index in (0, 7):
        for key in ("images", "digits", "lengths"):
            assert torch.equal(stream.batch(index)[key], again.batch(index)[key])
    assert not torch.equal(stream.batch(0)["images"], stream.batch(1)["images"])
    other_rank = SequenceStream(digits, labels, 8, seed=1, rank=1, warp=SlotWarp())
    assert not torch.equal(stream.batch(0)["images"], other_rank.batch(0)["images"])
    assert len({batch_seed(1, r, i) for r in range(3) for i in range(100)}) == 300


def test_workers_draw_distinct_batches_in_the_same_order_as_one_process(train_digits):
    digits, labels = train_digits
    stream = SequenceStream(digits, labels, 4, seed=11, start=5)
    single = take(DataLoader(stream, batch_size=None, num_workers=0), 6)
    parallel = take(DataLoader(stream, batch_size=None, num_workers=2), 6)
    images = [b["images"] for b in parallel]
    assert all(not torch.equal(a, b) for i, a in enumerate(images) for b in images[i + 1 :]), "no two workers repeat a batch"
    for a, b in zip(single, parallel):
        assert torch.equal(a["images"], b["images"]) and torch.equal(a["digits"], b["digits"])
    assert torch.equal(single[0]["images"], stream.batch(5)["images"]), "start=5 begins at batch 5 (resume)"


@pytest.mark.parametrize("warp", [SlotWarp(), SlotWarp(elastic_px=2.0)])
def test_slot_warp_moves_digits_and_keeps_blanks_black(warp):
    rng = np.random.default_rng(0)
    images = torch.zeros(6, 28, 140, 1, dtype=torch.uint8)
    images[:, 4:24, 28 + 4 : 28 + 24] = torch.from_numpy(rng.integers(50, 256, (6, 20, 20, 1), dtype=np.uint8))
    warped = warp(images, torch.Generator().manual_seed(0))
    assert warped.shape == images.shape and warped.dtype == torch.uint8
    assert not warped[:, :, :28].any() and not warped[:, :, 56:].any(), "blank slots stay black"
    assert not torch.equal(warped, images)
    assert torch.equal(warped, warp(images, torch.Generator().manual_seed(0)))


def test_elastic_field_adds_to_the_affine_warp():
    images = torch.zeros(4, 28, 140, 1, dtype=torch.uint8)
    images[:, 6:22, 6:22] = 200
    plain = SlotWarp(rotate_deg=0, scale=(1, 1), shear=0, shift_px=0, elastic_px=1.5)
    warped = plain(images, torch.Generator().manual_seed(3))
    changed = (warped != images).float().mean()
    assert 0 < changed < 0.05, "a small smooth displacement moves the edges only"
    unchanged = SlotWarp(rotate_deg=0, scale=(1, 1), shear=0, shift_px=0)(images, torch.Generator().manual_seed(0))
    assert torch.equal(unchanged, images)


def test_a_scaled_warp_scales_every_range():
    half = SlotWarp(elastic_px=2.0).scaled(0.5)
    assert half == SlotWarp(rotate_deg=5.0, scale=(0.95, 1.05), shear=0.075, shift_px=1.0, elastic_px=1.0)
    images = torch.randint(0, 256, (3, 28, 140, 1), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    assert torch.equal(SlotWarp(elastic_px=2.0).scaled(0.0)(images, torch.Generator().manual_seed(1)), images)


def test_validation_set_uses_the_test_split_only(data_root, train_digits, test_digits, monkeypatch):
    asked = []

    def recording_load(split, *args, **kwargs):
        asked.append(split)
        return load_mnist(split, *args, **kwargs)

    monkeypatch.setattr(sequences, "load_mnist", recording_load)
    data = mnist_validation_set(300, seed=4, root=data_root / "mnist")
    assert asked == ["test"]
    test_index, train_index = bank_index(test_digits[0]), bank_index(train_digits[0])
    patches = slot_patches(data["images"].numpy())[data["digits"].numpy() != BLANK]
    assert len(patches) > 500
    assert all(p.tobytes() in test_index for p in patches)
    assert not any(p.tobytes() in train_index for p in patches)
    again = mnist_validation_set(300, seed=4, root=data_root / "mnist")
    assert torch.equal(data["images"], again["images"]), "the validation set is fixed by its seed"


def test_iterate_batches_covers_everything_once():
    data = {"x": torch.arange(10), "y": torch.arange(10) * 2}
    batches = list(iterate_batches(data, 4))
    assert [len(b["x"]) for b in batches] == [4, 4, 2]
    assert torch.equal(torch.cat([b["y"] for b in batches]), data["y"])


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"start": -1}])
def test_bad_stream_arguments(train_digits, kwargs):
    digits, labels = train_digits
    args = {"batch_size": 4, **kwargs}
    with pytest.raises(ValueError):
        SequenceStream(digits, labels, args.pop("batch_size"), seed=0, **args)
