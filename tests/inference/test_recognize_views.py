"""The recognizer reads a crop's centre 54 x 54 and, with more views, windows shifted about it."""

import numpy as np
import pytest
import torch
from torch import nn

from svhnx.hardware import autocast_for, resolve_precision
from svhnx.inference.predict import build_parser
from svhnx.inference.reader import Reader
from svhnx.inference.recognize import recognize
from svhnx.models import create_model
from svhnx.models.heads import mean_probabilities
from svhnx.ops.crop_rule import VIEW_SHIFTS, recognizer_input, recognizer_views


def numbered_crops(count: int) -> np.ndarray:
    """64 x 64 crops whose pixel at (row, column) encodes where it is, so a window tells its offset."""
    rows, cols = np.mgrid[0:64, 0:64]
    crop = np.stack([rows, cols, (rows + cols) % 256], axis=-1).astype(np.uint8)
    return np.stack([crop + i for i in range(count)])


class ReadsTopLeft(nn.Module):
    """A stand-in recognizer whose first digit is the top-left pixel's row, modulo 10, sure of it."""

    def forward(self, images):
        first = images[:, 0, 0, 0].long() % 10
        digits = torch.full((len(images), 5, 11), -10.0)
        digits[torch.arange(len(images)), 0, first] = 10.0
        return {"digits": digits, "length": torch.zeros(len(images), 7)}


def test_one_view_is_the_centre_54_x_54():
    crops = numbered_crops(3)
    views = recognizer_views(crops, 1)
    assert views.shape == (1, 3, 54, 54, 3)
    np.testing.assert_array_equal(views[0], recognizer_input(crops))


def test_more_views_are_windows_of_the_crop_shifted_about_its_centre():
    crops = numbered_crops(2)
    views = recognizer_views(crops, len(VIEW_SHIFTS))
    for view, (down, right) in zip(views, VIEW_SHIFTS):
        assert (view[:, 0, 0, 0] == 5 + down + np.arange(2)).all()  # the top row is 5 + down
        assert (view[:, 0, 0, 1] == 5 + right + np.arange(2)).all()  # the left column is 5 + right
        np.testing.assert_array_equal(view, crops[:, 5 + down : 59 + down, 5 + right : 59 + right])


@pytest.mark.parametrize("views", [0, len(VIEW_SHIFTS) + 1])
def test_the_number_of_views_is_checked(views):
    with pytest.raises(ValueError, match="views: expected 1 to 5"):
        recognizer_views(numbered_crops(1), views)
    with pytest.raises(ValueError, match="views: expected 1 to 5"):
        Reader(nn.Identity(), nn.Identity(), views=views)


def test_shifted_views_need_64_x_64_crops():
    with pytest.raises(ValueError, match="64 x 64 crops"):
        recognizer_views(np.zeros((1, 60, 60, 3), np.uint8), 3)


def test_views_are_read_in_one_batch_and_their_probabilities_averaged():
    crops, model = numbered_crops(4), ReadsTopLeft()
    one = recognize(model, crops, 1)
    assert one["digits"][:, 0].argmax(-1).tolist() == [5, 6, 7, 8]  # the centre's top row is 5
    five = recognize(model, crops, 5)
    by_view = [model(torch.from_numpy(view)) for view in recognizer_views(crops, 5)]
    for head in ("digits", "length"):
        torch.testing.assert_close(five[head], mean_probabilities(by_view)[head])
    # the views disagree (top rows 5, 3, 3, 7, 7 for the first crop): the mean is less sure than any one view
    assert five["digits"][0, 0].exp().max() < 0.7


class CountsImages(ReadsTopLeft):
    """:class:`ReadsTopLeft` that remembers how many images each call read."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def forward(self, images):
        self.calls.append(len(images))
        return super().forward(images)


@pytest.mark.parametrize("views", [1, 5])
def test_asked_for_every_view_the_reader_reads_them_in_one_call(views):
    recognizer = CountsImages()
    Reader(nn.Identity(), recognizer, views=views, unsure=(0, 1), check_length=False).read_box(np.zeros((80, 120, 3), np.uint8), (30, 20, 40, 30))
    assert recognizer.calls == [views]
    assert Reader(nn.Identity(), nn.Identity()).views == 5  # the default


def test_by_default_the_shifted_views_are_read_only_when_the_centre_view_is_unsure():
    # ReadsTopLeft is sure of no whole number (an even length head, even blank slots): its readings are about 1e-5 sure
    photo, box = np.zeros((80, 120, 3), np.uint8), (30, 20, 40, 30)
    assert Reader(nn.Identity(), nn.Identity()).unsure == (0.3, 0.99)
    recognizer = CountsImages()
    Reader(nn.Identity(), recognizer, check_length=False).read_box(photo, box)
    assert recognizer.calls == [1]  # sure it is no number: the centre view decides
    recognizer = CountsImages()
    Reader(nn.Identity(), recognizer, unsure=(0.0, 0.2), check_length=False).read_box(photo, box)
    assert recognizer.calls == [1, 4]  # unsure: the four shifted views, in one call


def test_predict_takes_one_to_five_views(capsys):
    assert build_parser().parse_args(["photo.png"]).views == 5
    assert build_parser().parse_args(["photo.png", "--views", "1"]).views == 1
    with pytest.raises(SystemExit):
        build_parser().parse_args(["photo.png", "--views", "6"])
    assert "invalid choice" in capsys.readouterr().err


class NotesAutocast(ReadsTopLeft):
    """:class:`ReadsTopLeft` that remembers whether each call ran under CPU bfloat16 autocast."""

    def __init__(self):
        super().__init__()
        self.autocast = []

    def forward(self, images):
        self.autocast.append(torch.is_autocast_enabled("cpu"))
        return super().forward(images)


def test_bfloat16_reads_almost_as_float32_and_answers_in_float32():
    torch.manual_seed(0)
    model = create_model("svhn-resnet", width=0.25, dense=16).eval()
    crops = np.random.default_rng(0).integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    with torch.inference_mode():
        full, half = recognize(model, crops, 5), recognize(model, crops, 5, precision="bfloat16")
    for head in ("digits", "length"):
        assert half[head].dtype == torch.float32
        torch.testing.assert_close(half[head].exp(), full[head].exp(), atol=0.05, rtol=0)
    with pytest.raises(ValueError, match="precision"):
        recognize(model, crops, 1, precision="half")


def test_in_bfloat16_the_reader_keeps_a_bfloat16_copy_of_the_recognizer():
    recognizer = create_model("svhn-resnet", width=0.25, dense=16)
    reader = Reader(nn.Identity(), recognizer, recognizer_precision="bfloat16")
    assert {p.dtype for p in reader.recognizer.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in recognizer.parameters()} == {torch.float32}  # the model given is left as it was
    in_float32 = Reader(nn.Identity(), recognizer, recognizer_precision="float32").recognizer  # batch norms folded, not cast
    assert {p.dtype for p in in_float32.parameters()} == {torch.float32} and in_float32 is not recognizer
    crops = np.random.default_rng(1).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    with torch.inference_mode():  # bfloat16 weights run in bfloat16 whatever precision is asked for
        output = recognize(reader.recognizer, crops, 1, precision="float32")
    assert output["digits"].dtype == torch.float32


def test_the_reader_runs_the_recognizer_in_the_precision_asked_for():
    photo, box = np.zeros((80, 120, 3), np.uint8), (30, 20, 40, 30)
    for precision, autocast in (("float32", False), ("bfloat16", True)):
        recognizer = NotesAutocast()
        Reader(nn.Identity(), recognizer, recognizer_precision=precision).read_box(photo, box)
        assert recognizer.autocast == [autocast]
    assert Reader(nn.Identity(), nn.Identity()).recognizer_precision == resolve_precision("auto")  # the default
    with pytest.raises(ValueError, match="precision"):
        Reader(nn.Identity(), nn.Identity(), recognizer_precision="fp16")


def test_predict_takes_the_recognizer_precision(capsys):
    assert build_parser().parse_args(["photo.png"]).recognizer_precision == "auto"
    assert build_parser().parse_args(["photo.png", "--recognizer-precision", "bfloat16"]).recognizer_precision == "bfloat16"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["photo.png", "--recognizer-precision", "half"])
    assert "invalid choice" in capsys.readouterr().err


def test_autocast_is_on_for_bfloat16_asked_for_or_bfloat16_weights():
    def autocast_on(model, precision):
        with autocast_for(model, precision):
            return torch.is_autocast_enabled("cpu")

    model = create_model("svhn-resnet", width=0.25, dense=16)
    assert [autocast_on(model, p) for p in ("float32", "bfloat16")] == [False, True]
    assert autocast_on(model.to(torch.bfloat16), "float32")  # a copy cast once runs in bfloat16
    assert not autocast_on(nn.Identity(), "float32")  # no weights: the precision asked for decides
