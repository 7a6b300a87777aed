"""Inference speed on this CPU, torch against onnxruntime (the ``python -m svhnx.export`` file of the
same weights), each with one thread and with every core:

* the SVHN recognizer (``svhn-goodfellow``, ``uint8 N x 54 x 54 x 3``): latency at batch 1 and
  images/s at batch 64;
* the U-Net localizer (with its length head): latency on one 256 x 256 photo and images/s on a
  batch of 32 crops of 64 x 64 (what the reader's length check runs);
* the whole reader (:class:`svhnx.inference.reader.Reader`: multi-scale localization at 64/128/256, crops,
  recognition of up to three candidates) on the nine real ``svhn-sample`` photos (23 x 52 to
  741 x 350 pixels), one photo at a time: mean latency per photo and photos/s over a pass.

Each figure is the best (and the median) of several timed runs after a warm-up, wall clock. The
machine may be shared: the load average before and after is recorded with the results.

Weights: ``$SVHNX_LOCALIZER`` / ``$SVHNX_RECOGNIZER`` checkpoints when set (``--localizer``,
``--recognizer``), else seeded random weights of the default shapes; then the localizer's mask
bias is shifted so that about a tenth of a photo's pixels pass the threshold, so that the reader
reads candidates as it would with a trained localizer (how many it read is recorded). Speed does not
depend on the weights otherwise. Writes ``benchmarks/results/inference.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from benchmarks.record import print_table, save_result
from svhnx.inference.backends import Backend, OnnxBackend, TorchBackend, load_model
from svhnx.inference.export import export_checkpoint
from svhnx.inference.localize import localize, pad_to_multiple
from svhnx.inference.reader import Reader
from svhnx.models import create_model
from svhnx.train.run_dir import save_checkpoint

RECOGNIZER = ("svhn-goodfellow", {})
LOCALIZER = ("unet", {"length_head": True})
READER_OPTIONS = {"min_confidence": 0.0, "check_length": False}  # never reject: every run reads the same candidates
CANDIDATE_FRACTION = 0.1


def data_root() -> Path:
    return Path(os.environ.get("SVHNX_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def sample_photos(root: Path) -> list[np.ndarray]:
    """The nine real svhn-sample images, RGB."""
    paths = sorted((root / "svhn-sample").glob("*/*.png"))
    if len(paths) != 9:
        raise FileNotFoundError(f"{root / 'svhn-sample'}: expected the nine sample images, found {len(paths)} (set $SVHNX_DATA)")
    return [cv2.cvtColor(cv2.imread(str(p), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for p in paths]


def proposing_candidates(model: nn.Module, photo: np.ndarray) -> nn.Module:
    """Shift an untrained U-Net's mask bias so that :data:`CANDIDATE_FRACTION` of ``photo``'s
    pixels (at the reader's largest scale) pass the 0.5 threshold."""
    scale = 256 / max(photo.shape[:2])
    resized = cv2.resize(photo, (round(photo.shape[1] * scale), round(photo.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    with torch.no_grad():
        logits = model(torch.from_numpy(pad_to_multiple(resized)[None]))["mask"].flatten()
        model.head.bias -= torch.quantile(logits, 1 - CANDIDATE_FRACTION)
    return model


def untrained_checkpoints(folder: Path, photo: np.ndarray) -> tuple[Path, Path]:
    """Checkpoints of seeded random models of the default shapes (latency only)."""
    paths = []
    for name, kwargs in (LOCALIZER, RECOGNIZER):
        torch.manual_seed(0)
        model = create_model(name, **kwargs).eval()
        if name == LOCALIZER[0]:
            model = proposing_candidates(model, photo)
        path = folder / f"{name}.pt"
        save_checkpoint(path, {"format": 1, "task": "untrained", "model": {"name": name, "kwargs": kwargs},
                               "model_state": model.state_dict()})
        paths.append(path)
    return paths[0], paths[1]


def timed(run: Callable[[], Any], repeats: int, warmup: int = 2) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``run`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def engines(localizer: Path, recognizer: Path, folder: Path) -> dict[str, Callable[[int], tuple[Backend, Backend]]]:
    """``torch`` and ``onnx``: each takes a thread count and gives (localizer, recognizer) backends."""
    exports = [export_checkpoint(path, folder / f"{path.stem}.onnx") for path in (localizer, recognizer)]
    for report in exports:
        print(report.summary())
    torch_models = load_model(localizer), load_model(recognizer)

    def on_torch(threads: int) -> tuple[Backend, Backend]:
        torch.set_num_threads(threads)
        return TorchBackend(torch_models[0]), TorchBackend(torch_models[1])

    def on_onnx(threads: int) -> tuple[Backend, Backend]:
        torch.set_num_threads(threads)  # the reader's few torch ops around the models
        return OnnxBackend(exports[0].path, threads=threads), OnnxBackend(exports[1].path, threads=threads)

    return {"torch": on_torch, "onnx": on_onnx}


def measure(localizer: Backend, recognizer: Backend, photos: list[np.ndarray], rng: np.random.Generator) -> list[dict[str, Any]]:
    """The rows of one engine and thread count."""
    rows = []
    cases = [
        ("recognizer", "batch 1 (54 x 54)", recognizer, (1, 54, 54, 3), 15),
        ("recognizer", "batch 64 (54 x 54)", recognizer, (64, 54, 54, 3), 4),
        ("localizer", "batch 1 (256 x 256)", localizer, (1, 256, 256, 3), 8),
        ("localizer", "batch 32 (64 x 64)", localizer, (32, 64, 64, 3), 4),
    ]
    for model, case, backend, shape, repeats in cases:
        images = rng.integers(0, 256, size=shape, dtype=np.uint8)
        times = timed(lambda: backend(images), repeats)
        rows.append(row(model, case, shape[0], times))
    reader = Reader(localizer.as_module(), recognizer.as_module(), **READER_OPTIONS)
    candidates = [reader_candidates(reader, photo) for photo in photos]
    passes = timed(lambda: [reader.read(photo) for photo in photos], 3, warmup=1)
    reader_row = row("reader", "9 sample photos, one at a time", len(photos), passes)
    reader_row["latency_ms_best"] /= len(photos)  # mean per photo
    reader_row["latency_ms_median"] /= len(photos)
    reader_row["candidates_per_photo"] = float(np.mean(candidates))
    rows.append(reader_row)
    return rows


def reader_candidates(reader: Reader, photo: np.ndarray) -> int:
    """How many candidate boxes the reader reads in ``photo``."""
    return len(localize(reader.localizer, photo, scales=reader.scales, threshold=reader.threshold, max_candidates=reader.max_candidates))


def row(model: str, case: str, batch: int, times: list[float]) -> dict[str, Any]:
    return {
        "model": model,
        "case": case,
        "latency_ms_best": 1e3 * min(times),
        "latency_ms_median": 1e3 * statistics.median(times),
        "images_per_s": batch / min(times),
        "runs": len(times),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks inference", description=__doc__.split("\n\n")[0])
    parser.add_argument("--localizer", default=os.environ.get("SVHNX_LOCALIZER"), help="localizer checkpoint (default: $SVHNX_LOCALIZER)")
    parser.add_argument("--recognizer", default=os.environ.get("SVHNX_RECOGNIZER"), help="recognizer checkpoint (default: $SVHNX_RECOGNIZER)")
    args = parser.parse_args(argv if argv is not None else [])
    trained = args.localizer is not None and args.recognizer is not None
    photos = sample_photos(data_root())
    cores = os.cpu_count() or 1
    default_threads = torch.get_num_threads()
    load_before = os.getloadavg()
    table: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        localizer, recognizer = (Path(args.localizer), Path(args.recognizer)) if trained else untrained_checkpoints(folder, photos[6])
        ways = engines(localizer, recognizer, folder)
        for threads in sorted({1, cores}):
            for engine, make in ways.items():
                rng = np.random.default_rng(0)
                for r in measure(*make(threads), photos, rng):
                    table.append({"engine": engine, "threads": threads, **r})
    torch.set_num_threads(default_threads)
    for r in table:  # onnxruntime's speed-up over torch in the same case and thread count
        if r["engine"] == "onnx":
            base = next(t for t in table if t["engine"] == "torch" and t["threads"] == r["threads"] and t["case"] == r["case"] and t["model"] == r["model"])
            r["onnx_speedup"] = base["latency_ms_best"] / r["latency_ms_best"]
    print_table("inference on this CPU (latency of one call; images/s from the best run)", table,
                ["model", "case", "engine", "threads", "latency_ms_best", "latency_ms_median", "images_per_s", "onnx_speedup"])
    results = {
        "weights": {"localizer": str(args.localizer), "recognizer": str(args.recognizer)} if trained
        else "untrained (seeded random weights of the default shapes; localizer bias shifted to propose candidates)",
        "models": {"recognizer": RECOGNIZER[0], "localizer": f"{LOCALIZER[0]} {LOCALIZER[1]}"},
        "reader_options": READER_OPTIONS,
        "rows": table,
        "load_average": {"before": load_before, "after": os.getloadavg()},
    }
    command = ["python", "-m", "benchmarks", "inference"]
    if trained:
        command += ["--localizer", str(args.localizer), "--recognizer", str(args.recognizer)]
    path = save_result("inference", results, command)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
