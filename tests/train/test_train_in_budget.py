"""benchmarks.scripts.train_in_budget: a probe of the run's own speed sizes its steps to the time given."""

import json
from pathlib import Path

import pytest

from benchmarks.scripts.train_in_budget import main
from svhnx.train.run_dir import read_metrics


def test_flags_that_set_the_length_or_the_folder_are_refused(tmp_path: Path) -> None:
    for flag in ("--steps", "--eval-every", "--out", "--resume"):
        with pytest.raises(SystemExit):
            main(["60", "--out", str(tmp_path / "run"), "--", "synth", flag, "5"])
    with pytest.raises(SystemExit):
        main(["60", "--out", str(tmp_path / "run")])  # no task
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_the_run_fits_its_steps_to_the_measured_speed(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SVHNX_CACHE", str(tmp_path / "cache"))
    run = tmp_path / "run"
    assert main(["40", "--out", str(run), "--probe-steps", "4", "--evals", "2", "--margin", "10", "--",
                 "synth", "--batch-size", "4", "--val-size", "8", "--width", "0.25", "--dense", "16", "--no-handwriting",
                 "--no-system-fonts", "--data-root", str(data_root), "--threads", "1"]) == 0
    record = json.loads((run / "budget.json").read_text())
    assert record["probe_images_per_s"] > 0 and record["batch_size"] == 4 and record["steps"] % 2 == 0
    rows = read_metrics(run / "metrics.csv")
    assert [int(r["step"]) for r in rows] == [record["steps"] // 2, record["steps"]]
    assert len(read_metrics(tmp_path / "run-probe" / "metrics.csv")) == 2

