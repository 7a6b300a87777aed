// Street-number scene generator: shared types of its planning (scenes_plan.cpp), drawing
// (scenes_render.cpp) and Python binding (scenes.cpp) stages.
//
// A scene is planned first (all random choices, from Rng(seed, sample index)): image size and
// number layout from a real SVHN layout row, digits and typeface, colours, background, camera
// transform, degradations, and the digit boxes measured from the glyph outlines. Drawing then
// evaluates every output pixel from the plan, so the output of a sample depends on its seed and
// index only, never on the thread that draws it.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "svhnx/rng.hpp"

namespace svhnx {
namespace scenes {

constexpr int kCell = 64;            // atlas cell side, pixels
constexpr int kDigitHeight = 40;     // a style's median digit height in its cells (atlas.py DIGIT_HEIGHT)
constexpr float kFieldScale = 16.f;  // field units per cell pixel of distance (atlas.py FIELD_SCALE)
constexpr int kMaxDigits = 5;
constexpr int kMaxClutter = 5;       // up to 3 clutter characters, a neighbour's digit, a suffix
constexpr int kMaxGlyphs = kMaxDigits + kMaxClutter;
constexpr int kMaxEdges = 3;
constexpr int kLayoutColumns = 9;    // layouts.py LAYOUT_COLUMNS
constexpr int kBlank = 10;

// The glyph atlas and the real layout statistics, validated and copied once.
struct Tables {
  int n_glyphs = 0, n_styles = 0, n_layouts = 0;
  std::vector<uint8_t> fields;            // n_glyphs * kCell * kCell signed distance fields
  std::vector<int> labels, styles;        // per glyph: 0-9 or -1 (clutter); style index
  std::vector<std::array<float, 4>> ink;  // per glyph: ink box left, top, width, height (cell px)
  std::vector<float> scales;              // per glyph: cell px per style unit
  std::vector<double> style_cdf;          // cumulative style weights
  std::vector<std::vector<int>> by_style_digit;  // [style * 10 + digit] -> glyph indices
  std::vector<int> clutter;               // every clutter glyph
  std::vector<std::vector<int>> suffixes_by_style;  // [style] -> its clutter glyphs at least half a digit tall (letters, not '-')
  std::vector<float> layouts;             // n_layouts * kLayoutColumns
  double digit_cdf[kMaxDigits][kMaxDigits][10];  // cumulative P(digit | length, position)
  double digit_aspect[10];                // median box width / height of each digit in SVHN
};

// How much of each kind of variation to use, each in [0, 1]. All zero: one flat background
// colour, glyphs filled in one colour at their drawn weight, no rotation, shear or perspective,
// no blur, noise, compression or lighting.
struct Realism {
  double background = 1;   // textures, plates, edges, clutter characters, lighting
  double style = 1;        // stroke weight, outlines, drop shadows
  double distortion = 1;   // rotation, shear, perspective, baseline jitter
  double degradation = 1;  // low resolution, blur, noise, JPEG artefacts
  double annotation = 1;   // boxes drawn as SVHN's annotators drew them: loose, uneven margins about the ink
  double arrangement = 1;  // now and then a short number's digits stacked or set on a diagonal, not in a row
  double suffix = 1;       // number crops only: now and then a letter or sign right after the number, not part of it
};

using Rgb = std::array<float, 3>;

struct Glyph {
  int index = 0, label = -1;
  double a[6] = {0};  // plate -> cell affine: cx = a0 px + a1 py + a2, cy = a3 px + a4 py + a5
  double bounds[4] = {0};  // plate-space bounding box of the cell (with halo), for quick rejection
  float aa = 1;       // cell px per render pixel: the anti-aliasing ramp width
};

enum class Texture : int { kFlat, kGradient, kStucco, kBricks, kSiding, kWood };
enum class Ink : int { kFill, kOutlined, kOutlineOnly, kShadow };

struct Band {  // a straight band in plate space: |n . p - offset| < width / 2
  double nx = 0, ny = 0, offset = 0, width = 0;
  Rgb color{};
};

struct Plan {
  // Output and the scene window it shows.
  int out_w = 0, out_h = 0;        // output image size
  int render_w = 0, render_h = 0;  // drawing resolution before the final resampling
  double plate_per_pixel = 1;      // plate units per drawing pixel at the number (anti-aliasing)
  double win[4] = {0};             // scene window drawn: left, top, width, height (scene px)
  int scene_w = 0, scene_h = 0;    // the whole scene's size
  double to_plate[9] = {0};        // scene -> plate homography
  // Content.
  int length = 0, n_glyphs = 0;
  Glyph glyphs[kMaxGlyphs];
  int framed_glyph = -1;  // a glyph besides the digits that a number crop's window is grown to hold (a suffix), or -1
  int labels[kMaxDigits] = {0};
  float boxes[kMaxDigits][4] = {{0}};  // output pixels: left, top, width, height
  double box_margin[kMaxDigits][4] = {{0}};  // each box's margin about its ink: left, top, right, bottom (in ink heights; top and bottom shared)
  // Look.
  Texture texture = Texture::kFlat;
  Rgb wall{}, wall2{}, fg{}, outline{}, shadow{};
  double tex_scale = 1, tex_angle = 0, grad[2] = {0, 0}, noise_amp = 0;
  uint64_t tex_seed = 0;
  bool plate = false;
  bool plate_oval = false;          // an ellipse inscribed in plate_box, else a rounded rectangle
  double plate_box[4] = {0}, plate_radius = 0, plate_border = 0;
  Rgb plate_color{}, border_color{};
  int n_edges = 0;
  Band edges[kMaxEdges];
  Ink ink = Ink::kFill;
  float weight = 0, outline_width = 0;  // stroke offset and outline width, cell px
  double shadow_offset[2] = {0, 0};     // plate units
  // Light and camera.
  double light[3] = {1, 0, 0};          // gain = l0 + l1 * x + l2 * y (x, y in [-0.5, 0.5] of the scene)
  double shade[4] = {0, 0, 0, 1};       // soft shadow: nx, ny, offset (scene-normalised), darkness
  Rgb cast{1, 1, 1};
  double gamma = 1;
  double blur = 0, noise = 0;           // render px; intensity in [0, 1]
  int jpeg_quality = 0;                 // 0: none
  uint64_t noise_seed = 0;
};

// scenes_plan.cpp
Tables make_tables(const uint8_t* fields, const int64_t* labels, const int64_t* styles, const float* ink,
                   const float* scales, int64_t n_glyphs, const double* style_weights, int64_t n_styles,
                   const float* layouts, int64_t n_layouts, const double* digit_probs, const double* digit_aspects);
// A scene (crop_size == 0: the whole image) or the crop of its expanded number box, resized to
// crop_size x crop_size.
Plan plan_scene(const Tables& t, const Realism& realism, Rng& rng, int crop_size);

// scenes_render.cpp: draw `plan` into out (out_h x out_w x 3, uint8 RGB). `scratch` is working
// memory, reused between calls of one thread.
void render_scene(const Tables& t, const Plan& plan, uint8_t* out, std::vector<float>& scratch);

// Helpers shared by the stages.
inline double normal(Rng& rng) {  // standard normal (Box-Muller)
  const double u = 1.0 - rng.uniform(), v = rng.uniform();
  return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
}
inline double uniform(Rng& rng, double lo, double hi) { return lo + (hi - lo) * rng.uniform(); }
inline bool chance(Rng& rng, double p) { return rng.uniform() < p; }

// Homography helpers (row-major 3x3).
inline void apply_h(const double* m, double x, double y, double& ox, double& oy) {
  const double w = m[6] * x + m[7] * y + m[8];
  ox = (m[0] * x + m[1] * y + m[2]) / w;
  oy = (m[3] * x + m[4] * y + m[5]) / w;
}

}  // namespace scenes
}  // namespace svhnx
