"""The scales benchmark: a mosaic (a wider shot) keeps the number and makes it smaller in the photo."""

import numpy as np

from benchmarks.scripts.reader_scales import SIZE_EDGES, mosaic, relative_height, size_label
from svhnx.synth.photos import Photo


def front(value: int, size: tuple[int, int] = (100, 200), number: bool = False) -> Photo:
    image = np.full((*size, 3), value, np.uint8)
    boxes = np.zeros((0, 4), np.float32)
    if number:
        image[40:60, 90:110] = 255
        boxes = np.array([[90, 40, 20, 20]], np.float32)
    return Photo(image, boxes, np.array([7] if number else [], np.int64), np.array([[0, 0, 10, 10]], np.float32))


def test_a_mosaic_holds_the_same_number_smaller_in_its_quadrant() -> None:
    photo = front(0, number=True)
    wide = mosaic(photo, [front(10), front(20, size=(50, 60)), front(30)], quadrant=3)
    assert wide.image.shape == (200, 400, 3) and wide.number == "7"
    assert wide.image[0, 0, 0] == 10 and wide.image[0, 399, 0] == 20 and wide.image[199, 0, 0] == 30
    left, top, width, height = wide.boxes[0].astype(int)
    assert (left, top) == (290, 140) and (wide.image[top : top + height, left : left + width] == 255).all()
    assert wide.distractors[0].tolist() == [200, 100, 10, 10]
    assert relative_height(wide) == relative_height(photo) / 2 == 0.1
    assert [size_label(a, b) for a, b in zip(SIZE_EDGES[:-1], SIZE_EDGES[1:])] == ["0-3%", "3-5%", "5-10%", "10-100%"]
