"""The native data path against the obvious Python, NumPy and OpenCV ways, side by side in one run.

(a) Compositing 5-slot MNIST sequences: the original study's per-image loop, a vectorised NumPy
    version, svhnx on one thread and on all, and ``np.copyto`` of the same output bytes (what the
    machine's memory can do at best).
(b) The SVHN recognizer input, per image: union of the digit boxes, grow by 30%, crop, resize to
    64 x 64, random 54 x 54 crop; svhnx, which makes only the 54 x 54 part of each resize
    (``crop_resize(..., crop=(54, 54), seed=...)``) and, for comparison, the whole 64 x 64 image
    and then ``random_crop``, against a per-image OpenCV loop (box maths image by image) and the
    strongest form of each peer (:mod:`benchmarks.ops_peers`: OpenCV with vectorised box maths,
    ``cv2.warpAffine`` straight to 54 x 54, and albumentations, torchvision v2 and kornia when they
    import; the others are skipped with a note). Run on SVHN's own geometry (the real train image
    sizes and digit boxes of ``$SVHNX_DATA/svhn-annotations``, random pixels) and on wider
    synthetic scenes (up to 500 px, a stress case); the target is judged on the first, and the
    ratio quoted is svhnx's against the fastest peer.

Each timing is the median of 15 calls: 3 passes over a table's methods, each pass calling a method
5 times back to back after a warm-up call, so that a busy moment of the shared machine does not land
on one method alone. One-thread rows are timed in CPU time of the calling thread (OpenCV limited to
one thread; svhnx with ``threads=1`` runs on the calling thread), multi-thread rows in wall time. The
SVHN table also times svhnx forced onto its SSE2 kernels (``SVHNX_SIMD=sse2``) next to the kernels it
picks itself. The load average before and after the run is recorded with the results. Writes ``benchmarks/results/ops.json``.
"""

from __future__ import annotations

import gzip
import math
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import torch

from benchmarks.ops_peers import peers
from benchmarks.record import print_table, save_result
from svhnx.ops import composite_sequences, crop_resize, expand_boxes, pixel_windows, random_crop, union_boxes
from svhnx.synth.layouts import annotations_path, read_annotations

BATCH = 4096  # sequences per compositing batch
LOOP_IMAGES = 400  # the study's compositing loop runs on fewer images; rates are per image
SVHN_IMAGES = 2048
SVHN_BATCH = 256  # images per call of each op on the SVHN path, a training batch
PASSES, REPEATS = 3, 5  # timing: the median of 3 passes of 5 back-to-back calls
CORES = os.cpu_count() or 1


def median_times(fns: Sequence[Callable[[], object]], threads: Sequence[int], passes: int = PASSES,
                 repeats: int = REPEATS) -> list[float]:
    """Median seconds per call of each function over ``passes`` passes over the functions, each
    running one function ``repeats`` times back to back after a warm-up call. One-thread work is
    timed by the calling thread's CPU time, which other processes do not inflate; multi-thread
    work by the wall clock."""
    clocks = [time.thread_time if t == 1 else time.perf_counter for t in threads]
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(passes):
        for fn, clock, times in zip(fns, clocks, samples):
            fn()
            for _ in range(repeats):
                begin = clock()
                fn()
                times.append(clock() - begin)
    return [statistics.median(times) for times in samples]


@contextmanager
def simd_kernels(name: str | None) -> Iterator[None]:
    """Run svhnx's native ops on the kernels ``name`` (``$SVHNX_SIMD``); ``None``: its own pick."""
    saved = os.environ.pop("SVHNX_SIMD", None)
    if name is not None:
        os.environ["SVHNX_SIMD"] = name
    try:
        yield
    finally:
        os.environ.pop("SVHNX_SIMD", None)
        if saved is not None:
            os.environ["SVHNX_SIMD"] = saved


# ---------------------------------------------------------------------------------------------
# (a) compositing
# ---------------------------------------------------------------------------------------------


def read_idx(path: Path, header: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def digit_bank() -> tuple[np.ndarray, np.ndarray, str]:
    """Real MNIST training digits from ``$SVHNX_DATA/mnist`` if present, else random ones."""
    mnist = Path(os.environ.get("SVHNX_DATA", ""), "mnist")
    images, labels = mnist / "train10k-images-idx3-ubyte.gz", mnist / "train10k-labels-idx1-ubyte.gz"
    if images.is_file() and labels.is_file():
        return read_idx(images, 16).reshape(-1, 28, 28), read_idx(labels, 8).astype(np.int64), "MNIST train10k"
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 10000), "random digits"


def study_loop(numbers: np.ndarray, number_labels: np.ndarray, count: int) -> list[np.ndarray]:
    """The original study's generator (its report's snippet), one image per iteration."""
    maxlength, digit_sz = 5, numbers.shape[1:]
    out = []
    for _ in range(count):
        img_len = np.random.choice(range(maxlength)) + 1
        label = np.empty(5, dtype="str")
        if img_len < maxlength:
            st_point = np.random.choice(maxlength - img_len)
        else:
            st_point = 0
        charmap = np.zeros(maxlength)
        charmap[st_point : st_point + img_len] = 1
        new_img = np.zeros((digit_sz[0], maxlength * digit_sz[1]))
        for i, b in enumerate(charmap):
            if b > 0:
                n = np.random.choice(len(numbers))
                st_pos = i * digit_sz[1]
                new_img[:, st_pos : st_pos + digit_sz[1]] = numbers[n]
                label[i] = str(number_labels[n])
            else:
                label[i] = "."
        out.append(new_img)
    return out


def numpy_vectorised(padded_bank: np.ndarray, labels: np.ndarray, count: int, rng: np.random.Generator):
    """The same generator with fancy indexing: ``padded_bank`` ends with one black digit."""
    blank = len(padded_bank) - 1
    lengths = rng.integers(1, 6, count)
    starts = rng.integers(0, 6 - lengths)
    slots = np.arange(5)
    filled = (slots >= starts[:, None]) & (slots < (starts + lengths)[:, None])
    picks = np.where(filled, rng.integers(0, blank, (count, 5)), blank)
    h, w = padded_bank.shape[1:]
    images = padded_bank[picks].transpose(0, 2, 1, 3).reshape(count, h, 5 * w)
    targets = np.where(filled, labels[np.minimum(picks, blank - 1)], 10)
    return images, targets, lengths


def bench_compositing() -> dict:
    digits, labels, source = digit_bank()
    padded = np.concatenate([digits, np.zeros((1, *digits.shape[1:]), np.uint8)])
    image_bytes = digits.shape[1] * digits.shape[2] * 5
    rng = np.random.default_rng(0)
    seeds = iter(range(1_000_000))
    methods = [
        ("study per-image loop", 1, LOOP_IMAGES, lambda: study_loop(digits, labels, LOOP_IMAGES)),
        ("NumPy vectorised", 1, BATCH, lambda: numpy_vectorised(padded, labels, BATCH, rng)),
        ("svhnx", 1, BATCH, lambda: composite_sequences(digits, labels, BATCH, seed=next(seeds), threads=1)),
        ("svhnx", CORES, BATCH, lambda: composite_sequences(digits, labels, BATCH, seed=next(seeds))),
    ]
    src, dst = np.ones((BATCH, image_bytes), np.uint8), np.zeros((BATCH, image_bytes), np.uint8)
    methods.append(("memcpy (np.copyto)", 1, BATCH, lambda: np.copyto(dst, src)))
    seconds = median_times([m[3] for m in methods], [m[1] for m in methods])
    rows = [_rate_row(name, threads, count, t, image_bytes) for (name, threads, count, _), t in zip(methods, seconds)]
    reference = rows[3]["images_per_s"]
    for row in rows:
        row["svhnx_speedup"] = reference / row["images_per_s"]
    return {"digit_bank": source, "batch": BATCH, "image_shape": [digits.shape[1], 5 * digits.shape[2]], "rows": rows}


# ---------------------------------------------------------------------------------------------
# (b) the SVHN path
# ---------------------------------------------------------------------------------------------


def svhn_geometry(count: int, rng: np.random.Generator):
    """``count`` random SVHN train images as the path sees them: the real image sizes and digit
    boxes from ``$SVHNX_DATA/svhn-annotations/boxes.csv.gz``, random pixels; returns images, boxes
    (float32 [M, 4]) and counts, or ``None`` without the annotations."""
    try:
        annotations = read_annotations(annotations_path(Path(os.environ.get("SVHNX_DATA", ""))))
    except FileNotFoundError:
        return None
    numbers = annotations.numbers("train")
    images, boxes = [], []
    for index in rng.choice(len(numbers), count, replace=False):
        rows = numbers[index]
        width, height = annotations.image_size[rows[0]]
        images.append(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
        boxes.append(annotations.box[rows])
    return images, np.concatenate(boxes), np.array([len(b) for b in boxes], np.int64)


def wide_scenes(count: int, rng: np.random.Generator):
    """Synthetic scenes wider than SVHN's (a stress case): ~50-500 px wide RGB images (log-uniform),
    each with 1-5 digit boxes in a row (some crossing the border); returns images, boxes
    (float32 [M, 4]) and counts."""
    images, boxes, counts = [], [], []
    for _ in range(count):
        width = int(np.exp(rng.uniform(np.log(50), np.log(500))))
        height = max(20, int(width * rng.uniform(0.3, 0.7)))
        images.append(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
        digits = int(rng.integers(1, 6))
        digit_h = height * rng.uniform(0.3, 0.8)
        digit_w = digit_h * rng.uniform(0.35, 0.6)
        left = rng.uniform(-0.05 * width, max(0.0, width - digits * digit_w))
        top = rng.uniform(-0.05 * height, height - 0.9 * digit_h)
        for k in range(digits):
            boxes.append([left + k * digit_w * 1.05, top + rng.uniform(-2, 2), digit_w, digit_h])
        counts.append(digits)
    return images, np.array(boxes, np.float32), np.array(counts, np.int64)


def opencv_loop(images, boxes, counts, rng: np.random.Generator) -> np.ndarray:
    """Union, grow 30%, crop, resize to 64 x 64 and random 54 x 54 crop, one image at a time."""
    out = np.empty((len(images), 54, 54, 3), np.uint8)
    start = 0
    for i, image in enumerate(images):
        digits = boxes[start : start + counts[i]]
        start += counts[i]
        left, top = digits[:, :2].min(axis=0).tolist()
        right, bottom = (digits[:, :2] + digits[:, 2:]).max(axis=0).tolist()
        cx, cy, half_w, half_h = (left + right) / 2, (top + bottom) / 2, 0.65 * (right - left), 0.65 * (bottom - top)
        h, w = image.shape[:2]
        x0, y0 = min(max(math.floor(cx - half_w), 0), w - 1), min(max(math.floor(cy - half_h), 0), h - 1)
        x1, y1 = min(max(math.ceil(cx + half_w), x0 + 1), w), min(max(math.ceil(cy + half_h), y0 + 1), h)
        resized = cv2.resize(image[y0:y1, x0:x1], (64, 64), interpolation=cv2.INTER_LINEAR)
        top_off, left_off = rng.integers(0, 11, size=2).tolist()
        out[i] = resized[top_off : top_off + 54, left_off : left_off + 54]
    return out


def svhnx_path(images, boxes, counts, seed: int, threads: int | None, fused: bool = True) -> list[np.ndarray]:
    """The same path with svhnx, one batch of ``SVHN_BATCH`` images per call of each op; returns
    the batches (uint8 [SVHN_BATCH, 54, 54, 3]) as a data loader would hand them on. ``fused``:
    ``crop_resize`` makes only the random 54 x 54 part of each 64 x 64 resize; otherwise it makes
    the whole 64 x 64 image and ``random_crop`` cuts the part out."""
    offsets = np.concatenate([[0], np.cumsum(counts)])
    out = []
    for start in range(0, len(images), SVHN_BATCH):
        end = min(start + SVHN_BATCH, len(images))
        batch = images[start:end]
        sizes = np.array([image.shape[:2] for image in batch])
        unions = union_boxes(boxes[offsets[start] : offsets[end]], counts[start:end], threads=threads)
        expanded = expand_boxes(unions, sizes, 0.3, threads=threads)
        if fused:
            out.append(crop_resize(batch, expanded, (64, 64), threads, crop=(54, 54), seed=seed + start))
        else:
            resized = crop_resize(batch, expanded, (64, 64), threads=threads)
            out.append(random_crop(resized, (54, 54), seed=seed + start, threads=threads))
    return out


def sse2_available() -> bool:
    """Whether this build and CPU run svhnx's SSE2 kernels (x86-64 builds do)."""
    with simd_kernels("sse2"):
        try:
            crop_resize([np.zeros((2, 2, 3), np.uint8)], np.array([[0, 0, 1, 1]], np.float32))
        except ValueError:
            return False
    return True


def sse2_path(images, boxes, counts, seed: int) -> list[np.ndarray]:
    """``svhnx_path`` on one thread with the SSE2 kernels, whatever the CPU offers beyond them."""
    with simd_kernels("sse2"):
        return svhnx_path(images, boxes, counts, seed, 1)


def bench_svhn_path(images, boxes, counts, geometry: str) -> dict:
    rng = np.random.default_rng(1)
    seeds = iter(range(1_000_000))
    n = len(images)
    methods = [
        ("OpenCV per-image loop", 1, n, lambda: opencv_loop(images, boxes, counts, rng)),
        ("svhnx", 1, n, lambda: svhnx_path(images, boxes, counts, next(seeds), 1)),
        ("svhnx", CORES, n, lambda: svhnx_path(images, boxes, counts, next(seeds), None)),
        ("svhnx, resize 64 then random_crop", 1, n, lambda: svhnx_path(images, boxes, counts, next(seeds), 1, fused=False)),
    ]
    if sse2_available():
        methods.append(("svhnx, SSE2 kernels", 1, n, lambda: sse2_path(images, boxes, counts, next(seeds))))
    available, skipped = peers()
    first_peer = len(methods)
    methods += [(name, 1, n, lambda fn=fn: fn(images, boxes, counts, rng)) for name, fn in available]
    opencv_threads, torch_threads = cv2.getNumThreads(), torch.get_num_threads()
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    try:
        seconds = median_times([m[3] for m in methods], [m[1] for m in methods])
        stages = svhnx_stages(images, boxes, counts)
        in_cache = resize_in_cache(images, boxes, counts)
    finally:
        cv2.setNumThreads(opencv_threads)
        torch.set_num_threads(torch_threads)
    rows = [_rate_row(name, threads, count, t) for (name, threads, count, _), t in zip(methods, seconds)]
    for i, row in enumerate(rows):
        row["svhnx_1_thread_speedup"] = rows[1]["images_per_s"] / row["images_per_s"]
        row["peer"] = i == 0 or i >= first_peer
    strongest = max((row for row in rows if row["peer"]), key=lambda row: row["images_per_s"])
    widths = [image.shape[1] for image in images]
    return {
        "geometry": geometry,
        "images": n,
        "image_MB": round(sum(image.nbytes for image in images) / 1e6, 1),
        "batch": SVHN_BATCH,
        "image_widths": [int(min(widths)), int(np.median(widths)), int(max(widths))],
        "boxes_per_image": [int(counts.min()), int(counts.max())],
        "rows": rows,
        "skipped_peers": skipped,
        "strongest_peer": {"method": strongest["method"], "images_per_s": strongest["images_per_s"],
                           "svhnx_1_thread_speedup": strongest["svhnx_1_thread_speedup"]},
        "svhnx_1_thread_stages_us_per_image": stages,
        "resize_with_images_in_cache_us_per_image": in_cache,
    }


def svhnx_stages(images, boxes, counts) -> dict[str, float]:
    """Microseconds per image of each svhnx stage on one thread, batch by batch as in svhnx_path."""
    offsets = np.concatenate([[0], np.cumsum(counts)])
    batches = []
    for start in range(0, len(images), SVHN_BATCH):
        end = min(start + SVHN_BATCH, len(images))
        batch, digits, n = images[start:end], boxes[offsets[start] : offsets[end]], counts[start:end]
        sizes = np.array([image.shape[:2] for image in batch])
        unions = union_boxes(digits, n)
        expanded = expand_boxes(unions, sizes)
        batches.append((batch, digits, n, sizes, unions, expanded, crop_resize(batch, expanded)))
    stages = {
        "image sizes (NumPy)": lambda b: np.array([image.shape[:2] for image in b[0]]),
        "union_boxes": lambda b: union_boxes(b[1], b[2], threads=1),
        "expand_boxes": lambda b: expand_boxes(b[4], b[3], threads=1),
        "crop_resize to 54 x 54 of 64 x 64 (fused)": lambda b: crop_resize(b[0], b[5], threads=1, crop=(54, 54), seed=0),
        "crop_resize to 64 x 64": lambda b: crop_resize(b[0], b[5], threads=1),
        "random_crop 54 x 54": lambda b: random_crop(b[6], seed=0, threads=1),
    }
    runs = [lambda fn=fn: [fn(b) for b in batches] for fn in stages.values()]
    seconds = median_times(runs, [1] * len(runs))
    return {name: 1e6 * t / len(images) for name, t in zip(stages, seconds)}


def resize_in_cache(images, boxes, counts, chunk: int = 8) -> dict[str, float]:
    """Microseconds per image of the resize alone, on one thread, with the source images in cache:
    each chunk of ``chunk`` images (well under the L2 cache) is resized once to load it, then timed
    (median of 5 calls). svhnx's ``crop_resize`` against ``cv2.resize`` of the same crops; next to
    the stage timings (images read from memory) this shows how much of the time is memory."""
    sizes = np.array([image.shape[:2] for image in images])
    expanded = expand_boxes(union_boxes(boxes, counts), sizes)
    windows = pixel_windows(expanded, sizes)

    def opencv(start: int) -> None:
        for image, (x0, y0, x1, y1) in zip(images[start : start + chunk], windows[start : start + chunk]):
            cv2.resize(image[y0:y1, x0:x1], (64, 64), interpolation=cv2.INTER_LINEAR)

    fns = {
        "svhnx crop_resize": lambda start: crop_resize(images[start : start + chunk], expanded[start : start + chunk], threads=1),
        "cv2.resize loop": opencv,
    }
    totals = dict.fromkeys(fns, 0.0)
    for start in range(0, len(images), chunk):
        for name, fn in fns.items():
            totals[name] += median_times([lambda: fn(start)], [1], passes=1, repeats=5)[0]
    return {name: 1e6 * total / len(images) for name, total in totals.items()}


def _rate_row(method: str, threads: int, images: int, seconds: float, image_bytes: int | None = None) -> dict:
    clock = "thread CPU time" if threads == 1 else "wall"
    row = {"method": method, "threads": threads, "images": images, "seconds": seconds, "clock": clock,
           "images_per_s": images / seconds}
    if image_bytes is not None:
        row["MB_per_s"] = images * image_bytes / seconds / 1e6
    return row


def targets(compositing: dict, svhn: dict) -> list[dict]:
    """The issue's targets, each with the measured value and whether it was met. Compositing uses
    the faster svhnx row (1 thread or all threads), the SVHN path svhnx on one thread (on SVHN's
    own image geometry when the annotations are there)."""
    loop, vectorised, one, every, memcpy = compositing["rows"]
    best = max(one, every, key=lambda row: row["images_per_s"])
    svhnx = f"svhnx ({best['threads']} thread{'s' if best['threads'] > 1 else ''})"
    checks = [
        (f"compositing: {svhnx} vs study loop", ">= 100x", best["images_per_s"] / loop["images_per_s"], 100),
        (f"compositing: {svhnx} vs NumPy vectorised", ">= 5x", best["images_per_s"] / vectorised["images_per_s"], 5),
        (f"compositing: {svhnx} vs memcpy bandwidth", ">= 0.33", best["MB_per_s"] / memcpy["MB_per_s"], 1 / 3),
        (f"SVHN path ({svhn['geometry']}): svhnx (1 thread) vs OpenCV loop", ">= 5x", svhn["rows"][1]["images_per_s"] / svhn["rows"][0]["images_per_s"], 5),
    ]
    return [{"target": t, "required": r, "measured": m, "met": bool(m >= need)} for t, r, m, need in checks]


def main() -> None:
    load_before = os.getloadavg()
    compositing = bench_compositing()
    print_table(
        f"Compositing {compositing['batch']} sequences of {compositing['image_shape']} from {compositing['digit_bank']}",
        compositing["rows"],
        ["method", "threads", "clock", "images", "images_per_s", "MB_per_s", "svhnx_speedup"],
    )
    rng = np.random.default_rng(1)
    real = svhn_geometry(SVHN_IMAGES, rng)
    paths = []
    if real is not None:
        paths.append(bench_svhn_path(*real, "SVHN train geometry"))
    paths.append(bench_svhn_path(*wide_scenes(SVHN_IMAGES, rng), "wide synthetic scenes"))
    for svhn in paths:
        print_table(
            f"SVHN path (union, expand 30%, crop, resize 64, random 54 crop), {svhn['images']} images of "
            f"{svhn['geometry']} ({svhn['image_widths'][0]}-{svhn['image_widths'][2]} px wide, {svhn['image_MB']} MB), "
            f"svhnx in batches of {svhn['batch']}",
            svhn["rows"],
            ["method", "threads", "clock", "images", "images_per_s", "svhnx_1_thread_speedup"],
        )
        for note in svhn["skipped_peers"]:
            print(f"  skipped {note['peer']}: {note['skipped']}")
        strongest = svhn["strongest_peer"]
        print(f"  svhnx (1 thread) is {strongest['svhnx_1_thread_speedup']:.1f}x the strongest peer, {strongest['method']}")
        print_table(
            f"svhnx stages, 1 thread, {svhn['geometry']} (us per image)",
            [{"stage": k, "us_per_image": v} for k, v in svhn["svhnx_1_thread_stages_us_per_image"].items()],
            ["stage", "us_per_image"],
        )
        print_table(
            f"Resize alone, 1 thread, source images in cache, {svhn['geometry']} (us per image)",
            [{"method": k, "us_per_image": v} for k, v in svhn["resize_with_images_in_cache_us_per_image"].items()],
            ["method", "us_per_image"],
        )
    svhn = paths[0]
    checks = targets(compositing, svhn)
    print_table("Targets", checks, ["target", "required", "measured", "met"])
    load = {"before": [round(v, 2) for v in load_before], "after": [round(v, 2) for v in os.getloadavg()]}
    print(f"\nload average (1, 5, 15 min) before {load['before']}, after {load['after']}")
    path = save_result("ops", {"compositing": compositing, "svhn_paths": paths, "targets": checks, "load_average": load})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
