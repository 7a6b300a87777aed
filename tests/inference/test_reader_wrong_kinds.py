"""The whole-photo benchmark counts its wrong readings by how they differ from the number."""

import pytest

from benchmarks.scripts.reader_synthetic import WRONG_KINDS, wrong_kind


@pytest.mark.parametrize(
    ("truth", "reading", "kind"),
    [
        ("264", "2640", "digits_added_after"),  # the letter of 264a read as a 0
        ("49", "498", "digits_added_after"),
        ("19", "719", "digits_added_before"),
        ("756", "75", "digits_missing"),  # a box that cut the last digit
        ("13757", "3757", "digits_missing"),
        ("71", "7", "digits_missing"),
        ("174", "114", "other"),
        ("28", "2", "digits_missing"),
        ("28", "29", "other"),
    ],
)
def test_a_wrong_reading_is_counted_by_how_it_differs_from_the_number(truth: str, reading: str, kind: str) -> None:
    assert wrong_kind(truth, reading) == kind
    assert kind in WRONG_KINDS


def test_the_scenes_benchmark_counts_its_wrong_readings_by_kind() -> None:
    import numpy as np

    from benchmarks.scripts.reader_scenes import read_scenes, score
    from svhnx.inference.reader import Reader
    from svhnx.synth.generator import SceneBatch
    from tests.inference.stand_ins import BrightIsNumber, Reads

    photo = np.zeros((64, 96, 3), np.uint8)
    photo[20:44, 30:66] = 255  # a bright patch: where the stand-in localizer sees the number
    box = np.array([30, 20, 36, 24], np.float32)
    reader = Reader(BrightIsNumber(), Reads("264"))
    scenes = SceneBatch([photo] * 4, np.zeros((4, 5, 4), np.float32), np.full((4, 5), 10), np.ones(4, np.int64))
    truth = [("264", box), ("26", box), ("2640", box), ("1", box)]
    everything = score(*read_scenes(reader, scenes), scenes, truth)[-1]  # the truths are given apart from the scenes
    assert everything["long_side"] == "all" and everything["right"] == 0.25 and everything["wrong"] == 0.75
    assert everything["wrong_by_kind"] == {"digits_added_after": 1, "digits_added_before": 0, "digits_missing": 1, "other": 1}


def test_the_scenes_benchmark_scores_stacked_numbers_apart() -> None:
    import numpy as np

    from benchmarks.scripts.reader_scenes import read_scenes, stepped_score
    from svhnx.inference.reader import Reader
    from svhnx.synth.generator import SceneBatch
    from tests.inference.stand_ins import BrightIsNumber, Reads

    photo = np.zeros((64, 96, 3), np.uint8)
    photo[20:44, 30:66] = 255
    in_a_row = [[30, 20, 18, 24], [48, 20, 18, 24]]
    stacked = [[30, 10, 18, 20], [30, 32, 18, 20]]
    blank = [[np.nan] * 4] * 3
    boxes = np.array([in_a_row + blank, stacked + blank, stacked + blank], np.float32)
    digits = np.array([[2, 6] + [10] * 3] * 3)
    scenes = SceneBatch([photo] * 3, boxes, digits, np.full(3, 2))
    truth = [("26", None), ("26", None), ("27", None)]
    readings, _ = read_scenes(Reader(BrightIsNumber(), Reads("26")), scenes)
    assert stepped_score(readings, scenes, truth) == {"scenes": 2, "right": 0.5, "wrong": 0.5}


def test_the_scenes_benchmark_reads_with_several_recognizers_as_one_ensemble(tmp_path, monkeypatch) -> None:
    import json

    import benchmarks.record
    from benchmarks.scripts.reader_scenes import main
    from svhnx import pretrained

    monkeypatch.setattr(benchmarks.record, "RESULTS", tmp_path)
    built = []
    monkeypatch.setattr("svhnx.inference.backends.load_models", lambda paths, role: built.append(paths) or pretrained.load_as_one(role))
    recognizer = str(pretrained.path("recognizer"))
    main(["--scenes", "2", "--recognizer", recognizer, recognizer, "--name", "scenes_pair"])
    assert [list(map(str, paths)) for paths in built] == [[recognizer, recognizer]]
    results = json.loads((tmp_path / "scenes_pair.json").read_text())["results"]
    assert results["recognizer"] == f"{recognizer} + {recognizer}"
    assert set(results["outcomes"]) == {"1", "2"} and all(len(v) == 2 and set(v) <= set("RW-") for v in results["outcomes"].values())


def test_the_house_front_benchmark_records_every_photos_outcome() -> None:
    import numpy as np

    from benchmarks.scripts.reader_synthetic import sweep
    from svhnx.inference.reader import Reader
    from svhnx.synth.photos import Photo
    from tests.inference.stand_ins import BrightIsNumber, Reads

    bright = np.zeros((64, 96, 3), np.uint8)
    bright[20:44, 30:66] = 255  # the stand-in localizer sees a number there, and the recognizer reads 264
    dark = np.zeros((64, 96, 3), np.uint8)

    def photo(image, number):
        digits = np.array([int(d) for d in number], np.int64)
        return Photo(image, np.zeros((len(digits), 4), np.float32), digits, np.zeros((0, 4), np.float32))

    reader = Reader(BrightIsNumber(), Reads("264"))
    rows, outcomes = sweep(reader, [photo(bright, "264"), photo(bright, "26"), photo(dark, "7")], [photo(bright, ""), photo(dark, "")],
                           (reader.min_confidence,))
    assert outcomes == {"with_number": "RW-", "number_free": "W-"}
    assert rows[0]["with_number_right"] == round(1 / 3, 4) and rows[0]["number_free_wrong"] == 0.5
