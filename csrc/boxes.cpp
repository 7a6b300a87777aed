// union_boxes and expand_boxes: from the digit boxes of an image to the region a recognizer reads.
// Box arithmetic is done in double and rounded to float32 once, at the end.
#include <cmath>
#include <limits>

#include "svhnx/checks.hpp"
#include "svhnx/parallel.hpp"
#include "ops.hpp"

namespace svhnx {
namespace {

void store_box(float* out, double left, double top, double right, double bottom) {
  out[0] = static_cast<float>(left);
  out[1] = static_cast<float>(top);
  out[2] = static_cast<float>(right - left);
  out[3] = static_cast<float>(bottom - top);
}

py::array_t<float> union_boxes(const py::array& boxes, const py::object& counts, const py::object& offsets,
                               int threads) {
  const float* data = require_boxes(boxes, "boxes", /*positive_size=*/false);
  const std::vector<int64_t> groups = group_offsets(counts, offsets, boxes.shape(0), "boxes", /*allow_empty=*/false);
  const int64_t n = static_cast<int64_t>(groups.size()) - 1;
  py::array_t<float> out({n, int64_t{4}});
  float* result = out.mutable_data();
  const int nthreads = resolve_threads(threads, n);
  {
    py::gil_scoped_release release;
    parallel_for(n, nthreads, [&](int64_t begin, int64_t end) {
      constexpr double inf = std::numeric_limits<double>::infinity();
      for (int64_t g = begin; g < end; ++g) {
        double left = inf, top = inf, right = -inf, bottom = -inf;
        for (int64_t i = groups[g]; i < groups[g + 1]; ++i) {
          const Box b = box_at(data, i);
          left = std::min(left, b.left);
          top = std::min(top, b.top);
          right = std::max(right, b.right());
          bottom = std::max(bottom, b.bottom());
        }
        store_box(result + 4 * g, left, top, right, bottom);
      }
    });
  }
  return out;
}

py::array_t<float> expand_boxes(const py::array& boxes, const py::array& image_sizes, double factor, int threads) {
  const float* data = require_boxes(boxes, "boxes", /*positive_size=*/true);
  const int64_t n = boxes.shape(0);
  const int64_t* sizes = require_image_sizes(image_sizes, "image_sizes", n);
  if (!std::isfinite(factor) || factor < 0) {
    throw py::value_error("factor: expected a finite, non-negative growth factor, got " + std::to_string(factor));
  }
  for (int64_t i = 0; i < n; ++i) require_overlap(box_at(data, i), sizes[2 * i], sizes[2 * i + 1], "boxes", i);

  py::array_t<float> out({n, int64_t{4}});
  float* result = out.mutable_data();
  const int nthreads = resolve_threads(threads, n);
  {
    py::gil_scoped_release release;
    parallel_for(n, nthreads, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const Box b = box_at(data, i);
        const double height = static_cast<double>(sizes[2 * i]), width = static_cast<double>(sizes[2 * i + 1]);
        const double cx = b.left + 0.5 * b.width, cy = b.top + 0.5 * b.height;
        const double half_w = 0.5 * (1.0 + factor) * b.width, half_h = 0.5 * (1.0 + factor) * b.height;
        store_box(result + 4 * i, std::max(cx - half_w, 0.0), std::max(cy - half_h, 0.0),
                  std::min(cx + half_w, width), std::min(cy + half_h, height));
      }
    });
  }
  return out;
}

}  // namespace

void register_boxes(py::module_& m) {
  m.def("union_boxes", &union_boxes, py::arg("boxes"), py::arg("counts"), py::arg("offsets"), py::arg("threads"),
        "Union box of each group of consecutive boxes.");
  m.def("expand_boxes", &expand_boxes, py::arg("boxes"), py::arg("image_sizes"), py::arg("factor"),
        py::arg("threads"), "Grow boxes about their centre and clip them to their image.");
}

}  // namespace svhnx
