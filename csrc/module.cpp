// The svhnx._core extension: native batch operations of the data path.
#include "ops.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "Native batch operations of svhnx (use svhnx.ops, which documents them).";
  svhnx::register_sequences(m);
  svhnx::register_boxes(m);
  svhnx::register_resize(m);
  svhnx::register_crops(m);
  svhnx::register_masks(m);
  svhnx::register_scenes(m);
}
