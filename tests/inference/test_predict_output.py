"""``python -m svhnx.predict``: folders of photos, CSV output and annotated copies (stand-in models)."""

import csv
import io
import json

import cv2
import numpy as np
import pytest
from stand_ins import BrightIsNumber, Reads

from svhnx.inference import predict
from svhnx.inference.predict import CSV_COLUMNS, OUTPUT_KEYS, annotate, expand_inputs, main
from svhnx.inference.reader import Reader, Reading


@pytest.fixture
def stand_in_reader(monkeypatch):
    monkeypatch.setattr(Reader, "from_checkpoints", classmethod(lambda cls, *a, **k: Reader(BrightIsNumber(length=3), Reads("210"))))


def photo(bright: bool = True) -> np.ndarray:
    image = np.full((120, 200, 3), 40, np.uint8)
    if bright:
        image[40:70, 80:140] = 230
    return image


def write(path, image) -> str:
    assert cv2.imwrite(str(path), image)
    return str(path)


def test_a_folder_is_its_images_in_natural_order(tmp_path):
    for name in ["10.png", "2.JPG", "1.jpeg", "notes.txt", "b.webp"]:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "3.png").write_bytes(b"")
    names = [p.rsplit("/", 1)[1] for p in expand_inputs([str(tmp_path)])]
    assert names == ["1.jpeg", "2.JPG", "10.png", "b.webp"]
    assert expand_inputs(["missing.png", str(tmp_path / "sub")]) == ["missing.png", str(tmp_path / "sub" / "3.png")]


def test_a_folder_without_images_is_named_and_nothing_to_read_is_an_error(stand_in_reader, tmp_path, capsys):
    (tmp_path / "test").mkdir()
    (tmp_path / "train").mkdir()
    (tmp_path / "README.md").write_text("photos are in test/ and train/")
    with pytest.raises(SystemExit) as stopped:
        main([str(tmp_path)])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and "no images to read" in err
    assert f"{tmp_path}: no images in this folder" in err and "name them instead: test, train" in err

    good = write(tmp_path / "test" / "1.png", photo())
    assert main([str(tmp_path), str(tmp_path / "test")]) == 0  # a warning for the first, the second read
    captured = capsys.readouterr()
    assert "no images in this folder" in captured.err and json.loads(captured.out)["image"] == good


def test_predict_reads_a_folder_as_json_lines(stand_in_reader, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    paths = [write(folder / f"{i}.png", photo(bright=i != 2)) for i in (11, 2, 1)]
    assert main([str(folder)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["image"] for line in lines] == [paths[2], paths[1], paths[0]]
    assert all(list(line) == list(OUTPUT_KEYS) for line in lines)
    assert [line["number"] for line in lines] == ["210", None, "210"]


def test_predict_writes_csv(stand_in_reader, tmp_path, capsys):
    good = write(tmp_path / "good.png", photo())
    status = main([good, str(tmp_path / "missing.png"), "--format", "csv"])
    out = capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(out)))
    assert status == 1
    assert tuple(rows[0]) == CSV_COLUMNS
    record = dict(zip(rows[0], rows[1]))
    assert record["number"] == "210" and record["rejected"] == "" and record["error"] == ""
    left, top, width, height = (float(record[k]) for k in ("box_left", "box_top", "box_width", "box_height"))
    assert abs(left - 80) < 4 and abs(top - 40) < 4 and abs(width - 60) < 5 and abs(height - 30) < 5
    missing = dict(zip(rows[0], rows[2]))
    assert missing["number"] == "" and missing["box_left"] == "" and missing["error"].startswith("FileNotFoundError")


def test_save_annotated_draws_the_box_and_reading(stand_in_reader, tmp_path, capsys):
    good = write(tmp_path / "good.png", photo())
    empty = write(tmp_path / "empty.png", photo(bright=False))
    assert main([good, empty, "--save-annotated", str(tmp_path / "out")]) == 0
    drawn = cv2.cvtColor(cv2.imread(str(tmp_path / "out" / "good.png")), cv2.COLOR_BGR2RGB)
    assert drawn.shape == photo().shape
    changed = np.any(drawn != photo(), axis=2)
    assert changed[38:42, 78:142].any() and not changed[50:60, 90:130].any()  # the box's edge, not its inside
    green = (drawn[..., 1] > 150) & (drawn[..., 0] < 80) & (drawn[..., 2] < 80)
    assert green.sum() > 50
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "out" / "empty.png")), cv2.imread(empty))


def test_annotate_marks_a_rejected_reading_in_red():
    reading = Reading(None, 0.2, (80.0, 40.0, 60.0, 30.0), 3, "low-confidence")
    drawn = annotate(photo(), reading)
    red = (drawn[..., 0] > 150) & (drawn[..., 1] < 80)
    assert red.sum() > 50


def test_unknown_format_is_refused():
    with pytest.raises(SystemExit):
        main(["x.png", "--format", "xml"])
    with pytest.raises(ValueError, match="format"):
        predict.OutputWriter(io.StringIO(), "xml")
