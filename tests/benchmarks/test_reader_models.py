"""The reader benchmarks' model options: the shipped models unless files are named, and how a result names them."""

import argparse
from pathlib import Path

from benchmarks.reader_models import add_model_arguments, described


def test_no_model_named_means_the_shipped_ones() -> None:
    parser = argparse.ArgumentParser()
    add_model_arguments(parser)
    args = parser.parse_args([])
    assert args.localizer is None and args.recognizer is None
    assert described(args.localizer) == described(args.recognizer) == "shipped"


def test_named_models_are_recorded_as_given() -> None:
    parser = argparse.ArgumentParser()
    add_model_arguments(parser)
    args = parser.parse_args(["--localizer", "runs/loc/last.pt", "--recognizer", "a.pt", "b.pt"])
    assert described(args.localizer) == "runs/loc/last.pt"
    assert args.recognizer == [Path("a.pt"), Path("b.pt")] and described(args.recognizer) == "a.pt + b.pt"
