// Shared helpers of the native data path: argument checks, a counter-based RNG and a
// thread pool-free parallel loop. Every op validates its inputs with these before it
// releases the GIL, so bad input raises TypeError/ValueError instead of crashing.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <string>
#include <system_error>
#include <thread>
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

// ---------------------------------------------------------------------------------------
// Short copies: the rows of small images are a few dozen bytes, where a library call per row
// costs more than the copy. Rows of 8 to 64 bytes are moved as two fixed-size
// (possibly overlapping) blocks the compiler inlines; other sizes go to memcpy/memset.
// ---------------------------------------------------------------------------------------

template <int kBytes>
inline void move_block(uint8_t* dst, const uint8_t* src) {
  uint8_t block[kBytes];
  std::memcpy(block, src, kBytes);
  std::memcpy(dst, block, kBytes);
}

inline void copy_row(uint8_t* dst, const uint8_t* src, int64_t n) {
  if (n >= 16 && n <= 32) {
    move_block<16>(dst, src);
    move_block<16>(dst + n - 16, src + n - 16);
  } else if (n > 32 && n <= 64) {
    move_block<32>(dst, src);
    move_block<32>(dst + n - 32, src + n - 32);
  } else if (n >= 8 && n < 16) {
    move_block<8>(dst, src);
    move_block<8>(dst + n - 8, src + n - 8);
  } else {
    std::memcpy(dst, src, n);
  }
}

inline void zero_row(uint8_t* dst, int64_t n) {
  static constexpr uint8_t kZeros[32] = {};
  if (n >= 16 && n <= 32) {
    move_block<16>(dst, kZeros);
    move_block<16>(dst + n - 16, kZeros);
  } else if (n > 32 && n <= 64) {
    move_block<32>(dst, kZeros);
    move_block<32>(dst + n - 32, kZeros);
  } else {
    std::memset(dst, 0, n);
  }
}

// ---------------------------------------------------------------------------------------
// Randomness: one independent stream per (seed, sample index), so the output of a batch
// does not depend on how its samples are shared among threads.
// ---------------------------------------------------------------------------------------

class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) : state_(mix(seed + mix(stream + kGolden))) {}

  uint64_t next() {
    state_ += kGolden;
    return mix(state_);
  }
  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-64 * n).
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  // Uniform integer in [lo, hi].
  int64_t between(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(below(hi - lo + 1)); }
  // Uniform double in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  static constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
  static uint64_t mix(uint64_t z) {  // SplitMix64 finaliser
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

// Fill offsets[2 * i], offsets[2 * i + 1] with the (top, left) of sample i's random crop, with
// `spare_h` rows and `spare_w` columns of the image left over; the draws random_crop and
// crop_resize's random parts share.
inline void random_offsets(uint64_t seed, int64_t n, int64_t spare_h, int64_t spare_w, int64_t* offsets) {
  for (int64_t i = 0; i < n; ++i) {
    Rng rng(seed, static_cast<uint64_t>(i));
    offsets[2 * i] = rng.between(0, spare_h);
    offsets[2 * i + 1] = rng.between(0, spare_w);
  }
}

// Fill offsets[2 * i], offsets[2 * i + 1] with the (top, left) of the centred crop of each of
// the n samples; the offsets center_crop and crop_resize's centred parts share.
inline void centre_offsets(int64_t n, int64_t spare_h, int64_t spare_w, int64_t* offsets) {
  for (int64_t i = 0; i < n; ++i) offsets[2 * i] = spare_h / 2, offsets[2 * i + 1] = spare_w / 2;
}

// ---------------------------------------------------------------------------------------
// Parallel loop
// ---------------------------------------------------------------------------------------

// Number of threads to use: `requested` if positive, else every hardware thread; never
// more than there are work items.
inline int resolve_threads(int requested, int64_t items) {
  if (requested < 0) throw py::value_error("threads: expected None, 0 or a positive count, got " + std::to_string(requested));
  int n = requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(n, items)));
}

// Call fn(begin, end) on `threads` contiguous chunks of [0, n). Call it with the GIL
// released; fn must not touch Python objects. The first exception thrown is rethrown.
// When the system cannot start another thread (std::system_error: out of threads or of
// address space), the calling thread runs the chunks left itself: fewer threads, the same
// chunks and so the same result, never std::terminate.
template <class Fn>
void parallel_for(int64_t n, int threads, Fn&& fn) {
  if (n <= 0) return;
  if (threads <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  std::vector<std::thread> workers;
  std::vector<std::exception_ptr> errors(threads);
  const int64_t chunk = (n + threads - 1) / threads;
  auto run = [&](int t) {
    const int64_t begin = t * chunk, end = std::min(n, begin + chunk);
    if (begin >= end) return;
    try {
      fn(begin, end);
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  workers.reserve(threads - 1);
  int started = 1;
  for (; started < threads; ++started) {
    try {
      workers.emplace_back(run, started);
    } catch (const std::system_error&) {
      break;
    }
  }
  for (int t = started; t < threads; ++t) run(t);
  run(0);
  for (auto& w : workers) w.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace svhnx
