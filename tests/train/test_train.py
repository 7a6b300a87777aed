"""``python -m svhnx.train mnist-seq``: the run directory, exact resume, and flag errors."""

import json
import os
import signal
import subprocess
import sys

import pytest
import torch

from svhnx import hardware
from svhnx.tasks.mnist_seq import MnistSequenceTask
from svhnx.train import cli
from svhnx.train.loop import Trainer, lr_factor, total_steps
from svhnx.train.run_dir import RunDirectory, read_metrics

# One thread: on a shared 2-core machine two OpenMP threads spin against other jobs (4x slower).
TINY = ["--batch-size", "16", "--val-size", "200", "--eval-every", "10", "--no-progress", "--threads", "1"]


def train(data_root, out, *extra):
    return cli.main(["mnist-seq", "--data-root", str(data_root / "mnist"), "--out", str(out), *TINY, *extra])


def weights(run_dir, name="last.pt", state="model_state"):
    return torch.load(run_dir / name, weights_only=False)[state]


def test_ema_weights_are_the_ones_evaluated_and_saved(data_root, tmp_path):
    assert train(data_root, tmp_path / "run", "--steps", "4", "--eval-every", "4", "--ema", "0.5") == 0
    checkpoint = torch.load(tmp_path / "run" / "best.pt", weights_only=False)
    assert checkpoint["ema_updates"] == 4
    averaged, trained = checkpoint["model_state"], checkpoint["train_model_state"]
    assert not torch.equal(averaged["classify.weight"], trained["classify.weight"])


@pytest.mark.slow
def test_a_20_step_cli_run_writes_a_complete_run_directory(data_root, tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "svhnx.train", "mnist-seq", "--data-root", str(data_root / "mnist"), "--out", str(out), "--steps", "20", *TINY]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
    assert {p.name for p in out.iterdir()} == {"config.json", "metrics.csv", "last.pt", "best.pt", "curves.png", "predictions.png"}
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "mnist-seq" and config["args"]["steps"] == 20 and config["model"]["name"] == "mnist-lean"
    rows = read_metrics(out / "metrics.csv")
    assert [r["step"] for r in rows] == [10, 20] and [r["images"] for r in rows] == [160, 320]
    assert all(0 <= r["sequence_accuracy"] <= 1 and r["val_loss"] > 0 for r in rows)
    for png in ("curves.png", "predictions.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    checkpoint = torch.load(out / "last.pt", weights_only=False)
    assert checkpoint["progress"]["step"] == 20 and checkpoint["task"] == "mnist-seq"


@pytest.mark.slow
@pytest.mark.parametrize("ema", [["--ema", "0"], ["--ema", "0.9"]], ids=["plain", "ema"])
def test_ctrl_c_stops_at_a_step_and_resume_continues_exactly(data_root, tmp_path, monkeypatch, capsys, ema):
    assert train(data_root, tmp_path / "straight", "--steps", "20", *ema) == 0

    train_step = Trainer._train_step

    def press_ctrl_c_during_step_13(self, batch):
        loss = train_step(self, batch)
        if self.state.step == 12:  # steps done before this one
            os.kill(os.getpid(), signal.SIGINT)
        return loss

    monkeypatch.setattr(Trainer, "_train_step", press_ctrl_c_during_step_13)
    assert train(data_root, tmp_path / "stopped", "--steps", "20", *ema) == 130
    monkeypatch.setattr(Trainer, "_train_step", train_step)
    assert "stopped at step 13/20; last.pt saved" in capsys.readouterr().err
    assert torch.load(tmp_path / "stopped" / "last.pt", weights_only=False)["progress"]["step"] == 13

    assert cli.main(["mnist-seq", "--out", str(tmp_path / "stopped"), "--resume", "--no-progress", "--threads", "1"]) == 0
    assert "at step 13/20" in capsys.readouterr().err
    for state in ("model_state", "train_model_state") if ema[1] != "0" else ("model_state",):
        straight, resumed = weights(tmp_path / "straight", state=state), weights(tmp_path / "stopped", state=state)
        for name in straight:
            assert torch.equal(straight[name], resumed[name]), f"{state}: {name}"
    rows = read_metrics(tmp_path / "stopped" / "metrics.csv")
    assert [r["step"] for r in rows] == [10, 20]
    assert rows[1]["val_loss"] == read_metrics(tmp_path / "straight" / "metrics.csv")[1]["val_loss"]


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--batch-size", "0"], "--batch-size: expected a positive integer"),
        (["--steps", "abc"], "--steps: invalid positive_int value"),
        (["--lr", "-1"], "--lr: expected a positive number"),
        (["--lr", "nan"], "--lr: expected a positive number"),
        (["--model", "nope"], "--model: invalid choice"),
        (["--steps", "5", "--epochs", "1"], "not allowed with argument"),
        (["--schedule", "step"], "--schedule: invalid choice"),
        (["--warmup", "1.5"], "--warmup: expected a number in [0, 1)"),
        (["--device", "tpu"], "--device: invalid choice"),
        (["--label-smoothing", "-0.1"], "--label-smoothing: expected a number in [0, 1)"),
        (["--resume"], "--resume needs --out"),
        (["--model", "mnist-study", "--width", "2"], "--width: only mnist-lean has a channel multiplier"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--lr=0.1", "--ste", "5"], "unrecognized arguments: --ste"),
    ],
)
def test_bad_flags_are_argparse_errors(flags, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["mnist-seq", *flags])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_amp_on_a_cpu_that_would_emulate_bfloat16_is_an_argparse_error(capsys, monkeypatch):
    monkeypatch.setattr(hardware, "bfloat16_units", lambda: None)
    with pytest.raises(SystemExit) as info:
        cli.main(["mnist-seq", "--device", "cpu", "--amp"])
    assert info.value.code == 2 and "(--amp): this CPU has neither AMX tiles nor AVX-512 BF16" in capsys.readouterr().err


def test_a_trainer_built_from_python_refuses_amp_on_such_a_cpu_too(data_root, tmp_path, monkeypatch):
    monkeypatch.setattr(hardware, "bfloat16_units", lambda: None)
    _, config = cli.parse_config(["mnist-seq", "--data-root", str(data_root / "mnist"), "--device", "cpu", "--amp", "--no-progress"])
    with pytest.raises(ValueError, match="neither AMX tiles nor AVX-512 BF16"):
        Trainer(MnistSequenceTask(config.replace(out=tmp_path / "run")), RunDirectory(tmp_path / "run"), progress_bar=False)


@pytest.mark.parametrize("units", ["AMX tiles", "AVX-512 BF16"])
def test_amp_on_a_cpu_with_bfloat16_units_trains_under_bfloat16_autocast(data_root, tmp_path, monkeypatch, units):
    from svhnx.tasks.mnist_seq import MnistSequenceTask

    monkeypatch.setattr(hardware, "bfloat16_units", lambda: units)  # bfloat16 works everywhere, emulated without them
    seen, loss = [], MnistSequenceTask.loss

    def recording_loss(self, output, batch):
        seen.append(torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else None)
        return loss(self, output, batch)

    monkeypatch.setattr(MnistSequenceTask, "loss", recording_loss)
    assert train(data_root, tmp_path / "amp", "--steps", "2", "--eval-every", "2", "--device", "cpu", "--amp") == 0
    assert seen[:2] == [torch.bfloat16, torch.bfloat16]
    seen.clear()
    assert train(data_root, tmp_path / "plain", "--steps", "2", "--eval-every", "2", "--device", "cpu") == 0
    assert seen[:2] == [None, None]  # off on the CPU unless asked for


def test_cuda_without_a_gpu_is_an_argparse_error(capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit):
        cli.main(["mnist-seq", "--device", "cuda"])
    assert "no CUDA device" in capsys.readouterr().err


def test_run_directories_are_not_overwritten_and_resume_needs_a_run(data_root, tmp_path, capsys):
    assert train(data_root, tmp_path / "run", "--steps", "2") == 0
    with pytest.raises(SystemExit):
        train(data_root, tmp_path / "run", "--steps", "2")
    assert "already holds a run; pass --resume" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["mnist-seq", "--out", str(tmp_path / "empty"), "--resume"])
    assert "last.pt does not exist" in capsys.readouterr().err


def test_resume_refuses_flags_that_change_the_run_but_takes_runtime_ones(data_root, tmp_path, capsys):
    assert train(data_root, tmp_path / "run", "--steps", "2", "--lr", "1e-3") == 0
    with pytest.raises(SystemExit):
        train(data_root, tmp_path / "run", "--steps", "2", "--lr=2e-3", "--resume")
    assert "these flags differ: --lr (run has 0.001)" in capsys.readouterr().err
    # the run's own values and runtime flags (--threads, --no-progress in TINY) are no conflict
    assert train(data_root, tmp_path / "run", "--steps", "2", "--lr", "1e-3", "--resume") == 0


def test_missing_data_is_a_clear_message_not_a_traceback(tmp_path, capsys):
    assert train(tmp_path.parent / "nowhere", tmp_path / "run", "--steps", "2") == 2
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte.gz" in err and "Traceback" not in err


def test_epochs_count_the_tasks_images():
    config = MnistSequenceTask.Config(epochs=0.5, steps=7, batch_size=100)
    assert total_steps(config, MnistSequenceTask) == 500  # an mnist-seq epoch is the study's 100,000 sequences
    assert total_steps(config.replace(epochs=None), MnistSequenceTask) == 7


def test_learning_rate_schedules():
    onecycle = [lr_factor("onecycle", step, 100, 0.1) for step in range(100)]
    assert onecycle[0] == pytest.approx(1 / 25) and onecycle[10] == 1.0
    assert all(a <= b for a, b in zip(onecycle[:10], onecycle[1:11])), "warms up"
    assert all(a >= b for a, b in zip(onecycle[10:], onecycle[11:])) and onecycle[-1] < 0.01, "then anneals"
    assert lr_factor("cosine", 0, 100, 0.1) == 1.0 and lr_factor("cosine", 50, 100, 0.1) == pytest.approx(0.5)
    assert lr_factor("constant", 99, 100, 0.1) == 1.0


def test_init_weights_of_another_model_are_a_clear_message(data_root, tmp_path, capsys):
    assert train(data_root, tmp_path / "run", "--init", str(tmp_path / "missing.pt"), "--steps", "2") == 2
    err = capsys.readouterr().err
    assert "missing.pt: no such file" in err and "Traceback" not in err
