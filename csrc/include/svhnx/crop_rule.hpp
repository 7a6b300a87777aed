// The SVHN crop rule, shared with Python through the module (svhnx._core.CROP_GROWTH, CROP_SIZE,
// INPUT_SIZE; svhnx.ops.crop_rule reads them): the union box of a number's digits grown by
// kCropGrowth about its centre, cropped and resized to kCropSize x kCropSize, and the recognizer
// reads the centre kInputSize x kInputSize.
#pragma once

namespace svhnx {
inline constexpr double kCropGrowth = 0.3;
inline constexpr int kCropSize = 64;
inline constexpr int kInputSize = 54;
}  // namespace svhnx
