"""``python -m svhnx.train unet`` and ``boxreg``: short runs on synthetic scenes and on SVHN crops
(narrow U-Nets, so that the runs take seconds)."""

import pytest
import torch

from svhnx.data.svhn_preprocess import preprocess_split
from svhnx.inference.backends import load_model
from svhnx.inference.reader import Reader
from svhnx.models.unet import UNet
from svhnx.synth.glyphs import TTF_FACES
from svhnx.synth.views import PhotoViews, SceneViews
from svhnx.tasks.localizer import UnetTask
from svhnx.train import cli
from svhnx.train.run_dir import read_metrics

pytestmark = pytest.mark.slow  # seconds per test: run with -m slow, or the whole suite with nox -s tests

TINY = ["--batch-size", "4", "--steps", "2", "--eval-every", "2", "--val-size", "16", "--val-photos", "2", "--no-progress", "--threads", "2"]
NARROW = ["--widths", "4,8,16,32,64"]
PHOTOS = ["--batch-size", "8", "--photo-views", "4"]  # half of each batch: the 4 views of one photo


@pytest.fixture(scope="module")
def unet_run(data_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "unet"
    assert cli.main(["unet", "--data-root", str(data_root), "--out", str(out), *TINY, *NARROW, *PHOTOS]) == 0
    return out


def test_a_unet_run_on_synthetic_scenes(unet_run):
    [row] = read_metrics(unet_run / "metrics.csv")
    assert {"dice", "box_iou", "length_accuracy", "val_loss"} <= set(row)
    assert 0 <= row["dice"] <= 1 and 0 <= row["box_iou"] <= 1 and 0 <= row["length_accuracy"] <= 1
    assert {"scene_dice", "scene_box_iou", "photo_dice", "photo_box_iou"} <= set(row)
    assert (unet_run / "predictions.png").read_bytes()[:4] == b"\x89PNG"
    model = load_model(unet_run / "best.pt")
    assert isinstance(model, UNet) and model.widths == (4, 8, 16, 32, 64)


def test_a_boxreg_run_on_synthetic_scenes(data_root, tmp_path):
    out = tmp_path / "boxreg"
    assert cli.main(["boxreg", "--data-root", str(data_root), "--out", str(out), *TINY]) == 0
    [row] = read_metrics(out / "metrics.csv")
    assert {"dice", "box_iou"} <= set(row) and "length_accuracy" not in row
    assert type(load_model(out / "best.pt")).__name__ == "BoxRegressor"


def test_unet_checkpoint_drives_the_reader(unet_run):
    localizer = load_model(unet_run / "best.pt")

    class ReadsSeven(torch.nn.Module):
        def forward(self, images):
            digits = torch.zeros(len(images), 5, 11)
            digits[:, 0, 7] = 20
            digits[:, 1:, 10] = 20
            return {"digits": digits, "length": torch.eye(7)[[1] * len(images)] * 20}

    image = torch.randint(0, 256, (90, 120, 3), dtype=torch.uint8).numpy()
    reading = Reader(localizer, ReadsSeven(), check_length=False, min_confidence=0.0).read(image)
    assert (reading.number, reading.rejected) in (("7", None), (None, "no-candidate"))


def test_a_short_run_on_svhn_crops(data_root, tmp_path):
    with pytest.warns(UserWarning, match="missing"):  # the sample has 3 of the 39 annotated images
        crops = preprocess_split(data_root / "svhn-sample" / "train", tmp_path / "train.h5", progress=False)
    out = tmp_path / "unet-svhn"
    flags = ["--svhn-crops", str(crops), "--val-fraction", "0.34"]
    assert cli.main(["unet", "--data-root", str(data_root), "--out", str(out), *TINY, *NARROW, *flags]) == 0
    [row] = read_metrics(out / "metrics.csv")
    assert 0 <= row["dice"] <= 1


def unet_task(data_root, *flags):
    task, config = cli.parse_config(["unet", "--data-root", str(data_root), *TINY, *flags])
    assert task is UnetTask
    return task(config)


def first_images(task, rank):
    return next(iter(task.train_batches(0, rank=rank)))["images"]


def test_every_rank_draws_its_own_scenes_and_seed_rank_pairs_do_not_collide(data_root):
    task = unet_task(data_root)
    rank0, rank1 = first_images(task, 0), first_images(task, 1)
    assert not torch.equal(rank0, rank1)
    torch.testing.assert_close(first_images(task, 1), rank1, rtol=0, atol=0)  # a pure function of (seed, rank, step)
    # the old rule, seed + 7919 * rank, made --seed 7919 on rank 0 the stream of rank 1 of seed 0
    assert not torch.equal(first_images(unet_task(data_root, "--seed", "7919"), 0), rank1)
    assert not torch.equal(first_images(unet_task(data_root, "--seed", "1"), 0), rank1)
    # validation is a stream of its own, even when --seed equals --val-seed
    same_seed = unet_task(data_root, "--seed", "1234", "--val-seed", "1234")
    validation = next(iter(same_seed.validation_batches()))["images"][: len(rank0)]
    assert not torch.equal(first_images(same_seed, 0), validation)


def test_batches_mix_scenes_and_photo_views(data_root):
    task = unet_task(data_root, *PHOTOS)
    batch = next(iter(task.train_batches(3)))
    assert batch["kind"].tolist() == [0] * 4 + [1] * 4
    assert batch["masks"].shape == (8, 1, 64, 64)
    torch.testing.assert_close(next(iter(task.train_batches(3)))["images"], batch["images"], rtol=0, atol=0)
    kinds = torch.cat([b["kind"] for b in task.validation_batches()])
    assert kinds.tolist() == [0] * 16 + [1] * 8  # 16 scenes, then the 4 views of each of 2 photos


def first_batches(task, count=3):
    loader = iter(task.train_batches(5))
    return [next(loader) for _ in range(count)]


def test_loader_workers_make_the_same_batches_as_one_process(data_root, tmp_path):
    one = first_batches(unet_task(data_root, *PHOTOS))
    two = first_batches(unet_task(data_root, *PHOTOS, "--workers", "2"))
    for a, b in zip(one, two, strict=True):
        assert a.keys() == b.keys() and all(torch.equal(a[key], b[key]) for key in a)
    with pytest.warns(UserWarning, match="missing"):
        crops = preprocess_split(data_root / "svhn-sample" / "train", tmp_path / "train.h5", progress=False)
    svhn = ["--svhn-crops", str(crops), "--val-fraction", "0.34"]
    one, two = first_batches(unet_task(data_root, *svhn)), first_batches(unet_task(data_root, *svhn, "--workers", "2"))
    assert all(torch.equal(a["images"], b["images"]) and torch.equal(a["masks"], b["masks"]) for a, b in zip(one, two, strict=True))
    assert not torch.equal(one[0]["images"], one[1]["images"])


def test_annotation_sets_how_the_scenes_digit_boxes_are_drawn(data_root):
    loose, ink = unet_task(data_root), unet_task(data_root, "--annotation", "0")
    assert (loose.realism.annotation, ink.realism.annotation) == (1.0, 0.0)
    masks = [torch.cat([b["masks"] for b in task.validation_batches()]) for task in (loose, ink)]
    assert not torch.equal(*masks)


def test_flag_errors(data_root, tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["unet", "--data-root", str(data_root), "--out", str(tmp_path / "x"), "--widths", "8,-1", *TINY])
    assert "--widths" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["unet", "--data-root", str(data_root), "--out", str(tmp_path / "y"), "--photo-views", "6", *TINY])
    assert "--photo-views" in capsys.readouterr().err


def test_a_saved_atlas_is_what_scenes_and_photos_draw_from(data_root, tmp_path, ttf_atlas, capsys):
    scenes = SceneViews(data_root, 0, 0, 0.5, atlas=ttf_atlas)
    photos = PhotoViews(data_root, 0, 0, atlas=ttf_atlas)
    assert scenes.generator.num_styles == len(photos.generator.atlas.style_names) == len(TTF_FACES)
    out = tmp_path / "run"
    flags = ["unet", "--data-root", str(data_root), "--out", str(out), *TINY, *NARROW, *PHOTOS]
    with pytest.raises(SystemExit):
        cli.main([*flags, "--atlas", str(tmp_path / "missing.npz")])
    assert "--atlas" in capsys.readouterr().err and not out.exists()
    assert cli.main([*flags, "--atlas", str(ttf_atlas)]) == 0
    assert read_metrics(out / "metrics.csv")
