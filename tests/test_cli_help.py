"""Every command's --help is plain words (no reStructuredText), every option says what it does,
and --model offers only the models that fit the task."""

import argparse
from collections.abc import Iterator

import pytest

from svhnx import cli as svhnx_cli
from svhnx import doctor, export, predict, transfer
from svhnx.evaluate import __main__ as evaluate_cli
from svhnx.helptext import plain
from svhnx.synth import __main__ as synth_cli
from svhnx.tasks.base import get_task, list_tasks
from svhnx.train import cli as train_cli

PARSERS = {
    "svhnx": svhnx_cli.build_parser,
    "train": lambda: train_cli.build_parser()[0],
    "evaluate": evaluate_cli.build_parser,
    "predict": predict.build_parser,
    "synth": synth_cli.parser,
    "export": export.build_parser,
    "transfer": transfer.build_parser,
    "doctor": doctor.build_parser,
}


def parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """``parser`` and its sub-commands' parsers."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from parsers(sub)


@pytest.mark.parametrize("name", PARSERS)
def test_help_is_plain_words_and_documents_every_option(name):
    for parser in parsers(PARSERS[name]()):
        text = parser.format_help()
        assert "``" not in text and ":class:" not in text and ":func:" not in text, parser.prog
        for action in parser._actions:
            if not isinstance(action, argparse._HelpAction):
                assert action.help and not action.help.startswith("("), f"{parser.prog} {action.option_strings or action.dest}"


def test_plain_removes_roles_and_literals():
    assert plain("A :class:`~svhnx.evaluate.views.Ensemble` of ``RUN``; see :mod:`svhnx.ops`::\n") == "A Ensemble of RUN; see svhnx.ops:"


@pytest.mark.parametrize(("task", "models"), [("mnist-seq", {"mnist-lean", "mnist-study"}), ("unet", {"unet"}), ("boxreg", {"boxreg"})])
def test_model_choices_are_the_tasks_models(task, models):
    assert set(get_task(task).compatible_models()) == models


def test_every_task_offers_its_default_model():
    for name in list_tasks():
        task = get_task(name)
        assert task.Config.model in task.compatible_models()


def test_a_model_that_does_not_fit_the_task_is_an_argparse_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        train_cli.main(["mnist-seq", "--model", "unet", "--out", str(tmp_path / "run")])
    assert exit_.value.code == 2
    assert "argument --model: invalid choice: 'unet' (choose from 'mnist-lean', 'mnist-study')" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
