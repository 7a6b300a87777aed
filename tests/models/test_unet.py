"""The U-Net localizer and the box-regression baseline: shapes, padding rules, the length head."""

import pytest
import torch

from svhnx.labels import NUM_LENGTH_CLASSES
from svhnx.models.box_regressor import BoxRegressor
from svhnx.models.unet import UNet


@pytest.fixture(scope="module")
def unet():
    torch.manual_seed(0)
    return UNet(length_head=True).eval()


def images(n, height, width, channels=3):
    return torch.randint(0, 256, (n, height, width, channels), dtype=torch.uint8)


@pytest.mark.parametrize("height,width", [(64, 64), (48, 112), (160, 32)])
def test_mask_has_the_input_size_on_non_square_inputs(unet, height, width):
    with torch.inference_mode():
        out = unet(images(2, height, width))
    assert out["mask"].shape == (2, 1, height, width)
    assert out["length"].shape == (2, NUM_LENGTH_CLASSES)
    assert torch.isfinite(out["mask"]).all()


def test_sides_must_be_multiples_of_16(unet):
    with pytest.raises(ValueError, match="multiples of 16"):
        unet(images(1, 64, 70))
    with pytest.raises(ValueError, match="N x H x W x 3"):
        unet(images(1, 64, 64, 1))
    with pytest.raises(ValueError, match="uint8"):
        unet(torch.rand(1, 64, 64, 3))


def test_widths_set_the_multiple_and_the_length_head_is_optional():
    small = UNet(in_channels=1, widths=(8, 16, 32)).eval()
    assert small.multiple == 4
    with torch.inference_mode():
        out = small(images(1, 20, 12, 1))
    assert out["mask"].shape == (1, 1, 20, 12) and "length" not in out


def test_default_widths_are_half_the_original_unet():
    unet = UNet()
    assert unet.widths == (32, 64, 128, 256, 512)
    convs = [m for m in unet.modules() if isinstance(m, torch.nn.Conv2d)]
    # 2 convs per level down, 2 per level up, 1 output 1 x 1 conv (the original's 23 layers minus
    # its 4 up-convolutions, which are ConvTranspose2d here)
    assert len(convs) == 2 * 5 + 2 * 4 + 1


@pytest.mark.slow
def test_unet_learns_a_mask():
    torch.manual_seed(1)
    model = UNet(widths=(8, 16, 32))
    image = torch.zeros(4, 32, 32, 3, dtype=torch.uint8)
    target = torch.zeros(4, 1, 32, 32)
    image[:, 8:20, 4:28] = 255
    target[:, :, 8:20, 4:28] = 1
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(40):
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(image)["mask"], target)
        loss.backward()
        optimiser.step()
    model.eval()
    with torch.inference_mode():
        predicted = torch.sigmoid(model(image)["mask"]) > 0.5
    assert (predicted == target.bool()).float().mean() > 0.97


def test_box_regressor_outputs_normalised_boxes():
    model = BoxRegressor().eval()
    with torch.inference_mode():
        boxes = model(images(3, 64, 64))["box"]
    assert boxes.shape == (3, 4)
    assert ((boxes > 0) & (boxes < 1)).all()
    with torch.inference_mode():
        assert model(images(1, 48, 96))["box"].shape == (1, 4)


def test_models_are_registered_by_name():
    from svhnx.models import create_model

    assert isinstance(create_model("unet", length_head=True), UNet)
    assert isinstance(create_model("boxreg"), BoxRegressor)


def test_a_refinement_head_starts_at_zero_and_then_learns_the_edges():
    torch.manual_seed(2)
    plain = UNet(widths=(4, 6, 8), stem=2, length_head=True).eval()
    refined = UNet(widths=(4, 6, 8), stem=2, length_head=True, refine=3)
    missing = refined.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert missing and all(name.startswith("refine.") for name in missing)
    refined.eval()
    x = images(2, 32, 48)
    with torch.inference_mode():
        torch.testing.assert_close(refined(x)["mask"], plain(x)["mask"])
    refined.train()
    refined(x)["mask"].sum().backward()
    assert torch.count_nonzero(refined.refine.conv[-1].weight.grad) > 0


def test_refine_must_not_be_negative():
    with pytest.raises(ValueError, match="refine"):
        UNet(refine=-1)
