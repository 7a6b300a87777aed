"""The weights' moving average (--ema): its decay warms up, so it forgets the random start within steps."""

import pytest
import torch
from torch import nn

from svhnx.train.ema import averaged_model, ema_decay


def test_the_decay_grows_from_the_first_steps_to_the_one_asked_for():
    assert ema_decay(0.995, 1) == pytest.approx(2 / 11)
    assert ema_decay(0.995, 100) == pytest.approx(101 / 110)
    assert ema_decay(0.995, 10_000) == 0.995


def test_the_average_follows_the_recent_weights_not_the_first_ones():
    model = nn.Linear(1, 1, bias=False)
    average = averaged_model(model, 0.999)
    expected = 0.0
    for step in range(1, 101):  # the weight climbs 1, 2, ..., 100 as training moves away from its start
        with torch.no_grad():
            model.weight.fill_(float(step))
        average.update_parameters(model)  # the first update copies; then decay ema_decay(0.999, n) at update n
        expected = 1.0 if step == 1 else ema_decay(0.999, step - 1) * expected + (1 - ema_decay(0.999, step - 1)) * step
    assert average.module.weight.item() == pytest.approx(expected, rel=1e-5)
    assert expected > 85  # a fixed 0.999 would still average about 5


def test_a_decay_outside_0_1_is_refused():
    with pytest.raises(ValueError, match="decay"):
        averaged_model(nn.Linear(1, 1), 1.0)


def test_integer_buffers_are_the_models_own():
    model = nn.BatchNorm1d(2)
    average = averaged_model(model, 0.99)
    for _ in range(3):
        model(torch.randn(4, 2))
        average.update_parameters(model)
    assert average.module.num_batches_tracked.item() == model.num_batches_tracked.item() == 3
    assert not torch.equal(average.module.running_mean, model.running_mean)  # floats are averaged
