"""Transfer: a recognizer trained only on synthetic crops (``python -m svhnx.train synth``), read on real photos.

``python -m benchmarks.synth_transfer RUN [--sample DIR]`` reads every image of the SVHN sample's
split folders that has pixels (``train/``, ``test/``, ``extra/`` of ``$SVHNX_DATA/svhn-sample``)
with the SVHN pipeline (union of the digit boxes grown by 30%, 64 x 64 crop, centre 54 x 54, the
most probable number), prints each reading against the truth, and records them with sequence and
digit accuracy and the run's last synthetic validation metrics in
``benchmarks/results/synth_transfer.json`` (readings figure: ``synth_transfer.png``).

The original study's MNIST-trained model read none of SVHN's numbers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from benchmarks.record import RESULTS, save_result
from svhnx.data.download import default_root
from svhnx.data.svhn import MissingImageWarning
from svhnx.data.svhn_dataset import evaluation_batches
from svhnx.data.svhn_preprocess import SvhnCrops, load_crops, preprocess_split
from svhnx.evaluate import load_run
from svhnx.labels import target_to_string
from svhnx.models.svhn import most_probable_numbers
from svhnx.train.run_dir import read_metrics
from svhnx.viz.readings import plot_readings

SPLITS = ("train", "test", "extra")


def sample_crops(sample: Path, work: Path) -> SvhnCrops:
    """The 64 x 64 crops of every sample image that has pixels, split after split."""
    parts = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingImageWarning)  # the sample lists 40 entries per split, 3 with pixels
        for split in SPLITS:
            if (sample / split).is_dir():
                crops = load_crops(preprocess_split(sample / split, work / f"{split}.h5", progress=False))
                parts.append(SvhnCrops(crops.images, crops.digits, crops.lengths, [f"{split}/{n}" for n in crops.names]))
    if not parts:
        raise FileNotFoundError(f"{sample}: no split folder (train/, test/, extra/) with a digitStruct.mat")
    return SvhnCrops.join(parts)


@torch.no_grad()
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.synth_transfer", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="run directory of python -m svhnx.train synth")
    parser.add_argument("--sample", type=Path, default=None, help="SVHN sample folder (default: $SVHNX_DATA/svhn-sample)")
    args = parser.parse_args(argv)
    sample = args.sample if args.sample is not None else default_root() / "svhn-sample"
    loaded = load_run(args.run, device="cpu")
    if loaded.checkpoint["task"] != "synth":
        parser.error(f"{args.run}: a run of the 'synth' task was expected, got {loaded.checkpoint['task']!r}")
    loaded.model.eval()
    with tempfile.TemporaryDirectory() as work:
        crops = sample_crops(sample, Path(work))
    digits, lengths, confidence = [], [], []
    for batch in evaluation_batches(crops, 64):
        d, n, c = most_probable_numbers(loaded.model(batch["images"]))
        digits.append(d), lengths.append(n), confidence.append(c)
    digits, lengths, confidence = torch.cat(digits).numpy(), torch.cat(lengths).numpy(), torch.cat(confidence).numpy()
    correct = (digits == crops.digits).all(axis=1) & (lengths == crops.lengths)
    in_number = np.arange(5) < crops.lengths[:, None]
    readings = [{"image": name, "truth": target_to_string(t), "read": target_to_string(r), "confidence": round(float(c), 3),
                 "correct": bool(ok)} for name, t, r, c, ok in zip(crops.names, crops.digits, digits, confidence, correct)]
    for r in readings:
        print(f"{r['image']:16s} truth {r['truth']:6s} read {r['read'] or '-':6s} ({r['confidence']:.2f}) {'right' if r['correct'] else 'wrong'}")
    result = {
        "run": str(args.run),
        "model": loaded.checkpoint["model"],
        "steps": int(loaded.checkpoint["progress"]["step"]),
        "training_images": int(loaded.checkpoint["progress"]["images"]),
        "real_images": len(readings),
        "sequence_accuracy": float(correct.mean()),
        "digit_accuracy": float((digits == crops.digits)[in_number].mean()),
        "readings": readings,
        "synthetic_validation": read_metrics(Path(args.run) / "metrics.csv")[-1:],
        "figure": "benchmarks/results/synth_transfer.png",
    }
    print(f"\nsequence accuracy {result['sequence_accuracy']:.3f}, digit accuracy {result['digit_accuracy']:.3f} "
          f"on {len(readings)} real images")
    plot_readings(crops.images[:, 5:59, 5:59], crops.digits, digits, confidence, correct, RESULTS / "synth_transfer.png",
                  count=len(readings), columns=len(readings))
    print(f"wrote {save_result('synth_transfer', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
