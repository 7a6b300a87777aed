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

Plan plan_scene(const Tables& t, const Realism& r, Rng& rng, int crop_size) {
  Plan p;
  // Layout: a real SVHN image's geometry, slightly jittered.
  const float* row = &t.layouts[rng.below(t.n_layouts) * kLayoutColumns];
  const double size_jitter = std::exp(0.06 * normal(rng));
  p.scene_w = std::max(8, static_cast<int>(std::lround(row[0] * size_jitter)));
  p.scene_h = std::max(8, static_cast<int>(std::lround(row[1] * size_jitter)));
  p.length = std::min(kMaxDigits, std::max(1, static_cast<int>(row[2])));
  const double W = p.scene_w, H = p.scene_h;
  const double center_x = row[3] * W, center_y = row[4] * H;
  const double target_h = std::max(4.0, row[5] * H);
  const double gap = row[6], slope = std::clamp<double>(row[7], -0.6, 0.6);
  const double aspect = std::isfinite(row[8]) && row[8] > 0 ? row[8] : 1.0;  // relative to each digit's median

  // Digits and typeface.
  for (int i = 0; i < p.length; ++i) p.labels[i] = draw_cdf(rng, t.digit_cdf[p.length - 1][i], 10);
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
  const int style = draw_cdf(rng, t.style_cdf.data(), t.n_styles);

  // Ink style first: the boxes depend on the stroke weight.
  p.weight = static_cast<float>(r.style * std::clamp<double>(0.3 + 0.7 * normal(rng), -0.6, 2.2));
  if (chance(rng, 0.25 * r.style)) {
    const double u = rng.uniform();
    p.ink = u < 0.4 ? Ink::kOutlined : u < 0.6 ? Ink::kOutlineOnly : Ink::kShadow;
    p.outline_width = static_cast<float>(uniform(rng, 1.0, 3.0));
  }
  // Outlines belong to the digit (its box includes them); drop shadows do not.
  const float box_weight = p.weight + (p.ink == Ink::kOutlined || p.ink == Ink::kOutlineOnly ? p.outline_width : 0.f);

  // Glyphs in plate space ("design" units: one unit is a scene pixel before the size correction).
  // Each digit is stretched to the width the layout asks of it (its box aspect ratio).
  const double unit = target_h / kDigitHeight;
  int ids[kMaxDigits];
  double jitter_y[kMaxDigits], gap_target[kMaxDigits], gap_plate[kMaxDigits];
  double aspect_target[kMaxDigits], widen[kMaxDigits];
  // Each digit's box aspect varies about the number's (by ~0.13 in log in SVHN), so that the
  // number's median stays the layout's.
  double spread[kMaxDigits], sorted[kMaxDigits];
  for (int i = 0; i < p.length; ++i) sorted[i] = spread[i] = 0.13 * normal(rng);
  std::sort(sorted, sorted + p.length);
  const double median_spread = p.length % 2 ? sorted[p.length / 2] : (sorted[p.length / 2 - 1] + sorted[p.length / 2]) / 2;
  for (int i = 0; i < p.length; ++i) {
    ids[i] = pick(rng, t.by_style_digit[style * 10 + p.labels[i]]);
    jitter_y[i] = 0.015 * target_h * r.distortion * normal(rng);
    gap_target[i] = gap == 0 ? 0.0 : gap + 0.03 * normal(rng);  // 0: the annotator's boxes touched
    gap_plate[i] = std::max(-0.1, gap_target[i]) * target_h;
    aspect_target[i] = aspect * t.digit_aspect[p.labels[i]] * std::exp(spread[i] - median_spread);
    const auto& ink = t.ink[ids[i]];
    widen[i] = std::clamp<double>(aspect_target[i] / (ink[2] / ink[3]), 0.35, 2.2);
  }
  double half_w = 0;
  const auto layout = [&]() {  // left to right, then centred on the plate origin
    double cursor = 0;
    for (int i = 0; i < p.length; ++i) {
      const double uy = unit / t.scales[ids[i]], ux = uy * widen[i];
      p.glyphs[i] = place(t, ids[i], cursor, jitter_y[i], ux, uy);
      cursor += t.ink[ids[i]][2] * ux + (i + 1 < p.length ? gap_plate[i] : 0);
    }
    half_w = cursor / 2;
    for (int i = 0; i < p.length; ++i) {
      Glyph& g = p.glyphs[i];
      g.a[2] += half_w * g.a[0];
      g.bounds[0] -= half_w, g.bounds[2] -= half_w;
    }
  };
  p.n_glyphs = p.length;
  layout();
  const double half_h = target_h / 2;
  double width_factor = 0;  // mean stretch, for the clutter characters
  for (int i = 0; i < p.length; ++i) width_factor += widen[i] / p.length;

  // Camera: rotation from the real number's slope, plus shear and perspective.
  const double angle = r.distortion * (std::atan(slope) + 0.03 * normal(rng));
  // Shear widens boxes; a number whose real boxes were narrow cannot have had much of it.
  const double max_shear = std::min(0.35, 0.5 * aspect * t.digit_aspect[0]);
  const double shear = r.distortion * std::clamp<double>(0.12 * normal(rng), -max_shear, max_shear);
  double persp_x = r.distortion * std::clamp<double>(0.2 * normal(rng), -0.4, 0.4) / (half_w + target_h);
  double persp_y = r.distortion * std::clamp<double>(0.1 * normal(rng), -0.25, 0.25) / (half_h + target_h);
  const Mat3 rotate = {std::cos(angle), -std::sin(angle), 0, std::sin(angle), std::cos(angle), 0, 0, 0, 1};
  const Mat3 skew = {1, shear, 0, 0, 1, 0, 0, 0, 1};

  // Fit the camera so the boxes come out as tall as the real layout's and centred where it had
  // them; then correct each glyph's width and spacing so the boxes' aspect ratios and gaps match
  // the layout's too (the camera's shear and rotation widen boxes), and fit again. A perspective
  // whose horizon would come near the image is dropped.
  double boxes[kMaxDigits][4], u[4];
  Mat3 m;
  const auto fit = [&](const Mat3& shape) {
    m = mul(translation(center_x, center_y), shape);
    digit_boxes(t, p, box_weight, m, boxes);
    const double f = target_h / std::max(1e-6, boxes[0][3]);
    m = mul(translation(center_x, center_y), mul(shape, scaling(f)));
    digit_boxes(t, p, box_weight, m, boxes);
    union_box(boxes, p.length, u);
    m = mul(translation(center_x - (u[0] + u[2] / 2), center_y - (u[1] + u[3] / 2)), m);
    digit_boxes(t, p, box_weight, m, boxes);
  };
  const auto correct = [&]() {  // widths and gaps towards the layout's, from the boxes as drawn
    const double scene_per_plate = local_scale(m);
    for (int i = 0; i < p.length; ++i) {
      // Box width = stretch * the glyph's ink width + what shear and rotation add: solve for the stretch.
      const double ink_w = t.ink[ids[i]][2] * unit / t.scales[ids[i]] * scene_per_plate;
      widen[i] = std::clamp<double>(widen[i] + (aspect_target[i] * boxes[i][3] - boxes[i][2]) / ink_w, 0.35, 2.2);
      if (i + 1 < p.length) {
        const double measured = (boxes[i + 1][0] - boxes[i][0] - boxes[i][2]) / boxes[i][3];
        gap_plate[i] = std::max(gap_plate[i] + (gap_target[i] - measured) * boxes[i][3] / scene_per_plate, -0.12 * target_h);
      }
    }
  };
  const double widen_first[kMaxDigits] = {widen[0], widen[1], widen[2], widen[3], widen[4]};
  const double gap_first[kMaxDigits] = {gap_plate[0], gap_plate[1], gap_plate[2], gap_plate[3], gap_plate[4]};
  for (int attempt = 0; attempt < 2; ++attempt) {
    const Mat3 project = {1, 0, 0, 0, 1, 0, persp_x, persp_y, 1};
    const Mat3 shape = mul(rotate, mul(skew, project));
    std::copy(widen_first, widen_first + kMaxDigits, widen);
    std::copy(gap_first, gap_first + kMaxDigits, gap_plate);
    layout();
    fit(shape);
    for (int step = 0; step < 2; ++step) {  // two Newton-like steps: the camera's effect is not quite linear
      correct();
      layout();
      fit(shape);
    }
    if (horizon_clear(inverse(m), W, H)) break;
    persp_x = persp_y = 0;
  }
  const double f = local_scale(m);  // scene px per plate unit at the number
  const Mat3 to_plate = inverse(m);
  std::memcpy(p.to_plate, to_plate.data(), sizeof(p.to_plate));

  // Colours. The digits contrast with the surface they are painted on (a plate, or the wall).
  const double wall_lum = 0.08 + 0.87 * std::pow(rng.uniform(), 0.7);
  const double wall_sat = chance(rng, 0.8) ? 0.2 * rng.uniform() : uniform(rng, 0.2, 0.6);  // walls are mostly muted
  p.wall = color_with_luminance(rng, wall_lum, wall_sat);
  p.wall2 = color_with_luminance(rng, std::clamp<double>(wall_lum + 0.25 * normal(rng), 0.03, 0.97), wall_sat);
  double surface = wall_lum;
  p.plate = chance(rng, 0.35 * r.background);
  const double hd = target_h;  // digit height in plate units (before the size correction f)
  if (p.plate) {
    surface = chance(rng, 0.5) ? uniform(rng, 0.05, 0.35) : uniform(rng, 0.6, 0.95);
    p.plate_color = color_with_luminance(rng, surface, chance(rng, 0.5) ? uniform(rng, 0.4, 0.9) : 0.2 * rng.uniform());
    const double mx = hd * uniform(rng, 0.15, 0.9), my = hd * uniform(rng, 0.12, 0.6);
    p.plate_box[0] = -half_w - mx, p.plate_box[2] = half_w + mx;
    p.plate_box[1] = -hd / 2 - my, p.plate_box[3] = hd / 2 + my;
    p.plate_radius = std::min(mx, my) * (chance(rng, 0.5) ? uniform(rng, 0.2, 1.0) : 0.0);
    p.plate_border = chance(rng, 0.4) ? hd * uniform(rng, 0.04, 0.12) : 0;
  }
  const double contrast = 0.15 + 0.6 * std::pow(rng.uniform(), 0.8);
  const double fg_lum = ink_luminance(rng, surface, contrast);
  p.fg = color_with_luminance(rng, fg_lum, chance(rng, 0.75) ? 0.2 * rng.uniform() : uniform(rng, 0.2, 0.7));
  p.border_color = chance(rng, 0.6) ? p.fg : color_with_luminance(rng, fg_lum, rng.uniform());
  p.outline = color_with_luminance(rng, ink_luminance(rng, fg_lum, uniform(rng, 0.3, 0.7)), 0.3 * rng.uniform());
  p.shadow = color_with_luminance(rng, std::min(fg_lum, surface) * uniform(rng, 0.2, 0.6), 0.2 * rng.uniform());
  p.shadow_offset[0] = hd * uniform(rng, 0.03, 0.09) * (chance(rng, 0.5) ? 1 : -1);
  p.shadow_offset[1] = hd * uniform(rng, 0.03, 0.09);

  // Background texture, in plate space so it follows the camera.
  if (chance(rng, r.background)) {
    const double u2 = rng.uniform();
    p.texture = u2 < 0.15 ? Texture::kGradient : u2 < 0.45 ? Texture::kStucco : u2 < 0.65 ? Texture::kBricks
              : u2 < 0.85 ? Texture::kSiding : Texture::kWood;
  }
  p.tex_scale = hd * (p.texture == Texture::kStucco ? uniform(rng, 0.1, 0.6) : uniform(rng, 0.35, 1.6));
  p.tex_angle = chance(rng, 0.5) ? 0 : kPi / 2;
  const double grad_angle = rng.uniform() * 2 * kPi, grad_len = std::max(W, H) / f * uniform(rng, 0.5, 2.0);
  p.grad[0] = std::cos(grad_angle) / grad_len, p.grad[1] = std::sin(grad_angle) / grad_len;
  p.noise_amp = r.background * uniform(rng, 0.03, 0.25);
  p.tex_seed = rng.next();

  // Edges of doors, frames and poles: bands that keep clear of the number.
  const int edges = chance(rng, 0.5 * r.background) ? static_cast<int>(rng.between(1, kMaxEdges)) : 0;
  for (int e = 0; e < edges; ++e) {
    for (int attempt = 0; attempt < 4; ++attempt) {
      Band b;
      const double a = (chance(rng, 0.5) ? 0 : kPi / 2) + 0.06 * normal(rng);
      b.nx = std::cos(a), b.ny = std::sin(a);
      double px, py;
      apply_h(to_plate.data(), rng.uniform() * W, rng.uniform() * H, px, py);
      b.offset = b.nx * px + b.ny * py;
      b.width = hd * (chance(rng, 0.5) ? uniform(rng, 0.03, 0.15) : uniform(rng, 0.2, 1.5));
      b.color = color_with_luminance(rng, std::clamp<double>(wall_lum + 0.35 * normal(rng), 0.02, 0.98), 0.4 * rng.uniform());
      double lo = std::numeric_limits<double>::infinity(), hi = -lo;  // the number's extent along n
      for (double cx : {-half_w - 0.2 * hd, half_w + 0.2 * hd}) {
        for (double cy : {-0.7 * hd, 0.7 * hd}) {
          const double d = b.nx * cx + b.ny * cy;
          lo = std::min(lo, d), hi = std::max(hi, d);
        }
      }
      if (b.offset + b.width / 2 < lo || b.offset - b.width / 2 > hi) {
        p.edges[p.n_edges++] = b;
        break;
      }
    }
  }

  // Clutter characters beside, above or below the number (letters, separators), never on it.
  const int clutter = chance(rng, 0.35 * r.background) && !t.clutter.empty() ? static_cast<int>(rng.between(1, 3)) : 0;
  for (int c = 0; c < clutter; ++c) {
    const int g = pick(rng, t.clutter);
    const double size = uniform(rng, 0.5, 1.0), uy = unit * size / t.scales[g], ux = uy * width_factor;
    const double w = t.ink[g][2] * ux;
    double left, cy;
    if (chance(rng, 0.6)) {  // same line, after or before the number
      const double away = hd * uniform(rng, 0.35, 1.5);
      left = chance(rng, 0.7) ? half_w + away : -half_w - away - w;
      cy = hd * 0.05 * normal(rng);
    } else {  // another line
      left = uniform(rng, -half_w - w, half_w);
      cy = (chance(rng, 0.5) ? 1 : -1) * hd * uniform(rng, 0.8, 1.4);
    }
    p.glyphs[p.n_glyphs++] = place(t, g, left, cy, ux, uy);
  }
  // A neighbouring number's digit, cut by the image border.
  if (chance(rng, 0.15 * r.background)) {
    const bool right = chance(rng, 0.5);
    const int g = pick(rng, t.by_style_digit[style * 10 + rng.below(10)]);
    const double uy = unit / t.scales[g], ux = uy * width_factor, w = t.ink[g][2] * ux;
    double px, py;  // plate x of the image border at the number's height
    apply_h(to_plate.data(), right ? W : 0.0, center_y, px, py);
    const double left = right ? px - w * uniform(rng, 0.2, 0.7) : px - w * uniform(rng, 0.3, 0.8);
    if (left > half_w + 0.5 * hd || left + w < -half_w - 0.5 * hd) {
      p.glyphs[p.n_glyphs] = place(t, g, left, 0.0, ux, uy);
      p.glyphs[p.n_glyphs++].label = -1;  // not part of the number
    }
  }

  // Light: a smooth gain across the scene and, sometimes, a soft cast shadow.
  p.light[0] = 1 + r.background * uniform(rng, -0.2, 0.12);
  p.light[1] = r.background * 0.25 * normal(rng), p.light[2] = r.background * 0.25 * normal(rng);
  if (chance(rng, 0.25 * r.background)) {
    const double a = rng.uniform() * 2 * kPi;
    p.shade[0] = std::cos(a), p.shade[1] = std::sin(a), p.shade[2] = uniform(rng, -0.4, 0.4);
    p.shade[3] = uniform(rng, 0.45, 0.85);
  }
  for (float& c : p.cast) c = static_cast<float>(1 + 0.06 * r.background * normal(rng));
  p.gamma = std::exp(0.15 * r.degradation * normal(rng));

  // Output window and drawing resolution.
  if (crop_size > 0) {
    // The SVHN crop rule (crop_rule.hpp; svhnx.ops: union_boxes, expand_boxes, pixel_windows): the
    // union box grown by kCropGrowth about its centre, clipped to the image, then its pixel window.
    union_box(boxes, p.length, u);
    const double cx = u[0] + u[2] / 2, cy = u[1] + u[3] / 2, half = 0.5 * (1.0 + kCropGrowth);
    const double left = std::max(0.0, cx - half * u[2]), right = std::min(W, cx + half * u[2]);
    const double top = std::max(0.0, cy - half * u[3]), bottom = std::min(H, cy + half * u[3]);
    const PixelWindow w = pixel_window(left, top, right, bottom, p.scene_h, p.scene_w);
    p.win[0] = w.x0, p.win[1] = w.y0, p.win[2] = w.x1 - w.x0, p.win[3] = w.y1 - w.y0;
    p.out_w = p.out_h = crop_size;
  } else {
    p.win[0] = 0, p.win[1] = 0, p.win[2] = W, p.win[3] = H;
    p.out_w = p.scene_w, p.out_h = p.scene_h;
  }
  double res = 1;  // drawing pixels per scene pixel
  if (chance(rng, 0.5 * r.degradation) && target_h * 0.45 > 10) res = uniform(rng, std::max(0.45, 10 / target_h), 1.0);
  double rw = p.win[2] * res, rh = p.win[3] * res;
  if (crop_size > 0) rw = std::min(rw, 1.5 * crop_size), rh = std::min(rh, 1.5 * crop_size);
  p.render_w = std::max(2, static_cast<int>(std::lround(rw)));
  p.render_h = std::max(2, static_cast<int>(std::lround(rh)));
  const double digit_render_h = target_h * p.render_h / p.win[3];

  // Anti-aliasing width of each glyph: cell px per drawing pixel (local scale at the number).
  const double scene_per_render = std::sqrt(p.win[2] / p.render_w * p.win[3] / p.render_h);
  p.plate_per_pixel = scene_per_render / f;
  for (int i = 0; i < p.n_glyphs; ++i) {
    Glyph& g = p.glyphs[i];
    const double cell_per_plate = std::sqrt(std::fabs(g.a[0] * g.a[4] - g.a[1] * g.a[3]));
    g.aa = static_cast<float>(std::max(0.05, cell_per_plate * scene_per_render / f));
  }

  // Degradations, in drawing pixels.
  p.blur = r.degradation * (std::pow(rng.uniform(), 2.5) * 0.06 * digit_render_h + uniform(rng, 0.0, 0.45));
  p.noise = r.degradation * uniform(rng, 0.0, 0.03);
  p.jpeg_quality = chance(rng, 0.6 * r.degradation) ? static_cast<int>(rng.between(25, 90)) : 0;
  p.noise_seed = rng.next();

  // Boxes in output pixels.
  const double sx = p.out_w / p.win[2], sy = p.out_h / p.win[3];
  for (int i = 0; i < p.length; ++i) {
    p.boxes[i][0] = static_cast<float>((boxes[i][0] - p.win[0]) * sx);
    p.boxes[i][1] = static_cast<float>((boxes[i][1] - p.win[1]) * sy);
    p.boxes[i][2] = static_cast<float>(boxes[i][2] * sx);
    p.boxes[i][3] = static_cast<float>(boxes[i][3] * sy);
  }
  return p;
}

}  // namespace scenes
}  // namespace svhnx
