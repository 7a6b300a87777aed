// Registration functions of the native ops, one per source file.
#pragma once

#include <pybind11/pybind11.h>

namespace svhnx {
void register_sequences(pybind11::module_& m);
void register_boxes(pybind11::module_& m);
void register_resize(pybind11::module_& m);
void register_crops(pybind11::module_& m);
void register_masks(pybind11::module_& m);
void register_scenes(pybind11::module_& m);
}  // namespace svhnx
