"""Reading whole photos: the reader's decisions, ``python -m svhnx.predict`` on good and bad input,
and its stable JSON schema."""

import json
import time

import cv2
import numpy as np
import pytest
import torch
from stand_ins import BrightIsNumber, Reads

import svhnx
from svhnx.inference.localize import probability_map
from svhnx.inference.predict import OUTPUT_KEYS, build_parser, load_image, main
from svhnx.inference.reader import MIN_CONFIDENCE, Reader, Reading
from svhnx.models import create_model
from svhnx.train.run_dir import save_checkpoint


def photo_with_number(height=300, width=500, box=(200, 120, 90, 50)):
    image = np.full((height, width, 3), 40, np.uint8)
    left, top, w, h = box
    image[top : top + h, left : left + w] = 230
    return image


def test_reader_accepts_a_confident_reading_and_reports_its_box():
    reading = Reader(BrightIsNumber(length=3), Reads("210")).read(photo_with_number())
    assert reading.number == "210" and reading.rejected is None and reading.length == 3
    assert reading.confidence > 0.99
    left, top, w, h = reading.box
    assert abs(left - 200) < 5 and abs(top - 120) < 5 and abs(w - 90) < 6 and abs(h - 50) < 6


def test_reader_reads_an_image_file_by_its_path_too(tmp_path):
    path = tmp_path / "front.png"
    assert cv2.imwrite(str(path), photo_with_number()[:, :, ::-1])
    reader = Reader(BrightIsNumber(length=3), Reads("210"))
    assert reader.read(path) == reader.read(str(path)) == reader.read(photo_with_number())
    assert reader.read_box(str(path), (200, 120, 90, 50)).number == "210"
    with pytest.raises(FileNotFoundError, match="missing.png: no such file"):
        reader.read(tmp_path / "missing.png")
    with pytest.raises(TypeError, match="numpy array or an image file's path, got bytes"):
        reader.read(b"front.png")


def test_reader_rejects_by_length_head_when_asked_and_by_confidence():
    photo = photo_with_number()
    mismatch = Reader(BrightIsNumber(length=2), Reads("210"), check_length=True).read(photo)
    assert mismatch.number is None and mismatch.rejected == "length-mismatch" and mismatch.box is not None
    unchecked = Reader(BrightIsNumber(length=2), Reads("210")).read(photo)  # the length check is off by default
    assert unchecked.number == "210" and unchecked.length == 2  # the close look's length is still reported
    unsure = Reader(BrightIsNumber(length=3), Reads("210", certainty=1.0)).read(photo)
    assert unsure.number is None and unsure.rejected == "low-confidence" and unsure.confidence < 0.5
    assert Reader(BrightIsNumber(length=3), Reads("210", certainty=1.0), min_confidence=0.0).read(photo).number == "210"


def test_reader_rejects_a_fairly_sure_reading_by_default():
    photo = photo_with_number()
    fairly_sure = Reader(BrightIsNumber(length=3), Reads("210", certainty=5.0)).read(photo)
    assert fairly_sure.rejected == "low-confidence" and 0.5 < fairly_sure.confidence < MIN_CONFIDENCE
    assert Reader(BrightIsNumber(length=3), Reads("210", certainty=5.0), min_confidence=0.5).read(photo).number == "210"


def test_reader_without_candidates_or_length_head():
    dark = np.zeros((120, 160, 3), np.uint8)
    assert Reader(BrightIsNumber(length=1), Reads("7")).read(dark) == Reading.empty()
    reading = Reader(BrightIsNumber(), Reads("7")).read(photo_with_number())
    assert reading.number == "7" and reading.length is None


def test_reader_reads_a_known_box_without_the_localizer():
    dark = np.zeros((120, 160, 3), np.uint8)  # the localizer finds nothing here
    reader = Reader(BrightIsNumber(length=2), Reads("42"), check_length=True)
    assert reader.read(dark) == Reading.empty()
    reading = reader.read_box(dark, (40, 30, 60, 40))
    assert (reading.number, reading.box, reading.length, reading.rejected) == ("42", (40.0, 30.0, 60.0, 40.0), 2, None)
    assert Reader(BrightIsNumber(length=3), Reads("42"), check_length=True).read_box(dark, (40, 30, 60, 40)).rejected == "length-mismatch"
    with pytest.raises(ValueError, match="box"):
        reader.read_box(dark, (40, 30, 0, 40))


def test_reading_json_schema_is_stable():
    reading = Reading("42", 0.912345, (1.0, 2.25, 30.0, 15.5), 2, None)
    assert json.loads(reading.to_json()) == {
        "number": "42", "confidence": 0.9123, "box": [1.0, 2.2, 30.0, 15.5], "length": 2, "rejected": None,
    }
    assert list(json.loads(Reading.empty().to_json())) == ["number", "confidence", "box", "length", "rejected"]


# -- the command line, with untrained checkpoints in the framework's format -----------------------


def write_checkpoint(path, name, kwargs):
    torch.manual_seed(0)
    model = create_model(name, **kwargs)
    save_checkpoint(path, {"format": 1, "task": "test", "config": {}, "model": {"name": name, "kwargs": kwargs},
                           "model_state": model.state_dict()})
    return path


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checkpoints")
    localizer = write_checkpoint(folder / "unet.pt", "unet", {"widths": [8, 16, 32, 64, 128], "length_head": True})
    recognizer = write_checkpoint(folder / "svhn.pt", "svhn-goodfellow", {"width": 0.25, "dense": 64})
    return ["--localizer", str(localizer), "--recognizer", str(recognizer)]


def write_png(path, image):
    assert cv2.imwrite(str(path), image)
    return str(path)


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, [json.loads(line) for line in out.splitlines()], err


def test_predict_prints_one_line_per_image_with_the_exact_keys(checkpoints, tmp_path, capsys):
    rgb = write_png(tmp_path / "rgb.png", photo_with_number())
    grey = write_png(tmp_path / "grey.png", photo_with_number()[:, :, 0])
    rgba = write_png(tmp_path / "rgba.png", np.dstack([photo_with_number(), np.full((300, 500), 255, np.uint8)]))
    status, lines, _ = run(capsys, *checkpoints, rgb, grey, rgba, "--save-annotated", str(tmp_path / "out"))
    assert status == 0
    assert [line["image"] for line in lines] == [rgb, grey, rgba]
    for line in lines:
        assert list(line) == list(OUTPUT_KEYS) == ["image", "number", "confidence", "box", "length", "rejected", "error"]
        assert line["error"] is None and 0.0 <= line["confidence"] <= 1.0
        assert (line["number"] is None) == (line["rejected"] is not None)
    # grey and RGBA files decode to the same RGB photo, so they read the same
    assert lines[0] | {"image": None} == lines[1] | {"image": None} == lines[2] | {"image": None}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["grey.png", "rgb.png", "rgba.png"]


def test_predict_reports_a_missing_file_and_a_non_image_and_goes_on(checkpoints, tmp_path, capsys):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    good = write_png(tmp_path / "good.png", photo_with_number())
    status, lines, err = run(capsys, *checkpoints, str(tmp_path / "missing.jpg"), str(text), good)
    assert status == 1
    assert lines[0]["error"].startswith("FileNotFoundError") and "missing.jpg" in lines[0]["error"]
    assert lines[1]["error"].startswith("ValueError") and "not an image" in lines[1]["error"]
    assert lines[2]["error"] is None
    assert all(list(line) == list(OUTPUT_KEYS) for line in lines)
    assert all(lines[0][key] is None for key in OUTPUT_KEYS[1:-1])  # nothing read, nothing rejected
    assert "missing.jpg" in err and "notes.png" in err


def test_predict_reads_a_huge_photo(checkpoints, tmp_path, capsys):
    huge = np.full((4000, 6000, 3), 90, np.uint8)
    huge[1800:2100, 2500:3100] = 250
    path = write_png(tmp_path / "huge.png", huge)
    start = time.perf_counter()
    status, [line], _ = run(capsys, *checkpoints, path)
    assert status == 0 and line["error"] is None
    assert time.perf_counter() - start < 20
    if line["box"] is not None:
        left, top, width, height = line["box"]
        assert 0 <= left and 0 <= top and left + width <= 6000 + 0.5 and top + height <= 4000 + 0.5


def test_predict_needs_its_checkpoints_where_no_models_are_installed(tmp_path, capsys, monkeypatch):
    from svhnx import pretrained

    monkeypatch.delenv("SVHNX_LOCALIZER", raising=False)
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path / "no-weights")  # as if the shipped files were removed
    image = write_png(tmp_path / "a.png", photo_with_number())
    with pytest.raises(SystemExit) as exit_info:
        main([image])
    assert exit_info.value.code == 2 and "--localizer" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([image, "--localizer", str(tmp_path / "nope.pt"), "--recognizer", str(tmp_path / "nope.pt")])
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "junk.pt").write_text("junk")
    with pytest.raises(SystemExit):
        main([image, "--localizer", str(tmp_path / "junk.pt"), "--recognizer", str(tmp_path / "junk.pt")])
    err = capsys.readouterr().err
    assert "junk.pt" in err and "checkpoint" in err


def test_load_image_converts_to_rgb(tmp_path):
    bgr = np.zeros((4, 6, 3), np.uint8)
    bgr[..., 2] = 200  # red in OpenCV's order
    image = load_image(write_png(tmp_path / "red.png", bgr))
    assert image.shape == (4, 6, 3) and (image[..., 0] == 200).all() and not image[..., 2].any()
    with pytest.raises(ValueError, match="not a file"):
        load_image(tmp_path)


def test_svhnx_read_uses_the_checkpoints_in_the_environment(checkpoints, monkeypatch):
    monkeypatch.setenv("SVHNX_LOCALIZER", checkpoints[1])
    monkeypatch.setenv("SVHNX_RECOGNIZER", checkpoints[3])
    monkeypatch.setattr("svhnx.inference.reader._default_reader", None)
    reading = svhnx.read(photo_with_number())
    assert isinstance(reading, svhnx.Reading)
    assert svhnx.read(photo_with_number()) == reading


def test_predict_precision_and_threads_flags(checkpoints, tmp_path, capsys):
    photo = write_png(tmp_path / "rgb.png", photo_with_number())
    threads = torch.get_num_threads()
    try:
        lines = [run(capsys, *checkpoints, photo, "--threads", "1", "--precision", p)[1][0] for p in ("float32", "bfloat16")]
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    assert all(line["error"] is None for line in lines)
    for bad in (["--threads", "0"], ["--precision", "half"]):
        with pytest.raises(SystemExit) as exit_info:
            main([photo, *checkpoints, *bad])
        assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "threads" in err and "precision" in err


def test_bfloat16_reader_casts_a_copy_of_the_localizer():
    torch.manual_seed(0)
    localizer = create_model("unet", widths=[8, 16, 32, 64, 128], length_head=True)
    reader = Reader(localizer, Reads("7"), precision="bfloat16")
    assert next(localizer.parameters()).dtype == torch.float32  # the caller's model is left as it was
    assert next(reader.localizer.parameters()).dtype == torch.bfloat16
    assert isinstance(reader.read(photo_with_number()), Reading)
    assert probability_map(reader.localizer, photo_with_number(), precision="float32").dtype == np.float32  # runs in bfloat16
    assert next(Reader(localizer, Reads("7"), precision="float32").localizer.parameters()).dtype == torch.float32


def test_predict_length_check_is_off_unless_asked_for():
    assert build_parser().parse_args(["x.png"]).length_check is False
    assert build_parser().parse_args(["x.png", "--length-check"]).length_check is True
    assert build_parser().parse_args(["x.png", "--no-length-check"]).length_check is False


def test_predict_takes_two_close_looks_unless_told_otherwise():
    assert build_parser().parse_args(["x.png"]).close_looks == 2
    assert build_parser().parse_args(["x.png", "--close-looks", "1"]).close_looks == 1
    with pytest.raises(SystemExit):
        build_parser().parse_args(["x.png", "--close-looks", "0"])


def test_predict_scales_are_long_sides_the_reader_looks_at(monkeypatch, tmp_path, capsys):
    assert build_parser().parse_args(["x.png"]).scales == (64, 128)  # the finest look is the retry (rule early448)
    assert build_parser().parse_args(["x.png", "--scales", "512,64,128,256,128"]).scales == (64, 128, 256, 512)
    for bad in ("8,64", "64,,128", "big"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["x.png", "--scales", bad])
    assert "long sides of at least 16 pixels" in capsys.readouterr().err
    seen = {}
    monkeypatch.setattr(Reader, "from_checkpoints", classmethod(lambda cls, *a, **k: seen.update(k) or Reader(BrightIsNumber(length=3), Reads("210"), scales=k["scales"])))
    path = tmp_path / "front.png"
    assert cv2.imwrite(str(path), photo_with_number())
    assert main([str(path), "--scales", "64,512"]) == 0
    assert seen["scales"] == (64, 512) and json.loads(capsys.readouterr().out)["number"] == "210"
    with pytest.raises(ValueError, match="scales"):
        Reader(BrightIsNumber(length=3), Reads("210"), scales=[8])


def test_predict_retry_scales_reach_the_reader(monkeypatch, tmp_path, capsys):
    assert build_parser().parse_args(["x.png"]).retry_scales == (448,)
    assert build_parser().parse_args(["x.png", "--retry-scales", "none"]).retry_scales == ()
    assert build_parser().parse_args(["x.png", "--retry-scales", "768,512"]).retry_scales == (512, 768)
    for bad in ("8", "", "512,,768"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["x.png", "--retry-scales", bad])
    seen = {}
    monkeypatch.setattr(Reader, "from_checkpoints", classmethod(lambda cls, *a, **k: seen.update(k) or Reader(BrightIsNumber(length=3), Reads("210"))))
    path = tmp_path / "front.png"
    assert cv2.imwrite(str(path), photo_with_number())
    assert main([str(path), "--retry-scales", "512"]) == 0
    assert seen["retry_scales"] == (512,)
