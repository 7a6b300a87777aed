"""One bad photo gets its own error line and the batch goes on; image sizes are checked before decoding."""

import json
import struct
import zlib

import cv2
import numpy as np
import pytest
import torch

from svhnx import predict
from svhnx.checkpoint import FORMAT, save_checkpoint
from svhnx.image_file import MAX_PIXELS_ENV, load_image
from svhnx.models import create_model


def png_claiming(path, width, height):
    """A tiny PNG whose header claims ``width x height`` pixels (its data is a few zero rows)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(64))) + chunk(b"IEND", b""))
    return path


def photo(path, size=(64, 96)):
    cv2.imwrite(str(path), np.full((*size, 3), 128, np.uint8))
    return path


def test_a_small_file_claiming_a_huge_image_is_refused_before_decoding(tmp_path):
    large = png_claiming(tmp_path / "large.png", 10000, 10000)
    assert large.stat().st_size < 400
    with pytest.raises(ValueError, match=r"10000 x 10000 pixels is more than the limit of 50,000,000"):
        load_image(large)
    with pytest.raises(ValueError, match=r"more than 178,956,970 pixels, Pillow's decompression-bomb limit"):
        load_image(png_claiming(tmp_path / "bomb.png", 40000, 40000), max_pixels=10**10)


def test_the_pixel_limit_is_the_callers_or_the_environments(tmp_path, monkeypatch):
    image = photo(tmp_path / "photo.png")  # 96 x 64 = 6,144 pixels
    assert load_image(image).shape == (64, 96, 3)
    with pytest.raises(ValueError, match="more than the limit of 6,000"):
        load_image(image, max_pixels=6000)
    monkeypatch.setenv(MAX_PIXELS_ENV, "6e3")
    with pytest.raises(ValueError, match="more than the limit of 6,000"):
        load_image(image)
    monkeypatch.setenv(MAX_PIXELS_ENV, "lots")
    with pytest.raises(ValueError, match=r"\$SVHNX_MAX_PIXELS: expected a positive number of pixels, got 'lots'"):
        load_image(image)


def test_unreadable_files_say_why(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ValueError, match="empty.png: not an image"):
        load_image(tmp_path / "empty.png")
    (tmp_path / "loop.png").symlink_to(tmp_path / "loop.png")
    with pytest.raises(OSError, match="loop.png: Too many levels of symbolic links"):
        load_image(tmp_path / "loop.png")
    with pytest.raises(FileNotFoundError, match="missing.png: no such file"):
        load_image(tmp_path / "missing.png")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checkpoints")
    paths = []
    for name, kwargs in (("unet", {"widths": [8, 16, 32, 64, 128], "length_head": True}), ("svhn-goodfellow", {"width": 0.25, "dense": 64})):
        torch.manual_seed(0)
        save_checkpoint(folder / f"{name}.pt", {"format": FORMAT, "model": {"name": name, "kwargs": kwargs},
                                                "model_state": create_model(name, **kwargs).state_dict()})
        paths.append(str(folder / f"{name}.pt"))
    return ["--localizer", paths[0], "--recognizer", paths[1]]


def test_bad_files_get_their_own_error_lines_and_the_batch_goes_on(tmp_path, checkpoints, capsys):
    (tmp_path / "empty.png").write_bytes(b"")
    bomb = png_claiming(tmp_path / "bomb.png", 40000, 40000)
    good = photo(tmp_path / "good.png")
    names = [str(tmp_path / "empty.png"), str(bomb), str(good)]
    assert predict.main([*names, *checkpoints, "--max-pixels", "1e6"]) == 1
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["image"] for r in records] == names
    assert "not an image" in records[0]["error"]
    assert "more than 178,956,970 pixels" in records[1]["error"]
    assert records[2]["error"] is None
    assert "Traceback" not in err and err.count("python -m svhnx.predict: ValueError") == 2
