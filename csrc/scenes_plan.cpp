// Planning a street-number scene: every random choice, the camera transform and the digit boxes.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "scenes.hpp"
#include "svhnx/checks.hpp"
#include "svhnx/crop_rule.hpp"

namespace svhnx {
namespace scenes {
namespace {

constexpr double kPi = 3.141592653589793;

// ---------------------------------------------------------------------------------------
// Small linear algebra on row-major 3x3 matrices.
// ---------------------------------------------------------------------------------------

using Mat3 = std::array<double, 9>;

Mat3 mul(const Mat3& a, const Mat3& b) {
  Mat3 c{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) c[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
  return c;
}

Mat3 inverse(const Mat3& m) {
  const double a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5], g = m[6], h = m[7], i = m[8];
  const double A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const double det = a * A + b * B + c * C;
  const double s = 1.0 / det;
  return {A * s, -(b * i - c * h) * s, (b * f - c * e) * s,
          B * s, (a * i - c * g) * s,  -(a * f - c * d) * s,
          C * s, -(a * h - b * g) * s, (a * e - b * d) * s};
}

Mat3 translation(double x, double y) { return {1, 0, x, 0, 1, y, 0, 0, 1}; }
Mat3 scaling(double s) { return {s, 0, 0, 0, s, 0, 0, 0, 1}; }

// ---------------------------------------------------------------------------------------
// Drawing from tables.
// ---------------------------------------------------------------------------------------

int draw_cdf(Rng& rng, const double* cdf, int n) {
  const double u = rng.uniform() * cdf[n - 1];
  for (int k = 0; k < n; ++k) {
    if (u < cdf[k]) return k;
  }
  return n - 1;
}

int pick(Rng& rng, const std::vector<int>& v) { return v[rng.below(v.size())]; }

// A hue (in sextants, [0, 6)) as paint and building materials have them: mostly warm (brick,
// wood, beige), then blue and green, sometimes anything.
double draw_hue(Rng& rng) {
  const double u = rng.uniform();
  const double h = u < 0.45 ? uniform(rng, 0.0, 0.13) : u < 0.65 ? uniform(rng, 0.52, 0.66)
                 : u < 0.8 ? uniform(rng, 0.2, 0.42) : rng.uniform();
  return 6.0 * h;
}

// A colour of relative luminance `lum` (Rec. 601 weights) with saturation about `sat`.
Rgb color_with_luminance(Rng& rng, double lum, double sat) {
  const double hue = draw_hue(rng);
  const int sector = static_cast<int>(hue) % 6;
  const double f = hue - std::floor(hue);
  const double p = 1 - sat, q = 1 - sat * f, t = 1 - sat * (1 - f);
  double rgb[3];
  switch (sector) {
    case 0: rgb[0] = 1, rgb[1] = t, rgb[2] = p; break;
    case 1: rgb[0] = q, rgb[1] = 1, rgb[2] = p; break;
    case 2: rgb[0] = p, rgb[1] = 1, rgb[2] = t; break;
    case 3: rgb[0] = p, rgb[1] = q, rgb[2] = 1; break;
    case 4: rgb[0] = t, rgb[1] = p, rgb[2] = 1; break;
    default: rgb[0] = 1, rgb[1] = p, rgb[2] = q; break;
  }
  const auto luminance = [](const double* c) { return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]; };
  const double y0 = luminance(rgb);
  double m = 0;
  for (double& c : rgb) {
    c *= lum / y0;
    m = std::max(m, c);
  }
  if (m > 1) {  // too bright for this hue: scale into range, then lift towards white
    for (double& c : rgb) c /= m;
    const double y1 = luminance(rgb), beta = y1 < 1 ? (lum - y1) / (1 - y1) : 0;
    for (double& c : rgb) c += beta * (1 - c);
  }
  return {static_cast<float>(rgb[0]), static_cast<float>(rgb[1]), static_cast<float>(rgb[2])};
}

// Luminance of an ink colour at contrast `c` from a surface of luminance `surface`.
double ink_luminance(Rng& rng, double surface, double c) {
  const bool can_dark = surface - c >= 0.02, can_light = surface + c <= 0.98;
  bool dark = surface > 0.5;
  if (can_dark && can_light) {
    dark = chance(rng, surface > 0.5 ? 0.8 : 0.35);
  } else if (can_dark || can_light) {
    dark = can_dark;
  } else {
    c = std::max(surface - 0.02, 0.98 - surface);
    dark = surface - 0.02 >= 0.98 - surface;
  }
  return dark ? surface - c : surface + c;
}

// ---------------------------------------------------------------------------------------
// Boxes: where the glyph's ink is in the scene, measured from its distance field.
// ---------------------------------------------------------------------------------------

struct Extent {
  double x0 = std::numeric_limits<double>::infinity(), y0 = x0, x1 = -x0, y1 = -x0;
  void add(double x, double y) {
    x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  }
  bool empty() const { return !(x1 >= x0); }
};

// Scene-space extent of the glyph's ink at stroke offset `weight` (cell px), following the
// drawing rule exactly: ink where the bilinearly interpolated field plus `weight` is positive.
// Boundary crossings along every cell row and column are mapped cell -> plate -> scene.
Extent ink_extent(const Tables& t, const Glyph& g, float weight, const Mat3& plate_to_scene) {
  const uint8_t* f = &t.fields[static_cast<size_t>(g.index) * kCell * kCell];
  const auto v = [&](int x, int y) { return (f[y * kCell + x] - 128.0f) / kFieldScale + weight; };
  // cell -> plate: invert the 2x2 part of the plate -> cell affine.
  const double* a = g.a;
  const double det = a[0] * a[4] - a[1] * a[3];
  const double i00 = a[4] / det, i01 = -a[1] / det, i10 = -a[3] / det, i11 = a[0] / det;
  Extent e;
  const auto add = [&](double cx, double cy) {
    const double dx = cx - a[2], dy = cy - a[5];
    double sx, sy;
    apply_h(plate_to_scene.data(), i00 * dx + i01 * dy, i10 * dx + i11 * dy, sx, sy);
    e.add(sx, sy);
  };
  // Crossing between samples at positions p (value vp, inside) and q (value vq, outside).
  const auto cross = [](double p, double q, float vp, float vq) { return p + (q - p) * vp / (vp - vq); };
  // One pass over the ink box grown by the stroke offset (ink can reach no further): the first and
  // last inked sample of every row and column.
  const auto& ink = t.ink[g.index];
  const int grow = static_cast<int>(std::ceil(std::max(0.f, weight))) + 2;
  const int x0 = std::max(0, static_cast<int>(ink[0]) - grow), x1 = std::min(kCell, static_cast<int>(ink[0] + ink[2]) + grow + 1);
  const int y0 = std::max(0, static_cast<int>(ink[1]) - grow), y1 = std::min(kCell, static_cast<int>(ink[1] + ink[3]) + grow + 1);
  const float threshold = 128.0f - kFieldScale * weight;  // inked: field value above this
  int row_first[kCell], row_last[kCell], col_first[kCell], col_last[kCell];
  std::fill(row_first, row_first + kCell, -1);
  std::fill(col_first, col_first + kCell, -1);
  for (int y = y0; y < y1; ++y) {
    const uint8_t* line = f + y * kCell;
    for (int x = x0; x < x1; ++x) {
      if (line[x] > threshold) {
        if (row_first[y] < 0) row_first[y] = x;
        row_last[y] = x;
        if (col_first[x] < 0) col_first[x] = y;
        col_last[x] = y;
      }
    }
  }
  for (int y = y0; y < y1; ++y) {
    const int first = row_first[y], last = row_last[y];
    if (first < 0) continue;
    const double cy = y + 0.5;
    add(first > 0 ? cross(first + 0.5, first - 0.5, v(first, y), v(first - 1, y)) : 0.0, cy);
    add(last < kCell - 1 ? cross(last + 0.5, last + 1.5, v(last, y), v(last + 1, y)) : double(kCell), cy);
  }
  for (int x = x0; x < x1; ++x) {
    const int first = col_first[x], last = col_last[x];
    if (first < 0) continue;
    const double cx = x + 0.5;
    add(cx, first > 0 ? cross(first + 0.5, first - 0.5, v(x, first), v(x, first - 1)) : 0.0);
    add(cx, last < kCell - 1 ? cross(last + 0.5, last + 1.5, v(x, last), v(x, last + 1)) : double(kCell));
  }
  return e;
}

// Digit boxes in scene pixels, in the SVHN annotation convention: each box spans its digit's ink
// horizontally; all boxes of a number share the tallest digit's height, centred on their own ink.
void digit_boxes(const Tables& t, const Plan& p, float weight, const Mat3& m, double boxes[][4]) {
  double tallest = 0;
  Extent ext[kMaxDigits];
  for (int i = 0; i < p.length; ++i) {
    ext[i] = ink_extent(t, p.glyphs[i], weight, m);
    tallest = std::max(tallest, ext[i].y1 - ext[i].y0);
  }
  for (int i = 0; i < p.length; ++i) {
    const double cy = (ext[i].y0 + ext[i].y1) / 2;
    const double* margin = p.box_margin[i];
    boxes[i][0] = ext[i].x0 - margin[0] * tallest;
    boxes[i][1] = cy - tallest / 2 - margin[1] * tallest;
    boxes[i][2] = ext[i].x1 - ext[i].x0 + (margin[0] + margin[2]) * tallest;
    boxes[i][3] = tallest * (1 + margin[1] + margin[3]);
  }
}

void union_box(const double boxes[][4], int n, double* u) {
  Extent e;
  for (int i = 0; i < n; ++i) {
    e.add(boxes[i][0], boxes[i][1]);
    e.add(boxes[i][0] + boxes[i][2], boxes[i][1] + boxes[i][3]);
  }
  u[0] = e.x0, u[1] = e.y0, u[2] = e.x1 - e.x0, u[3] = e.y1 - e.y0;
}

// Place glyph `index` with its ink box's left edge at plate x `left`, ink centre at plate y `cy`;
// `ux`, `uy`: plate units per cell pixel.
Glyph place(const Tables& t, int index, double left, double cy, double ux, double uy) {
  Glyph g;
  g.index = index;
  g.label = t.labels[index];
  const auto& ink = t.ink[index];
  const double top = cy - ink[3] * uy / 2;
  g.a[0] = 1 / ux, g.a[1] = 0, g.a[2] = ink[0] - left / ux;
  g.a[3] = 0, g.a[4] = 1 / uy, g.a[5] = ink[1] - top / uy;
  g.bounds[0] = left - ink[0] * ux, g.bounds[2] = left + (kCell - ink[0]) * ux;
  g.bounds[1] = top - ink[1] * uy, g.bounds[3] = top + (kCell - ink[1]) * uy;
  return g;
}

// Scene pixels per plate unit at the plate origin (square root of the Jacobian's determinant).
double local_scale(const Mat3& m) {
  const double w = m[8];  // d/dp (A p + a) / (c . p + w) at p = 0 is (A - a c^T / w) / w
  const double j00 = (m[0] - m[2] * m[6] / w) / w, j01 = (m[1] - m[2] * m[7] / w) / w;
  const double j10 = (m[3] - m[5] * m[6] / w) / w, j11 = (m[4] - m[5] * m[7] / w) / w;
  return std::sqrt(std::fabs(j00 * j11 - j01 * j10));
}

// True if the scene -> plate map keeps well away from its horizon over the whole image.
bool horizon_clear(const Mat3& to_plate, double w, double h) {
  const auto den = [&](double x, double y) { return to_plate[6] * x + to_plate[7] * y + to_plate[8]; };
  const double centre = den(w / 2, h / 2);
  for (double x : {0.0, w}) {
    for (double y : {0.0, h}) {
      if (!(den(x, y) / centre > 0.3)) return false;
    }
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------

Tables make_tables(const uint8_t* fields, const int64_t* labels, const int64_t* styles, const float* ink,
                   const float* scales, int64_t n_glyphs, const double* style_weights, int64_t n_styles,
                   const float* layouts, int64_t n_layouts, const double* digit_probs, const double* digit_aspects) {
  Tables t;
  t.n_glyphs = static_cast<int>(n_glyphs);
  t.n_styles = static_cast<int>(n_styles);
  t.n_layouts = static_cast<int>(n_layouts);
  t.fields.assign(fields, fields + n_glyphs * kCell * kCell);
  t.labels.resize(n_glyphs);
  t.styles.resize(n_glyphs);
  t.ink.resize(n_glyphs);
  t.scales.assign(scales, scales + n_glyphs);
  t.by_style_digit.assign(static_cast<size_t>(n_styles) * 10, {});
  t.suffixes_by_style.assign(static_cast<size_t>(n_styles), {});
  for (int64_t i = 0; i < n_glyphs; ++i) {
    const int64_t label = labels[i], style = styles[i];
    if (label < -1 || label > 9) {
      throw py::value_error("labels: expected 0-9 or -1 (clutter), found " + std::to_string(label) + " at index " + std::to_string(i));
    }
    if (style < 0 || style >= n_styles) {
      throw py::value_error("styles: expected style indices in [0, " + std::to_string(n_styles) + "), found " +
                            std::to_string(style) + " at index " + std::to_string(i));
    }
    const float* box = ink + 4 * i;
    if (!(box[0] >= 0 && box[1] >= 0 && box[2] > 0 && box[3] > 0 && box[0] + box[2] <= kCell && box[1] + box[3] <= kCell)) {
      throw py::value_error("ink: glyph " + std::to_string(i) + " has an ink box outside its cell or empty");
    }
    if (!(scales[i] > 0 && std::isfinite(scales[i]))) {
      throw py::value_error("scales: expected positive finite scales, glyph " + std::to_string(i));
    }
    t.labels[i] = static_cast<int>(label);
    t.styles[i] = static_cast<int>(style);
    t.ink[i] = {box[0], box[1], box[2], box[3]};
    if (label >= 0) {
      t.by_style_digit[style * 10 + label].push_back(static_cast<int>(i));
    } else {
      t.clutter.push_back(static_cast<int>(i));
      if (box[3] / scales[i] >= 0.5 * kDigitHeight) t.suffixes_by_style[style].push_back(static_cast<int>(i));
    }
  }
  double total = 0;
  for (int64_t s = 0; s < n_styles; ++s) {
    if (!(style_weights[s] >= 0 && std::isfinite(style_weights[s]))) {
      throw py::value_error("style_weights: expected finite, non-negative weights");
    }
    total += style_weights[s];
    t.style_cdf.push_back(total);
    for (int d = 0; d < 10; ++d) {
      if (t.by_style_digit[s * 10 + d].empty() && style_weights[s] > 0) {
        throw py::value_error("atlas: style " + std::to_string(s) + " has no glyph for digit " + std::to_string(d));
      }
    }
  }
  for (int d = 0; d < 10; ++d) {
    if (!(digit_aspects[d] > 0 && std::isfinite(digit_aspects[d]))) {
      throw py::value_error("digit_aspects: expected positive finite aspect ratios");
    }
    t.digit_aspect[d] = digit_aspects[d];
  }
  if (!(total > 0)) throw py::value_error("style_weights: at least one weight must be positive");

  t.layouts.assign(layouts, layouts + n_layouts * kLayoutColumns);
  for (int64_t r = 0; r < n_layouts; ++r) {
    const float* row = layouts + r * kLayoutColumns;
    const bool ok = row[0] >= 1 && row[1] >= 1 && row[2] >= 1 && row[2] <= kMaxDigits && row[5] > 0 &&
                    std::isfinite(row[3]) && std::isfinite(row[4]) && std::isfinite(row[6]) && std::isfinite(row[7]);
    if (!ok) {
      throw py::value_error("layouts: row " + std::to_string(r) +
                            " is not a valid layout (image size >= 1, length 1-5, positive height, finite values)");
    }
  }
  for (int len = 0; len < kMaxDigits; ++len) {
    for (int pos = 0; pos < kMaxDigits; ++pos) {
      double acc = 0;
      for (int d = 0; d < 10; ++d) {
        const double w = digit_probs[(len * kMaxDigits + pos) * 10 + d];
        if (!(w >= 0 && std::isfinite(w))) throw py::value_error("digit_probs: expected finite, non-negative values");
        acc += w;
        t.digit_cdf[len][pos][d] = acc;
      }
      if (pos <= len && !(acc > 0)) {
        throw py::value_error("digit_probs: no digit has positive probability at length " + std::to_string(len + 1) +
                              ", position " + std::to_string(pos));
      }
    }
  }
  return t;
}

// ---------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------

namespace {

// The number's geometry, shared by the planning stages. Plate units are "design" units: one is a
// scene pixel before the camera's size correction.
struct NumberLayout {
  double scene_w = 0, scene_h = 0;    // scene size
  double center_x = 0, center_y = 0;  // where the number's boxes are centred in the scene
  double target_h = 0;                // box height in the scene; also the digit height in plate units
  double gap = 0, slope = 0;          // the layout's gap between boxes (in box heights) and baseline slope
  bool arranged = false;              // digits stacked or on a diagonal (draw_arrangement), not in a row
  double advance = 0;                 // if arranged: the direction from each digit to the next, radians below the horizontal
  double aspect = 0;                  // the layout's box aspect ratio, relative to each digit's median
  int style = 0;                      // typeface
  float box_weight = 0;               // stroke offset the boxes are measured at (cell px)
  double unit = 0;                    // plate units per style unit
  double half_w = 0, half_h = 0;      // half the number's width and height on the plate
  double width_factor = 0;            // the digits' mean stretch, for the clutter characters
};

// The number's digits on the plate, and what the layout asks of their boxes.
struct DigitRow {
  int ids[kMaxDigits] = {0};               // glyphs
  double jitter_y[kMaxDigits] = {0};       // plate y of each ink centre
  double gap_target[kMaxDigits] = {0};     // gap to the next box, in box heights
  double gap_plate[kMaxDigits] = {0};      // gap to the next digit's ink, plate units
  double aspect_target[kMaxDigits] = {0};  // box width / height
  double widen[kMaxDigits] = {0};          // horizontal stretch of each glyph
};

// Rotation, shear and perspective of the camera, before it is fitted to the layout.
struct Pose {
  double angle = 0, shear = 0, persp_x = 0, persp_y = 0;
};

// The fitted camera and the digit boxes it gives.
struct Camera {
  Mat3 m{}, to_plate{};                 // plate -> scene and scene -> plate
  double f = 0;                         // scene px per plate unit at the number
  double boxes[kMaxDigits][4] = {{0}};  // digit boxes in the scene: left, top, width, height
};

// Layout: scene size and the number's length, place, height, gaps, slope and box aspect from a real SVHN image, jittered.
NumberLayout draw_layout(const Tables& t, Rng& rng, Plan& p) {
  const float* row = &t.layouts[rng.below(t.n_layouts) * kLayoutColumns];
  const double size_jitter = std::exp(0.06 * normal(rng));
  p.scene_w = std::max(8, static_cast<int>(std::lround(row[0] * size_jitter)));
  p.scene_h = std::max(8, static_cast<int>(std::lround(row[1] * size_jitter)));
  p.length = std::min(kMaxDigits, std::max(1, static_cast<int>(row[2])));
  NumberLayout nl;
  nl.scene_w = p.scene_w, nl.scene_h = p.scene_h;
  nl.center_x = row[3] * nl.scene_w, nl.center_y = row[4] * nl.scene_h;
  nl.target_h = std::max(4.0, row[5] * nl.scene_h);
  nl.gap = row[6], nl.slope = std::clamp<double>(row[7], -0.6, 0.6);
  nl.aspect = std::isfinite(row[8]) && row[8] > 0 ? row[8] : 1.0;
  return nl;
}

// Digits: each from the real digit frequencies at its length and position.
void draw_labels(const Tables& t, Rng& rng, Plan& p) {
  for (int i = 0; i < p.length; ++i) p.labels[i] = draw_cdf(rng, t.digit_cdf[p.length - 1][i], 10);
}

// Box margins: how loose each box is about its digit's ink.
void draw_box_margins(const Realism& r, Rng& rng, Plan& p) {
  // SVHN's annotators drew boxes a little loose about the ink, each side by its own amount and now
  // and then clipping it (on the svhn-sample photos, benchmarks/scripts/box_margins.py: a median
  // 0.03-0.08 of the digit's height by side, from 0 to 0.26); a number's boxes share one height.
  // Layout heights and aspect ratios are those of such boxes, so the ink they ask for is smaller
  // and narrower than the box.
  const double loose = 0.045 + 0.03 * normal(rng);
  const auto margin = [&]() { return r.annotation * std::clamp<double>(loose + 0.035 * normal(rng), -0.03, 0.2); };
  const double top = margin(), bottom = margin();
  for (int i = 0; i < p.length; ++i) {
    p.box_margin[i][0] = margin();
    p.box_margin[i][1] = top;
    p.box_margin[i][2] = margin();
    p.box_margin[i][3] = bottom;
  }
}

// Typeface and ink style (stroke weight, outline or drop shadow), before the glyphs: the boxes depend on the weight.
void draw_typeface(const Tables& t, const Realism& r, Rng& rng, NumberLayout& nl, Plan& p) {
  nl.style = draw_cdf(rng, t.style_cdf.data(), t.n_styles);
  p.weight = static_cast<float>(r.style * std::clamp<double>(0.3 + 0.7 * normal(rng), -0.6, 2.2));
  if (chance(rng, 0.25 * r.style)) {
    const double u = rng.uniform();
    p.ink = u < 0.4 ? Ink::kOutlined : u < 0.6 ? Ink::kOutlineOnly : Ink::kShadow;
    p.outline_width = static_cast<float>(uniform(rng, 1.0, 3.0));
  }
  // Outlines belong to the digit (its box includes them); drop shadows do not.
  nl.box_weight = p.weight + (p.ink == Ink::kOutlined || p.ink == Ink::kOutlineOnly ? p.outline_width : 0.f);
}

// Share of 2-3 digit numbers drawn stacked or on a diagonal at arrangement 1. SVHN has few (0.16% of
// multi-digit train numbers, 0.74% of test ones), but their crops, squeezed to a square, look like
// nothing a row of digits gives.
constexpr double kArrangedShare = 0.05;

// Now and then a short number's digits stacked (one under the other) or set on a diagonal, each upright; the
// layout's slope is then dropped, its gap redrawn, and the scene made larger if the number would not fit it.
void draw_arrangement(const Realism& r, Rng& rng, NumberLayout& nl, Plan& p) {
  if (r.arrangement <= 0 || p.length < 2 || p.length > 3 || !chance(rng, kArrangedShare * r.arrangement)) return;
  nl.arranged = true;
  const double u = rng.uniform();
  nl.advance = u < 0.5 ? kPi / 2 + 0.05 * normal(rng) : u < 0.8 ? uniform(rng, 0.45, 1.0) : -uniform(rng, 0.3, 0.8);
  nl.slope = 0;
  nl.gap = uniform(rng, 0.05, 0.3);
  // The number's extent, from a typical digit (as wide as half its height times the layout's aspect).
  const double c = std::fabs(std::cos(nl.advance)), s = std::fabs(std::sin(nl.advance));
  const double w = 0.5 * nl.aspect, step = w * c + s + nl.gap;  // in digit heights
  const double span_x = c * step * (p.length - 1) + w, span_y = s * step * (p.length - 1) + 1;
  p.scene_w = std::max(p.scene_w, static_cast<int>(std::ceil(nl.target_h * span_x / 0.7)));
  p.scene_h = std::max(p.scene_h, static_cast<int>(std::ceil(nl.target_h * span_y / 0.7)));
  nl.scene_w = p.scene_w, nl.scene_h = p.scene_h;
  const double half_x = nl.target_h * (span_x / 2 + 0.15), half_y = nl.target_h * (span_y / 2 + 0.15);  // a margin for the estimate
  nl.center_x = std::clamp(nl.center_x, half_x, nl.scene_w - half_x);
  nl.center_y = std::clamp(nl.center_y, half_y, nl.scene_h - half_y);
}

// Moves a placed glyph by (dx, dy) in plate units.
void shift(Glyph& g, double dx, double dy) {
  g.a[2] -= g.a[0] * dx + g.a[1] * dy;
  g.a[5] -= g.a[3] * dx + g.a[4] * dy;
  g.bounds[0] += dx, g.bounds[2] += dx;
  g.bounds[1] += dy, g.bounds[3] += dy;
}

// Lays arranged digits out along nl.advance, each upright, then centres them on the plate origin (p.glyphs,
// nl.half_w, nl.half_h).
void place_arranged(const Tables& t, const DigitRow& d, NumberLayout& nl, Plan& p) {
  const double c = std::cos(nl.advance), s = std::sin(nl.advance);
  const double inf = std::numeric_limits<double>::infinity();
  double along = 0, lo_x = inf, hi_x = -inf, lo_y = inf, hi_y = -inf;
  for (int i = 0; i < p.length; ++i) {
    const double uy = nl.unit / t.scales[d.ids[i]], ux = uy * d.widen[i];
    const double w = t.ink[d.ids[i]][2] * ux, h = t.ink[d.ids[i]][3] * uy;
    const double extent = w * std::fabs(c) + h * std::fabs(s);  // the ink box's length along the advance
    if (i > 0) along += extent / 2;
    const double cx = along * c, cy = along * s + d.jitter_y[i];
    p.glyphs[i] = place(t, d.ids[i], cx - w / 2, cy, ux, uy);
    lo_x = std::min(lo_x, cx - w / 2), hi_x = std::max(hi_x, cx + w / 2);
    lo_y = std::min(lo_y, cy - h / 2), hi_y = std::max(hi_y, cy + h / 2);
    along += extent / 2 + (i + 1 < p.length ? d.gap_plate[i] : 0);
  }
  for (int i = 0; i < p.length; ++i) shift(p.glyphs[i], -(lo_x + hi_x) / 2, -(lo_y + hi_y) / 2);
  nl.half_w = (hi_x - lo_x) / 2, nl.half_h = (hi_y - lo_y) / 2;
}

// Lays the digits out on the plate left to right (or as arranged), then centres them on the plate origin (p.glyphs,
// nl.half_w, nl.half_h).
void place_digits(const Tables& t, const DigitRow& d, NumberLayout& nl, Plan& p) {
  if (nl.arranged) return place_arranged(t, d, nl, p);
  nl.half_h = nl.target_h / 2;
  double cursor = 0;
  for (int i = 0; i < p.length; ++i) {
    const double uy = nl.unit / t.scales[d.ids[i]], ux = uy * d.widen[i];
    p.glyphs[i] = place(t, d.ids[i], cursor, d.jitter_y[i], ux, uy);
    cursor += t.ink[d.ids[i]][2] * ux + (i + 1 < p.length ? d.gap_plate[i] : 0);
  }
  nl.half_w = cursor / 2;
  for (int i = 0; i < p.length; ++i) {
    Glyph& g = p.glyphs[i];
    g.a[2] += nl.half_w * g.a[0];
    g.bounds[0] -= nl.half_w, g.bounds[2] -= nl.half_w;
  }
}

// Glyphs: one of the typeface's for each digit, its baseline jitter, width and gap to the next, laid out on the plate.
DigitRow draw_glyphs(const Tables& t, const Realism& r, Rng& rng, NumberLayout& nl, Plan& p) {
  // Each digit is stretched to the width the layout asks of it (its box aspect ratio).
  nl.unit = nl.target_h / kDigitHeight;
  DigitRow d;
  // Each digit's box aspect varies about the number's (by ~0.13 in log in SVHN), so that the
  // number's median stays the layout's.
  double spread[kMaxDigits], sorted[kMaxDigits];
  for (int i = 0; i < p.length; ++i) sorted[i] = spread[i] = 0.13 * normal(rng);
  std::sort(sorted, sorted + p.length);
  const double median_spread = p.length % 2 ? sorted[p.length / 2] : (sorted[p.length / 2 - 1] + sorted[p.length / 2]) / 2;
  for (int i = 0; i < p.length; ++i) {
    d.ids[i] = pick(rng, t.by_style_digit[nl.style * 10 + p.labels[i]]);
    d.jitter_y[i] = 0.015 * nl.target_h * r.distortion * normal(rng);
    d.gap_target[i] = nl.gap == 0 ? 0.0 : nl.gap + 0.03 * normal(rng);  // 0: the annotator's boxes touched
    d.gap_plate[i] = std::max(-0.1, d.gap_target[i]) * nl.target_h;
    d.aspect_target[i] = nl.aspect * t.digit_aspect[p.labels[i]] * std::exp(spread[i] - median_spread);
    const auto& ink = t.ink[d.ids[i]];
    d.widen[i] = std::clamp<double>(d.aspect_target[i] / (ink[2] / ink[3]), 0.35, 2.2);
  }
  p.n_glyphs = p.length;
  place_digits(t, d, nl, p);
  for (int i = 0; i < p.length; ++i) nl.width_factor += d.widen[i] / p.length;
  return d;
}

// Camera pose: rotation from the real number's slope, plus shear and perspective.
Pose draw_pose(const Tables& t, const Realism& r, Rng& rng, const NumberLayout& nl) {
  Pose pose;
  pose.angle = r.distortion * (std::atan(nl.slope) + 0.03 * normal(rng));
  // Shear widens boxes; a number whose real boxes were narrow cannot have had much of it.
  const double max_shear = std::min(0.35, 0.5 * nl.aspect * t.digit_aspect[0]);
  pose.shear = r.distortion * std::clamp<double>(0.12 * normal(rng), -max_shear, max_shear);
  pose.persp_x = r.distortion * std::clamp<double>(0.2 * normal(rng), -0.4, 0.4) / (nl.half_w + nl.target_h);
  pose.persp_y = r.distortion * std::clamp<double>(0.1 * normal(rng), -0.25, 0.25) / (nl.half_h + nl.target_h);
  return pose;
}

// Fits the camera of `shape`: scaled so the boxes are as tall as the layout's, moved to centre them there (cam.m, boxes).
void fit(const Tables& t, const NumberLayout& nl, const Plan& p, const Mat3& shape, Camera& cam) {
  double u[4];
  cam.m = mul(translation(nl.center_x, nl.center_y), shape);
  digit_boxes(t, p, nl.box_weight, cam.m, cam.boxes);
  const double f = nl.target_h / std::max(1e-6, cam.boxes[0][3]);
  cam.m = mul(translation(nl.center_x, nl.center_y), mul(shape, scaling(f)));
  digit_boxes(t, p, nl.box_weight, cam.m, cam.boxes);
  union_box(cam.boxes, p.length, u);
  cam.m = mul(translation(nl.center_x - (u[0] + u[2] / 2), nl.center_y - (u[1] + u[3] / 2)), cam.m);
  digit_boxes(t, p, nl.box_weight, cam.m, cam.boxes);
}

// Widths and gaps towards the layout's, from the boxes as drawn.
void correct(const Tables& t, const NumberLayout& nl, const Camera& cam, int length, DigitRow& d) {
  const double scene_per_plate = local_scale(cam.m);
  for (int i = 0; i < length; ++i) {
    // Box width = stretch * the glyph's ink width + what shear and rotation add: solve for the stretch.
    const double ink_w = t.ink[d.ids[i]][2] * nl.unit / t.scales[d.ids[i]] * scene_per_plate;
    d.widen[i] = std::clamp<double>(d.widen[i] + (d.aspect_target[i] * cam.boxes[i][3] - cam.boxes[i][2]) / ink_w, 0.35, 2.2);
    if (i + 1 < length && !nl.arranged) {  // an arranged number keeps its drawn gaps
      const double measured = (cam.boxes[i + 1][0] - cam.boxes[i][0] - cam.boxes[i][2]) / cam.boxes[i][3];
      d.gap_plate[i] = std::max(d.gap_plate[i] + (d.gap_target[i] - measured) * cam.boxes[i][3] / scene_per_plate,
                                -0.12 * nl.target_h);
    }
  }
}

// Camera fit: the pose scaled and moved to the layout's boxes, the glyphs' widths and gaps corrected (sets p.to_plate).
// Fit the camera so the boxes come out as tall as the real layout's and centred where it had them; then correct each
// glyph's width and spacing so the boxes' aspect ratios and gaps match the layout's too (the camera's shear and
// rotation widen boxes), and fit again. A perspective whose horizon would come near the image is dropped. The last
// fit places the digits for good (p.glyphs, nl.half_w).
Camera fit_camera(const Tables& t, Pose pose, const DigitRow& first, NumberLayout& nl, Plan& p) {
  const Mat3 rotate = {std::cos(pose.angle), -std::sin(pose.angle), 0, std::sin(pose.angle), std::cos(pose.angle), 0, 0, 0, 1};
  const Mat3 skew = {1, pose.shear, 0, 0, 1, 0, 0, 0, 1};
  Camera cam;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const Mat3 project = {1, 0, 0, 0, 1, 0, pose.persp_x, pose.persp_y, 1};
    const Mat3 shape = mul(rotate, mul(skew, project));
    DigitRow d = first;
    place_digits(t, d, nl, p);
    fit(t, nl, p, shape, cam);
    for (int step = 0; step < 2; ++step) {  // two Newton-like steps: the camera's effect is not quite linear
      correct(t, nl, cam, p.length, d);
      place_digits(t, d, nl, p);
      fit(t, nl, p, shape, cam);
    }
    if (horizon_clear(inverse(cam.m), nl.scene_w, nl.scene_h)) break;
    pose.persp_x = pose.persp_y = 0;
  }
  cam.f = local_scale(cam.m);
  cam.to_plate = inverse(cam.m);
  std::memcpy(p.to_plate, cam.to_plate.data(), sizeof(p.to_plate));
  return cam;
}

// Wall colours: the wall's and a second one about as bright; returns the wall's luminance.
double draw_wall(Rng& rng, Plan& p) {
  const double wall_lum = 0.08 + 0.87 * std::pow(rng.uniform(), 0.7);
  const double wall_sat = chance(rng, 0.8) ? 0.2 * rng.uniform() : uniform(rng, 0.2, 0.6);  // walls are mostly muted
  p.wall = color_with_luminance(rng, wall_lum, wall_sat);
  p.wall2 = color_with_luminance(rng, std::clamp<double>(wall_lum + 0.25 * normal(rng), 0.03, 0.97), wall_sat);
  return wall_lum;
}

// A plate behind the number, sometimes; returns the luminance of the surface the digits are painted on (plate or wall).
double draw_plate(const Realism& r, Rng& rng, const NumberLayout& nl, double wall_lum, Plan& p) {
  double surface = wall_lum;
  p.plate = chance(rng, 0.35 * r.background);
  const double hd = nl.target_h;  // digit height in plate units (before the size correction f)
  if (p.plate) {
    surface = chance(rng, 0.5) ? uniform(rng, 0.05, 0.35) : uniform(rng, 0.6, 0.95);
    p.plate_color = color_with_luminance(rng, surface, chance(rng, 0.5) ? uniform(rng, 0.4, 0.9) : 0.2 * rng.uniform());
    const double mx = hd * uniform(rng, 0.15, 0.9), my = hd * uniform(rng, 0.12, 0.6);
    p.plate_box[0] = -nl.half_w - mx, p.plate_box[2] = nl.half_w + mx;
    p.plate_box[1] = -nl.half_h - my, p.plate_box[3] = nl.half_h + my;
    p.plate_radius = std::min(mx, my) * (chance(rng, 0.5) ? uniform(rng, 0.2, 1.0) : 0.0);
    p.plate_oval = chance(rng, 0.3);
    if (p.plate_oval) {  // an oval (a disc, now and then, for short numbers) about as wide as the digits' corners
      const double grow = std::sqrt(2.0) * uniform(rng, 0.85, 1.1);
      double ax = grow * (nl.half_w + mx / 4), ay = grow * (nl.half_h + my / 4);
      if (p.length <= 2 && chance(rng, 0.4)) ax = ay = std::hypot(nl.half_w + mx / 4, nl.half_h + my / 4) * uniform(rng, 0.85, 1.1);
      p.plate_box[0] = -ax, p.plate_box[2] = ax, p.plate_box[1] = -ay, p.plate_box[3] = ay;
    }
    p.plate_border = chance(rng, 0.4) ? hd * uniform(rng, 0.04, 0.12) : 0;
  }
  return surface;
}

// Share of number crops with a suffix, at Realism::suffix = 1.
constexpr double kSuffixShare = 0.10;
constexpr uint64_t kSuffixStream = 0x5FF1C5ull;

// A letter or sign of the number's typeface right after its last digit, at the layout's gap and on its
// baseline, not part of the number (12a, 7B), as house numbers often have (number crops only, never
// arranged numbers). A rectangular plate grows to hold it. Half the time the crop is framed about the number and
// its suffix, as a reader frames what its localizer found, so the suffix shows whole. Drawn from a random stream
// of its own, so the rest of each crop is the same whatever the share.
void draw_suffix(const Tables& t, const Realism& r, const Rng& scene_rng, const NumberLayout& nl, int crop_size, Plan& p) {
  Rng rng(Rng(scene_rng).next(), kSuffixStream);
  if (r.suffix <= 0 || crop_size == 0 || nl.arranged || !chance(rng, kSuffixShare * r.suffix)) return;
  const std::vector<int>& letters = t.suffixes_by_style[nl.style];
  if (letters.empty()) return;  // a typeface without letters (handwriting)
  const double hd = nl.target_h;
  const int g = pick(rng, letters);
  const double uy = nl.unit / t.scales[g], ux = uy * nl.width_factor, w = t.ink[g][2] * ux, h = t.ink[g][3] * uy;
  const double gap = hd * std::max(0.05, nl.gap + 0.03 * normal(rng));
  // The last digit's ink right edge and bottom on the plate, as drawn at the box weight (place() maps plate to
  // cell without shear); the suffix's ink starts a gap after it, also as drawn.
  const Glyph& last = p.glyphs[p.length - 1];
  const auto& ink = t.ink[last.index];
  const double grow = std::max(0.f, nl.box_weight);
  const double right = (ink[0] + ink[2] + grow - last.a[2]) / last.a[0], bottom = (ink[1] + ink[3] - last.a[5]) / last.a[4];
  p.glyphs[p.n_glyphs++] = place(t, g, right + gap + grow * ux, bottom - h / 2 + 0.015 * hd * r.distortion * normal(rng), ux, uy);
  if (chance(rng, 0.5)) p.framed_glyph = p.n_glyphs - 1;
  if (p.plate && !p.plate_oval) p.plate_box[2] = std::max(p.plate_box[2], p.plate_box[2] + right + gap + (w + 2 * grow * ux) - nl.half_w);
}

// Ink colours: the digits' (contrasting with the surface), the plate border's, outline's and shadow's; the shadow's offset.
void draw_ink_colours(Rng& rng, const NumberLayout& nl, double surface, Plan& p) {
  const double hd = nl.target_h;
  const double contrast = 0.15 + 0.6 * std::pow(rng.uniform(), 0.8);
  const double fg_lum = ink_luminance(rng, surface, contrast);
  p.fg = color_with_luminance(rng, fg_lum, chance(rng, 0.75) ? 0.2 * rng.uniform() : uniform(rng, 0.2, 0.7));
  p.border_color = chance(rng, 0.6) ? p.fg : color_with_luminance(rng, fg_lum, rng.uniform());
  p.outline = color_with_luminance(rng, ink_luminance(rng, fg_lum, uniform(rng, 0.3, 0.7)), 0.3 * rng.uniform());
  p.shadow = color_with_luminance(rng, std::min(fg_lum, surface) * uniform(rng, 0.2, 0.6), 0.2 * rng.uniform());
  p.shadow_offset[0] = hd * uniform(rng, 0.03, 0.09) * (chance(rng, 0.5) ? 1 : -1);
  p.shadow_offset[1] = hd * uniform(rng, 0.03, 0.09);
}

// Background texture, in plate space so it follows the camera: kind, scale, direction, gradient and noise.
void draw_texture(const Realism& r, Rng& rng, const NumberLayout& nl, const Camera& cam, Plan& p) {
  const double hd = nl.target_h;
  if (chance(rng, r.background)) {
    const double u2 = rng.uniform();
    p.texture = u2 < 0.15 ? Texture::kGradient : u2 < 0.45 ? Texture::kStucco : u2 < 0.65 ? Texture::kBricks
              : u2 < 0.85 ? Texture::kSiding : Texture::kWood;
  }
  p.tex_scale = hd * (p.texture == Texture::kStucco ? uniform(rng, 0.1, 0.6) : uniform(rng, 0.35, 1.6));
  p.tex_angle = chance(rng, 0.5) ? 0 : kPi / 2;
  const double grad_angle = rng.uniform() * 2 * kPi;
  const double grad_len = std::max(nl.scene_w, nl.scene_h) / cam.f * uniform(rng, 0.5, 2.0);
  p.grad[0] = std::cos(grad_angle) / grad_len, p.grad[1] = std::sin(grad_angle) / grad_len;
  p.noise_amp = r.background * uniform(rng, 0.03, 0.25);
  p.tex_seed = rng.next();
}

// A band across the scene: direction, place, width and colour (it may cross the number).
Band draw_band(Rng& rng, const NumberLayout& nl, const Camera& cam, double wall_lum) {
  const double hd = nl.target_h;
  Band b;
  const double a = (chance(rng, 0.5) ? 0 : kPi / 2) + 0.06 * normal(rng);
  b.nx = std::cos(a), b.ny = std::sin(a);
  double px, py;
  apply_h(cam.to_plate.data(), rng.uniform() * nl.scene_w, rng.uniform() * nl.scene_h, px, py);
  b.offset = b.nx * px + b.ny * py;
  b.width = hd * (chance(rng, 0.5) ? uniform(rng, 0.03, 0.15) : uniform(rng, 0.2, 1.5));
  b.color = color_with_luminance(rng, std::clamp<double>(wall_lum + 0.35 * normal(rng), 0.02, 0.98), 0.4 * rng.uniform());
  return b;
}

// True if band `b` keeps clear of the number and a margin about it.
bool clear_of_number(const Band& b, const NumberLayout& nl) {
  const double hd = nl.target_h;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;  // the number's extent along n
  for (double cx : {-nl.half_w - 0.2 * hd, nl.half_w + 0.2 * hd}) {
    for (double cy : {-nl.half_h - 0.2 * hd, nl.half_h + 0.2 * hd}) {
      const double d = b.nx * cx + b.ny * cy;
      lo = std::min(lo, d), hi = std::max(hi, d);
    }
  }
  return b.offset + b.width / 2 < lo || b.offset - b.width / 2 > hi;
}

// Edges of doors, frames and poles: bands that keep clear of the number.
void draw_edges(const Realism& r, Rng& rng, const NumberLayout& nl, const Camera& cam, double wall_lum, Plan& p) {
  const int edges = chance(rng, 0.5 * r.background) ? static_cast<int>(rng.between(1, kMaxEdges)) : 0;
  for (int e = 0; e < edges; ++e) {
    for (int attempt = 0; attempt < 4; ++attempt) {
      const Band b = draw_band(rng, nl, cam, wall_lum);
      if (clear_of_number(b, nl)) {
        p.edges[p.n_edges++] = b;
        break;
      }
    }
  }
}

// Clutter characters beside, above or below the number (letters, separators), never on it.
void draw_clutter(const Tables& t, const Realism& r, Rng& rng, const NumberLayout& nl, Plan& p) {
  const double hd = nl.target_h;
  const int clutter = chance(rng, 0.35 * r.background) && !t.clutter.empty() ? static_cast<int>(rng.between(1, 3)) : 0;
  for (int c = 0; c < clutter; ++c) {
    const int g = pick(rng, t.clutter);
    const double size = uniform(rng, 0.5, 1.0), uy = nl.unit * size / t.scales[g], ux = uy * nl.width_factor;
    const double w = t.ink[g][2] * ux;
    double left, cy;
    if (chance(rng, 0.6)) {  // same line, after or before the number
      const double away = hd * uniform(rng, 0.35, 1.5);
      left = chance(rng, 0.7) ? nl.half_w + away : -nl.half_w - away - w;
      cy = hd * 0.05 * normal(rng);
    } else {  // another line
      left = uniform(rng, -nl.half_w - w, nl.half_w);
      cy = (chance(rng, 0.5) ? 1 : -1) * (nl.half_h - hd / 2 + hd * uniform(rng, 0.8, 1.4));
    }
    p.glyphs[p.n_glyphs++] = place(t, g, left, cy, ux, uy);
  }
}

// A neighbouring number's digit, cut by the image border.
void draw_neighbour(const Tables& t, const Realism& r, Rng& rng, const NumberLayout& nl, const Camera& cam, Plan& p) {
  if (!chance(rng, 0.15 * r.background)) return;
  const double hd = nl.target_h;
  const bool right = chance(rng, 0.5);
  const int g = pick(rng, t.by_style_digit[nl.style * 10 + rng.below(10)]);
  const double uy = nl.unit / t.scales[g], ux = uy * nl.width_factor, w = t.ink[g][2] * ux;
  double px, py;  // plate x of the image border at the number's height
  apply_h(cam.to_plate.data(), right ? nl.scene_w : 0.0, nl.center_y, px, py);
  const double left = right ? px - w * uniform(rng, 0.2, 0.7) : px - w * uniform(rng, 0.3, 0.8);
  if (left > nl.half_w + 0.5 * hd || left + w < -nl.half_w - 0.5 * hd) {
    p.glyphs[p.n_glyphs] = place(t, g, left, 0.0, ux, uy);
    p.glyphs[p.n_glyphs++].label = -1;  // not part of the number
  }
}

// Light: a smooth gain across the scene, sometimes a soft cast shadow; a colour cast and a gamma.
void draw_light(const Realism& r, Rng& rng, Plan& p) {
  p.light[0] = 1 + r.background * uniform(rng, -0.2, 0.12);
  p.light[1] = r.background * 0.25 * normal(rng), p.light[2] = r.background * 0.25 * normal(rng);
  if (chance(rng, 0.25 * r.background)) {
    const double a = rng.uniform() * 2 * kPi;
    p.shade[0] = std::cos(a), p.shade[1] = std::sin(a), p.shade[2] = uniform(rng, -0.4, 0.4);
    p.shade[3] = uniform(rng, 0.45, 0.85);
  }
  for (float& c : p.cast) c = static_cast<float>(1 + 0.06 * r.background * normal(rng));
  p.gamma = std::exp(0.15 * r.degradation * normal(rng));
}

// Output window and size: the crop of the number (crop_size > 0) or the whole scene.
void set_window(const Tables& t, const NumberLayout& nl, const Camera& cam, int crop_size, Plan& p) {
  if (crop_size > 0) {
    // The SVHN crop rule (crop_rule.hpp; svhnx.ops: union_boxes, expand_boxes, pixel_windows): the
    // union box grown by kCropGrowth about its centre, clipped to the image, then its pixel window.
    double u[4];
    union_box(cam.boxes, p.length, u);
    if (p.framed_glyph >= 0) {  // the union of the digits' boxes and the framed glyph's ink
      Extent e = ink_extent(t, p.glyphs[p.framed_glyph], nl.box_weight, cam.m);
      if (!e.empty()) {
        e.add(u[0], u[1]), e.add(u[0] + u[2], u[1] + u[3]);
        u[0] = e.x0, u[1] = e.y0, u[2] = e.x1 - e.x0, u[3] = e.y1 - e.y0;
      }
    }
    const double cx = u[0] + u[2] / 2, cy = u[1] + u[3] / 2, half = 0.5 * (1.0 + kCropGrowth);
    const double left = std::max(0.0, cx - half * u[2]), right = std::min(nl.scene_w, cx + half * u[2]);
    const double top = std::max(0.0, cy - half * u[3]), bottom = std::min(nl.scene_h, cy + half * u[3]);
    const PixelWindow w = pixel_window(left, top, right, bottom, p.scene_h, p.scene_w);
    p.win[0] = w.x0, p.win[1] = w.y0, p.win[2] = w.x1 - w.x0, p.win[3] = w.y1 - w.y0;
    p.out_w = p.out_h = crop_size;
  } else {
    p.win[0] = 0, p.win[1] = 0, p.win[2] = nl.scene_w, p.win[3] = nl.scene_h;
    p.out_w = p.scene_w, p.out_h = p.scene_h;
  }
}

// Drawing resolution: the window's, lowered now and then, and at most 1.5 times the crop size.
void draw_resolution(const Realism& r, Rng& rng, const NumberLayout& nl, int crop_size, Plan& p) {
  double res = 1;  // drawing pixels per scene pixel
  if (chance(rng, 0.5 * r.degradation) && nl.target_h * 0.45 > 10) res = uniform(rng, std::max(0.45, 10 / nl.target_h), 1.0);
  double rw = p.win[2] * res, rh = p.win[3] * res;
  if (crop_size > 0) rw = std::min(rw, 1.5 * crop_size), rh = std::min(rh, 1.5 * crop_size);
  p.render_w = std::max(2, static_cast<int>(std::lround(rw)));
  p.render_h = std::max(2, static_cast<int>(std::lround(rh)));
}

// Anti-aliasing width of each glyph: cell px per drawing pixel (local scale at the number).
void set_antialiasing(const Camera& cam, Plan& p) {
  const double scene_per_render = std::sqrt(p.win[2] / p.render_w * p.win[3] / p.render_h);
  p.plate_per_pixel = scene_per_render / cam.f;
  for (int i = 0; i < p.n_glyphs; ++i) {
    Glyph& g = p.glyphs[i];
    const double cell_per_plate = std::sqrt(std::fabs(g.a[0] * g.a[4] - g.a[1] * g.a[3]));
    g.aa = static_cast<float>(std::max(0.05, cell_per_plate * scene_per_render / cam.f));
  }
}

// Degradations, in drawing pixels: blur, noise and JPEG quality.
void draw_degradations(const Realism& r, Rng& rng, const NumberLayout& nl, Plan& p) {
  const double digit_render_h = nl.target_h * p.render_h / p.win[3];
  p.blur = r.degradation * (std::pow(rng.uniform(), 2.5) * 0.06 * digit_render_h + uniform(rng, 0.0, 0.45));
  p.noise = r.degradation * uniform(rng, 0.0, 0.03);
  p.jpeg_quality = chance(rng, 0.6 * r.degradation) ? static_cast<int>(rng.between(25, 90)) : 0;
  p.noise_seed = rng.next();
}

// Digit boxes in output pixels.
void set_output_boxes(const Camera& cam, Plan& p) {
  const double sx = p.out_w / p.win[2], sy = p.out_h / p.win[3];
  for (int i = 0; i < p.length; ++i) {
    p.boxes[i][0] = static_cast<float>((cam.boxes[i][0] - p.win[0]) * sx);
    p.boxes[i][1] = static_cast<float>((cam.boxes[i][1] - p.win[1]) * sy);
    p.boxes[i][2] = static_cast<float>(cam.boxes[i][2] * sx);
    p.boxes[i][3] = static_cast<float>(cam.boxes[i][3] * sy);
  }
}

}  // namespace

Plan plan_scene(const Tables& t, const Realism& r, Rng& rng, int crop_size) {
  Plan p;
  NumberLayout nl = draw_layout(t, rng, p);
  draw_labels(t, rng, p);
  draw_box_margins(r, rng, p);
  draw_typeface(t, r, rng, nl, p);
  draw_arrangement(r, rng, nl, p);
  const DigitRow digits = draw_glyphs(t, r, rng, nl, p);
  const Pose pose = draw_pose(t, r, rng, nl);
  const Camera cam = fit_camera(t, pose, digits, nl, p);
  const double wall_lum = draw_wall(rng, p);
  const double surface = draw_plate(r, rng, nl, wall_lum, p);
  draw_suffix(t, r, rng, nl, crop_size, p);
  draw_ink_colours(rng, nl, surface, p);
  draw_texture(r, rng, nl, cam, p);
  draw_edges(r, rng, nl, cam, wall_lum, p);
  draw_clutter(t, r, rng, nl, p);
  draw_neighbour(t, r, rng, nl, cam, p);
  draw_light(r, rng, p);
  set_window(t, nl, cam, crop_size, p);
  draw_resolution(r, rng, nl, crop_size, p);
  set_antialiasing(cam, p);
  draw_degradations(r, rng, nl, p);
  set_output_boxes(cam, p);
  return p;
}

}  // namespace scenes
}  // namespace svhnx
