"""Each task's settings are one dataclass: the flags take their defaults from it, and a run's saved
settings rebuild it without the command-line parser."""

import argparse
import subprocess
import sys

import pytest

from svhnx.tasks import get_task, list_tasks
from svhnx.tasks.arguments import add_shared_arguments, apply_config_defaults
from svhnx.tasks.config import TrainConfig
from svhnx.tasks.localizer import UnetConfig, UnetTask
from svhnx.tasks.svhn import SvhnTask
from svhnx.tasks.synth import SynthConfig, SynthTask
from svhnx.train.cli import build_parser, parse_config


@pytest.mark.parametrize("name", list_tasks())
def test_each_flag_is_a_field_of_the_tasks_config_and_defaults_to_it(name):
    _, parsers = build_parser()
    assert vars(parsers[name].parse_args([])) == get_task(name).Config.defaults()


def test_a_flag_without_a_field_is_caught_when_the_parser_is_built():
    parser = argparse.ArgumentParser()
    add_shared_arguments(parser, ["mnist-lean"])
    parser.add_argument("--forgotten", type=int)
    with pytest.raises(ValueError, match=r"flags without a field: \['forgotten'\]"):
        apply_config_defaults(parser, TrainConfig)


def test_the_command_line_gives_the_task_and_its_config():
    task, config = parse_config(["unet", "--steps", "7", "--widths", "8,16"])
    assert task is UnetTask and type(config) is UnetConfig
    assert (config.steps, config.widths, config.lr, config.batch_size) == (7, (8, 16), 2e-3, 32)


def test_saved_settings_rebuild_the_config_with_defaults_for_settings_added_since():
    saved = {"steps": 5, "negatives": None}  # a run saved before --negative-share existed
    config = SynthConfig.from_mapping(saved)
    assert config.steps == 5 and config.negative_share == 0.1 and config.model == "svhn-goodfellow"


def test_a_setting_that_is_not_a_field_is_an_error_unless_it_may_be_dropped():
    saved = {"task": "synth", "steps": 5, "flag_removed_since": 1}
    with pytest.raises(ValueError, match="flag_removed_since, task"):
        SynthConfig.from_mapping(saved)
    assert SynthConfig.from_mapping(saved, strict=False).steps == 5


def test_a_task_takes_only_its_own_config():
    with pytest.raises(TypeError, match="expected a SynthConfig, got SvhnConfig"):
        SynthTask(SvhnTask.Config())
    assert SynthTask(SynthTask.Config(steps=3)).config.steps == 3


def test_evaluation_rebuilds_runs_without_the_training_command_line():
    code = "import sys, svhnx.evaluate; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert "svhnx.evaluate" in loaded and "svhnx.train.cli" not in loaded
