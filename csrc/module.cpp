// The svhnx._core extension: native batch operations of the data path.
#include "ops.hpp"
#include "svhnx/crop_rule.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "Native batch operations of svhnx (use svhnx.ops, which documents them).";
  svhnx::register_sequences(m);
  svhnx::register_boxes(m);
  svhnx::register_resize(m);
  svhnx::register_crops(m);
  svhnx::register_masks(m);
  svhnx::register_scenes(m);
  m.attr("CROP_GROWTH") = svhnx::kCropGrowth;
  m.attr("CROP_SIZE") = svhnx::kCropSize;
  m.attr("INPUT_SIZE") = svhnx::kInputSize;
}
