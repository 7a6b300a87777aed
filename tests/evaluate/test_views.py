"""Ensemble: several recognizers read as one, by their mean class probabilities."""

import pytest
import torch

from svhnx.evaluate.views import MILD_WARP, Ensemble, ShiftedViews, WarpedViews, shift_images
from svhnx.models import create_model


def images(n=6, seed=0):
    return torch.randint(0, 256, (n, 28, 140, 1), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def models(count, **kwargs):
    torch.manual_seed(0)
    return [create_model("mnist-lean", **kwargs).eval() for _ in range(count)]


@torch.no_grad()
def test_the_output_is_the_log_of_the_members_mean_probabilities():
    a, b = models(2, length_head=True)
    x = images()
    out = Ensemble([a, b])(x)
    for head in ("digits", "length"):
        mean = (a(x)[head].softmax(-1) + b(x)[head].softmax(-1)) / 2
        torch.testing.assert_close(out[head].exp(), mean)


@torch.no_grad()
def test_one_member_reads_like_the_model_itself():
    (model,) = models(1)
    x = images()
    torch.testing.assert_close(Ensemble([model])(x)["digits"], model(x)["digits"].log_softmax(-1))


@torch.no_grad()
def test_only_heads_every_member_has_are_kept():
    with_length, without = models(1, length_head=True)[0], models(1)[0]
    assert set(Ensemble([with_length, without])(images())) == {"digits"}


def test_members_must_share_an_input_shape():
    with pytest.raises(ValueError, match="one input shape"):
        Ensemble([create_model("mnist-lean"), create_model("unet")])
    with pytest.raises(ValueError, match="at least one model"):
        Ensemble([])


def test_the_members_shared_operating_point_is_the_ensembles_and_differing_ones_give_none():
    a, b = models(2)
    a.pretrained_cfg = b.pretrained_cfg = {"min_confidence": 0.9}
    assert Ensemble([a, b]).pretrained_cfg == {"min_confidence": 0.9}
    b.pretrained_cfg = {"min_confidence": 0.95}
    assert Ensemble([a, b]).pretrained_cfg == {}


def test_shift_images_moves_pixels_and_fills_with_zeros():
    x = torch.arange(1, 13, dtype=torch.uint8).reshape(1, 3, 4, 1)
    assert shift_images(x, 1, 0)[0, :, :, 0].tolist() == [[0, 0, 0, 0], [1, 2, 3, 4], [5, 6, 7, 8]]
    assert shift_images(x, 0, -1)[0, :, :, 0].tolist() == [[2, 3, 4, 0], [6, 7, 8, 0], [10, 11, 12, 0]]
    assert shift_images(x, -1, 2)[0, :, :, 0].tolist() == [[0, 0, 5, 6], [0, 0, 9, 10], [0, 0, 0, 0]]
    assert not shift_images(x, 3, 0).any()


@torch.no_grad()
def test_shifted_views_average_the_five_views():
    (model,) = models(1)
    x = images()
    views = [x, shift_images(x, -2, 0), shift_images(x, 2, 0), shift_images(x, 0, -2), shift_images(x, 0, 2)]
    mean = sum(model(v)["digits"].softmax(-1) for v in views) / 5
    torch.testing.assert_close(ShiftedViews(model, pixels=2)(x)["digits"].exp(), mean)
    with pytest.raises(ValueError, match="positive shift"):
        ShiftedViews(model, pixels=0)


@torch.no_grad()
def test_warped_views_average_the_image_and_its_seeded_warps():
    (model,) = models(1)
    x = images()
    views = [x] + [MILD_WARP(x, torch.Generator().manual_seed(10 + v)) for v in range(3)]
    mean = sum(model(v)["digits"].softmax(-1) for v in views) / 4
    tta = WarpedViews(model, views=3, seed=10)
    torch.testing.assert_close(tta(x)["digits"].exp(), mean)
    torch.testing.assert_close(tta(x)["digits"], tta(x)["digits"])  # the same warps every call


def test_warped_views_refuse_images_that_are_not_whole_slots():
    (model,) = models(1)
    with pytest.raises(ValueError, match="positive number"):
        WarpedViews(model, views=0)
    with pytest.raises(ValueError, match="whole number of H x H slots"):
        WarpedViews(model, views=2)(torch.zeros(2, 28, 100, 1, dtype=torch.uint8))
    with pytest.raises(ValueError, match="uint8"):
        WarpedViews(model, views=2)(torch.zeros(2, 28, 140, 1))


def test_the_old_module_is_an_alias():
    import svhnx.evaluate.views as views
    import svhnx.models.ensemble as alias

    assert all(getattr(alias, name) is getattr(views, name) for name in alias.__all__)
