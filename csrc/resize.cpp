// crop_resize: cut a box out of each image and resize it bilinearly to a fixed size.
//
// Crop rule (svhnx.ops.pixel_windows documents it; keep the two in step): columns
// x0 = clamp(floor(left), 0, W - 1) to x1 = clamp(ceil(left + width), x0 + 1, W), rows alike.
// Resize: OpenCV's INTER_LINEAR, i.e. source coordinate (d + 0.5) * src / dst - 0.5, clamped at
// the edges, with 11-bit fixed-point weights; a horizontal pass into int32 rows, then a
// vertical pass with one rounding at the end.
#include <cmath>
#include <string>

#include "common.hpp"
#include "ops.hpp"

namespace svhnx {
namespace {

constexpr int32_t kWeightBits = 11, kOne = 1 << kWeightBits;  // weights sum to kOne

struct Window {
  int64_t x0, y0, x1, y1;
};

Window crop_window(const Box& b, int64_t height, int64_t width) {
  const auto lower = [](double v, int64_t size) {
    return static_cast<int64_t>(std::min(std::max(std::floor(v), 0.0), static_cast<double>(size - 1)));
  };
  const auto upper = [](double v, int64_t low, int64_t size) {
    return static_cast<int64_t>(std::min(std::max(std::ceil(v), static_cast<double>(low + 1)), static_cast<double>(size)));
  };
  const int64_t x0 = lower(b.left, width), y0 = lower(b.top, height);
  return {x0, y0, upper(b.right(), x0, width), upper(b.bottom(), y0, height)};
}

// For each of `dst` outputs: the two source elements (index * step) and the weight of the second.
struct Taps {
  std::vector<int64_t> lo, hi;
  std::vector<int32_t> weight_hi;

  void build(int64_t src, int64_t dst, int64_t step) {
    lo.resize(dst), hi.resize(dst), weight_hi.resize(dst);
    const double scale = static_cast<double>(src) / static_cast<double>(dst);
    for (int64_t d = 0; d < dst; ++d) {
      const double f = (static_cast<double>(d) + 0.5) * scale - 0.5;
      int64_t i = static_cast<int64_t>(std::floor(f));
      double frac = f - static_cast<double>(i);
      if (i < 0) i = 0, frac = 0.0;
      if (i >= src - 1) i = src - 1, frac = 0.0;
      lo[d] = i * step;
      hi[d] = std::min(i + 1, src - 1) * step;
      weight_hi[d] = static_cast<int32_t>(std::lround(frac * kOne));
    }
  }
};

// Horizontal pass of one source row into `out` (dst_w * channels int32, scaled by kOne).
// kChannels > 0 fixes the channel count at compile time; 0 reads it from `channels`.
template <int kChannels>
void resize_row(const uint8_t* row, const Taps& x, int64_t channels, int32_t* out) {
  const int64_t c_n = kChannels > 0 ? kChannels : channels;
  const int64_t n = static_cast<int64_t>(x.lo.size());
  for (int64_t d = 0; d < n; ++d) {
    const uint8_t* a = row + x.lo[d];
    const uint8_t* b = row + x.hi[d];
    const int32_t w1 = x.weight_hi[d], w0 = kOne - w1;
    for (int64_t c = 0; c < c_n; ++c) out[d * c_n + c] = a[c] * w0 + b[c] * w1;
  }
}

void blend_rows(const int32_t* r0, const int32_t* r1, int32_t w1, int64_t n, uint8_t* out) {
  const int32_t w0 = kOne - w1;
  constexpr int32_t half = 1 << (2 * kWeightBits - 1);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>((r0[i] * w0 + r1[i] * w1 + half) >> (2 * kWeightBits));
}

// Per-thread buffers: the taps of both axes and the two horizontally resized source rows
// the current output row needs (with the source row each holds, -1 when none).
struct Scratch {
  Taps x, y;
  std::vector<int32_t> rows[2];
  int64_t held[2] = {-1, -1};
};

template <int kChannels>
void resize_window(const uint8_t* image, int64_t width, int64_t channels, const Window& w, int64_t out_h,
                   int64_t out_w, uint8_t* out, Scratch& s) {
  const int64_t row_bytes = width * channels, out_row = out_w * channels;
  const uint8_t* origin = image + w.y0 * row_bytes + w.x0 * channels;
  s.x.build(w.x1 - w.x0, out_w, channels);
  s.y.build(w.y1 - w.y0, out_h, 1);
  for (auto& r : s.rows) r.resize(out_row);
  s.held[0] = s.held[1] = -1;
  // The source row `r` resized, computed into the buffer not holding `keep` unless already held.
  const auto row = [&](int64_t r, int64_t keep) -> const int32_t* {
    for (int k = 0; k < 2; ++k) {
      if (s.held[k] == r) return s.rows[k].data();
    }
    const int k = s.held[0] == keep ? 1 : 0;
    resize_row<kChannels>(origin + r * row_bytes, s.x, channels, s.rows[k].data());
    s.held[k] = r;
    return s.rows[k].data();
  };
  for (int64_t d = 0; d < out_h; ++d) {
    const int64_t lo = s.y.lo[d], hi = s.y.hi[d];
    const int32_t* r0 = row(lo, hi);
    const int32_t* r1 = row(hi, lo);
    blend_rows(r0, r1, s.y.weight_hi[d], out_row, out + d * out_row);
  }
}

struct Source {
  const uint8_t* data;
  int64_t height, width;
};

py::array_t<uint8_t> crop_resize(const py::object& images, const py::array& boxes, int64_t out_h, int64_t out_w,
                                 int threads) {
  require_positive(out_h, "size (height)");
  require_positive(out_w, "size (width)");
  std::vector<Source> sources;
  std::vector<py::array> keep_alive;
  int64_t channels = 0;
  if (py::isinstance<py::array>(images)) {
    const py::array batch = py::reinterpret_borrow<py::array>(images);
    require_array<uint8_t>(batch, "images", {4});
    const int64_t n = batch.shape(0), h = batch.shape(1), w = batch.shape(2);
    channels = batch.shape(3);
    if (h == 0 || w == 0 || channels == 0) {
      throw py::value_error("images: expected a non-zero height, width and channel count, got shape " +
                            shape_string(batch));
    }
    const uint8_t* data = static_cast<const uint8_t*>(batch.data());
    for (int64_t i = 0; i < n; ++i) sources.push_back({data + i * h * w * channels, h, w});
  } else if (py::isinstance<py::sequence>(images) && !py::isinstance<py::str>(images)) {
    const py::sequence seq = py::reinterpret_borrow<py::sequence>(images);
    if (seq.size() == 0) throw py::value_error("images: expected at least one image");
    for (size_t i = 0; i < seq.size(); ++i) {
      const std::string name = "images[" + std::to_string(i) + "]";
      const py::object item = seq[i];
      if (!py::isinstance<py::array>(item)) {
        throw py::type_error(name + ": expected a uint8 numpy array, got " + type_name(item));
      }
      const py::array image = py::reinterpret_borrow<py::array>(item);
      require_array<uint8_t>(image, name.c_str(), {2, 3});
      const int64_t c = image.ndim() == 3 ? image.shape(2) : 1;
      if (i == 0) channels = c;
      if (c != channels) {
        throw py::value_error(name + ": expected " + std::to_string(channels) + " channel(s) like images[0], got " +
                              std::to_string(c));
      }
      if (image.shape(0) == 0 || image.shape(1) == 0 || c == 0) {
        throw py::value_error(name + ": expected a non-zero height, width and channel count, got shape " +
                              shape_string(image));
      }
      sources.push_back({static_cast<const uint8_t*>(image.data()), image.shape(0), image.shape(1)});
      keep_alive.push_back(image);
    }
  } else {
    throw py::type_error("images: expected a uint8 N x H x W x C array or a sequence of uint8 H x W (x C) arrays, got " +
                         type_name(images));
  }

  const int64_t n = static_cast<int64_t>(sources.size());
  const float* box_data = require_boxes(boxes, "boxes", /*positive_size=*/true);
  if (boxes.shape(0) != n) {
    throw py::value_error("boxes: expected one box per image (" + std::to_string(n) + "), got " +
                          std::to_string(boxes.shape(0)));
  }
  std::vector<Window> windows(n);
  for (int64_t i = 0; i < n; ++i) {
    const Box b = box_at(box_data, i);
    require_overlap(b, sources[i].height, sources[i].width, "boxes", i);
    windows[i] = crop_window(b, sources[i].height, sources[i].width);
  }

  py::array_t<uint8_t> out({n, out_h, out_w, channels});
  uint8_t* result = out.mutable_data();
  const int64_t out_bytes = out_h * out_w * channels;
  const int nthreads = resolve_threads(threads, n);
  {
    py::gil_scoped_release release;
    parallel_for(n, nthreads, [&](int64_t begin, int64_t end) {
      Scratch scratch;
      for (int64_t i = begin; i < end; ++i) {
        const Source& src = sources[i];
        uint8_t* dst = result + i * out_bytes;
        switch (channels) {
          case 1:
            resize_window<1>(src.data, src.width, 1, windows[i], out_h, out_w, dst, scratch);
            break;
          case 3:
            resize_window<3>(src.data, src.width, 3, windows[i], out_h, out_w, dst, scratch);
            break;
          default:
            resize_window<0>(src.data, src.width, channels, windows[i], out_h, out_w, dst, scratch);
        }
      }
    });
  }
  return out;
}

}  // namespace

void register_resize(py::module_& m) {
  m.def("crop_resize", &crop_resize, py::arg("images"), py::arg("boxes"), py::arg("height"), py::arg("width"),
        py::arg("threads"), "Crop one box out of each image and resize it bilinearly.");
}

}  // namespace svhnx
