"""Shipped weights: written as float16 plain data, read with weights_only=True, refused when changed or foreign."""

import hashlib

import pytest
import torch

from svhnx import pretrained
from svhnx.models import create_model, model_kwargs
from svhnx.pretrained import ShippedModel, WeightsError


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A tiny recognizer written as weights and registered as shipped, in a temporary weights folder."""
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)
    torch.manual_seed(0)
    model = create_model("svhn-resnet", width=0.25, dense=16).eval()
    digest = pretrained.save_weights(model, "svhn-resnet", {"width": 0.25, "dense": 16}, tmp_path / "tiny.pt", {"trained": "no"})
    monkeypatch.setitem(pretrained.SHIPPED, "tiny", ShippedModel("tiny.pt", digest, ("svhn-resnet",), "test"))
    return model


def test_shipped_weights_load_and_read_like_the_model_they_came_from(shipped):
    loaded = pretrained.load("tiny")
    images = torch.randint(0, 256, (4, 54, 54, 3), dtype=torch.uint8)
    with torch.no_grad():
        expected, got = shipped(images), loaded(images)
    torch.testing.assert_close(got["digits"], expected["digits"], atol=0.05, rtol=0.05)  # float16 storage
    assert pretrained.available() == {"tiny": pretrained.WEIGHTS_DIR / "tiny.pt"}


def test_a_changed_byte_is_refused_by_the_recorded_sha256(shipped):
    path = pretrained.path("tiny")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="SHA-256"):
        pretrained.load("tiny")


def test_a_pickle_that_would_run_code_is_refused_without_running_it(tmp_path, monkeypatch):
    class Exploit:
        def __reduce__(self):
            return (exec, ("import pathlib; pathlib.Path('ran').write_text('x')",))

    path = tmp_path / "evil.pt"
    torch.save({"format": pretrained.FORMAT, "payload": Exploit()}, path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(pretrained.SHIPPED, "evil", ShippedModel("evil.pt", hashlib.sha256(path.read_bytes()).hexdigest(), ("svhn-resnet",), "test"))
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(WeightsError, match="not a readable weights file"):
        pretrained.load("evil")
    assert not (tmp_path / "ran").exists()


def test_weights_of_another_kind_of_model_are_refused(shipped, tmp_path):
    other = tmp_path / "digits.pt"
    pretrained.save_weights(create_model("digit-resnet", width=0.25), "digit-resnet", {"width": 0.25}, other, {})
    with pytest.raises(WeightsError, match="holds a 'digit-resnet' model"):
        pretrained.load("tiny", file=other)


def test_unknown_names_and_missing_files_say_what_is_wrong(shipped):
    with pytest.raises(WeightsError, match="no shipped model called 'nope'"):
        pretrained.load("nope")
    pretrained.path("tiny").unlink()
    with pytest.raises(WeightsError, match="missing"):
        pretrained.load("tiny")


def test_a_run_can_start_from_weights_files_and_checkpoints_of_the_same_model(shipped, tmp_path):
    from svhnx.checkpoint import save_checkpoint

    kwargs = {"width": 0.25, "dense": 16}
    from_weights = pretrained.starting_weights(str(pretrained.path("tiny")), "svhn-resnet", kwargs)
    from_name = pretrained.starting_weights("tiny", "svhn-resnet", kwargs)
    expected = {k: v.half().float() for k, v in shipped.state_dict().items() if v.is_floating_point()}
    for key, value in expected.items():
        torch.testing.assert_close(from_weights[key], value)
        torch.testing.assert_close(from_name[key], value)
    save_checkpoint(tmp_path / "run.pt", {"format": 2, "model": {"name": "svhn-resnet", "kwargs": kwargs}, "model_state": shipped.state_dict()})
    from_checkpoint = pretrained.starting_weights(str(tmp_path / "run.pt"), "svhn-resnet", kwargs)
    torch.testing.assert_close(from_checkpoint["dense.2.weight"], shipped.state_dict()["dense.2.weight"])


def test_a_changed_shipped_file_is_refused_as_a_starting_point_too(shipped):
    path = pretrained.path("tiny")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="SHA-256"):  # train --init tiny, average_weights tiny ...
        pretrained.starting_weights("tiny", "svhn-resnet", {"width": 0.25, "dense": 16})


def test_starting_weights_of_other_sizes_are_refused(shipped):
    with pytest.raises(WeightsError, match="not the 'svhn-resnet' model"):
        pretrained.starting_weights("tiny", "svhn-resnet", {"width": 1.0, "dense": 512})


def test_starting_weights_match_kwargs_left_at_the_models_defaults(tmp_path):
    model = create_model("svhn-resnet", width=0.25)  # dense left at the model's default
    default_dense = model_kwargs("svhn-resnet", {"width": 0.25})["dense"]
    pretrained.save_weights(model, "svhn-resnet", {"width": 0.25, "dense": default_dense}, tmp_path / "w.pt", {})
    state = pretrained.starting_weights(str(tmp_path / "w.pt"), "svhn-resnet", {"width": 0.25})
    assert state.keys() == model.state_dict().keys()


def test_a_weights_file_is_a_model_wherever_a_checkpoint_is(shipped, tmp_path):
    from svhnx.checkpoint import CheckpointError
    from svhnx.inference.backends import load_model

    file = tmp_path / "earlier-recognizer.pt"
    pretrained.save_weights(shipped, "svhn-resnet", {"width": 0.25, "dense": 16}, file, {"trained": "no"})
    model = load_model(file, role="recognizer")  # e.g. predict --recognizer, or an earlier shipped file
    assert not model.training and type(model) is type(shipped)
    with pytest.raises(WeightsError, match="expected one of unet"):
        load_model(file, role="localizer")
    with pytest.raises(CheckpointError, match="not an svhnx training checkpoint"):
        load_model(file)


def test_several_files_load_as_one_ensemble_and_one_file_as_its_model(shipped, tmp_path):
    from svhnx.inference.backends import load_models
    from svhnx.models.heads import Ensemble

    file = tmp_path / "earlier-recognizer.pt"
    pretrained.save_weights(shipped, "svhn-resnet", {"width": 0.25, "dense": 16}, file, {"trained": "no"})
    assert type(load_models([file], role="recognizer")) is type(shipped)
    ensemble = load_models([file, pretrained.path("tiny")], role="recognizer")
    assert isinstance(ensemble, Ensemble) and len(ensemble.members) == 2 and not ensemble.training
    with pytest.raises(ValueError, match="at least one"):
        load_models([], role="recognizer")


def test_a_weights_file_carries_its_calibrated_reader_threshold(tmp_path):
    model = create_model("svhn-resnet", width=0.25, dense=16)
    path = tmp_path / "calibrated.pt"
    pretrained.save_weights(model, "svhn-resnet", {"width": 0.25, "dense": 16}, path, {"operating_point": {"min_confidence": 0.95}})
    loaded = pretrained.model_from_weights(pretrained.read_weights_file(path), allowed=("svhn-resnet",))
    assert loaded.pretrained_cfg == {"min_confidence": 0.95}
    plain = tmp_path / "plain.pt"
    pretrained.save_weights(model, "svhn-resnet", {"width": 0.25, "dense": 16}, plain, {})
    assert pretrained.model_from_weights(pretrained.read_weights_file(plain), allowed=("svhn-resnet",)).pretrained_cfg == {}


@pytest.mark.parametrize("point", [{"min_confidence": 1.5}, {"min_confidence": "high"}, {"min_confidence": True}, {"threshold": 0.9}, [0.9]])
def test_a_malformed_operating_point_is_refused(tmp_path, point):
    model = create_model("svhn-resnet", width=0.25, dense=16)
    with pytest.raises(WeightsError, match="operating point"):
        pretrained.save_weights(model, "svhn-resnet", {"width": 0.25, "dense": 16}, tmp_path / "bad.pt", {"operating_point": point})
    contents = {"format": pretrained.FORMAT, "model": {"name": "svhn-resnet", "kwargs": {"width": 0.25, "dense": 16}},
                "state_dict": model.state_dict(), "meta": {"operating_point": point}}
    with pytest.raises(WeightsError, match="operating point"):
        pretrained.model_from_weights(contents, allowed=("svhn-resnet",))


def test_weights_over_the_size_limit_are_refused_and_nothing_is_left_behind(tmp_path, monkeypatch):
    model = create_model("svhn-resnet", width=0.25, dense=16)
    target = tmp_path / "big.pt"
    pretrained.save_weights(model, "svhn-resnet", {"width": 0.25, "dense": 16}, target, {"version": 1})
    before = target.read_bytes()
    monkeypatch.setattr(pretrained, "MAX_BYTES", 1000)
    with pytest.raises(WeightsError, match="over the"):
        pretrained.save_weights(model, "svhn-resnet", {"width": 0.25, "dense": 16}, target, {"version": 2})
    assert target.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["big.pt"]


def test_without_files_given_the_shipped_models_of_the_role_are_read_as_one(shipped, tmp_path, monkeypatch):
    from svhnx.inference.backends import load_models_or_shipped

    file = tmp_path / "earlier-recognizer.pt"
    pretrained.save_weights(shipped, "svhn-resnet", {"width": 0.25, "dense": 16}, file, {"trained": "no"})
    given = load_models_or_shipped([file], role="recognizer")
    monkeypatch.setattr(pretrained, "load_as_one", lambda role: f"shipped {role}")
    assert load_models_or_shipped(None, role="recognizer") == load_models_or_shipped([], role="recognizer") == "shipped recognizer"
    assert type(given) is type(shipped)
