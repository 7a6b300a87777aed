"""``python -m svhnx.export``: ONNX files that onnxruntime runs with torch's outputs (to 1e-4 on
logits), dynamic batch (and size, for the localizer), the runtime's backend interface, and the
reader on either backend."""

import json

import cv2
import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

from svhnx.inference import export  # noqa: E402
from svhnx.inference.backends import load_backend, onnx_path  # noqa: E402
from svhnx.inference.localize import pad_to_multiple  # noqa: E402
from svhnx.inference.reader import Reader  # noqa: E402
from svhnx.models import create_model  # noqa: E402
from svhnx.train.run_dir import save_checkpoint  # noqa: E402
from tests.models.trained_looking import trained_looking  # noqa: E402

TOLERANCE = 1e-4  # absolute, on logits (float32 engines differ by ~1e-6 here)
SMALL_UNET = {"widths": (8, 16, 32), "length_head": True}


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One torch thread: these small models gain nothing from more, and on a busy machine every
    parallel op of a second thread waits for it to be scheduled."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_run(tmp_path, name, **kwargs):
    """A run directory with a ``best.pt`` of model ``name`` (the same weights every time)."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = trained_looking(create_model(name, **kwargs))
    run = tmp_path / name
    save_checkpoint(run / "best.pt", {"format": 1, "task": "test", "model": {"name": name, "kwargs": kwargs},
                                      "model_state": model.state_dict(), "progress": {"step": 7}})
    return run, model


def max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


def test_recognizer_export_runs_on_onnxruntime_like_torch_at_any_batch_size(tmp_path, capsys):
    run, model = make_run(tmp_path, "mnist-lean", length_head=True)
    assert export.main([str(run), "--format", "onnx"]) == 0
    printed = capsys.readouterr().out
    assert "best.onnx" in printed and "max abs difference digits" in printed and "ok" in printed

    torch_backend, onnx_backend = load_backend(run / "best.pt"), load_backend(run / "best.pt", backend="onnx")
    assert onnx_backend.input_shape == (28, 140, 1) and onnx_backend.metadata["model"] == "mnist-lean"
    rng = np.random.default_rng(1)
    for batch in (1, 5, 32):
        images = rng.integers(0, 256, size=(batch, 28, 140, 1), dtype=np.uint8)
        expected, got = torch_backend(images), onnx_backend(images)
        assert got["digits"].shape == (batch, 5, 11) and got["length"].shape == (batch, 7)
        assert np.abs(expected["digits"]).max() > 1000 * TOLERANCE  # the tolerance is small next to the logits
        assert max_diff(expected, got) < TOLERANCE


def test_localizer_export_has_dynamic_batch_height_and_width(tmp_path):
    run, model = make_run(tmp_path, "unet", **SMALL_UNET)
    report = export.export_checkpoint(run, tmp_path / "out" / "localizer.onnx")
    assert report.ok and report.input_shape == (None, None, 3) and len(report.checked_shapes) == 2
    backend = load_backend(tmp_path / "out" / "localizer.onnx", backend="onnx")
    reference = load_backend(run, backend="torch")
    rng = np.random.default_rng(2)
    for shape in [(1, 32, 32, 3), (2, 64, 64, 3), (3, 48, 128, 3)]:
        images = rng.integers(0, 256, size=shape, dtype=np.uint8)
        got = backend(images)
        assert got["mask"].shape == (shape[0], 1, *shape[1:3]) and got["length"].shape == (shape[0], 7)
        assert max_diff(reference(images), got) < TOLERANCE


def test_a_localizer_with_a_refinement_head_exports_alike(tmp_path):
    kwargs = {"widths": (8, 16, 32), "length_head": True, "stem": 2, "refine": 4}
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = trained_looking(create_model("unet", **kwargs))
        torch.nn.init.normal_(model.refine.conv[-1].weight, std=0.5)  # a trained head, not its zero start
    run = tmp_path / "refined"
    save_checkpoint(run / "best.pt", {"format": 1, "task": "test", "model": {"name": "unet", "kwargs": kwargs},
                                      "model_state": model.state_dict(), "progress": {"step": 7}})
    assert export.export_checkpoint(run, tmp_path / "refined.onnx").ok
    backend, reference = load_backend(tmp_path / "refined.onnx", backend="onnx"), load_backend(run, backend="torch")
    images = np.random.default_rng(3).integers(0, 256, size=(2, 64, 96, 3), dtype=np.uint8)
    assert max_diff(reference(images), backend(images)) < TOLERANCE


def centred_localizer(photo: np.ndarray) -> torch.nn.Module:
    """A small U-Net whose mask is not flat: a steep head whose bias puts 10% of ``photo``'s
    pixels above the reader's threshold, so that the reader finds and reads candidates."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = trained_looking(create_model("unet", **SMALL_UNET))
    with torch.no_grad():
        model.head.weight.mul_(30.0)
        logits = model(torch.from_numpy(pad_to_multiple(cv2.resize(photo, (128, 64)))[None]))["mask"]
        model.head.bias -= torch.quantile(logits.flatten(), 0.9)
    return model


def test_onnx_and_torch_read_the_real_sample_photos_alike(tmp_path, data_root):
    photos = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in sorted((data_root / "svhn-sample").glob("*/*.png"))]
    assert len(photos) == 9
    localizer = centred_localizer(photos[4])
    localizer_run = tmp_path / "unet"
    save_checkpoint(localizer_run / "best.pt", {"model": {"name": "unet", "kwargs": SMALL_UNET}, "model_state": localizer.state_dict()})
    recognizer_run, _ = make_run(tmp_path, "svhn-goodfellow", width=0.25, dense=64)
    for run in (localizer_run, recognizer_run):
        export.export_checkpoint(run)

    # raw localizer logits on each photo, padded as the reader pads it
    torch_localizer, onnx_localizer = load_backend(localizer_run), load_backend(localizer_run, backend="onnx")
    for photo in photos:
        padded = pad_to_multiple(cv2.resize(photo, (100, 50), interpolation=cv2.INTER_AREA))[None]
        assert max_diff(torch_localizer(padded), onnx_localizer(padded)) < TOLERANCE

    # the whole reader (localize, crop, recognize) on each backend: the same readings
    # (ONNX computes in float32; an untrained recognizer's guesses can change in bfloat16, the default on AMX)
    options = {"scales": (64, 128), "min_confidence": 0.0, "check_length": False, "recognizer_precision": "float32"}
    readers = {b: Reader.from_checkpoints(localizer_run, recognizer_run, backend=b, **options) for b in ("torch", "onnx")}
    readings = [(readers["torch"].read(photo), readers["onnx"].read(photo)) for photo in photos]
    assert sum(expected.number is not None for expected, _ in readings) >= 5  # candidates were found and read
    for expected, got in readings:
        assert (got.number, got.box, got.length, got.rejected) == (expected.number, expected.box, expected.length, expected.rejected)
        assert abs(got.confidence - expected.confidence) < TOLERANCE


def test_a_model_that_is_not_fully_convolutional_needs_a_fixed_size(tmp_path):
    run, _ = make_run(tmp_path, "boxreg", widths=(8, 16))
    with pytest.raises(ValueError, match="--input-size H W"):
        export.export_checkpoint(run)
    assert not onnx_path(run).exists()  # nothing half-written is left behind
    report = export.export_checkpoint(run, input_size=(64, 96))
    assert report.ok and report.input_shape == (64, 96, 3)
    backend = load_backend(run, backend="onnx")
    with pytest.raises(ValueError, match=r"expected N x 64 x 96 x 3"):
        backend(np.zeros((1, 64, 64, 3), np.uint8))


def test_the_export_records_where_it_came_from(tmp_path):
    run, _ = make_run(tmp_path, "mnist-lean")
    export.export_checkpoint(run)
    metadata = load_backend(run, backend="onnx").metadata
    assert metadata["model"] == "mnist-lean" and metadata["step"] == 7 and metadata["input"] == "uint8 N x H x W x C"
    assert json.dumps(metadata)  # plain JSON


def test_bad_requests_get_clear_errors(tmp_path, capsys):
    run, _ = make_run(tmp_path, "mnist-lean")
    with pytest.raises(FileNotFoundError, match="svhnx.export"):
        load_backend(run / "best.pt", backend="onnx")  # not exported yet
    with pytest.raises(ValueError, match="backend: expected one of torch, onnx"):
        load_backend(run, backend="tensorrt")
    with pytest.raises(ValueError, match="not ONNX files"):
        load_backend(tmp_path / "model.onnx", backend="torch")
    backend = load_backend(run)
    with pytest.raises(ValueError, match="uint8 N x H x W x C"):
        backend(np.zeros((1, 28, 140, 1), np.float32))
    with pytest.raises(TypeError, match="numpy array"):
        backend(torch.zeros((1, 28, 140, 1), dtype=torch.uint8))
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    assert export.main([str(tmp_path / "junk.pt")]) == 2
    err = capsys.readouterr().err
    assert "junk.pt" in err and "not a readable checkpoint" in err
    assert export.main([str(tmp_path / "missing")]) == 2
    assert "no checkpoint at" in capsys.readouterr().err
    other, _ = make_run(tmp_path, "unet", **SMALL_UNET)  # weights of another model under this name
    save_checkpoint(tmp_path / "stale.pt", {"model": {"name": "mnist-lean", "kwargs": {}}, "model_state": torch.load(other / "best.pt")["model_state"]})
    with pytest.raises(ValueError, match="do not fit today's 'mnist-lean' model"):
        load_backend(tmp_path / "stale.pt")
