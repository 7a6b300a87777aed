// random_crop and center_crop: fixed-size crops of a batch of same-size images.
#include <string>

#include "svhnx/checks.hpp"
#include "svhnx/parallel.hpp"
#include "svhnx/rng.hpp"
#include "svhnx/rows.hpp"
#include "ops.hpp"

namespace svhnx {
namespace {

struct Batch {
  const uint8_t* data;
  int64_t n, height, width, channels;
};

// Check a uint8 N x H x W x C batch that an out_h x out_w crop fits in.
Batch require_crop_batch(const py::array& images, int64_t out_h, int64_t out_w) {
  require_array<uint8_t>(images, "images", {4});
  require_positive(out_h, "size (height)");
  require_positive(out_w, "size (width)");
  const Batch b{static_cast<const uint8_t*>(images.data()), images.shape(0), images.shape(1), images.shape(2),
                images.shape(3)};
  if (b.channels == 0) throw py::value_error("images: expected at least one channel, got shape " + shape_string(images));
  if (out_h > b.height || out_w > b.width) {
    throw py::value_error("size: a " + std::to_string(out_h) + " x " + std::to_string(out_w) +
                          " crop does not fit in images of " + std::to_string(b.height) + " x " +
                          std::to_string(b.width));
  }
  return b;
}

// Copy the out_h x out_w window at offsets[i] = (top, left) of each image into `out`.
void copy_crops(const Batch& b, const int64_t* offsets, int64_t out_h, int64_t out_w, uint8_t* out, int threads) {
  const int64_t row_bytes = b.width * b.channels, image_bytes = b.height * row_bytes;
  const int64_t out_row = out_w * b.channels, out_bytes = out_h * out_row;
  py::gil_scoped_release release;
  parallel_for(b.n, threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const uint8_t* src = b.data + i * image_bytes + offsets[2 * i] * row_bytes + offsets[2 * i + 1] * b.channels;
      for (int64_t r = 0; r < out_h; ++r) copy_row(out + i * out_bytes + r * out_row, src + r * row_bytes, out_row);
    }
  });
}

py::tuple random_crop(const py::array& images, int64_t out_h, int64_t out_w, uint64_t seed, int threads) {
  const Batch b = require_crop_batch(images, out_h, out_w);
  py::array_t<uint8_t> crops({b.n, out_h, out_w, b.channels});
  py::array_t<int64_t> offsets({b.n, int64_t{2}});
  int64_t* off = offsets.mutable_data();
  random_offsets(seed, b.n, b.height - out_h, b.width - out_w, off);
  copy_crops(b, off, out_h, out_w, crops.mutable_data(), resolve_threads(threads, b.n));
  return py::make_tuple(crops, offsets);
}

py::array_t<uint8_t> center_crop(const py::array& images, int64_t out_h, int64_t out_w, int threads) {
  const Batch b = require_crop_batch(images, out_h, out_w);
  py::array_t<uint8_t> crops({b.n, out_h, out_w, b.channels});
  std::vector<int64_t> off(2 * b.n);
  centre_offsets(b.n, b.height - out_h, b.width - out_w, off.data());
  copy_crops(b, off.data(), out_h, out_w, crops.mutable_data(), resolve_threads(threads, b.n));
  return crops;
}

}  // namespace

void register_crops(py::module_& m) {
  m.def("random_crop", &random_crop, py::arg("images"), py::arg("height"), py::arg("width"), py::arg("seed"),
        py::arg("threads"), "Random fixed-size crop of each image; returns (crops, offsets).");
  m.def("center_crop", &center_crop, py::arg("images"), py::arg("height"), py::arg("width"), py::arg("threads"),
        "Centred fixed-size crop of each image.");
}

}  // namespace svhnx
