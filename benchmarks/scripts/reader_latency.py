"""Seconds per 1100 x 1100 photo of the whole-photo reader on one thread, float32 and bfloat16 (the
localizer alone, then the recognizer too): the study's U-Net read the old way against the CPU-sized U-Net with a cheap first pass and one or
two close looks at its candidates.

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.scripts.reader_latency [--localizer RUN] [--recognizer RUN [RUN ...]]

Photos: synthetic house fronts with a number (:class:`svhnx.synth.photos.PhotoGenerator`, a
held-out seed) resized to 1100 x 1100, and fronts without one, timed apart (a retry runs on every
photo the first pass reads no number in). Each configuration reads every photo several times, after a warm-up; the
median over reads is kept, wall clock and the process's CPU time (on a shared machine the wall
clock waits for the CPU; the CPU time is what one idle core would take), with the time of each
stage (first pass over the scales, candidates and the close look, recognizer, retry). Without
``--localizer``/``--recognizer`` the shipped models are timed (the time depends on the weights
through the number of candidates read: an untrained localizer finds none, and its reader never
reaches the recognizer). The study's U-Net is untrained, as only its size matters. Writes
``benchmarks/results/reader_latency.json`` with the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

import cv2
import numpy as np
import torch

from benchmarks.reader_models import add_model_arguments, described, load_localizer, load_recognizer
from benchmarks.record import print_table, save_result
from svhnx.hardware import amx_available
from svhnx.inference.localize import DEFAULT_RETRY_SCALES, READER_SCALES
from svhnx.inference.reader import UNSURE, Reader, Reading
from svhnx.inference.recognize import ALL_UNSURE
from svhnx.models import create_model
from svhnx.models.unet import DEFAULT_WIDTHS
from svhnx.synth.photos import PhotoGenerator

SIDE = 1100
SEED = 4321  # a photo stream no training or validation run draws from
#: (localizer, recognizer) precisions measured: all float32, the localizer in bfloat16, both.
PRECISION_PAIRS = (("float32", "float32"), ("bfloat16", "float32"), ("bfloat16", "bfloat16"))


def configurations(localizer: torch.nn.Module) -> dict[str, dict[str, Any]]:
    """Name -> the localizer and the reader options it is read with; the shipped localizer with the
    reader's default options is marked ``(default)``."""
    study = create_model("unet", widths=list(DEFAULT_WIDTHS), length_head=True).eval()
    every, unsure = {"unsure": ALL_UNSURE}, {"unsure": (0.3, 0.99)}
    named = {
        "study U-Net, scales 64-128-256, no close look": {"localizer": study, "scales": (64, 128, 256), "refine": False, **every},
        "CPU U-Net, scales 64-128-256 + two close looks, every view (the default until rule scales320)":
            {"localizer": localizer, "scales": (64, 128, 256), **every},
        "CPU U-Net, scales 64-128-320 + one close look, shifted views only if unsure": {"localizer": localizer, "scales": (64, 128, 320),
                                                                                        "close_looks": 1, **unsure},
        "CPU U-Net, scales 64-128-320 + two close looks, every view (the default until rule sure1)": {"localizer": localizer, "scales": (64, 128, 320), **every},
        "CPU U-Net, scales 64-128-320 + two close looks, shifted views only if unsure (0.3-0.99)": {"localizer": localizer, "scales": (64, 128, 320), **unsure},
        "CPU U-Net, scales 64-128-448 + two close looks, shifted views only if unsure (0.3-0.99)": {"localizer": localizer, "scales": (64, 128, 448), **unsure},
        "CPU U-Net, scales 64-128-320 + two close looks, shifted views only if unsure, retry at 512": {"localizer": localizer, "scales": (64, 128, 320),
                                                                                                       "retry_scales": (512,), **unsure},
        "CPU U-Net, scales 64-128 + two close looks, shifted views only if unsure (0.3-0.99), retry at 448": {"localizer": localizer, "scales": (64, 128),
                                                                                                              "retry_scales": (448,), **unsure},
    }
    default = {"scales": READER_SCALES, "retry_scales": DEFAULT_RETRY_SCALES, "unsure": UNSURE}
    out = {}
    for name, config in named.items():
        config = {"retry_scales": (), **config}
        options = {key: value for key, value in config.items() if key != "localizer"}
        out[f"{name} (default)" if config["localizer"] is localizer and options == default else name] = config
    return out


@torch.inference_mode()
def timed_read(reader: Reader, image: np.ndarray) -> dict[str, float]:
    """One read, stage by stage (the reader's own steps), wall and CPU seconds, and whether it
    ended with a number (``number_read``, 1 or 0; the retry's reading counts)."""
    marks = [(time.perf_counter(), time.process_time())]
    candidates = reader.first_pass(image)
    marks.append((time.perf_counter(), time.process_time()))
    candidates, lengths = reader.close_look(image, candidates)
    marks.append((time.perf_counter(), time.process_time()))
    reading = reader._read_candidates(image, candidates, lengths) if candidates else Reading.empty()
    marks.append((time.perf_counter(), time.process_time()))
    reading = reader.retry(image, reading)
    marks.append((time.perf_counter(), time.process_time()))
    out = {"candidates_read": float(len(candidates)), "number_read": float(reading.number is not None)}
    for (name, (w0, c0), (w1, c1)) in zip(("first_pass", "close_look", "recognize", "retry"), marks, marks[1:]):
        out[f"{name}_wall_s"], out[f"{name}_cpu_s"] = w1 - w0, c1 - c0
    out["wall_s"], out["cpu_s"] = marks[-1][0] - marks[0][0], marks[-1][1] - marks[0][1]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripts.reader_latency", description=__doc__.split("\n\n")[0])
    add_model_arguments(parser)
    parser.add_argument("--photos", type=int, default=4, help="photos read (default: %(default)s)")
    parser.add_argument("--number-free", type=int, default=2, help="photos without a number read as well, timed apart (default: %(default)s)")
    parser.add_argument("--reads", type=int, default=3, help="reads of each photo (default: %(default)s)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    localizer, recognizer = load_localizer(args.localizer), load_recognizer(args.recognizer)
    generator = PhotoGenerator.from_data()
    photo_sets = {kind: [cv2.resize(p.image, (SIDE, SIDE), interpolation=cv2.INTER_AREA)
                         for p in generator.photos(count, seed=SEED, with_number=kind == "with a number")]
                  for kind, count in (("with a number", args.photos), ("without a number", args.number_free)) if count}
    load_before = os.getloadavg()
    rows = []
    for name, config in configurations(localizer).items():
        for precision, recognizer_precision in PRECISION_PAIRS:
            reader = Reader(recognizer=recognizer, precision=precision, recognizer_precision=recognizer_precision, **config)
            for kind, photos in photo_sets.items():
                timed_read(reader, photos[0])  # warm-up
                reads = [timed_read(reader, photo) for photo in photos for _ in range(args.reads)]
                row = {"configuration": name, "photos": kind, "precision": precision, "recognizer_precision": recognizer_precision}
                for key in reads[0]:  # medians, but the share of reads that end with a number
                    row[key] = round((statistics.mean if key == "number_read" else statistics.median)(r[key] for r in reads), 4)
                row["cpu_s_max"] = round(max(r["cpu_s"] for r in reads), 4)
                rows.append(row)
                print(f"{name}, {kind}, {precision}/{recognizer_precision}: {row['cpu_s']:.3f} s CPU, {row['wall_s']:.3f} s wall", flush=True)
    load_after = os.getloadavg()
    results = {
        "setup": f"{args.photos} synthetic house-front photos with a number and {args.number_free} without (seed {SEED}) resized to "
                 f"{SIDE} x {SIDE}, {args.reads} reads each "
                 "after a warm-up, one torch thread, one OpenCV thread; medians over reads",
        "localizer": described(args.localizer),
        "recognizer": described(args.recognizer),
        "amx": amx_available(),
        "rows": rows,
        "load_average_1_5_15_min": {"start": [round(x, 2) for x in load_before], "end": [round(x, 2) for x in load_after]},
        "note": "2-core CPU shared with other engineers' training runs and builds while measured; CPU time is the "
                "figure for an idle core",
    }
    command = ["python", "-m", "benchmarks.scripts.reader_latency", *(argv if argv is not None else sys.argv[1:])]
    path = save_result("reader_latency", results, command=command)
    print_table("Whole-photo reader, 1100 x 1100, one thread", rows,
                ["configuration", "photos", "precision", "recognizer_precision", "cpu_s", "cpu_s_max", "wall_s", "first_pass_cpu_s", "close_look_cpu_s",
                 "recognize_cpu_s", "retry_cpu_s", "candidates_read", "number_read"])
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
