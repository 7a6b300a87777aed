"""Checkpoints are read without running code, and the model they ask for is checked before it is built."""

import os
import time

import numpy as np
import pytest
import torch

from svhnx import predict
from svhnx.checkpoint import (
    FORMAT,
    CheckpointError,
    build_model,
    check_model,
    load_checkpoint,
    save_checkpoint,
    upgrade_checkpoint,
)
from svhnx.models import create_model
from svhnx.train import cli

SMALL_UNET = {"widths": [8, 16, 32, 64, 128], "length_head": True}
SMALL_RECOGNIZER = {"width": 0.25, "dense": 64}


class MakesAFolder:
    """Unpickling this calls ``os.mkdir(path)``: the side effect shows whether a load ran code."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.mkdir, (self.path,)


def model_file(path, name, kwargs, **extra):
    torch.manual_seed(0)
    save_checkpoint(path, {"format": FORMAT, "model": {"name": name, "kwargs": kwargs},
                           "model_state": create_model(name, **kwargs).state_dict(), **extra})
    return path


def crafted_file(path, marker):
    torch.save({"format": FORMAT, "model": {"name": "unet", "kwargs": {}}, "model_state": {}, "payload": MakesAFolder(marker)}, path)
    return path


def test_a_crafted_checkpoint_is_refused_without_running_its_code(tmp_path):
    marker = tmp_path / "code-ran"
    with pytest.raises(CheckpointError, match=r"holds Python objects besides tensors and plain data \(posix.mkdir\)"):
        load_checkpoint(crafted_file(tmp_path / "crafted.pt", marker))
    assert not marker.exists()


def test_predict_refuses_a_crafted_localizer_without_running_its_code(tmp_path, capsys):
    marker = tmp_path / "code-ran"
    crafted = crafted_file(tmp_path / "crafted.pt", marker)
    recognizer = model_file(tmp_path / "svhn.pt", "svhn-goodfellow", SMALL_RECOGNIZER)
    with pytest.raises(SystemExit) as exit_info:
        predict.main(["photo.png", "--localizer", str(crafted), "--recognizer", str(recognizer)])
    assert exit_info.value.code == 2
    assert "error: " in capsys.readouterr().err
    assert not marker.exists()


def test_resume_refuses_a_crafted_last_checkpoint_without_running_its_code(data_root, tmp_path, capsys):
    run, marker = tmp_path / "run", tmp_path / "code-ran"
    flags = ["mnist-seq", "--data-root", str(data_root / "mnist"), "--out", str(run), "--steps", "3", "--batch-size", "8",
             "--val-size", "50", "--no-progress", "--threads", "1"]
    assert cli.main(flags) == 0
    torch.load(run / "last.pt", weights_only=True)  # everything a run stores loads safely
    assert load_checkpoint(run / "last.pt")["config"]["data_root"] == data_root / "mnist"  # a Path again
    crafted_file(run / "last.pt", marker)
    assert cli.main([*flags, "--resume"]) == 2
    assert "holds Python objects" in capsys.readouterr().err
    assert not marker.exists()


def test_stored_model_sizes_are_bounded_before_anything_is_allocated(tmp_path):
    huge = {"widths": [65536] * 5}
    started = time.perf_counter()
    with pytest.raises(CheckpointError, match="parameters, more than the 100,000,000 allowed"):
        check_model("unet", huge, {}, source="huge.pt")
    assert time.perf_counter() - started < 5  # built on the meta device: no memory, no time
    with pytest.raises(CheckpointError, match="beyond svhnx's bounds"):
        check_model("mnist-study", {"dense": 1 << 40}, {})
    with pytest.raises(CheckpointError, match="unknown model 'os.system'"):
        check_model("os.system", {}, {})
    with pytest.raises(CheckpointError, match="cannot be built"):
        check_model("unet", {"no_such_argument": 1}, {})


def test_weights_must_have_the_shapes_of_the_model(tmp_path):
    state = create_model("unet", **SMALL_UNET).state_dict()
    with pytest.raises(CheckpointError, match="its weights do not fit today's 'unet' model"):
        build_model("unet", {"widths": [16, 32, 64, 128, 256], "length_head": True}, state)
    model = build_model("unet", SMALL_UNET, state, role="localizer")
    assert not model.training


def test_a_digit_classifier_is_checked_for_its_role_like_the_reader_models():
    digits = create_model("digit-resnet", width=0.25)
    assert not build_model("digit-resnet", {"width": 0.25}, digits.state_dict(), role="digits").training
    recognizer = create_model("svhn-goodfellow", **SMALL_RECOGNIZER)
    with pytest.raises(CheckpointError, match=r"54 x 54 x 3 input; outputs digits, length\), not a digit classifier"):
        build_model("svhn-goodfellow", SMALL_RECOGNIZER, recognizer.state_dict(), role="digits")


@pytest.mark.parametrize(
    ("name", "kwargs", "role", "message"),
    [
        ("mnist-lean", {"length_head": True}, "localizer", "holds a 'mnist-lean' model (28 x 140 x 1 input; outputs digits, length), not a U-Net localizer"),
        ("unet", SMALL_UNET, "recognizer", "holds a 'unet' model (any x any x 3 input; outputs length, mask), not an SVHN recognizer"),
    ],
)
def test_a_model_of_the_wrong_kind_is_named(tmp_path, capsys, name, kwargs, role, message):
    wrong = model_file(tmp_path / "wrong.pt", name, kwargs)
    right = {"localizer": model_file(tmp_path / "unet.pt", "unet", SMALL_UNET),
             "recognizer": model_file(tmp_path / "svhn.pt", "svhn-goodfellow", SMALL_RECOGNIZER)}
    right[role] = wrong
    with pytest.raises(SystemExit) as exit_info:
        predict.main(["photo.png", "--localizer", str(right["localizer"]), "--recognizer", str(right["recognizer"])])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_format_1_checkpoint_is_refused_and_upgrades_when_trusted(tmp_path):
    model = create_model("mnist-lean")
    old = {"format": 1, "task": "mnist-seq", "config": {"out": tmp_path / "run", "seed": 3},
           "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": (3, (1, 2), None)},
           "model": {"name": "mnist-lean", "kwargs": {}}, "model_state": model.state_dict()}
    torch.save(old, tmp_path / "old.pt")
    with pytest.raises(CheckpointError, match="python -m svhnx.checkpoint upgrade OLD.pt NEW.pt"):
        load_checkpoint(tmp_path / "old.pt")
    upgrade_checkpoint(tmp_path / "old.pt", tmp_path / "new.pt")
    new = load_checkpoint(tmp_path / "new.pt")
    assert new["format"] == FORMAT and new["config"] == {"out": tmp_path / "run", "seed": 3}
    assert (new["rng"]["numpy"]["keys"].numpy() == old["rng"]["numpy"][1]).all()


def test_only_tensors_and_plain_data_are_saved(tmp_path):
    with pytest.raises(TypeError, match=r"state\['rng'\]: a ndarray cannot be stored"):
        save_checkpoint(tmp_path / "x.pt", {"rng": np.zeros(3)})
    assert not (tmp_path / "x.pt").exists()


def test_file_errors_keep_their_cause(tmp_path):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        load_checkpoint(tmp_path / "loop")
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt")


def test_loading_checks_the_stored_model_whoever_builds_it(tmp_path):
    state = create_model("unet", **SMALL_UNET).state_dict()
    save_checkpoint(tmp_path / "huge.pt", {"format": FORMAT, "model": {"name": "unet", "kwargs": {"widths": [65536] * 5}},
                                           "model_state": state})
    with pytest.raises(CheckpointError, match="parameters, more than the 100,000,000 allowed"):
        load_checkpoint(tmp_path / "huge.pt")  # evaluate and --resume read checkpoints this way
