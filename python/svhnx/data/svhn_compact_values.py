"""Bulk decoding of the small *compact* HDF5 datasets a ``digitStruct.mat`` is made of.

A full SVHN train ``digitStruct.mat`` is about 450,000 tiny datasets: a file name per image, five
box fields per image, and one ``double`` per digit and field behind object references. Through
HDF5 every one costs an object-header load of tens of microseconds, so reading them one by one
takes tens of seconds. MATLAB writes each of them *compact*: the data sits inside the object header
that a reference (an address) points to. :func:`decode_compact` finds that data for many headers at
once with NumPy, straight from the file's bytes, following the HDF5 file-format specification
(version-1 object header; datatype message; layout message version 3, compact class).

A header is accepted only when it matches that layout exactly, and everything HDF5 itself checks
when it opens and reads such a dataset holds: a version-1 header whose messages fill its chunks and
match its message count, messages of known types with plain flags, a datatype message
byte-identical to one of :data:`KINDS`, a version-1 two-dimensional dataspace whose size is the
data's, a well-formed fill-value message, and a compact layout whose data lies inside its message;
continuation chunks are followed. Anything else gets kind :data:`UNKNOWN`, and the caller reads that
object through h5py instead, so a damaged file reads as h5py reads it.
"""

from __future__ import annotations

import numpy as np

UNKNOWN, FLOAT64, REFERENCE, UINT16 = 0, 1, 2, 3
KINDS = {
    # H5T_IEEE_F64LE: class 1 v1, little-endian, sign bit 63, 8 bytes, offset 0, precision 64,
    # exponent at 52 (11 bits), mantissa at 0 (52 bits), bias 1023.
    FLOAT64: bytes([0x11, 0x20, 0x3F, 0x00, 8, 0, 0, 0, 0, 0, 64, 0, 52, 11, 0, 52, 0xFF, 0x03, 0, 0]),
    # H5T_STD_REF_OBJ: class 7 v1, object reference, 8 bytes (an address).
    REFERENCE: bytes([0x17, 0, 0, 0, 8, 0, 0, 0]),
    # H5T_STD_U16LE (MATLAB's char): class 0 v1, little-endian unsigned, 2 bytes, offset 0, precision 16.
    UINT16: bytes([0x10, 0, 0, 0, 2, 0, 0, 0, 0, 0, 16, 0]),
}
ITEM_BYTES = {FLOAT64: 8, REFERENCE: 8, UINT16: 2}

HEADER_PREFIX = 16  # version, reserved, message count, reference count, header size, padding
MESSAGE_PREFIX = 8  # message type (2), size (2), flags (1), reserved (3)
MAX_MESSAGES = 64
NIL, DATASPACE, DATATYPE, OLD_FILL, FILL, LAYOUT, ATTRIBUTE, CONTINUATION, MODIFIED = 0x0, 0x1, 0x3, 0x4, 0x5, 0x8, 0xC, 0x10, 0x12
#: The message types of the compact datasets MATLAB and h5py write; any other sends a header to h5py.
KNOWN_MESSAGES = (NIL, DATASPACE, DATATYPE, OLD_FILL, FILL, LAYOUT, ATTRIBUTE, CONTINUATION, MODIFIED)
CONSTANT = 0x1  # message flag: the message never changes (the only flag accepted)
LAYOUT_PREFIX = 4  # version 3, class 0 (compact), data size (2)
DATASPACE_PREFIX = 8  # version 1, rank, flags (bit 0: maximum sizes follow), 5 reserved bytes
FILL_PREFIX = 8  # version 2, allocation time (1-3), write time (0-2), defined (0/1), size (4)


def decode_compact(data: np.ndarray, addresses: np.ndarray, base: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the data of the compact datasets whose object headers are at ``addresses`` lies.

    Args:
        data: the file's bytes (``uint8``, e.g. a ``numpy.memmap``).
        addresses: HDF5 addresses of the object headers (what object references hold).
        base: the file offset addresses count from (the superblock's, i.e. the user-block size).

    Returns:
        ``(kind int64[n], offset int64[n], items int64[n])``: the element type (one of :data:`KINDS`,
        or :data:`UNKNOWN`), the file offset of the first element and the number of elements.
        The file must use 8-byte addresses and lengths (the default, and MATLAB's).
    """
    data = np.asarray(data, dtype=np.uint8)  # a plain view: memmap indexing is slow
    header = np.asarray(addresses, dtype=np.int64).reshape(-1) + base
    n = len(header)
    prefix = _bytes(data, header, HEADER_PREFIX)
    ok = (header >= 0) & (header + HEADER_PREFIX <= len(data)) & (prefix[:, 0] == 1)
    messages = _uint(prefix[:, 2:4])
    ok &= messages <= MAX_MESSAGES
    position = header + HEADER_PREFIX
    end = position + _uint(prefix[:, 8:12])
    jump, jump_end = np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.int64)  # next chunk, once this one ends
    found = {m: (np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.int64)) for m in (DATASPACE, DATATYPE, FILL, LAYOUT, MODIFIED)}

    for k in range(int(messages[ok].max(initial=0))):
        chunk_done = ok & (position + MESSAGE_PREFIX > end) & (jump >= 0)
        ok &= ~chunk_done | (position == end)  # messages fill their chunk
        position, end = np.where(chunk_done, jump, position), np.where(chunk_done, jump_end, end)
        jump = np.where(chunk_done, -1, jump)
        active = ok & (k < messages)
        ok &= ~active | ((position + MESSAGE_PREFIX <= end) & (end <= len(data)))
        active &= ok
        head = _bytes(data, np.where(active, position, 0), MESSAGE_PREFIX)
        message = np.where(active, _uint(head[:, 0:2]), 0)
        size = _uint(head[:, 2:4])
        body = position + MESSAGE_PREFIX
        body_end = body + size
        ok &= ~active | ((body_end <= end) & (size % 8 == 0) & (head[:, 4] <= CONSTANT) & (head[:, 5:8] == 0).all(axis=1))
        ok &= ~active | np.isin(message, KNOWN_MESSAGES)
        continued = np.flatnonzero(active & (message == CONTINUATION))
        ok[continued[jump[continued] >= 0]] = False  # one pending continuation at a time
        target = _bytes(data, body[continued], 16)
        jump[continued] = _uint(target[:, 0:8]) + base
        jump_end[continued] = jump[continued] + _uint(target[:, 8:16])
        for kind_of_message, (start, stop) in found.items():
            is_this = active & (message == kind_of_message)
            ok &= ~(is_this & (start >= 0))  # one of each
            start[is_this], stop[is_this] = body[is_this], body_end[is_this]
        position = np.where(active, body_end, position)
    ok &= (position == end) & (jump < 0)  # the message count covers every message
    (datatype, datatype_end), (layout, layout_end) = found[DATATYPE], found[LAYOUT]
    ok &= (datatype >= 0) & (layout >= 0) & (found[DATASPACE][0] >= 0)
    ok &= _fill_ok(data, *found[FILL]) & _modified_ok(data, found[MODIFIED][0])

    kind = np.full(n, UNKNOWN, dtype=np.int64)
    longest = max(len(signature) for signature in KINDS.values())
    described = _bytes(data, np.where(ok, datatype, 0), longest)
    for candidate, signature in KINDS.items():
        match = (described[:, : len(signature)] == np.frombuffer(signature, np.uint8)).all(axis=1)
        kind = np.where(ok & match & (datatype + len(signature) <= datatype_end), candidate, kind)
    head = _bytes(data, np.where(ok, layout, 0), LAYOUT_PREFIX)
    nbytes = _uint(head[:, 2:4])
    offset = layout + LAYOUT_PREFIX
    item = np.select([kind == k for k in ITEM_BYTES], list(ITEM_BYTES.values()), default=1)
    ok &= (head[:, 0] == 3) & (head[:, 1] == 0) & (offset + nbytes <= layout_end) & (nbytes % item == 0)
    ok &= _dataspace_size(data, *found[DATASPACE]) == nbytes // item
    kind = np.where(ok, kind, UNKNOWN)
    return kind, np.where(ok, offset, 0), np.where(ok, nbytes // item, 0)


def _dataspace_size(data: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """The element count of each version-1, two-dimensional dataspace message (whose maximum sizes,
    when given, equal its sizes); -1 for any other."""
    head = _bytes(data, start, DATASPACE_PREFIX + 32)
    has_max = head[:, 2].astype(np.int64)
    ok = (start >= 0) & (head[:, 0] == 1) & (head[:, 1] == 2) & (head[:, 2] <= 1) & (head[:, 3:8] == 0).all(axis=1)
    ok &= start + DATASPACE_PREFIX + 16 * (1 + has_max) <= stop
    dims = _uint(head[:, 8:16]), _uint(head[:, 16:24])
    ok &= (has_max == 0) | ((_uint(head[:, 24:32]) == dims[0]) & (_uint(head[:, 32:40]) == dims[1]))
    ok &= (dims[0] >= 0) & (dims[0] < 2**31) & (dims[1] >= 0) & (dims[1] < 2**31)
    return np.where(ok, dims[0] * dims[1], -1)


def _modified_ok(data: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Whether each header's modification-time message, if it has one, is version 1 (HDF5 checks it on open)."""
    head = _bytes(data, start, 4)
    return (start < 0) | ((head[:, 0] == 1) & (head[:, 1:4] == 0).all(axis=1))


def _fill_ok(data: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Whether each header's fill-value message, if it has one, is a well-formed version-2 message."""
    head = _bytes(data, start, FILL_PREFIX)
    defined = head[:, 3] == 1
    ok = (head[:, 0] == 2) & (head[:, 1] >= 1) & (head[:, 1] <= 3) & (head[:, 2] <= 2) & (head[:, 3] <= 1)
    ok &= ~defined | (start + FILL_PREFIX + _uint(head[:, 4:8]) <= stop)
    return (start < 0) | ok


def gather(data: np.ndarray, offsets: np.ndarray, counts: np.ndarray, dtype: str) -> np.ndarray:
    """``counts[i]`` elements of ``dtype`` (e.g. ``"<f8"``) from ``offsets[i]``, all concatenated."""
    itemsize = np.dtype(dtype).itemsize
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.repeat(np.asarray(offsets, dtype=np.int64), counts) + itemsize * ranges(counts)
    return _bytes(np.asarray(data, dtype=np.uint8), starts, itemsize).view(dtype).reshape(-1)


def ranges(counts: np.ndarray) -> np.ndarray:
    """``0..counts[0]-1, 0..counts[1]-1, ...`` concatenated."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


def _bytes(data: np.ndarray, offsets: np.ndarray, count: int) -> np.ndarray:
    """``count`` bytes at each offset as ``uint8 [n, count]``; zeros where they would leave the file."""
    offsets = np.asarray(offsets, dtype=np.int64)
    inside = (offsets >= 0) & (offsets + count <= len(data))
    if len(data) < count:
        return np.zeros((len(offsets), count), dtype=np.uint8)
    out = data[np.where(inside, offsets, 0)[:, None] + np.arange(count)]
    out[~inside] = 0
    return out


def _uint(raw: np.ndarray) -> np.ndarray:
    """The little-endian unsigned integers in the rows of ``raw`` (``uint8 [n, 1|2|4|8]``), as ``int64``."""
    return np.ascontiguousarray(raw).view(f"<u{raw.shape[1]}").reshape(-1).astype(np.int64)
