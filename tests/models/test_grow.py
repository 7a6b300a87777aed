"""Growing a trained model wider: the wider one computes what the trained one did, and can learn more."""

from pathlib import Path

import pytest
import torch

from benchmarks.scripts.widen_weights import main as widen_weights
from svhnx import pretrained
from svhnx.models import create_model
from svhnx.models.grow import widen, widen_state
from svhnx.models.unet import skip_input_parts


def trained_like(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """``model`` with every weight and batch-norm statistic random, as a trained model's would be."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, value in model.state_dict().items():
            if value.is_floating_point():
                noise = torch.rand(value.shape, generator=generator) + 0.5 if "running_var" in name else torch.randn(value.shape, generator=generator) * 0.2
                value.copy_(noise)
    return model.eval()


def wider_unet(narrow_widths: list[int], wide_widths: list[int]) -> tuple[torch.nn.Module, torch.nn.Module]:
    narrow = trained_like(create_model("unet", widths=narrow_widths, length_head=True, stem=2))
    wide = create_model("unet", widths=wide_widths, length_head=True, stem=2)
    wide.load_state_dict(widen_state(narrow.state_dict(), wide, input_parts=skip_input_parts(narrow_widths, wide_widths)))
    return narrow, wide.eval()


def test_a_widened_unet_finds_the_same_masks() -> None:
    narrow, wide = wider_unet([4, 6, 8], [6, 9, 12])
    images = torch.randint(0, 256, (2, 32, 48, 3), dtype=torch.uint8)
    with torch.no_grad():
        before, after = narrow(images), wide(images)
    torch.testing.assert_close(after["mask"], before["mask"], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(after["length"], before["length"], atol=1e-5, rtol=1e-5)


def test_a_widened_recognizer_reads_the_same_and_its_new_channels_learn() -> None:
    narrow = trained_like(create_model("svhn-resnet", width=0.25, dense=16))
    wide = create_model("svhn-resnet", width=0.5, dense=16)
    wide.load_state_dict(widen_state(narrow.state_dict(), wide))
    wide.eval()
    images = torch.randint(0, 256, (3, 54, 54, 3), dtype=torch.uint8)
    with torch.no_grad():
        before, after = narrow(images), wide(images)
    torch.testing.assert_close(after["digits"], before["digits"], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(after["length"], before["length"], atol=1e-5, rtol=1e-5)

    wide.train()
    wide(images)["length"].sum().backward()
    stem_out = narrow.features[0][0].out_channels
    reads_new = wide.features[2].conv1[0].weight.grad[:stem_out, stem_out:]  # old outputs, new inputs: zero now
    assert torch.count_nonzero(wide.features[2].conv1[0].weight[:stem_out, stem_out:]) == 0
    assert torch.count_nonzero(reads_new) > 0


def test_a_widened_digit_classifier_gives_the_same_logits() -> None:
    example = torch.randint(0, 256, (3, 32, 32, 3), dtype=torch.uint8)
    narrow = trained_like(create_model("digit-resnet", width=0.5))
    wide = widen(narrow, create_model("digit-resnet", width=1.0), example)
    with torch.no_grad():
        torch.testing.assert_close(wide(example), narrow(example), atol=1e-5, rtol=1e-5)


def test_a_narrower_or_different_model_is_refused() -> None:
    narrow = create_model("unet", widths=[4, 6, 8], stem=2)
    with pytest.raises(ValueError, match="not at least as wide"):
        widen_state(create_model("unet", widths=[6, 9, 12], stem=2).state_dict(), narrow, input_parts=skip_input_parts([6, 9, 12], [4, 6, 8]))
    with pytest.raises(ValueError, match="layers differ"):
        widen_state(narrow.state_dict(), create_model("unet", widths=[6, 9, 12, 16], stem=2))
    with pytest.raises(ValueError, match="do not add up"):
        widen_state(narrow.state_dict(), create_model("unet", widths=[6, 9, 12], stem=2), input_parts={"up.0.conv.0.weight": [(6, 9)]})
    example = torch.randint(0, 256, (2, 32, 32, 3), dtype=torch.uint8)
    with pytest.raises(ValueError, match="differs"):  # the skip connections' layout not given
        widen(trained_like(narrow), create_model("unet", widths=[6, 9, 12], stem=2), example)
    with pytest.raises(ValueError, match="keeps its depth"):
        skip_input_parts([4, 6, 8], [6, 9, 12, 16])


def test_the_shipped_localizer_widens_into_a_run_starting_point(tmp_path: Path) -> None:
    out = tmp_path / "wide.pt"
    widen_weights(["localizer", str(out), "--widths", "20,30,40,60,80"])
    kwargs = {"widths": [20, 30, 40, 60, 80], "length_head": True, "stem": 2}
    state = pretrained.starting_weights(str(out), "unet", kwargs)  # what train unet --init wide.pt reads
    assert state["down.0.0.weight"].shape[0] == 20
    with pytest.raises(SystemExit):
        widen_weights(["localizer", str(tmp_path / "x.pt"), "--width", "2"])  # a U-Net has level widths
    with pytest.raises(SystemExit):
        widen_weights(["localizer", str(tmp_path / "x.pt"), "--widths", "8,12,16,24,32"])  # narrower
    assert not (tmp_path / "x.pt").exists()


def test_a_refinement_head_grows_onto_the_shipped_localizer(tmp_path: Path) -> None:
    out = tmp_path / "refined.pt"
    widen_weights(["localizer", str(out), "--refine", "4"])
    kwargs = {"widths": [16, 24, 32, 48, 64], "length_head": True, "stem": 2, "refine": 4}
    refined = pretrained.build_model("unet", kwargs, pretrained.starting_weights(str(out), "unet", kwargs), source=out).eval()
    images = torch.randint(0, 256, (2, 64, 96, 3), dtype=torch.uint8)
    with torch.no_grad():
        torch.testing.assert_close(refined(images)["mask"], pretrained.load("localizer")(images)["mask"], atol=1e-4, rtol=1e-4)
    with pytest.raises(SystemExit):
        widen_weights([str(out), str(tmp_path / "x.pt"), "--refine", "4"])  # it has one already
    with pytest.raises(SystemExit):
        widen_weights(["recognizer", str(tmp_path / "x.pt"), "--refine", "4"])  # a recognizer has none
    assert not (tmp_path / "x.pt").exists()
