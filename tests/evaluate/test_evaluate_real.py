"""Scoring on real pixels: files in the svhn-real layout, Goodfellow et al.'s figures, and the evaluate CLI."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from svhnx import pretrained
from svhnx.checkpoint import save_checkpoint
from svhnx.evaluate.__main__ import main as evaluate_main
from svhnx.evaluate.real import Readings, load_digits32, load_numbers, number_scores, score_digits32, score_numbers
from svhnx.models import create_model


def numbers_file(path, digits, lengths, uncovered=None):
    """A numbers file in the svhn-real layout with random pixels."""
    rng = np.random.default_rng(0)
    arrays = {"images": rng.integers(0, 256, (len(lengths), 64, 64, 3), dtype=np.uint8),
              "digits": np.asarray(digits, np.int64), "lengths": np.asarray(lengths, np.int64)}
    if uncovered is not None:
        arrays["uncovered"] = np.asarray(uncovered, np.float32)
    np.savez(path, **arrays)
    return path


class ReadsOne(nn.Module):
    """A stand-in recognizer that reads "1" in every crop, sure of it."""

    def forward(self, images):
        n = len(images)
        digits = torch.full((n, 5, 11), -20.0)
        digits[:, 0, 1] = 20.0
        digits[:, 1:, 10] = 20.0
        length = torch.full((n, 7), -20.0)
        length[:, 1] = 20.0
        return {"digits": digits, "length": length}


def test_number_scores_count_whole_numbers_digits_and_lengths():
    truth = np.array([[1, 2, 10, 10, 10], [3, 10, 10, 10, 10], [4, 5, 6, 10, 10]])
    read = np.array([[1, 2, 10, 10, 10], [8, 10, 10, 10, 10], [4, 5, 10, 10, 10]])
    scores = number_scores(Readings(read, np.array([2, 1, 2]), np.array([0.9, 0.8, 0.7])), truth, np.array([2, 1, 3]))
    assert scores["sequence_accuracy"] == pytest.approx(1 / 3)
    assert scores["digit_accuracy"] == pytest.approx(4 / 6)  # 1,2 right; 3 wrong; 4,5 right, 6 missed
    assert scores["accuracy_by_length"] == {"1": 0.0, "2": 1.0, "3": 0.0}
    assert scores["read_longer"] == 0.0 and scores["read_shorter"] == pytest.approx(1 / 3)  # "456" read as "45"
    assert scores["coverage_at_98"] == pytest.approx(1 / 3)  # only the most confident reading is right


def test_score_numbers_reports_the_whole_file_and_the_well_covered_part(tmp_path):
    path = numbers_file(tmp_path / "n.npz", [[1, 10, 10, 10, 10], [2, 10, 10, 10, 10], [1, 10, 10, 10, 10]], [1, 1, 1], [0.1, 0.2, 0.5])
    scores = score_numbers(ReadsOne(), load_numbers(path), figure=tmp_path / "mistakes.png")
    assert scores["all"]["sequence_accuracy"] == pytest.approx(2 / 3)
    assert scores["uncovered_below_0.3"]["count"] == 2 and scores["uncovered_below_0.3"]["sequence_accuracy"] == pytest.approx(0.5)
    assert (tmp_path / "mistakes.png").stat().st_size > 0


@pytest.mark.parametrize("change, message", [
    ({"images": np.zeros((2, 32, 32, 3), np.uint8)}, "64 x 64 x 3"),
    ({"digits": np.array([[1, 10, 2, 10, 10], [1, 10, 10, 10, 10]])}, "left-aligned"),
    ({"lengths": np.array([0, 1])}, "lengths 1-5"),
    ({"digits": np.array([[11, 10, 10, 10, 10], [1, 10, 10, 10, 10]])}, "0-10"),
    ({"boxes": np.zeros((2, 4), np.float32)}, "boxes must be"),
])
def test_bad_numbers_files_are_refused_with_the_reason(tmp_path, change, message):
    arrays = {"images": np.zeros((2, 64, 64, 3), np.uint8), "digits": np.array([[1, 10, 10, 10, 10]] * 2), "lengths": np.array([1, 1])}
    np.savez(tmp_path / "bad.npz", **{**arrays, **change})
    with pytest.raises(ValueError, match=message):
        load_numbers(tmp_path / "bad.npz")


def test_a_pickled_array_is_refused(tmp_path):
    np.savez(tmp_path / "p.npz", images=np.array([object()]), digits=np.zeros((1, 5)), lengths=np.ones(1))
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_numbers(tmp_path / "p.npz")


def test_digits32_accuracy_per_class(tmp_path):
    np.savez(tmp_path / "d.npz", images=np.zeros((4, 32, 32, 3), np.uint8), labels=np.array([0, 0, 3, 7]))
    images, labels = load_digits32(tmp_path / "d.npz")

    class AlwaysZero(nn.Module):
        def forward(self, x):
            return torch.arange(10, 0, -1).float().expand(len(x), 10)

    scores = score_digits32(AlwaysZero(), images, labels)
    assert scores["digit_accuracy"] == 0.5 and scores["accuracy_by_digit"] == {"0": 1.0, "3": 0.0, "7": 0.0}


def test_evaluate_cli_scores_a_checkpoint_on_a_numbers_file(tmp_path, capsys):
    torch.manual_seed(0)
    model = create_model("svhn-resnet", width=0.25, dense=16)
    save_checkpoint(tmp_path / "tiny.pt", {"format": 2, "model": {"name": "svhn-resnet", "kwargs": {"width": 0.25, "dense": 16}},
                                           "model_state": model.state_dict()})
    path = numbers_file(tmp_path / "n.npz", [[1, 10, 10, 10, 10]] * 3, [1, 1, 1])
    assert evaluate_main([str(tmp_path / "tiny.pt"), "--numbers", str(path), "--json", str(tmp_path / "out.json")]) == 0
    saved = json.loads((tmp_path / "out.json").read_text())
    assert saved["numbers"]["all"]["count"] == 3 and 0.0 <= saved["numbers"]["all"]["sequence_accuracy"] <= 1.0
    assert saved["numbers"]["views"] == 5  # as the whole-photo reader reads them
    assert (tmp_path / "numbers-mistakes.png").is_file()
    assert evaluate_main([str(tmp_path / "tiny.pt"), "--numbers", str(path), "--views", "1", "--json", str(tmp_path / "out.json")]) == 0
    assert json.loads((tmp_path / "out.json").read_text())["numbers"]["views"] == 1


def test_evaluate_cli_refuses_a_digit_classifier_for_numbers(tmp_path):
    save_checkpoint(tmp_path / "d.pt", {"format": 2, "model": {"name": "digit-resnet", "kwargs": {}},
                                        "model_state": create_model("digit-resnet").state_dict()})
    path = numbers_file(tmp_path / "n.npz", [[1, 10, 10, 10, 10]], [1])
    with pytest.raises(SystemExit) as exit_info:
        evaluate_main([str(tmp_path / "d.pt"), "--numbers", str(path)])
    assert exit_info.value.code == 2


def test_a_shipped_model_is_named_like_a_checkpoint_and_must_fit_the_task(tmp_path, capsys, monkeypatch):
    path = numbers_file(tmp_path / "n.npz", [[1, 10, 10, 10, 10]] * 2, [1, 1])
    monkeypatch.chdir(tmp_path)  # where its figure goes: not into the package
    torch.set_num_threads(1)
    assert evaluate_main(["recognizer", "--numbers", str(path), "--json", "one.json"]) == 0
    assert evaluate_main([*pretrained.RECOGNIZERS, "--numbers", str(path), "--json", "by-name.json"]) == 0
    assert evaluate_main(["--numbers", str(path), "--json", "default.json"]) == 0
    one, by_name, default = (json.loads((tmp_path / f).read_text())["numbers"] for f in ("one.json", "by-name.json", "default.json"))
    assert one["model"].endswith("recognizer.pt")
    assert json.dumps(by_name["all"]) == json.dumps(default["all"])  # named one by one, they read as the default does (NaN included)
    assert (tmp_path / "numbers-mistakes.png").is_file()
    with pytest.raises(SystemExit):
        evaluate_main(["digits", "--numbers", str(path)])
    assert "digits is a shipped digit-resnet, not a recognizer" in capsys.readouterr().err


def test_a_symlink_loop_is_reported_as_such_not_as_a_missing_file(tmp_path, capsys):
    loop = tmp_path / "loop.pt"
    loop.symlink_to(loop)
    path = numbers_file(tmp_path / "n.npz", [[1, 10, 10, 10, 10]], [1])
    with pytest.raises(SystemExit):
        evaluate_main([str(loop), "--numbers", str(path)])
    assert "symbolic links" in capsys.readouterr().err


def test_numbers_are_read_by_an_ensemble_of_checkpoints_and_with_shifted_views(tmp_path):
    kwargs = {"width": 0.25, "dense": 16}
    for seed in (0, 1):
        torch.manual_seed(seed)
        save_checkpoint(tmp_path / f"m{seed}.pt", {"format": 2, "model": {"name": "svhn-resnet", "kwargs": kwargs},
                                                   "model_state": create_model("svhn-resnet", **kwargs).state_dict()})
    path = numbers_file(tmp_path / "n.npz", [[1, 10, 10, 10, 10]] * 2, [1, 1])
    out = tmp_path / "out.json"
    assert evaluate_main([str(tmp_path / "m0.pt"), str(tmp_path / "m1.pt"), "--numbers", str(path), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["numbers"]["model"].startswith("ensemble of ")
    assert evaluate_main([str(tmp_path / "m0.pt"), "--numbers", str(path), "--tta-shift", "2", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["numbers"]["model"].endswith("5 views shifted 2 px")


def test_options_that_cannot_apply_to_real_files_are_refused_not_ignored(tmp_path, capsys):
    path = numbers_file(tmp_path / "n.npz", [[1, 10, 10, 10, 10]], [1])
    with pytest.raises(SystemExit):
        evaluate_main(["--numbers", str(path), "--tta-warp", "4"])
    assert "--tta-warp warps MNIST digit slots" in capsys.readouterr().err


def test_digits32_scores_a_weights_file_in_the_shipped_format(tmp_path):
    pretrained.save_weights(create_model("digit-resnet", width=0.5), "digit-resnet", {"width": 0.5}, tmp_path / "d.pt", {})
    pretrained.save_weights(create_model("svhn-resnet", width=0.25, dense=16), "svhn-resnet", {"width": 0.25, "dense": 16},
                            tmp_path / "r.pt", {})
    np.savez(tmp_path / "d.npz", images=np.zeros((4, 32, 32, 3), np.uint8), labels=np.array([0, 0, 3, 7]))
    out = tmp_path / "out.json"
    assert evaluate_main([str(tmp_path / "d.pt"), "--digits32", str(tmp_path / "d.npz"), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["digits32"]["count"] == 4
    with pytest.raises(SystemExit) as exit_info:  # a recognizer's weights are not a digit classifier
        evaluate_main([str(tmp_path / "r.pt"), "--digits32", str(tmp_path / "d.npz")])
    assert exit_info.value.code == 2


def test_digits32_without_a_checkpoint_reads_with_the_shipped_classifiers_and_recognizer(data_root, tmp_path):
    images, labels = load_digits32(data_root / "svhn-real" / "test-digits32-dev.npz")
    np.savez(tmp_path / "d.npz", images=images[:20], labels=labels[:20])
    out = tmp_path / "out.json"
    torch.set_num_threads(1)
    assert evaluate_main(["--digits32", str(tmp_path / "d.npz"), "--json", str(out)]) == 0
    scores = json.loads(out.read_text())["digits32"]
    assert scores["model"] == "shipped digit classifiers (five shifted views each) and recognizer, averaged"
    assert scores["count"] == 20 and scores["digit_accuracy"] >= 0.8


def test_a_numbers_file_keeps_its_digit_boxes_when_it_has_them(tmp_path):
    path = numbers_file(tmp_path / "n.npz", [[1, 10, 10, 10, 10]], [1])
    assert load_numbers(path).boxes is None
    boxes = np.full((1, 5, 4), np.nan, np.float32)
    boxes[0, 0] = [3, 4, 10, 20]
    np.savez(path, **dict(np.load(path)), boxes=boxes)
    np.testing.assert_array_equal(load_numbers(path).boxes, boxes)
