"""Where the reader's models come from: flags, then ``$SVHNX_LOCALIZER``/``$SVHNX_RECOGNIZER``,
then the models shipped with the package (stand-ins here)."""

from pathlib import Path

import pytest
import torch

from svhnx import pretrained
from svhnx.inference.reader import LOCALIZER_ENV, MIN_CONFIDENCE, RECOGNIZER_ENV, Reader
from svhnx.models.heads import Ensemble


class StandIn(torch.nn.Module):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.scale = torch.nn.Parameter(torch.ones(1))

    def forward(self, images):
        raise AssertionError("not run in these tests")


@pytest.fixture
def shipped(monkeypatch):
    monkeypatch.delenv(LOCALIZER_ENV, raising=False)
    monkeypatch.delenv(RECOGNIZER_ENV, raising=False)
    monkeypatch.setattr(pretrained, "available", lambda: {"localizer": Path("l.pt"), "recognizer": Path("r.pt")})
    monkeypatch.setattr(pretrained, "RECOGNIZERS", ("recognizer",))  # one, whatever ships today
    monkeypatch.setattr(pretrained, "load", lambda name, **_: StandIn(name))


def test_without_flags_or_environment_the_shipped_models_are_used(shipped):
    reader = Reader.from_checkpoints()
    assert reader.localizer.name == "localizer" and reader.recognizer.name == "recognizer"


def test_environment_and_flags_override_the_shipped_models(shipped, monkeypatch, tmp_path):
    monkeypatch.setenv(LOCALIZER_ENV, str(tmp_path / "missing-localizer.pt"))
    with pytest.raises(FileNotFoundError, match="missing-localizer"):
        Reader.from_checkpoints()
    monkeypatch.delenv(LOCALIZER_ENV)
    with pytest.raises(FileNotFoundError, match="flag-recognizer"):
        Reader.from_checkpoints(recognizer=tmp_path / "flag-recognizer.pt")


def test_shipped_models_run_with_torch_only(shipped):
    with pytest.raises(ValueError, match="torch backend"):
        Reader.from_checkpoints(backend="onnx")


def test_without_shipped_models_the_error_names_flag_and_variable(monkeypatch):
    monkeypatch.delenv(LOCALIZER_ENV, raising=False)
    monkeypatch.setattr(pretrained, "available", lambda: {})
    with pytest.raises(ValueError, match=r"--localizer CKPT.*\$SVHNX_LOCALIZER"):
        Reader.from_checkpoints()


def test_the_reader_uses_the_recognizers_own_threshold_unless_given_one():
    calibrated = StandIn("recognizer")
    calibrated.pretrained_cfg = {"min_confidence": 0.97}
    assert Reader(StandIn("localizer"), calibrated).min_confidence == 0.97
    assert Reader(StandIn("localizer"), calibrated, min_confidence=0.5).min_confidence == 0.5
    assert Reader(StandIn("localizer"), StandIn("recognizer")).min_confidence == MIN_CONFIDENCE


def test_several_shipped_recognizers_are_read_as_one_ensemble_and_each_must_be_installed(shipped, monkeypatch):
    monkeypatch.setattr(pretrained, "RECOGNIZERS", ("recognizer", "recognizer-2"))
    with pytest.raises(ValueError, match="no shipped recognizer"):
        Reader.from_checkpoints()
    monkeypatch.setattr(pretrained, "available", lambda: {"localizer": Path("l.pt"), "recognizer": Path("r.pt"), "recognizer-2": Path("r2.pt")})
    recognizer = Reader.from_checkpoints().recognizer
    assert isinstance(recognizer, Ensemble) and [m.name for m in recognizer.members] == ["recognizer", "recognizer-2"]
