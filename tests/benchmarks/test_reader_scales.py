"""The scales benchmark: a wider shot keeps the number and makes it smaller in the photo."""

import numpy as np

from benchmarks.scripts.reader_scales import SIZE_EDGES, relative_height, size_label, zoom_out
from svhnx.synth.photos import Photo


def test_a_zoomed_out_photo_holds_the_same_number_smaller() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    image[40:60, 90:110] = 255
    photo = Photo(image, np.array([[90, 40, 20, 20]], np.float32), np.array([7]), np.array([[0, 0, 10, 10]], np.float32))
    wide = zoom_out(photo, 2.0)
    assert wide.image.shape == (200, 400, 3) and wide.number == "7"
    left, top, width, height = wide.boxes[0].astype(int)
    assert (wide.image[top : top + height, left : left + width] == 255).all()
    assert wide.distractors[0].tolist() == [100, 50, 10, 10]
    assert relative_height(wide) == relative_height(photo) / 2 == 0.1
    assert [size_label(a, b) for a, b in zip(SIZE_EDGES[:-1], SIZE_EDGES[1:])] == ["0-3%", "3-5%", "5-10%", "10-100%"]
