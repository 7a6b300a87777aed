"""Distributed data-parallel training on the CPU (Gloo): two processes on batches of B train the
same model as one process on their combined batches of 2B, and ``torchrun -m svhnx.train`` works."""

import gc
import os
import socket
import subprocess
import sys

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from svhnx.models import register_model
from svhnx.models.heads import SequenceHeads, image_input
from svhnx.tasks.mnist_seq import MnistSequenceTask
from svhnx.train import distributed
from svhnx.train.cli import parse_config
from svhnx.train.loop import Trainer
from svhnx.train.run_dir import RunDirectory, load_checkpoint, read_metrics

pytestmark = pytest.mark.slow  # seconds per test: run with -m slow, or the whole suite with nox -s tests

WORLD = 2
BATCH = 8  # per process
STEPS = 6


@register_model("ddp-test-tiny")
class TinyRecognizer(nn.Module):
    """Two strided convolutions and the digit heads: no batch norm (whose statistics are per
    process under DDP) and no dropout, so the two trainings must agree to rounding."""

    input_shape = (28, 140, 1)

    def __init__(self, length_head: bool = False) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 5, stride=2, padding=2), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten()
        )
        self.heads = SequenceHeads(8 * 7 * 35, length_head=length_head)

    def forward(self, images):
        return self.heads(self.features(image_input(images, 0.08, 0.25)))


def arguments(data_root, out):
    _, config = parse_config([
        "mnist-seq", "--length-head", "--data-root", str(data_root / "mnist"), "--out", str(out),
        "--batch-size", str(BATCH), "--steps", str(STEPS), "--eval-every", "4", "--val-size", "100", "--device", "cpu",
        "--threads", "1", "--no-progress",
    ])
    return config.replace(model="ddp-test-tiny")  # this test's own model, which --model does not offer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_one_rank(rank, port, data_root, out):
    """One process of the distributed run (what torchrun's environment gives each process)."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(WORLD), LOCAL_RANK=str(rank))
    distributed.setup(torch.device("cpu"))
    try:
        assert distributed.world_size() == WORLD and distributed.rank() == rank
        Trainer(MnistSequenceTask(arguments(data_root, out)), RunDirectory(out), progress_bar=False).run()
    finally:
        distributed.teardown()
    # nothing that holds the process group outlives it: freed at interpreter shutdown instead, it
    # can abort the process
    assert not [o for o in gc.get_objects() if isinstance(o, DistributedDataParallel)]


class CombinedBatchTrainer(Trainer):
    """One process whose step-k batch is every rank's step-k batch, concatenated."""

    def _batches(self):
        streams = [iter(self.task.train_batches(self.state.step, rank=r)) for r in range(WORLD)]
        for parts in zip(*streams):
            yield {key: torch.cat([part[key] for part in parts]) for key in parts[0]}


def test_two_gloo_processes_train_like_one_process_on_the_combined_batch(data_root, tmp_path):
    mp.spawn(train_one_rank, args=(free_port(), data_root, tmp_path / "ddp"), nprocs=WORLD, join=True)

    threads = torch.get_num_threads()
    try:
        config = arguments(data_root, tmp_path / "single")
        CombinedBatchTrainer(MnistSequenceTask(config), RunDirectory(config.out), progress_bar=False).run()
    finally:
        torch.set_num_threads(threads)

    ddp, single = load_checkpoint(tmp_path / "ddp" / "last.pt"), load_checkpoint(tmp_path / "single" / "last.pt")
    assert ddp["progress"]["step"] == single["progress"]["step"] == STEPS
    assert ddp["progress"]["images"] == single["progress"]["images"] == STEPS * WORLD * BATCH
    start = MnistSequenceTask(config)
    initial = CombinedBatchTrainer(start, RunDirectory(tmp_path / "unused"), progress_bar=False).model.state_dict()
    for name, value in single["model_state"].items():
        assert not torch.equal(value, initial[name]), f"{name} did not train"
        torch.testing.assert_close(ddp["model_state"][name], value, rtol=1e-4, atol=1e-5, msg=lambda m: f"{name}: {m}")

    ddp_rows, single_rows = read_metrics(tmp_path / "ddp" / "metrics.csv"), read_metrics(tmp_path / "single" / "metrics.csv")
    assert [r["step"] for r in ddp_rows] == [4, 6] and [r["images"] for r in ddp_rows] == [r["images"] for r in single_rows]
    for ddp_row, single_row in zip(ddp_rows, single_rows):  # train loss: mean over ranks = loss of the combined batch
        for key in ("train_loss", "val_loss", "sequence_accuracy"):
            assert abs(ddp_row[key] - single_row[key]) < 1e-4, key


def test_every_rank_draws_its_own_samples(data_root, tmp_path):
    task = MnistSequenceTask(arguments(data_root, tmp_path))
    first = [next(iter(task.train_batches(0, rank=r)))["images"] for r in range(WORLD)]
    assert first[0].shape == first[1].shape and not torch.equal(first[0], first[1])


def test_torchrun_trains_the_cli_task_with_rank_0_writing_the_run(data_root, tmp_path):
    out = tmp_path / "run"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(WORLD),
        "-m", "svhnx.train", "mnist-seq", "--data-root", str(data_root / "mnist"), "--out", str(out),
        "--batch-size", str(BATCH), "--steps", "4", "--eval-every", "2", "--val-size", "100", "--device", "cpu", "--no-progress",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert {p.name for p in out.iterdir()} == {"config.json", "metrics.csv", "last.pt", "best.pt", "curves.png", "predictions.png"}
    assert result.stderr.count("run directory:") == 1  # rank 0 alone reports (and writes)
    rows = read_metrics(out / "metrics.csv")
    assert [r["step"] for r in rows] == [2, 4] and [r["images"] for r in rows] == [2 * WORLD * BATCH, 4 * WORLD * BATCH]
    checkpoint = load_checkpoint(out / "last.pt")
    assert checkpoint["progress"]["step"] == 4 and not any(k.startswith("module.") for k in checkpoint["model_state"])
