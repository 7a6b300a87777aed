"""Synthetic scenes on disk: an SVHN split folder that the SVHN reader takes as it is, and the CLI."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from svhnx.data.svhn import split_entries
from svhnx.image_file import load_image
from svhnx.synth import Realism, SceneGenerator
from svhnx.synth.__main__ import main
from svhnx.synth.export import export_scenes, sample_grid


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "synth-cache"  # one atlas build per test session


@pytest.fixture(scope="module")
def generator(data_root: Path, cache: Path) -> SceneGenerator:
    return SceneGenerator.from_data(data_root, handwriting=False, cache_dir=cache)


def test_exported_folder_reads_back_as_an_svhn_split(generator: SceneGenerator, tmp_path: Path) -> None:
    path = export_scenes(generator, tmp_path / "synth", 7, seed=3)
    assert path == tmp_path / "synth" / "digitStruct.mat"
    entries = split_entries(tmp_path / "synth", strict=True)
    batch = generator.scenes(7, seed=3)
    assert [e.name for e in entries] == [f"{i}.png" for i in range(1, 8)]
    for i, entry in enumerate(entries):
        k = batch.lengths[i]
        np.testing.assert_array_equal(entry.labels, batch.digits[i, :k])
        np.testing.assert_array_equal(entry.boxes, batch.boxes[i, :k])
        np.testing.assert_array_equal(load_image(tmp_path / "synth" / entry.name), batch.images[i])


def test_export_rejects_an_empty_request(generator: SceneGenerator, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="count"):
        export_scenes(generator, tmp_path, 0, seed=0)


def test_sample_grid_tiles_images_keeping_their_aspect() -> None:
    wide = np.full((10, 40, 3), 200, np.uint8)
    grid = sample_grid([wide, wide, wide], columns=2, cell=20)
    assert grid.shape == (40, 40, 3)
    assert (grid[7:12, 0:20] == 200).all() and (grid[0:7, 0:20] == 0).all()  # centred, black margins
    assert (grid[20:40, 20:40] == 0).all()  # the missing fourth tile


def test_cli_writes_a_grid_and_an_export(data_root: Path, cache: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SVHNX_CACHE", str(cache))
    common = ["--data-root", str(data_root), "--no-handwriting", "--seed", "5"]
    assert main(["grid", str(tmp_path / "grid.png"), "--rows", "2", "--columns", "3", "--cell", "32",
                 "--mode", "crops", "--boxes", *common]) == 0
    assert cv2.imread(str(tmp_path / "grid.png")).shape == (64, 96, 3)
    assert main(["export", str(tmp_path / "out"), "--count", "3", "--degradation", "0", *common]) == 0
    entries = split_entries(tmp_path / "out", strict=True)
    expected = SceneGenerator.from_data(data_root, handwriting=False, cache_dir=cache,
                                        realism=Realism(degradation=0.0)).scenes(3, seed=5)
    for i, entry in enumerate(entries):
        np.testing.assert_array_equal(load_image(tmp_path / "out" / entry.name), expected.images[i])
    # The atlas, carried to a machine without these fonts, draws the same scenes there.
    assert main(["atlas", str(tmp_path / "atlas.npz"), *common]) == 0
    generator = SceneGenerator.from_data(data_root, cache_dir=tmp_path / "elsewhere", atlas=tmp_path / "atlas.npz",
                                         realism=Realism(degradation=0.0))
    for image, same in zip(generator.scenes(3, seed=5).images, expected.images, strict=True):
        np.testing.assert_array_equal(image, same)


def test_cli_rejects_bad_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["grid", "x.png", "--background", "1.5"])
    assert exc.value.code == 2
    assert "expected a number in [0, 1]" in capsys.readouterr().err


def test_cli_names_missing_statistics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SVHNX_CACHE", str(tmp_path / "cache"))
    assert main(["export", str(tmp_path / "out"), "--count", "1", "--data-root", str(tmp_path)]) == 2
    assert "boxes.csv.gz" in capsys.readouterr().err
