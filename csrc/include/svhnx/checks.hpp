// Argument checks of the native ops (pybind11 arrays): every op validates its inputs with these
// before it releases the GIL, so bad input raises TypeError/ValueError instead of crashing.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace svhnx {

namespace py = pybind11;

// ---------------------------------------------------------------------------------------
// Argument checks
// ---------------------------------------------------------------------------------------

// Raise TypeError unless `a` has dtype T.
template <class T>
void require_dtype(const py::array& a, const char* name) {
  if (!py::isinstance<py::array_t<T>>(a)) {
    throw py::type_error(std::string(name) + ": expected dtype " +
                         std::string(py::str(py::dtype::of<T>())) + ", got " +
                         std::string(py::str(a.dtype())));
  }
}

// Raise ValueError unless `a` is C-contiguous.
inline void require_contiguous(const py::array& a, const char* name) {
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(name) +
                          ": expected a C-contiguous array (use numpy.ascontiguousarray)");
  }
}

// Raise ValueError unless `a` has one of the given ranks.
inline void require_ndim(const py::array& a, const char* name, std::initializer_list<int> ranks) {
  for (int r : ranks) {
    if (a.ndim() == r) return;
  }
  std::string want;
  for (int r : ranks) want += (want.empty() ? "" : " or ") + std::to_string(r);
  throw py::value_error(std::string(name) + ": expected " + want + " dimensions, got " +
                        std::to_string(a.ndim()));
}

// dtype + contiguity + rank in one call: the usual check of an input array.
template <class T>
void require_array(const py::array& a, const char* name, std::initializer_list<int> ranks) {
  require_dtype<T>(a, name);
  require_ndim(a, name, ranks);
  require_contiguous(a, name);
}

inline int64_t require_positive(int64_t v, const char* name) {
  if (v <= 0) throw py::value_error(std::string(name) + ": expected a positive value, got " + std::to_string(v));
  return v;
}

// "(2, 4)": an array's shape as Python writes it, for error messages.
inline std::string shape_string(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) s += (d ? ", " : "") + std::to_string(a.shape(d));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

// "list": the name of an object's type, for error messages.
inline std::string type_name(const py::handle& obj) {
  return py::str(py::type::handle_of(obj).attr("__name__"));
}

// ---------------------------------------------------------------------------------------
// Boxes: float32 [left, top, width, height] rows, read as doubles. Left and top may be
// negative (SVHN has such boxes); width and height may not.
// ---------------------------------------------------------------------------------------

struct Box {
  double left, top, width, height;
  double right() const { return left + width; }
  double bottom() const { return top + height; }
};

inline Box box_at(const float* boxes, int64_t i) {
  const float* b = boxes + 4 * i;
  return {b[0], b[1], b[2], b[3]};
}

inline std::string box_string(const Box& b) {
  return "[" + std::to_string(b.left) + ", " + std::to_string(b.top) + ", " + std::to_string(b.width) + ", " +
         std::to_string(b.height) + "]";
}

// Check that `boxes` is a C-contiguous float32 [M, 4] array of finite boxes whose width and
// height are non-negative, or positive when `positive_size`; return its data.
inline const float* require_boxes(const py::array& boxes, const char* name, bool positive_size) {
  require_array<float>(boxes, name, {2});
  if (boxes.shape(1) != 4) {
    throw py::value_error(std::string(name) + ": expected shape (M, 4) of [left, top, width, height] rows, got " +
                          shape_string(boxes));
  }
  const float* data = static_cast<const float*>(boxes.data());
  for (int64_t i = 0; i < boxes.shape(0); ++i) {
    const Box b = box_at(data, i);
    const auto fail = [&](const char* problem) {
      throw py::value_error(std::string(name) + ": box " + std::to_string(i) + " " + problem + box_string(b));
    };
    if (!(std::isfinite(b.left) && std::isfinite(b.top) && std::isfinite(b.width) && std::isfinite(b.height))) {
      fail("is not finite: ");
    }
    if (b.width < 0 || b.height < 0) fail("has a negative width or height: ");
    if (positive_size && (b.width == 0 || b.height == 0)) fail("has a zero width or height: ");
  }
  return data;
}

// Raise ValueError unless box `i` overlaps a height x width image (shares some area with it).
inline void require_overlap(const Box& b, int64_t height, int64_t width, const char* name, int64_t i) {
  if (!(b.left < width && b.top < height && b.right() > 0 && b.bottom() > 0)) {
    throw py::value_error(std::string(name) + ": box " + std::to_string(i) + " " + box_string(b) +
                          " lies outside its " + std::to_string(height) + " x " + std::to_string(width) + " image");
  }
}

// Check that `sizes` is a C-contiguous int64 [n, 2] array of positive (height, width) pairs.
inline const int64_t* require_image_sizes(const py::array& sizes, const char* name, int64_t n) {
  require_array<int64_t>(sizes, name, {2});
  if (sizes.shape(0) != n || sizes.shape(1) != 2) {
    throw py::value_error(std::string(name) + ": expected shape (" + std::to_string(n) +
                          ", 2) of (height, width) pairs, got " + shape_string(sizes));
  }
  const int64_t* data = static_cast<const int64_t*>(sizes.data());
  for (int64_t i = 0; i < 2 * n; ++i) {
    if (data[i] <= 0) {
      throw py::value_error(std::string(name) + ": expected positive heights and widths, got " +
                            std::to_string(data[i]) + " in row " + std::to_string(i / 2));
    }
  }
  return data;
}

// Offsets (N + 1 entries, 0 to `total`) of N ragged groups of consecutive items, given by
// exactly one of `counts` (int64 [N]) and `offsets` (int64 [N + 1]); None stands for absent.
// Empty groups raise ValueError unless `allow_empty`.
inline std::vector<int64_t> group_offsets(const py::object& counts, const py::object& offsets, int64_t total,
                                          const char* items, bool allow_empty) {
  if (counts.is_none() == offsets.is_none()) throw py::value_error("counts, offsets: expected exactly one of them");
  const bool by_counts = !counts.is_none();
  const char* name = by_counts ? "counts" : "offsets";
  const py::object& arg = by_counts ? counts : offsets;
  if (!py::isinstance<py::array>(arg)) throw py::type_error(std::string(name) + ": expected a numpy array");
  const py::array given = py::reinterpret_borrow<py::array>(arg);
  require_array<int64_t>(given, name, {1});
  const int64_t* v = static_cast<const int64_t*>(given.data());
  const int64_t len = given.shape(0);
  std::vector<int64_t> out;
  if (by_counts) {
    out.reserve(len + 1);
    out.push_back(0);
    for (int64_t g = 0; g < len; ++g) {
      if (v[g] < 0 || (!allow_empty && v[g] == 0)) {
        throw py::value_error(std::string("counts: expected ") + (allow_empty ? "non-negative" : "positive") +
                              " counts, got " + std::to_string(v[g]) + " for group " + std::to_string(g));
      }
    }
    for (int64_t g = 0; g < len && v[g] <= total - out.back(); ++g) out.push_back(out.back() + v[g]);
    if (static_cast<int64_t>(out.size()) != len + 1 || out.back() != total) {
      throw py::value_error(std::string("counts: expected counts that add up to the number of ") + items + " (" +
                            std::to_string(total) + ")");
    }
  } else {
    if (len == 0 || v[0] != 0 || v[len - 1] != total) {
      throw py::value_error(std::string("offsets: expected N + 1 offsets from 0 to the number of ") + items + " (" +
                            std::to_string(total) + ")");
    }
    for (int64_t g = 0; g + 1 < len; ++g) {
      if (v[g + 1] < v[g] || (!allow_empty && v[g + 1] == v[g])) {
        throw py::value_error(std::string("offsets: expected ") + (allow_empty ? "non-decreasing" : "increasing") +
                              " offsets, got " + std::to_string(v[g]) + " then " + std::to_string(v[g + 1]) +
                              " (group " + std::to_string(g) + ")");
      }
    }
    out.assign(v, v + len);
  }
  return out;
}

}  // namespace svhnx
