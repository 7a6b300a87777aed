"""Run directories: one training process at a time, leftovers of unfinished runs, clean errors."""

import os
import subprocess
import sys
import textwrap

import pytest

from svhnx.train import cli
from svhnx.train.run_dir import read_metrics
from svhnx.train.run_lock import RunDirectoryLocked, lock_run_directory

TINY = ["--batch-size", "16", "--val-size", "100", "--eval-every", "5", "--no-progress", "--threads", "1"]


def train(data_root, out, *extra):
    return cli.main(["mnist-seq", "--data-root", str(data_root / "mnist"), "--out", str(out), *TINY, *extra])


@pytest.mark.slow
def test_a_second_process_is_refused_and_told_the_holders_pid(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, pathlib
            from svhnx.train.run_lock import lock_run_directory
            with lock_run_directory(pathlib.Path({str(tmp_path / 'run')!r})):
                print("locked", flush=True)
                sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunDirectoryLocked, match=f"in use by another training run \\(pid {holder.pid}\\)"):
            with lock_run_directory(tmp_path / "run"):
                pass
    finally:
        holder.communicate("")
    with lock_run_directory(tmp_path / "run"):  # released when the holder ended
        pass


def test_training_into_a_locked_run_directory_is_refused(data_root, tmp_path, capsys):
    with lock_run_directory(tmp_path / "run"):
        assert train(data_root, tmp_path / "run", "--steps", "5") == 2
        assert train(data_root, tmp_path / "run", "--steps", "5", "--resume") == 2
    err = capsys.readouterr().err
    assert err.count(f"error: {tmp_path / 'run'} is in use by another training run (pid {os.getpid()})") == 2
    assert "Traceback" not in err
    assert not (tmp_path / "run" / "metrics.csv").exists()


@pytest.mark.slow
def test_a_run_killed_before_its_first_checkpoint_is_started_afresh(data_root, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text('{"task": "mnist-seq"}\n')
    (run / "metrics.csv").write_text("step,other_column\n5,1.0\n")  # another task's columns
    (run / ".best.pt.abc123.tmp").write_bytes(b"half a checkpoint")
    assert train(data_root, run, "--steps", "5") == 0
    assert "removed what a run that never saved last.pt left: config.json, metrics.csv, .best.pt.abc123.tmp" in capsys.readouterr().err
    assert [row["step"] for row in read_metrics(run / "metrics.csv")] == [5]
    assert not list(run.glob(".*.tmp"))


def test_a_best_checkpoint_without_last_is_not_deleted(data_root, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "best.pt").write_bytes(b"a model someone kept")
    assert train(data_root, run, "--steps", "5") == 2
    assert "holds best.pt but no last.pt" in capsys.readouterr().err
    assert (run / "best.pt").read_bytes() == b"a model someone kept"


def test_an_unusable_out_folder_is_one_error_line(data_root, tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    assert train(data_root, tmp_path / "file" / "run", "--steps", "5") == 2
    err = capsys.readouterr().err
    assert "error: " in err and "cannot use it as a run directory (Not a directory)" in err and "Traceback" not in err


def test_a_corrupt_last_checkpoint_is_one_error_line_on_resume(data_root, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "last.pt").write_bytes(b"PK\x03\x04 truncated")
    assert train(data_root, run, "--resume") == 2
    err = capsys.readouterr().err
    assert "last.pt is not a readable checkpoint" in err and "Traceback" not in err
