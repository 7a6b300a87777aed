"""Progress bars for the long steps: scoring and drawing in evaluate, validation during training."""

import io

from tqdm.auto import tqdm

from svhnx.evaluate.__main__ import build_parser
from svhnx.progress import with_progress


def test_a_bar_knows_its_total_and_yields_every_item():
    bar = with_progress(iter(range(3)), "scoring")
    assert isinstance(bar, tqdm) and bar.total == 3 and list(bar) == [0, 1, 2]


def test_no_bar_when_disabled():
    items = iter(range(3))
    assert with_progress(items, "scoring", enabled=False) is items


def test_the_bar_is_drawn_on_a_terminal(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    list(with_progress(range(4), "scoring"))
    assert "scoring:   0%" in terminal.getvalue() and "0/4" in terminal.getvalue()


def test_evaluate_shows_progress_unless_told_not_to():
    assert build_parser().parse_args(["run"]).progress is True
    assert build_parser().parse_args(["run", "--no-progress"]).progress is False
