"""``python -m benchmarks NAME [OPTIONS]`` hands a benchmark its own options, and none of its own command line."""

import sys
import types

import pytest

from benchmarks import __main__ as command


def fake_benchmark(monkeypatch, main):
    """Make ``benchmarks.bench_fake`` a module whose ``main`` is ``main``."""
    module = types.ModuleType("benchmarks.bench_fake")
    module.main = main
    monkeypatch.setitem(sys.modules, "benchmarks.bench_fake", module)
    monkeypatch.setattr(command, "available", lambda: ["fake"])


def test_a_benchmark_that_parses_options_gets_none_when_none_are_given(monkeypatch):
    calls = []
    fake_benchmark(monkeypatch, lambda argv=None: calls.append(argv))
    monkeypatch.setattr(sys, "argv", ["benchmarks", "fake"])  # what a benchmark would parse if handed None
    assert command.main(["fake"]) == 0
    assert command.main(["fake", "--peers"]) == 0
    assert calls == [[], ["--peers"]]


def test_a_benchmark_without_options_refuses_them(monkeypatch, capsys):
    calls = []
    fake_benchmark(monkeypatch, lambda: calls.append("ran"))
    assert command.main(["fake"]) == 0
    with pytest.raises(SystemExit):
        command.main(["fake", "--peers"])
    assert calls == ["ran"] and "takes no options" in capsys.readouterr().err
