"""The real-photo benchmark's scoring (benchmarks/real_photos.py) on the svhn-sample photos."""

from benchmarks.real_photos import _digits_of_best, annotated_photos, score
from svhnx.image_file import load_image


def test_the_sample_has_nine_annotated_photos(data_root):
    photos = annotated_photos(data_root / "svhn-sample")
    assert len(photos) == 9
    named = {f"{p.path.parent.name}/{p.path.name}": p for p in photos}
    assert named["train/1.png"].number == "19" and named["test/2.png"].number == "210"
    assert all(p.box[2] > 0 and p.box[3] > 0 for p in photos)


def test_score_counts_right_readings_and_box_iou(data_root):
    photos = annotated_photos(data_root / "svhn-sample" / "test")
    truth = {load_image(p.path).shape: p for p in photos}  # the three test photos differ in size

    def oracle(image):
        photo = truth[image.shape]
        return photo.number, photo.box

    result = score(oracle, photos)
    assert result["photos"] == 3 and result["right"] == 3 and result["mean_box_iou"] == 1.0
    assert all(row["right"] and row["seconds"] >= 0 for row in result["rows"])
    wrong = score(lambda image: ("0", None), photos)
    assert wrong["right"] == 0 and wrong["mean_box_iou"] == 0.0


def test_a_peer_reads_the_most_confident_text_with_digits():
    box = (1.0, 2.0, 3.0, 4.0)
    assert _digits_of_best([("OPEN", 0.99, box), ("No. 12a", 0.6, box), ("7", 0.5, box)]) == ("12", box)
    assert _digits_of_best([("OPEN", 0.99, box)]) == (None, None)
