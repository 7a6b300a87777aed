"""Single 32 x 32 digits read by the digit classifiers and the number recognizer together."""

import numpy as np
import pytest
import torch

from svhnx.evaluate.real import load_digits32, score_digits32
from svhnx.inference.digits import (
    SHIPPED_CLASSIFIERS,
    DigitEnsemble,
    RecognizerDigits,
    ShiftedDigits,
    digit_reader,
    number_crops_of_digits,
    shipped_digit_reader,
)
from tests.inference.stand_ins import Reads


class Says(torch.nn.Module):
    """A digit classifier whose logits are the same ten numbers for every image."""

    def __init__(self, logits: list[float]) -> None:
        super().__init__()
        self.logits = torch.tensor(logits)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.logits.expand(len(images), 10)


def test_a_digit_becomes_a_number_crop_with_its_centre_in_the_middle():
    digits = np.zeros((2, 32, 32, 3), np.uint8)
    digits[:, 14:18, 14:18] = 255  # a bright dot at the centre of the square
    crops = number_crops_of_digits(digits)
    assert crops.shape == (2, 64, 64, 3) and crops.dtype == np.uint8
    assert crops[:, 32, 32].min() == 255 and crops[:, 0, 0].max() == 0
    # the digit's box is narrower than the square, so the crop magnifies it more across than down
    bright = crops[0, :, :, 0] > 127
    assert bright.any(axis=0).sum() > bright.any(axis=1).sum()


def test_the_square_s_edge_is_repeated_where_the_grown_box_passes_it():
    digits = np.zeros((1, 32, 32, 3), np.uint8)
    digits[0, 0] = 200  # the top row
    crops = number_crops_of_digits(digits)
    assert (crops[0, :3] == 200).all()


@pytest.mark.parametrize("bad", [np.zeros((2, 32, 32), np.uint8), np.zeros((2, 28, 28, 3), np.uint8),
                                 np.zeros((2, 32, 32, 3), np.float32), [np.zeros((32, 32, 3), np.uint8)]])
def test_anything_but_format_2_digits_is_refused(bad):
    with pytest.raises(ValueError, match="uint8 N x 32 x 32 x 3"):
        number_crops_of_digits(bad)


def test_a_recognizer_reads_a_digit_as_a_one_digit_number():
    log_probs = RecognizerDigits(Reads("7"))(torch.zeros(3, 32, 32, 3, dtype=torch.uint8))
    assert log_probs.shape == (3, 10)
    assert log_probs.argmax(dim=1).tolist() == [7, 7, 7]
    assert torch.allclose(log_probs.exp().sum(dim=1), torch.ones(3))  # the blank class is left out


def test_an_ensemble_averages_its_members_probabilities():
    unsure_three = [0.0] * 10
    unsure_three[3] = 1.0
    sure_five = [0.0] * 10
    sure_five[5] = 10.0
    images = torch.zeros(2, 32, 32, 3, dtype=torch.uint8)
    probs = DigitEnsemble([Says(unsure_three), Says(sure_five)])(images).exp()
    expected = (torch.tensor(unsure_three).softmax(0) + torch.tensor(sure_five).softmax(0)) / 2
    assert torch.allclose(probs, expected.expand(2, 10), atol=1e-6)
    with pytest.raises(ValueError, match="at least one"):
        DigitEnsemble([])


class SeesTopLeft(torch.nn.Module):
    """A digit classifier that says 1 when the top-left pixel is bright and 0 otherwise, and keeps what it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[torch.Tensor] = []

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.seen.append(images.clone())
        bright = (images[:, 0, 0, 0] > 127).float()
        return torch.stack([1 - bright, bright] + [torch.zeros(len(images))] * 8, dim=1) * 20


def test_shifted_views_repeat_the_square_s_edge_and_average_the_five_readings():
    digits = torch.zeros(1, 32, 32, 3, dtype=torch.uint8)
    digits[0, 1, 1] = 255  # a diagonal step from the top-left corner: shifts along one axis never reach it
    classifier = SeesTopLeft()
    probs = ShiftedDigits(classifier)(digits).exp()
    assert len(classifier.seen) == 1 and classifier.seen[0].shape == (5, 32, 32, 3)  # the five views in one call
    assert torch.equal(classifier.seen[0][:1], digits)  # the first view is the digit as it is
    assert probs[0, 1].item() == pytest.approx(0.0, abs=1e-6)  # the views move it to (0, 1) or (1, 0), never (0, 0)
    edge = torch.zeros(1, 32, 32, 3, dtype=torch.uint8)
    edge[0, 0, :] = 255  # the top row: views shifted down repeat it, views shifted up show the next row
    probs = ShiftedDigits(classifier)(edge).exp()
    assert probs[0, 1].item() == pytest.approx(4 / 5, abs=1e-6)  # all but the view that drops the top row
    with pytest.raises(ValueError, match="positive"):
        ShiftedDigits(classifier, pixels=0)


@pytest.mark.parametrize("classifiers", [1, 3])
def test_the_classifiers_together_weigh_as_much_as_the_recognizer(classifiers):
    sure_three = [0.0] * 10
    sure_three[3] = 20.0
    reader = digit_reader([Says(sure_three)] * classifiers, Reads("5"))
    probs = reader(torch.zeros(1, 32, 32, 3, dtype=torch.uint8)).exp()[0]
    assert probs[3].item() == pytest.approx(0.5, abs=1e-3) and probs[5].item() == pytest.approx(0.5, abs=1e-3)


def test_the_shipped_reader_reads_real_digits_better_than_its_first_classifier_alone(data_root):
    from svhnx import pretrained

    images, labels = load_digits32(data_root / "svhn-real" / "test-digits32-dev.npz")
    images, labels = images[:400], labels[:400]
    torch.set_num_threads(1)
    with torch.inference_mode():
        alone = score_digits32(pretrained.load(SHIPPED_CLASSIFIERS[0]), images, labels)["digit_accuracy"]
        together = score_digits32(shipped_digit_reader(), images, labels)["digit_accuracy"]
    assert together > alone


def test_read_digits_gives_a_label_and_its_probability_for_each_square():
    import svhnx

    digits = np.zeros((3, 32, 32, 3), np.uint8)
    sure_five = [0.0] * 10
    sure_five[5] = 10.0
    labels, confidence = svhnx.read_digits(digits, reader=Says(sure_five))
    assert labels.tolist() == [5, 5, 5] and labels.dtype == np.int64
    assert confidence == pytest.approx([torch.tensor(sure_five).softmax(0)[5].item()] * 3)
    one = svhnx.read_digits(digits[0], reader=Says(sure_five))  # one square: a batch of one
    assert one.labels.shape == (1,)
    with pytest.raises(ValueError, match="uint8 N x 32 x 32 x 3"):
        svhnx.read_digits(digits.astype(np.float32), reader=Says(sure_five))
    with pytest.raises(ValueError, match=r"got uint8 \(3, 32, 32\)"):  # grey squares: said as given
        svhnx.read_digits(digits[..., 0], reader=Says(sure_five))


def test_read_digits_reads_with_the_shipped_reader_by_default(data_root):
    from svhnx.inference.digits import read_digits

    images, labels = load_digits32(data_root / "svhn-real" / "test-digits32-dev.npz")
    torch.set_num_threads(1)
    read = read_digits(images[:100])
    with torch.inference_mode():
        expected = shipped_digit_reader()(torch.from_numpy(images[:100])).argmax(dim=1).numpy()
    np.testing.assert_array_equal(read.labels, expected)
    assert (read.labels == labels[:100]).mean() > 0.85 and ((read.confidence > 0) & (read.confidence <= 1)).all()
