"""SVHN format 1 annotations: ``digitStruct.mat`` (MATLAB v7.3, i.e. HDF5), read and written with h5py.

The file holds a 1 x N MATLAB struct array ``digitStruct`` with two fields, stored by MATLAB as two
datasets of object references: ``/digitStruct/name`` (each a ``uint16`` char array such as
``"1.png"``) and ``/digitStruct/bbox`` (each a struct group with the fields ``label``, ``left``,
``top``, ``width`` and ``height``). A field holds its value inline (a ``1 x 1`` double) when the
image has one digit, and one object reference per digit (each to a ``1 x 1`` double) when it has
several. Label 10 is the digit 0.

:func:`read_digit_struct` opens each image's ``bbox`` struct with h5py and reads everything else
(names, fields and the values behind references) in bulk from the file's bytes with
:mod:`svhnx.data.svhn_compact_values`, falling back to h5py, value by value, for whatever does not
decode that way. ``benchmarks/bench_digit_struct.py`` compares it with the usual one h5py call per
value on a full-size file.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from h5py import h5d, h5g, h5p, h5r, h5s, h5t

from svhnx.atomic import atomic_path
from svhnx.data.svhn_compact_values import FLOAT64, REFERENCE, UINT16, decode_compact, gather, ranges

BOX_FIELDS = ("left", "top", "width", "height")
FIELDS = ("label", *BOX_FIELDS)
ZERO_LABEL = 10  # how SVHN writes the digit 0
#: Largest box coordinate or size accepted, in pixels: far beyond any photo svhnx reads.
MAX_COORDINATE = 65536.0

_MATLAB_HEADER = "MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: {date} HDF5 schema 1.00 ."
_USERBLOCK = 512


class DigitStructError(ValueError):
    """A ``digitStruct.mat`` file is truncated, not HDF5, or not in the SVHN format-1 structure."""


@dataclass(frozen=True, eq=False)
class DigitStructEntry:
    """One image of a ``digitStruct.mat``: its file name, its digits and their boxes.

    ``labels`` are ``int64`` digits 0-9 left to right as annotated (label 10 already converted to 0);
    ``boxes`` are ``float32 [left, top, width, height]`` rows, one per digit, in image pixels.
    """

    name: str
    labels: np.ndarray
    boxes: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def read_digit_struct(path: str | os.PathLike[str]) -> list[DigitStructEntry]:
    """Every entry of an SVHN ``digitStruct.mat``, in file order.

    Raises ``FileNotFoundError`` if ``path`` does not exist, ``OSError`` if it cannot be read (a
    symlink loop, no permission), and :class:`DigitStructError` (a ``ValueError``) naming the file,
    and the entry where it applies, if the file is truncated, is not HDF5, or does not have the
    structure described in this module's docstring.
    """
    path = Path(path)
    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        raise FileNotFoundError(f"digitStruct file not found: {path}") from None
    except IsADirectoryError:
        raise DigitStructError(f"{path}: a folder, not a digitStruct.mat file") from None
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DigitStructError(
            f"{path}: cannot open as a MATLAB v7.3 (HDF5) file; it may be truncated or in another format ({exc})"
        ) from exc
    with f:
        return _Reader(f, path).entries()


class _Reader:
    """Reads of one open file (see :func:`read_digit_struct`).

    h5py dereferences each image's ``bbox`` struct and lists its five fields (addresses only); then
    :func:`decode_compact` reads every name, field and referenced value in bulk from the file's
    bytes. An entry with anything that does not decode that way is read through h5py alone, value by
    value (:meth:`_read_name`, :meth:`_read_values`), which is also where malformed entries get their error message.
    """

    def __init__(self, f: h5py.File, path: Path) -> None:
        self.fid = f.id
        self.path = path
        self.file_size = path.stat().st_size  # no array the file declares can be larger
        self.spaces: dict[int, h5s.SpaceID] = {}
        self.base = f.id.get_create_plist().get_userblock()  # addresses count from the superblock
        group = f.get("digitStruct")
        if not isinstance(group, h5py.Group):
            raise DigitStructError(f"{path}: no /digitStruct group (is this an SVHN format-1 digitStruct.mat?)")
        self.name_refs, self.name_addresses = self._reference_array(group, "name")
        self.bbox_refs, _ = self._reference_array(group, "bbox")
        if len(self.name_refs) != len(self.bbox_refs):
            raise DigitStructError(
                f"{path}: /digitStruct/name has {len(self.name_refs)} entries but /digitStruct/bbox has {len(self.bbox_refs)}"
            )

    def _reference_array(self, group: h5py.Group, key: str) -> tuple[np.ndarray, np.ndarray]:
        """A ``/digitStruct`` field as h5py references and as raw addresses."""
        dataset = group.get(key)
        if not isinstance(dataset, h5py.Dataset) or dataset.dtype != h5py.ref_dtype:
            raise DigitStructError(f"{self.path}: /digitStruct/{key} is missing or is not an array of object references")
        try:
            self._check_fits(dataset.size, dataset.dtype.itemsize, f"/digitStruct/{key}")
            refs = dataset[()].reshape(-1)
            addresses = np.empty(len(refs), dtype=np.uint64)
            dataset.id.read(self._space(len(refs)), h5s.ALL, addresses, mtype=h5t.STD_REF_OBJ)
        except OSError as exc:
            raise DigitStructError(f"{self.path}: cannot read /digitStruct/{key} (truncated file?): {exc}") from exc
        return refs, addresses.astype(np.int64)

    def entries(self) -> list[DigitStructEntry]:
        fields = np.empty((len(self.bbox_refs), len(FIELDS)), dtype=np.int64)
        for i, ref in enumerate(self.bbox_refs):
            with self._context(i):
                fields[i] = self._field_addresses(ref)
        names, counts, decoded, (entry, field, digit, value) = self._decode(self._file_bytes(), fields)
        slow: dict[int, np.ndarray] = {}
        for i in np.flatnonzero(~decoded).tolist():
            with self._context(i):
                names[i] = self._read_name(i)
            with self._context(i, names[i]):
                slow[i] = self._read_values(i)
            counts[i] = slow[i].shape[1]
        starts = np.concatenate([[0], np.cumsum(counts)])
        table = np.empty((len(FIELDS), int(starts[-1])), dtype=np.float64)
        table[field, starts[entry] + digit] = value
        for i, values in slow.items():
            table[:, starts[i] : starts[i + 1]] = values
        return self._assemble(names, starts, table)

    def _field_addresses(self, ref: h5r.Reference) -> list[int]:
        """The addresses of a ``bbox`` struct's fields, looked up by name as ``h5d.open`` does."""
        group = self._dereference(ref, h5g.GroupID, "bbox")
        addresses = []
        for field in FIELDS:
            try:
                info = group.links.get_info(field.encode())
            except (KeyError, RuntimeError) as exc:
                raise DigitStructError(f"bbox has no field {field!r} that opens ({exc})") from None
            if info.type != h5py.h5l.TYPE_HARD:
                raise DigitStructError(f"bbox field {field!r} is not a dataset in the file")
            addresses.append(info.u)
        return addresses

    def _decode(self, data: np.ndarray, fields: np.ndarray) -> tuple[list, np.ndarray, np.ndarray, tuple]:
        """Everything that decodes in bulk: ``(names, counts, decoded, (entry, field, digit, value))``.

        ``decoded[i]`` says whether entry ``i`` decoded completely; the last four arrays hold one
        element per value of those entries.
        """
        name_kind, name_offset, name_length = decode_compact(data, self.name_addresses, self.base)
        kind, offset, items = (a.reshape(fields.shape) for a in decode_compact(data, fields, self.base))
        counts = items[:, 0].copy()
        decoded = (name_kind == UINT16) & (counts > 0) & (items == counts[:, None]).all(axis=1)
        decoded &= np.isin(kind, (FLOAT64, REFERENCE)).all(axis=1)

        pair_entry, pair_field = (a.reshape(-1) for a in np.nonzero(np.repeat(decoded[:, None], len(FIELDS), axis=1)))
        pair_count = counts[pair_entry]
        entry, field, digit = np.repeat(pair_entry, pair_count), np.repeat(pair_field, pair_count), ranges(pair_count)
        position = np.repeat(offset[pair_entry, pair_field], pair_count) + 8 * digit
        referenced = kind[entry, field] == REFERENCE
        targets = gather(data, position[referenced], np.ones(int(referenced.sum()), np.int64), "<u8")
        target_kind, target_offset, target_items = decode_compact(data, targets.astype(np.int64), self.base)
        position[referenced] = target_offset
        decoded[entry[referenced][(target_kind != FLOAT64) | (target_items != 1)]] = False

        keep = decoded[entry]
        value = gather(data, position[keep], np.ones(int(keep.sum()), np.int64), "<f8")
        names: list = [None] * len(fields)
        named = np.flatnonzero(decoded)
        text = gather(data, name_offset[named], name_length[named], "<u2").tobytes()
        bounds = np.concatenate([[0], 2 * np.cumsum(name_length[named])]).tolist()
        for i, a, b in zip(named.tolist(), bounds[:-1], bounds[1:]):
            names[i] = text[a:b].decode("utf-16-le", errors="replace")
        return names, counts, decoded, (entry[keep], field[keep], digit[keep], value)

    def _file_bytes(self) -> np.ndarray:
        if self.fid.get_create_plist().get_sizes() != (8, 8):
            return np.zeros(0, dtype=np.uint8)  # decode_compact reads 8-byte addresses and lengths
        try:
            return np.memmap(self.path, dtype=np.uint8, mode="r")
        except (OSError, ValueError):
            return np.zeros(0, dtype=np.uint8)  # nothing decodes in bulk; every entry goes through h5py

    @contextmanager
    def _context(self, entry: int, name: str | None = None) -> Iterator[None]:
        """Turn any failure while reading ``entry`` into a :class:`DigitStructError` that names it."""
        where = f"{self.path}: entry {entry}" + (f" ({name!r})" if name is not None else "")
        try:
            yield
        except DigitStructError as exc:
            raise DigitStructError(f"{where}: {exc}") from None
        except (OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:
            raise DigitStructError(f"{where}: unreadable ({type(exc).__name__}: {exc}); truncated or malformed file?") from exc

    def _space(self, count: int) -> h5s.SpaceID:
        space = self.spaces.get(count)
        if space is None:
            space = self.spaces[count] = h5s.create_simple((count,))
        return space

    def _dereference(self, ref: h5r.Reference, kind: type, what: str) -> h5py.h5o.ObjectID:
        obj = h5r.dereference(ref, self.fid)
        if not isinstance(obj, kind):
            raise DigitStructError(f"{what} points to a {type(obj).__name__}, expected a {kind.__name__}")
        return obj

    def _read_name(self, i: int) -> str:
        """The name of entry ``i``, through h5py."""
        dataset = self._dereference(self.name_refs[i], h5d.DatasetID, "name")
        length = dataset.get_space().get_simple_extent_npoints()
        self._check_fits(length, 2, "name")
        chars = np.empty(length, dtype=np.uint16)
        dataset.read(self._space(length), h5s.ALL, chars, mtype=h5t.NATIVE_UINT16)
        return chars.tobytes().decode("utf-16-le", errors="replace")

    def _read_values(self, i: int) -> np.ndarray:
        """The ``float64 [5, digits]`` values of entry ``i``, through h5py, one value at a time."""
        group = self._dereference(self.bbox_refs[i], h5g.GroupID, "bbox")
        datasets = [h5d.open(group, field.encode()) for field in FIELDS]
        count = datasets[0].get_space().get_simple_extent_npoints()
        self._check_fits(count, 8, "bbox field 'label'")
        if count == 0:
            raise DigitStructError("bbox has no digits")
        values = np.empty((len(FIELDS), count), dtype=np.float64)
        for field, dataset, out in zip(FIELDS, datasets, values):
            try:
                self._read_field(dataset, out)
            except OSError as exc:
                raise DigitStructError(f"bbox field {field!r} does not hold {count} numbers like 'label' ({exc})") from None
        return values

    def _read_field(self, dataset: h5d.DatasetID, out: np.ndarray) -> None:
        space = self._space(len(out))
        type_class = dataset.get_type().get_class()
        if type_class in (h5t.FLOAT, h5t.INTEGER):
            dataset.read(space, h5s.ALL, out, mtype=h5t.NATIVE_DOUBLE)
        elif type_class == h5t.REFERENCE:
            refs = np.empty(len(out), dtype=h5py.ref_dtype)
            dataset.read(space, h5s.ALL, refs)
            for j, ref in enumerate(refs):
                value = self._dereference(ref, h5d.DatasetID, "a bbox value")
                value.read(self._space(1), h5s.ALL, out[j : j + 1], mtype=h5t.NATIVE_DOUBLE)
        else:
            raise DigitStructError("a bbox field holds neither numbers nor object references")

    def _check_fits(self, count: int, itemsize: int, what: str) -> None:
        """:class:`DigitStructError` if ``count`` items of ``itemsize`` bytes cannot be in the file."""
        if count * itemsize > self.file_size:
            raise DigitStructError(f"{self.path}: {what} declares {count:,} items, more than its {self.file_size:,} bytes can hold")

    def _assemble(self, names: list[str], starts: np.ndarray, table: np.ndarray) -> list[DigitStructEntry]:
        for i, name in enumerate(names):
            problem = _name_problem(name)
            if problem:
                raise DigitStructError(f"{self.path}: entry {i}: name {name!r} {problem}")
        raw_labels, boxes = table[0], table[1:].T
        bad = (raw_labels != np.round(raw_labels)) | (raw_labels < 1) | (raw_labels > ZERO_LABEL)
        bad |= ~(np.abs(boxes) <= MAX_COORDINATE).all(axis=1)  # also NaN and infinities
        if bad.any():
            digit = int(np.flatnonzero(bad)[0])
            entry = int(np.searchsorted(starts, digit, side="right") - 1)
            raise DigitStructError(
                f"{self.path}: entry {entry} ({names[entry]!r}): digit {digit - starts[entry]} has label "
                f"{float(raw_labels[digit])} and box {boxes[digit].tolist()}; expected labels 1-10 and boxes within +-{MAX_COORDINATE:g} pixels"
            )
        labels = raw_labels.astype(np.int64) % ZERO_LABEL
        boxes32 = np.ascontiguousarray(boxes, dtype=np.float32)
        return [
            DigitStructEntry(name, labels[a:b], boxes32[a:b])
            for name, a, b in zip(names, starts[:-1].tolist(), starts[1:].tolist())
        ]


def _name_problem(name: str) -> str | None:
    """Why ``name`` is not a plain file name (no folders, no control characters), or ``None``."""
    if name in ("", ".", "..") or any(c in name for c in "/\\") or not name.isprintable():
        return "is not a plain file name"
    if "\ufffd" in name:
        return "is not valid UTF-16 text"
    return None


def write_digit_struct(path: str | os.PathLike[str], entries: Iterable[DigitStructEntry]) -> Path:
    """Write ``entries`` as a ``digitStruct.mat`` in the structure of the official files.

    Labels are written SVHN-style (0 as 10); one-digit fields are inline doubles, longer ones arrays of
    object references to ``1 x 1`` compact doubles under ``/#refs#``, as MATLAB writes them (MATLAB's
    class attributes are left out). Used for test fixtures and the full-size benchmark file.
    """
    path = Path(path)
    entries = list(entries)
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w", userblock_size=_USERBLOCK, libver="earliest") as f:
            _Writer(f).write(entries)
        text = _MATLAB_HEADER.format(date=dt.datetime.now().strftime("%a %b %d %H:%M:%S %Y")).encode()
        with open(tmp, "r+b") as raw:  # MAT-file header: text, subsystem offset, version 0x0200, "IM"
            raw.write(text[:116].ljust(116) + bytes(8) + b"\x00\x02IM")
    return path


class _Writer:
    """Low-level h5py writes of MATLAB's layout (see :func:`write_digit_struct`)."""

    def __init__(self, f: h5py.File) -> None:
        self.f = f
        self.refs = f.create_group("#refs#").id
        self.count = 0
        self.compact = h5p.create(h5p.DATASET_CREATE)
        self.compact.set_layout(h5d.COMPACT)
        self.scalar_space = h5s.create_simple((1, 1))

    def write(self, entries: list[DigitStructEntry]) -> None:
        names = np.empty((len(entries), 1), dtype=h5py.ref_dtype)
        bboxes = np.empty((len(entries), 1), dtype=h5py.ref_dtype)
        for i, entry in enumerate(entries):
            names[i, 0] = self._char_array(entry.name)
            bboxes[i, 0] = self._bbox(entry)
        group = self.f.create_group("digitStruct")
        group.create_dataset("name", data=names)
        group.create_dataset("bbox", data=bboxes)

    def _new_name(self) -> bytes:
        self.count += 1
        return np.base_repr(self.count, 36).lower().encode()

    def _reference(self, name: bytes) -> h5r.Reference:
        return h5r.create(self.refs, name, h5r.OBJECT)

    def _char_array(self, text: str) -> h5r.Reference:
        name = self._new_name()
        chars = np.frombuffer(text.encode("utf-16-le"), dtype=np.uint16).reshape(-1, 1).copy()
        space = h5s.create_simple(chars.shape)
        dataset = h5d.create(self.refs, name, h5t.STD_U16LE, space, dcpl=self.compact)
        dataset.write(h5s.ALL, h5s.ALL, chars)
        return self._reference(name)

    def _double(self, value: float, group: h5g.GroupID, name: bytes) -> None:
        dataset = h5d.create(group, name, h5t.IEEE_F64LE, self.scalar_space, dcpl=self.compact)
        dataset.write(h5s.ALL, h5s.ALL, np.full((1, 1), value, dtype=np.float64))

    def _bbox(self, entry: DigitStructEntry) -> h5r.Reference:
        labels = np.where(np.asarray(entry.labels) == 0, ZERO_LABEL, entry.labels).astype(np.float64)
        boxes = np.asarray(entry.boxes, dtype=np.float64).reshape(len(labels), len(BOX_FIELDS))
        columns = [labels, *boxes.T]
        name = self._new_name()
        group = h5g.create(self.refs, name)
        for field, column in zip(FIELDS, columns):
            if len(column) == 1:
                self._double(column[0], group, field.encode())
                continue
            refs = np.empty((len(column), 1), dtype=h5py.ref_dtype)
            for j, value in enumerate(column):
                value_name = self._new_name()
                self._double(value, self.refs, value_name)
                refs[j, 0] = self._reference(value_name)
            space = h5s.create_simple(refs.shape)
            dataset = h5d.create(group, field.encode(), h5t.STD_REF_OBJ, space, dcpl=self.compact)
            dataset.write(h5s.ALL, h5s.ALL, refs)
        return self._reference(name)
