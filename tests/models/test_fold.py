"""Batch norms folded into their convolutions for inference: the same outputs, fewer layers, and the
model given left as it was."""

import pytest
import torch
from torch import nn

from svhnx.inference.backends import in_precision
from svhnx.models import create_model
from svhnx.models.fold import fold_batch_norms, foldable_pairs
from tests.models.trained_looking import trained_looking

MODELS = {
    "recognizer": (lambda: create_model("svhn-resnet", width=0.25, dense=16), (3, 54, 54, 3)),
    "localizer": (lambda: create_model("unet", widths=(8, 16, 32), length_head=True, stem=2, refine=4), (2, 64, 96, 3)),
}


def batch_norms(model: nn.Module) -> int:
    return sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_a_folded_model_has_no_batch_norms_and_computes_the_same(kind: str) -> None:
    make, shape = MODELS[kind]
    model = trained_looking(make())
    folded = fold_batch_norms(model)
    assert batch_norms(model) > 0 and batch_norms(folded) == 0
    images = torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        before, after = model(images), folded(images)
    assert before.keys() == after.keys()
    for head in before:
        torch.testing.assert_close(after[head], before[head], atol=1e-4, rtol=1e-4)


def test_the_model_given_is_left_as_it_was() -> None:
    model = trained_looking(create_model("svhn-resnet", width=0.25, dense=16)).train()
    state = {name: value.clone() for name, value in model.state_dict().items()}
    folded = fold_batch_norms(model)
    assert model.training and not folded.training  # the copy is for inference
    assert model.state_dict().keys() == state.keys()
    for name, value in model.state_dict().items():
        assert torch.equal(value, state[name])


def test_nothing_to_fold_gives_the_model_itself() -> None:
    plain = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    assert fold_batch_norms(plain) is plain
    not_after_a_conv = nn.Sequential(nn.BatchNorm2d(3), nn.Conv2d(3, 4, 3))
    assert foldable_pairs(not_after_a_conv) == [] and fold_batch_norms(not_after_a_conv) is not_after_a_conv
    in_bfloat16 = create_model("svhn-resnet", width=0.25, dense=16).to(torch.bfloat16)  # fold in float32, then cast
    assert fold_batch_norms(in_bfloat16) is in_bfloat16


def test_a_model_is_folded_then_cast_for_inference() -> None:
    model = trained_looking(create_model("svhn-resnet", width=0.25, dense=16))
    full, half = in_precision(model, "float32"), in_precision(model, "bfloat16")
    assert batch_norms(full) == batch_norms(half) == 0 and batch_norms(model) > 0
    assert {p.dtype for p in full.parameters()} == {torch.float32}
    assert {p.dtype for p in half.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert in_precision(half, "bfloat16") is half  # nothing left to fold or cast
