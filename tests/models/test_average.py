"""Averaging the weights of fine-tunes of one model (a model soup)."""

import pytest
import torch

from benchmarks.scripts.average_weights import main as average_weights
from svhnx import pretrained
from svhnx.models import create_model
from svhnx.models.average import average_states


def recognizer(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return create_model("svhn-resnet", width=0.25, dense=16).eval()


def test_the_average_is_the_mean_of_each_weight_and_keeps_the_counters() -> None:
    first, second = recognizer(0).state_dict(), recognizer(1).state_dict()
    averaged = average_states([first, second])
    for name, value in averaged.items():
        if value.is_floating_point():
            torch.testing.assert_close(value, (first[name] + second[name]) / 2)
        else:
            assert torch.equal(value, first[name])  # batch-norm's num_batches_tracked


def test_a_model_averaged_with_itself_reads_the_same() -> None:
    model = recognizer(0)
    same = recognizer(5)
    same.load_state_dict(average_states([model.state_dict()] * 3))
    images = torch.randint(0, 256, (2, 54, 54, 3), dtype=torch.uint8)
    with torch.no_grad():
        torch.testing.assert_close(same.eval()(images)["digits"], model(images)["digits"])


def test_models_of_other_layouts_are_not_averaged() -> None:
    narrow, wide = recognizer(0).state_dict(), create_model("svhn-resnet", width=0.5, dense=16).state_dict()
    with pytest.raises(ValueError, match="is .* state 0's is"):
        average_states([narrow, wide])
    with pytest.raises(ValueError, match="other layers"):
        average_states([narrow, {k: v for k, v in narrow.items() if "length" not in k}])
    with pytest.raises(ValueError, match="nothing|no state"):
        average_states([])


def test_the_script_writes_the_mean_as_a_shipped_format_weights_file(tmp_path, capsys) -> None:
    sources = []
    for seed in (0, 1):
        path = tmp_path / f"fine_tune_{seed}.pt"
        pretrained.save_weights(recognizer(seed), "svhn-resnet", {"width": 0.25, "dense": 16}, path, {"seed": seed})
        sources.append(str(path))
    average_weights([str(tmp_path / "soup.pt"), *sources])
    soup = pretrained.model_from_weights(pretrained.read_weights((tmp_path / "soup.pt").read_bytes()), allowed=["svhn-resnet"])
    expected = average_states([pretrained.spec_and_state(source)[1] for source in sources])
    for name, value in soup.state_dict().items():
        torch.testing.assert_close(value.to(expected[name].dtype), expected[name], atol=2e-3, rtol=2e-3)  # stored as float16
    assert "the mean of 2" in capsys.readouterr().out
    assert pretrained.read_weights_file(tmp_path / "soup.pt")["meta"]["members"] == [{"seed": 0}, {"seed": 1}]  # what each source was


def test_the_script_refuses_models_that_differ(tmp_path) -> None:
    pretrained.save_weights(recognizer(0), "svhn-resnet", {"width": 0.25, "dense": 16}, tmp_path / "a.pt", {})
    wide = create_model("svhn-resnet", width=0.5, dense=16)
    pretrained.save_weights(wide, "svhn-resnet", {"width": 0.5, "dense": 16}, tmp_path / "b.pt", {})
    with pytest.raises(SystemExit):
        average_weights([str(tmp_path / "soup.pt"), str(tmp_path / "a.pt"), str(tmp_path / "b.pt")])
    assert not (tmp_path / "soup.pt").exists()
