// The SVHN crop rule, shared with Python through the module (svhnx._core.CROP_GROWTH, CROP_SIZE,
// INPUT_SIZE; svhnx.ops.crop_rule reads them): the union box of a number's digits grown by
// kCropGrowth about its centre, cropped and resized to kCropSize x kCropSize, and the recognizer
// reads the centre kInputSize x kInputSize.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace svhnx {
inline constexpr double kCropGrowth = 0.3;
inline constexpr int kCropSize = 64;
inline constexpr int kInputSize = 54;

// The pixels a float box [left, right) x [top, bottom) touches in a height x width image, clipped
// to it and never less than one pixel: columns x0 .. x1, rows y0 .. y1 (x1 and y1 exclusive). The
// one home of the rule from a float box to a crop (crop_resize, the scene planner's crop window,
// svhnx.ops.pixel_windows).
struct PixelWindow {
  int64_t x0, y0, x1, y1;
};

inline PixelWindow pixel_window(double left, double top, double right, double bottom, int64_t height, int64_t width) {
  const auto lower = [](double v, int64_t size) {
    return static_cast<int64_t>(std::clamp(std::floor(v), 0.0, static_cast<double>(size - 1)));
  };
  const auto upper = [](double v, int64_t low, int64_t size) {
    return static_cast<int64_t>(std::clamp(std::ceil(v), static_cast<double>(low + 1), static_cast<double>(size)));
  };
  const int64_t x0 = lower(left, width), y0 = lower(top, height);
  return {x0, y0, upper(right, x0, width), upper(bottom, y0, height)};
}
}  // namespace svhnx
