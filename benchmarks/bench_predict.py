"""Reading whole photos: latency of ``python -m svhnx.predict`` on an 1100 x 1100 photo, and the
two-stage reader's accuracy on the whole images of ``svhn-sample``.

Latency, per photo, after the models are loaded (what each further image of a ``predict`` call
costs): decode the PNG, localize (U-Net at the long sides 64, 128 and 256, fused), crop the
candidates and read them, with PyTorch (the localizer in float32, and in bfloat16 as ``--precision
auto`` runs it on CPUs with AMX) and with the ONNX exports on onnxruntime (``--backend onnx``), on
every core (2 here) and on one. Side by side with the obvious fully convolutional way: the U-Net
once on the whole photo at full resolution (1104 x 1104), then the same reading. Each is the best
and the median of several runs, wall clock and the process's CPU time (on one thread, the latency
on an idle core: on a shared, oversubscribed machine the wall clock can be many times the CPU
time). The 1-minute load average is recorded with each row, and before and after.

Accuracy: each of the nine ``svhn-sample`` images (three per split, labels from ``digitStruct.mat``)
read whole; a reading is right when it is the true number. Also the IoU of the reader's box with
the true union box.

Checkpoints: ``$SVHNX_LOCALIZER`` and ``$SVHNX_RECOGNIZER`` (or ``--localizer/--recognizer``); a
missing one is replaced by a randomly initialised model of the default shape (fine for latency;
without a trained recognizer only the localizer's boxes are scored, without a trained localizer
nothing is). Writes ``benchmarks/results/predict.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
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

from benchmarks.record import print_table, save_result
from svhnx.data.svhn import split_entries
from svhnx.hardware import amx_available, resolve_precision
from svhnx.inference.backends import load_backend, load_model, read_checkpoint
from svhnx.inference.export import export_checkpoint
from svhnx.inference.localize import localize, pad_to_multiple, probability_map
from svhnx.inference.predict import load_image
from svhnx.inference.reader import Reader
from svhnx.metrics.segmentation import box_iou
from svhnx.models import create_model
from svhnx.ops import union_boxes
from svhnx.synth import SceneGenerator
from svhnx.synth.dataset import VALIDATION_STREAM, stream_seed
from svhnx.train.run_dir import save_checkpoint

PHOTO_SIDE = 1100
RUNS = 7
FULL_RES_RUNS = 2
PRECISION_SCENES = 300


def data_root() -> Path:
    return Path(os.environ.get("SVHNX_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def make_photo(root: Path, folder: Path) -> Path:
    """An 1100 x 1100 PNG: the real SVHN image train/1.png ("19", 741 x 350) scaled to 1100 wide
    in the middle of the photo, the rest filled by repeating its top and bottom rows."""
    image = cv2.imread(str(root / "svhn-sample" / "train" / "1.png"), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"{root / 'svhn-sample/train/1.png'}: the benchmark photo's source is missing")
    scaled = cv2.resize(image, (PHOTO_SIDE, round(image.shape[0] * PHOTO_SIDE / image.shape[1])), interpolation=cv2.INTER_CUBIC)
    top = (PHOTO_SIDE - scaled.shape[0]) // 2
    photo = cv2.copyMakeBorder(scaled, top, PHOTO_SIDE - scaled.shape[0] - top, 0, 0, cv2.BORDER_REPLICATE)
    path = folder / "photo-1100.png"
    cv2.imwrite(str(path), photo)
    return path


def save_untrained(folder: Path) -> tuple[Path, Path]:
    """Checkpoints of randomly initialised models of the default shapes (latency only)."""
    paths = []
    for name, kwargs in (("unet", {"length_head": True}), ("svhn-goodfellow", {})):
        torch.manual_seed(0)
        model = create_model(name, **kwargs)
        path = folder / f"{name}.pt"
        save_checkpoint(path, {"format": 1, "task": "untrained", "config": {}, "model": {"name": name, "kwargs": kwargs},
                               "model_state": model.state_dict()})
        paths.append(path)
    return paths[0], paths[1]


def untrained_recognizer() -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model("svhn-goodfellow").eval()


def backends(localizer: Path, recognizer: Path, folder: Path) -> dict[str, Callable[[int], tuple[torch.nn.Module, torch.nn.Module]]]:
    """Ways to run the two checkpoints, by name: each takes a thread count and gives the two models.
    ``onnx`` (their exports, onnxruntime) only when onnxruntime is installed."""
    def torch_models(threads: int) -> tuple[torch.nn.Module, torch.nn.Module]:
        torch.set_num_threads(threads)
        return load_model(localizer), load_model(recognizer)

    found = {"torch": torch_models}
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return found
    exported = [export_checkpoint(path, folder / f"{path.stem}-{i}.onnx").path for i, path in enumerate((localizer, recognizer))]

    def onnx_models(threads: int) -> tuple[torch.nn.Module, torch.nn.Module]:
        torch.set_num_threads(threads)
        return tuple(load_backend(path, "onnx", threads=threads).as_module() for path in exported)  # type: ignore[return-value]

    found["onnx"] = onnx_models
    return found


def describe(path: str | None) -> dict[str, Any] | None:
    """What a checkpoint is: its path, task, model, training step and validation metrics."""
    if path is None:
        return None
    path = Path(path) / "best.pt" if Path(path).is_dir() else Path(path)
    checkpoint = read_checkpoint(path)
    config = path.parent / "config.json"
    return {
        "path": str(path),
        "task": checkpoint.get("task"),
        "model": checkpoint.get("model"),
        "step": checkpoint.get("progress", {}).get("step"),
        "data": {k: _plain(checkpoint.get("config", {}).get(k)) for k in ("svhn_crops", "svhn_dir", "val_seed") if k in checkpoint.get("config", {})},
        "metrics": checkpoint.get("metrics"),
        "run_config": json.loads(config.read_text()) if config.is_file() else None,
    }


def _plain(value: Any) -> Any:
    """A config value as JSON can hold it (paths as strings)."""
    return str(value) if isinstance(value, os.PathLike) else value


class FullResolutionReader(Reader):
    """The obvious way: the U-Net once on the whole photo at full resolution."""

    def read(self, image):
        self.scales = (int(max(pad_to_multiple(image).shape[:2])),)
        return super().read(image)


def latency(reader: Reader, photo: Path, runs: int) -> dict[str, float]:
    """Seconds per photo of decode + read: best and median wall clock of ``runs`` runs after a
    warm-up, the median of each part, and the best and median CPU time of the process (all its
    threads), which other processes on a busy machine do not inflate."""
    reader.read(load_image(photo))  # warm-up
    decode, read, cpu = [], [], []
    for _ in range(runs):
        cpu_begin, begin = time.process_time(), time.perf_counter()
        image = load_image(photo)
        decoded = time.perf_counter()
        reader.read(image)
        decode.append(decoded - begin)
        read.append(time.perf_counter() - decoded)
        cpu.append(time.process_time() - cpu_begin)
    total = [d + r for d, r in zip(decode, read)]
    return {"best_s": min(total), "median_s": statistics.median(total), "cpu_best_s": min(cpu), "cpu_median_s": statistics.median(cpu),
            "decode_median_s": statistics.median(decode), "read_median_s": statistics.median(read), "runs": runs,
            "load_1min": os.getloadavg()[0]}


def sample_accuracy(reader: Reader, root: Path) -> dict[str, Any]:
    """The reader on each whole image of svhn-sample: reading, truth, box IoU; the same on the true
    union box (the recognizer alone); and both without rejections (the most probable reading)."""
    unfiltered = Reader(reader.localizer, reader.recognizer, scales=reader.scales, threshold=reader.threshold,
                        max_candidates=reader.max_candidates, min_confidence=0.0, check_length=False, precision=reader.precision)
    rows = []
    for split in ("train", "test", "extra"):
        folder = root / "svhn-sample" / split
        for entry in split_entries(folder):
            image = load_image(folder / entry.name)
            reading = reader.read(image)
            truth = "".join(str(d) for d in entry.labels.tolist())
            union = union_boxes(entry.boxes, np.array([len(entry.boxes)]))[0]
            iou = float(box_iou(np.array(reading.box), union)) if reading.box is not None else 0.0
            crop = reader.read_box(image, union)  # the true box: the recognizer alone
            rows.append({"image": f"{split}/{entry.name}", "size": f"{image.shape[1]} x {image.shape[0]}", "truth": truth,
                         "number": reading.number, "confidence": round(reading.confidence, 3), "rejected": reading.rejected,
                         "box_iou": round(iou, 3), "right": reading.number == truth,
                         "crop_number": crop.number, "crop_confidence": round(crop.confidence, 3), "crop_rejected": crop.rejected,
                         "crop_right": crop.number == truth, "unfiltered_number": unfiltered.read(image).number,
                         "crop_unfiltered_number": unfiltered.read_box(image, union).number})
    return {
        "images": len(rows),
        "right": sum(r["right"] for r in rows),
        "rejected": sum(r["rejected"] is not None for r in rows),
        "accuracy": sum(r["right"] for r in rows) / max(1, len(rows)),
        "true_box_right": sum(r["crop_right"] for r in rows),
        "true_box_rejected": sum(r["crop_rejected"] is not None for r in rows),
        "right_without_rejection": sum(r["unfiltered_number"] == r["truth"] for r in rows),
        "true_box_right_without_rejection": sum(r["crop_unfiltered_number"] == r["truth"] for r in rows),
        "mean_box_iou": float(np.mean([r["box_iou"] for r in rows])),
        "located_iou_0.5": sum(r["box_iou"] >= 0.5 for r in rows),
        "rows": rows,
    }


def precision_agreement(localizer: Path, root: Path, scenes: int = PRECISION_SCENES) -> dict[str, Any]:
    """What the localizer finds in float32 and in bfloat16 (weights cast as the reader casts them):
    the best candidate's IoU with the true union box on held-out synthetic scenes (the validation
    stream of seed 1234) and on the svhn-sample images, and the largest probability difference."""
    models = {"float32": load_model(localizer).eval()}
    models["bfloat16"] = copy.deepcopy(models["float32"]).to(torch.bfloat16)

    def best_iou(image: np.ndarray, union: np.ndarray, precision: str) -> float:
        found = localize(models[precision], image, precision=precision)
        return float(box_iou(np.array(found[0].box), union)) if found else 0.0

    batch = SceneGenerator.from_data(root).scenes(scenes, seed=stream_seed(1234, VALIDATION_STREAM))
    ious: dict[str, list[float]] = {p: [] for p in models}
    for image, boxes, count in zip(batch.images, batch.boxes, batch.lengths.tolist()):
        union = union_boxes(boxes[:count], np.array([count]))[0]
        for precision in models:
            ious[precision].append(best_iou(image, union, precision))
    sample_ious: dict[str, list[float]] = {p: [] for p in models}
    largest_difference = 0.0
    for split in ("train", "test", "extra"):
        for entry in split_entries(root / "svhn-sample" / split):
            image = load_image(root / "svhn-sample" / split / entry.name)
            union = union_boxes(entry.boxes, np.array([len(entry.boxes)]))[0]
            for precision in models:
                sample_ious[precision].append(round(best_iou(image, union, precision), 3))
            maps = [probability_map(models[p], image, precision=p) for p in models]
            largest_difference = max(largest_difference, float(np.abs(maps[0] - maps[1]).max()))
    located = {p: np.array(v) >= 0.5 for p, v in ious.items()}
    return {
        "synthetic_scenes": scenes,
        "mean_box_iou": {p: float(np.mean(v)) for p, v in ious.items()},
        "located_iou_0.5": {p: int(v.sum()) for p, v in located.items()},
        "located_alike": int((located["float32"] == located["bfloat16"]).sum()),
        "svhn_sample_box_iou": sample_ious,
        "svhn_sample_max_probability_difference": largest_difference,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("--localizer", default=os.environ.get("SVHNX_LOCALIZER"))
    parser.add_argument("--recognizer", default=os.environ.get("SVHNX_RECOGNIZER"))
    args = parser.parse_args(argv if argv is not None else [])
    root = data_root()
    load_before = os.getloadavg()
    untrained = "untrained (random weights): latency only"
    results: dict[str, Any] = {
        "photo": f"{PHOTO_SIDE} x {PHOTO_SIDE} PNG: svhn-sample train/1.png scaled to 1100 wide, top and bottom rows repeated",
        "localizer": describe(args.localizer) or untrained,
        "recognizer": describe(args.recognizer) or untrained,
        "amx": amx_available(),
        "auto_precision": resolve_precision("auto"),
    }
    table = []
    cores = torch.get_num_threads()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        photo = make_photo(root, folder)
        random_localizer, random_recognizer = save_untrained(folder)
        localizer_path = Path(args.localizer) if args.localizer else random_localizer
        recognizer_path = Path(args.recognizer) if args.recognizer else random_recognizer
        ways = backends(localizer_path, recognizer_path, folder)
        thread_counts = sorted({cores, 1}, reverse=True)
        plan = [("multi-scale 64/128/256 (svhnx)", Reader, "torch", precision, threads, RUNS)
                for precision in ("float32", "bfloat16") for threads in thread_counts]
        plan += [("multi-scale 64/128/256 (svhnx)", Reader, backend, "float32", threads, RUNS)
                 for backend in ways if backend != "torch" for threads in thread_counts]
        plan.append(("full resolution 1104 (obvious)", FullResolutionReader, "torch", "float32", 1, FULL_RES_RUNS))
        for name, cls, backend, precision, threads, runs in plan:
            localizer, recognizer = ways[backend](threads)
            # never reject, so every run reads the same candidates whatever the weights
            reader = cls(localizer, recognizer, check_length=False, min_confidence=0.0, precision=precision)
            table.append({"method": name, "backend": backend, "precision": precision, "threads": threads, **latency(reader, photo, runs)})
        torch.set_num_threads(cores)
    reference = next(r for r in table if (r["backend"], r["precision"], r["threads"]) == ("torch", "float32", 1))
    for row in table:
        row["cpu_vs_torch_float32_1_thread"] = row["cpu_best_s"] / reference["cpu_best_s"]
    results["latency"] = table
    print_table("predict latency per 1100 x 1100 photo (decode + localize + read), seconds", table,
                ["method", "backend", "precision", "threads", "best_s", "median_s", "cpu_best_s", "cpu_median_s", "decode_median_s",
                 "read_median_s", "load_1min", "cpu_vs_torch_float32_1_thread"])
    if args.localizer:
        # without a trained recognizer only the boxes mean something: read everything, report IoU
        recognizer = load_model(args.recognizer, role="recognizer") if args.recognizer else untrained_recognizer()
        options = {} if args.recognizer else {"check_length": False, "min_confidence": 0.0}
        accuracy = sample_accuracy(Reader(load_model(args.localizer, role="localizer"), recognizer, **options), root)
        if not args.recognizer:
            for key in ("right", "rejected", "accuracy", "true_box_right", "true_box_rejected", "right_without_rejection",
                        "true_box_right_without_rejection"):
                accuracy.pop(key)
            for row in accuracy["rows"]:
                for key in ("number", "confidence", "rejected", "right", "crop_number", "crop_confidence", "crop_rejected", "crop_right",
                            "unfiltered_number", "crop_unfiltered_number"):
                    row.pop(key)
        results["svhn_sample"] = accuracy
        title = (f"svhn-sample whole images: {accuracy['right']} of {accuracy['images']} right, {accuracy['rejected']} rejected; "
                 f"on the true box: {accuracy['true_box_right']} right, {accuracy['true_box_rejected']} rejected" if args.recognizer
                 else "svhn-sample whole images: localizer boxes (no trained recognizer)")
        print_table(title, accuracy["rows"], ["image", "size", "truth", "number", "confidence", "rejected", "unfiltered_number", "box_iou",
                                              "crop_number", "crop_confidence", "crop_rejected", "crop_unfiltered_number"])
    if args.localizer:
        agreement = precision_agreement(Path(args.localizer), root)
        results["precision_agreement"] = agreement
        print(f"\nfloat32 vs bfloat16 localizer on {agreement['synthetic_scenes']} held-out synthetic scenes: mean box IoU "
              f"{agreement['mean_box_iou']}, located {agreement['located_iou_0.5']}, alike {agreement['located_alike']}; "
              f"svhn-sample largest probability difference {agreement['svhn_sample_max_probability_difference']:.4f}")
    results["load_average"] = {"before": load_before, "after": os.getloadavg()}
    command = ["python", "-m", "benchmarks.bench_predict"]
    for flag in ("localizer", "recognizer"):
        if getattr(args, flag):
            command += [f"--{flag}", str(getattr(args, flag))]
    path = save_result("predict", results, command)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
