"""The residual SVHN recognizer and the digit classifier: shapes, heads, and bounds on their sizes."""

import pytest
import torch

from svhnx.models import create_model
from svhnx.models.svhn import most_probable_numbers


def test_svhn_resnet_reads_54_by_54_crops_into_length_and_digit_logits():
    model = create_model("svhn-resnet").eval()
    images = torch.randint(0, 256, (3, 54, 54, 3), dtype=torch.uint8)
    output = model(images)
    assert output["digits"].shape == (3, 5, 11)
    assert output["length"].shape == (3, 7)
    digits, lengths, confidence = most_probable_numbers(output)
    assert digits.shape == (3, 5) and lengths.shape == (3,) and ((confidence > 0) & (confidence <= 1)).all()


def test_svhn_resnet_is_an_order_of_magnitude_cheaper_than_goodfellow():
    from torch.utils.flop_counter import FlopCounterMode

    images = torch.zeros(1, 54, 54, 3, dtype=torch.uint8)
    flops = {}
    for name in ("svhn-resnet", "svhn-goodfellow"):
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            create_model(name).eval()(images)
        flops[name] = counter.get_total_flops()
    assert flops["svhn-goodfellow"] > 10 * flops["svhn-resnet"]


def test_svhn_resnet_refuses_other_input_sizes():
    with pytest.raises(ValueError, match="54 x 54 x 3"):
        create_model("svhn-resnet")(torch.zeros(1, 64, 64, 3, dtype=torch.uint8))


@pytest.mark.parametrize("kwargs", [{"width": 100.0}, {"width": 0.0}, {"dense": 10**6}, {"dropout": 1.0}])
def test_svhn_resnet_refuses_sizes_out_of_bounds(kwargs):
    with pytest.raises(ValueError):
        create_model("svhn-resnet", **kwargs)


def test_digit_classifier_gives_ten_logits_per_32_by_32_digit():
    model = create_model("digit-resnet").eval()
    assert model(torch.zeros(4, 32, 32, 3, dtype=torch.uint8)).shape == (4, 10)
    with pytest.raises(ValueError, match="32 x 32 x 3"):
        model(torch.zeros(1, 54, 54, 3, dtype=torch.uint8))


@pytest.mark.parametrize("model, units", [("svhn-resnet", 512), ("svhn-goodfellow", 3072)])
def test_without_dense_each_recognizer_gets_its_own_dense_size(model, units):
    from svhnx.tasks.synth import SynthTask

    kwargs = SynthTask(SynthTask.Config(model=model)).model_kwargs()
    assert "dense" not in kwargs
    built = create_model(model, **kwargs)
    assert max(m.out_features for m in built.dense if isinstance(m, torch.nn.Linear)) == units
