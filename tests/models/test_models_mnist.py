"""The model registry and the MNIST sequence recognizers."""

import pytest
import torch
import torch.nn.functional as F

from svhnx.models import create_model, list_models, register_model
from svhnx.models.mnist import STUDY_CHANNELS


def test_registry_names_and_errors():
    assert {"mnist-study", "mnist-lean"} <= set(list_models())
    with pytest.raises(ValueError, match="unknown model 'nope'; choose from .*mnist-lean"):
        create_model("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_model("mnist-lean")(lambda: torch.nn.Identity())


@pytest.mark.parametrize("name", ["mnist-study", "mnist-lean"])
@pytest.mark.parametrize("length_head", [False, True])
def test_output_shapes(name, length_head):
    model = create_model(name, length_head=length_head).eval()
    out = model(torch.zeros(2, 28, 140, 1, dtype=torch.uint8))
    assert out["digits"].shape == (2, 5, 11)
    assert ("length" in out) == length_head
    if length_head:
        assert out["length"].shape == (2, 7)


def test_study_model_has_the_studys_layers():
    model = create_model("mnist-study")
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == list(STUDY_CHANNELS)
    assert all(c.kernel_size == (5, 5) for c in convs)
    pools = [m for m in model.features.modules() if isinstance(m, torch.nn.MaxPool2d)]
    assert [p.stride for p in pools] == [2, 1, 2, 1, 2, 1]
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) == 6
    assert [m.out_features for m in model.dense if isinstance(m, torch.nn.Linear)] == [1024, 1024]


def test_lean_model_is_much_smaller():
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(create_model("mnist-lean")) * 5 < count(create_model("mnist-study"))


def test_models_take_uint8_images_only():
    model = create_model("mnist-lean")
    with pytest.raises(ValueError, match="uint8 N x H x W x C"):
        model(torch.zeros(2, 1, 28, 140))


def test_lean_width_multiplies_every_channel_count():
    wide = create_model("mnist-lean", width=1.5)
    assert [m.out_channels for m in wide.features if isinstance(m, torch.nn.Conv2d)] == [48, 72, 96, 144]
    assert wide.classify.in_channels == 384
    images = torch.zeros(2, 28, 140, 1, dtype=torch.uint8)
    assert wide(images)["digits"].shape == create_model("mnist-lean")(images)["digits"].shape == (2, 5, 11)


@pytest.mark.parametrize("kwargs", [{"dropout": 1.0}, {"channels": (8, 8)}, {"width": 0}])
def test_bad_model_arguments(kwargs):
    with pytest.raises(ValueError):
        create_model("mnist-lean", **kwargs)


@pytest.fixture
def one_thread():
    """Small tensors: one thread is faster, and unaffected by other jobs on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_a_tiny_model_overfits_one_batch(one_thread):
    torch.manual_seed(0)
    model = create_model("mnist-lean", channels=(8, 16, 16, 16), hidden=64, dropout=0.0, length_head=True)
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (8, 28, 140, 1), dtype=torch.uint8, generator=generator)
    digits = torch.randint(0, 11, (8, 5), generator=generator)
    lengths = torch.randint(0, 7, (8,), generator=generator)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(60):
        out = model(images)
        loss = F.cross_entropy(out["digits"].reshape(-1, 11), digits.reshape(-1)) + F.cross_entropy(out["length"], lengths)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        out = model(images)
    assert loss.item() < 0.05
    assert torch.equal(out["digits"].argmax(-1), digits) and torch.equal(out["length"].argmax(-1), lengths)
