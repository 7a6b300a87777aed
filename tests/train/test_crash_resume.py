"""A training run killed with SIGKILL mid-run resumes from its last checkpoint with intact files,
the same step count and, for a deterministic configuration, the same losses and weights as a run
that was never interrupted. TensorBoard's log (``--tensorboard``) is resumed without doubled points."""

import json
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from svhnx.train.run_dir import load_checkpoint, read_metrics

STEPS, EVAL_EVERY, BATCH = 40, 10, 8
# Deterministic: one thread, no DataLoader workers; dropout and the synthetic stream are seeded.
# Runtime flags (--threads, --tensorboard, ...) are not part of the saved run: resume passes them again.
RUNTIME = ["--threads", "1", "--workers", "0", "--no-progress", "--tensorboard"]
FLAGS = ["--batch-size", str(BATCH), "--val-size", "100", "--steps", str(STEPS), "--eval-every", str(EVAL_EVERY), *RUNTIME]
TIMING = {"wall_time_s", "train_time_s", "images_per_s"}  # differ between any two runs


def train_command(data_root, out, *extra):
    return [sys.executable, "-m", "svhnx.train", "mnist-seq", "--data-root", str(data_root / "mnist"), "--out", str(out), *FLAGS, *extra]


def assert_intact(run):
    """Every file of the run directory reads back whole."""
    json.loads((run / "config.json").read_text())
    for name in ("last.pt", "best.pt"):
        checkpoint = load_checkpoint(run / name)
        assert checkpoint["task"] == "mnist-seq" and checkpoint["model_state"]
    rows = read_metrics(run / "metrics.csv")
    assert rows and all(len(r) == len(rows[0]) and r["val_loss"] > 0 for r in rows)
    if (run / "curves.png").exists():
        assert (run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def scalar_steps(run, tag):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run))
    events.Reload()
    return [e.step for e in events.Scalars(tag)]


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_matches_an_uninterrupted_run(data_root, tmp_path):
    pytest.importorskip("tensorboard")
    straight, crashed = tmp_path / "straight", tmp_path / "crashed"
    reference = subprocess.Popen(train_command(data_root, straight), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    victim = subprocess.Popen(train_command(data_root, crashed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not (crashed / "last.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(random.uniform(0.0, 0.2))  # somewhere in the next steps, or amid the next checkpoint's writes
    assert victim.poll() is None, "the run finished before it could be killed; make it longer"
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL

    assert_intact(crashed)
    saved = load_checkpoint(crashed / "last.pt")["progress"]["step"]
    assert saved % EVAL_EVERY == 0 and EVAL_EVERY <= saved < STEPS
    # a write cut short leaves only a hidden temporary file; plant one as if the kill hit torch.save
    (crashed / ".last.pt.k1ll3d.tmp").write_bytes(b"PK\x03\x04 half a checkpoint")

    resumed = subprocess.run([sys.executable, "-m", "svhnx.train", "mnist-seq", "--out", str(crashed), "--resume", *RUNTIME],
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming {crashed} at step {saved}/{STEPS}" in resumed.stderr
    _, err = reference.communicate(timeout=300)
    assert reference.returncode == 0, err[-3000:]

    assert_intact(crashed)
    assert not list(crashed.glob(".*.tmp")), "partial files of the killed run were left behind"
    assert {p.name for p in crashed.iterdir() if not p.name.startswith("events.")} == {p.name for p in straight.iterdir() if not p.name.startswith("events.")}
    for run in (straight, crashed):
        progress = load_checkpoint(run / "last.pt")["progress"]
        assert progress["step"] == STEPS and progress["images"] == STEPS * BATCH

    expected, got = read_metrics(straight / "metrics.csv"), read_metrics(crashed / "metrics.csv")
    assert [r["step"] for r in got] == [r["step"] for r in expected] == list(range(EVAL_EVERY, STEPS + 1, EVAL_EVERY))
    for want, have in zip(expected, got):
        assert {k: v for k, v in have.items() if k not in TIMING} == {k: v for k, v in want.items() if k not in TIMING}

    for name in ("last.pt", "best.pt"):
        a, b = load_checkpoint(straight / name), load_checkpoint(crashed / name)
        assert a["progress"]["step"] == b["progress"]["step"]
        for key, value in a["model_state"].items():
            assert torch.equal(value, b["model_state"][key]), f"{name}: {key} differs"

    # TensorBoard: one point per evaluation, the killed session's points after the checkpoint purged
    assert scalar_steps(crashed, "train_loss") == scalar_steps(straight, "train_loss") == [r["step"] for r in expected]


def test_tensorboard_without_the_package_is_a_clear_error(data_root, tmp_path, monkeypatch, capsys):
    from svhnx.train import cli, tensorboard_log

    monkeypatch.setattr(tensorboard_log.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SystemExit):
        cli.main(["mnist-seq", "--data-root", str(data_root / "mnist"), "--out", str(tmp_path / "run"), "--tensorboard"])
    assert "pip install 'svhnx[tensorboard]'" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
