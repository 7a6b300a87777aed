// box_masks: rasterise each image's digit boxes into a uint8 mask (the localizer's target).
//
// Mask pixel (r, c) is 1 when its centre (c + 0.5, r + 0.5) lies in some box, with the box's
// left and right edges scaled by mask_w / image_w and its top and bottom by mask_h / image_h
// (no scaling without image sizes): left' <= c + 0.5 < right', top' <= r + 0.5 < bottom'.
#include <cmath>
#include <cstring>

#include "svhnx/checks.hpp"
#include "svhnx/parallel.hpp"
#include "ops.hpp"

namespace svhnx {
namespace {

// The cells [first, last) whose centre k + 0.5 lies in [lo, hi), clipped to [0, size).
std::pair<int64_t, int64_t> covered_cells(double lo, double hi, int64_t size) {
  const auto clip = [size](double v) { return static_cast<int64_t>(std::min(std::max(v, 0.0), static_cast<double>(size))); };
  return {clip(std::ceil(lo - 0.5)), clip(std::ceil(hi - 0.5))};
}

py::array_t<uint8_t> box_masks(const py::array& boxes, const py::array& counts, int64_t mask_h, int64_t mask_w,
                               const py::object& image_sizes, int threads) {
  const float* data = require_boxes(boxes, "boxes", /*positive_size=*/false);
  require_positive(mask_h, "mask_size (height)");
  require_positive(mask_w, "mask_size (width)");
  const std::vector<int64_t> groups = group_offsets(counts, py::none(), boxes.shape(0), "boxes", /*allow_empty=*/true);
  const int64_t n = static_cast<int64_t>(groups.size()) - 1;
  const int64_t* sizes = nullptr;
  py::array sizes_array;
  if (!image_sizes.is_none()) {
    if (!py::isinstance<py::array>(image_sizes)) throw py::type_error("image_sizes: expected a numpy array");
    sizes_array = py::reinterpret_borrow<py::array>(image_sizes);
    sizes = require_image_sizes(sizes_array, "image_sizes", n);
  }

  py::array_t<uint8_t> out({n, mask_h, mask_w});
  uint8_t* masks = out.mutable_data();
  const int nthreads = resolve_threads(threads, n);
  {
    py::gil_scoped_release release;
    parallel_for(n, nthreads, [&](int64_t begin, int64_t end) {
      for (int64_t g = begin; g < end; ++g) {
        uint8_t* mask = masks + g * mask_h * mask_w;
        std::memset(mask, 0, mask_h * mask_w);
        const double sx = sizes ? static_cast<double>(mask_w) / static_cast<double>(sizes[2 * g + 1]) : 1.0;
        const double sy = sizes ? static_cast<double>(mask_h) / static_cast<double>(sizes[2 * g]) : 1.0;
        for (int64_t i = groups[g]; i < groups[g + 1]; ++i) {
          const Box b = box_at(data, i);
          const auto [c0, c1] = covered_cells(b.left * sx, b.right() * sx, mask_w);
          const auto [r0, r1] = covered_cells(b.top * sy, b.bottom() * sy, mask_h);
          if (c1 <= c0) continue;
          for (int64_t r = r0; r < r1; ++r) std::memset(mask + r * mask_w + c0, 1, c1 - c0);
        }
      }
    });
  }
  return out;
}

}  // namespace

void register_masks(py::module_& m) {
  m.def("box_masks", &box_masks, py::arg("boxes"), py::arg("counts"), py::arg("height"), py::arg("width"),
        py::arg("image_sizes"), py::arg("threads"), "Rasterise each image's boxes into a uint8 mask.");
}

}  // namespace svhnx
