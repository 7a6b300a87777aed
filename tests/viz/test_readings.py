"""The readings figures draw arrays they are given; the task's loop runs the model to collect them."""

import torch

from svhnx.tasks.svhn import collect_readings
from svhnx.viz.readings import coverage_path, plot_evaluation


def test_a_model_is_run_over_batches_and_its_readings_drawn(tmp_path):
    digits = torch.tensor([[1, 2, 10, 10, 10], [7, 10, 10, 10, 10], [3, 4, 5, 10, 10]])

    class Reads12(torch.nn.Module):  # reads every image as "12"
        def forward(self, images):
            n = len(images)
            return {"digits": torch.nn.functional.one_hot(digits[[0] * n], 11).float() * 9,
                    "length": torch.nn.functional.one_hot(torch.full((n,), 2), 7).float() * 9}

    batches = [{"images": torch.zeros(3, 54, 54, 3, dtype=torch.uint8), "digits": digits, "lengths": torch.tensor([2, 1, 3])}]
    images, truths, readings, confidence, correct = collect_readings(Reads12(), batches, torch.device("cpu"))
    assert images.shape == (3, 54, 54, 3) and (truths == digits.numpy()).all()
    assert (readings == digits[0].numpy()).all() and correct.tolist() == [True, False, False] and confidence.shape == (3,)
    path = tmp_path / "readings.png"
    plot_evaluation(images, truths, readings, confidence, correct, path)
    assert path.stat().st_size > 0 and coverage_path(path).stat().st_size > 0
