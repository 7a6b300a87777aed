"""Training the SVHN recognizer on synthetic crops: the batch stream, and the ``synth`` task end to end."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from svhnx.data.svhn import MissingImageWarning
from svhnx.evaluate import evaluate_run, load_run
from svhnx.evaluate.__main__ import main as evaluate_main
from svhnx.synth import SceneGenerator
from svhnx.synth.dataset import FRAMING_LIMIT, SynthCropStream, framing_windows, load_negatives, validation_crops
from svhnx.synth.glyphs import TTF_FACES
from svhnx.train import cli
from svhnx.train.run_dir import read_metrics


@pytest.fixture(scope="module")
def generator(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> SceneGenerator:
    return SceneGenerator.from_data(data_root, handwriting=False, cache_dir=tmp_path_factory.getbasetemp() / "synth-cache")


def test_stream_batches_are_a_function_of_seed_rank_and_index(generator: SceneGenerator) -> None:
    stream = SynthCropStream(generator, 6, seed=1)
    batch = stream.batch(3)
    assert batch["images"].shape == (6, 54, 54, 3) and batch["images"].dtype == torch.uint8
    assert batch["digits"].shape == (6, 5) and batch["lengths"].shape == (6,)
    resumed = next(iter(SynthCropStream(generator, 6, seed=1, start=3)))
    for key in batch:
        assert torch.equal(batch[key], resumed[key])
    assert not torch.equal(batch["images"], stream.batch(4)["images"])
    assert not torch.equal(batch["images"], SynthCropStream(generator, 6, seed=1, rank=1).batch(3)["images"])
    # Labels follow the generator's crops of the same scenes.
    crops = generator.crops(6, seed=SynthCropStream(generator, 6, seed=1).generator_seed, first=18)
    assert torch.equal(batch["digits"], torch.from_numpy(crops.digits))


def test_framing_recuts_each_crop_from_a_centred_window_of_bounded_scale(generator: SceneGenerator) -> None:
    windows = framing_windows(2000, 0.1, seed=5)
    centres = windows[:, :2] + windows[:, 2:] / 2
    np.testing.assert_allclose(centres, 32.0, atol=1e-4)
    scale = np.log(windows[:, 2:] / 64)
    assert np.abs(scale).max() <= FRAMING_LIMIT + 1e-6 and 0.08 < scale.std() < 0.12
    np.testing.assert_array_equal(windows, framing_windows(2000, 0.1, seed=5))
    plain, framed = SynthCropStream(generator, 8, seed=1).batch(2), SynthCropStream(generator, 8, seed=1, framing=0.1).batch(2)
    assert framed["images"].shape == plain["images"].shape and not torch.equal(framed["images"], plain["images"])
    assert torch.equal(framed["digits"], plain["digits"])
    with pytest.raises(ValueError, match="framing"):
        SynthCropStream(generator, 8, seed=1, framing=-0.1)


def test_negatives_replace_the_share_asked_with_number_free_crops_read_as_no_digits(generator: SceneGenerator) -> None:
    negatives = np.full((3, 64, 64, 3), 7, np.uint8)
    stream = SynthCropStream(generator, 400, seed=1, negatives=negatives, negative_share=0.25)
    batch, plain = stream.batch(0), SynthCropStream(generator, 400, seed=1).batch(0)
    none = batch["lengths"] == 0
    assert 60 < int(none.sum()) < 140  # about a quarter of 400
    assert bool((batch["digits"][none] == 10).all()) and bool((batch["images"][none] == 7).all())
    assert torch.equal(batch["digits"][~none], plain["digits"][~none]) and torch.equal(batch["images"][~none], plain["images"][~none])
    assert torch.equal(batch["images"], stream.batch(0)["images"])  # a pure function of the index, as before
    with pytest.raises(ValueError, match="needs negatives"):
        SynthCropStream(generator, 8, seed=1, negative_share=0.1)
    with pytest.raises(ValueError, match="negatives: expected uint8"):
        SynthCropStream(generator, 8, seed=1, negatives=np.zeros((2, 32, 32, 3), np.uint8), negative_share=0.1)


def test_negatives_file_is_checked(tmp_path: Path) -> None:
    good, empty, wrong = tmp_path / "good.npz", tmp_path / "empty.npz", tmp_path / "wrong.npz"
    np.savez(good, images=np.zeros((2, 64, 64, 3), np.uint8))
    np.savez(empty, images=np.zeros((0, 64, 64, 3), np.uint8))
    np.savez(wrong, crops=np.zeros((2, 64, 64, 3), np.uint8))
    assert load_negatives(good).shape == (2, 64, 64, 3)
    with pytest.raises(ValueError, match="no crops"):
        load_negatives(empty)
    with pytest.raises(ValueError, match="no 'images' array"):
        load_negatives(wrong)
    (tmp_path / "garbage.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_negatives(tmp_path / "garbage.npz")


def test_validation_crops_come_from_a_stream_training_never_draws(generator: SceneGenerator) -> None:
    validation = validation_crops(generator, 8, seed=1)
    training = generator.crops(64, seed=SynthCropStream(generator, 8, seed=1).generator_seed)
    assert validation.images.shape == (8, 64, 64, 3)
    assert not any(np.array_equal(v, t) for v in validation.images for t in training.images)


def test_generator_pickles_for_loader_workers(generator: SceneGenerator) -> None:
    copy = pickle.loads(pickle.dumps(generator))
    np.testing.assert_array_equal(copy.crops(4, seed=2).images, generator.crops(4, seed=2).images)


@pytest.mark.slow
def test_synth_task_trains_and_is_evaluated_on_real_svhn(data_root: Path, tmp_path: Path,
                                                        tmp_path_factory: pytest.TempPathFactory,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SVHNX_CACHE", str(tmp_path_factory.getbasetemp() / "synth-cache"))
    run = tmp_path / "run"
    assert cli.main(["synth", "--steps", "4", "--batch-size", "8", "--eval-every", "2", "--val-size", "16",
                     "--width", "0.25", "--dense", "32", "--no-handwriting", "--data-root", str(data_root),
                     "--svhn-dir", str(data_root / "svhn-sample"), "--crops-dir", str(tmp_path / "crops"),
                     "--out", str(run), "--no-progress"]) == 0
    rows = read_metrics(run / "metrics.csv")
    assert [int(r["step"]) for r in rows] == [2, 4]
    assert all(0.0 <= float(r["sequence_accuracy"]) <= 1.0 for r in rows)
    # The evaluator reads the real SVHN test images of the sample (3 of them have pixels).
    loaded = load_run(run, device="cpu")
    with pytest.warns(MissingImageWarning, match="37 of 40 images"):  # the sample keeps 3 test images' pixels
        real = list(loaded.task.validation_batches(seed=1))
    digits = torch.cat([b["digits"] for b in real])
    assert len(digits) == 3
    assert digits[0].tolist() == [5, 10, 10, 10, 10] and digits[1].tolist() == [2, 1, 0, 10, 10]  # "5", "210"
    metrics = evaluate_run(loaded, seed=1, figure=tmp_path / "evaluation.png")
    assert 0.0 <= metrics["sequence_accuracy"] <= 1.0
    assert (tmp_path / "evaluation.png").is_file()


def test_synth_task_draws_a_saved_atlas_and_refuses_a_missing_one(data_root: Path, tmp_path: Path, ttf_atlas: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    flags = ["synth", "--steps", "1", "--batch-size", "4", "--eval-every", "1", "--val-size", "4", "--width", "0.25",
             "--dense", "16", "--data-root", str(data_root), "--no-progress"]
    with pytest.raises(SystemExit):
        cli.main([*flags, "--atlas", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "refused")])
    assert "--atlas missing.npz" in capsys.readouterr().err.replace(str(tmp_path) + "/", "")
    assert cli.main([*flags, "--atlas", str(ttf_atlas), "--out", str(tmp_path / "run")]) == 0
    assert load_run(tmp_path / "run", device="cpu").task.generator.num_styles == len(TTF_FACES)


def test_a_digit_classifier_run_is_evaluated_without_a_prediction_figure(data_root: Path, tmp_path: Path,
                                                                          tmp_path_factory: pytest.TempPathFactory,
                                                                          monkeypatch: pytest.MonkeyPatch,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SVHNX_CACHE", str(tmp_path_factory.getbasetemp() / "synth-cache"))
    run = tmp_path / "run"
    assert cli.main(["synth-digits", "--steps", "2", "--batch-size", "8", "--eval-every", "2", "--val-size", "16", "--width", "0.5",
                     "--no-handwriting", "--data-root", str(data_root), "--out", str(run), "--no-progress", "--threads", "1"]) == 0
    capsys.readouterr()
    assert evaluate_main([str(run), "--device", "cpu", "--val-size", "16"]) == 0  # synth-digits draws no prediction figure
    printed = capsys.readouterr().out
    assert "digit_accuracy" in printed and "predictions:" not in printed
    assert not (run / "evaluation.png").exists()
    with pytest.raises(SystemExit) as exit_info:
        evaluate_main([str(run), "--figure", str(tmp_path / "figure.png")])
    assert exit_info.value.code == 2 and "no prediction figure" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no prediction figure"):  # from Python too, before any scoring
        evaluate_run(load_run(run, device="cpu", data_root=data_root), figure=tmp_path / "figure.png")
