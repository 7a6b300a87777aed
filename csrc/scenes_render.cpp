// Drawing a planned street-number scene: surfaces and glyphs per pixel, then the camera's
// degradations (blur, gamma, sensor noise, JPEG-like block compression) and the final resampling.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "scenes.hpp"

namespace svhnx {
namespace scenes {
namespace {

constexpr double kPi = 3.141592653589793;
constexpr int kCurve = 1024;  // steps of the gamma table

// Round to the nearest integer, halves away from zero (inline; std::nearbyint is a libm call).
float round_half_away(float v) { return static_cast<float>(static_cast<int>(v + (v >= 0 ? 0.5f : -0.5f))); }
Rgb lerp(const Rgb& a, const Rgb& b, float t) {
  return {a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t};
}
Rgb scale(const Rgb& a, float s) { return {a[0] * s, a[1] * s, a[2] * s}; }

// ---------------------------------------------------------------------------------------
// Stateless noise: a hash of integer lattice coordinates, so any pixel can be drawn alone.
// ---------------------------------------------------------------------------------------

uint64_t hash3(int64_t x, int64_t y, uint64_t seed) {
  uint64_t z = seed ^ (static_cast<uint64_t>(x) * 0x9E3779B97F4A7C15ull) ^ (static_cast<uint64_t>(y) * 0xC2B2AE3D27D4EB4Full);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
float hash01(int64_t x, int64_t y, uint64_t seed) { return static_cast<float>(hash3(x, y, seed) >> 40) * 0x1.0p-24f; }

// Smooth value noise in [0, 1].
float value_noise(double x, double y, uint64_t seed) {
  const double fx = std::floor(x), fy = std::floor(y);
  const int64_t ix = static_cast<int64_t>(fx), iy = static_cast<int64_t>(fy);
  float tx = static_cast<float>(x - fx), ty = static_cast<float>(y - fy);
  tx = tx * tx * (3 - 2 * tx), ty = ty * ty * (3 - 2 * ty);
  const float a = hash01(ix, iy, seed), b = hash01(ix + 1, iy, seed);
  const float c = hash01(ix, iy + 1, seed), d = hash01(ix + 1, iy + 1, seed);
  return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty;
}

// Three octaves of value noise, in [0, 1].
float fbm(double x, double y, uint64_t seed) {
  return 0.571f * value_noise(x, y, seed) + 0.286f * value_noise(2.03 * x, 2.03 * y, seed + 1) +
         0.143f * value_noise(4.11 * x, 4.11 * y, seed + 2);
}

// Approximately standard normal from one hash: the sum of four 16-bit uniforms, standardised.
float hash_normal(uint64_t h) {
  float s = 0;
  for (int k = 0; k < 4; ++k) s += static_cast<float>((h >> (16 * k)) & 0xFFFF) * (1.0f / 65536.0f);
  return (s - 2.0f) * 1.7320508f;
}

// ---------------------------------------------------------------------------------------
// Surfaces and glyphs
// ---------------------------------------------------------------------------------------

float coverage(float d, float aa) { return std::clamp<float>(d / aa + 0.5f, 0.f, 1.f); }

// Signed distance field of a glyph at cell coordinates (cx, cy), in cell px (positive inside).
float glyph_field(const uint8_t* f, double cx, double cy) {
  const double x = cx - 0.5, y = cy - 0.5;
  if (x < -1 || y < -1 || x > kCell || y > kCell) return -8.f;
  const double fx = std::floor(x), fy = std::floor(y);
  const int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);
  const float tx = static_cast<float>(x - fx), ty = static_cast<float>(y - fy);
  const auto at = [&](int xi, int yi) {
    xi = std::min(kCell - 1, std::max(0, xi)), yi = std::min(kCell - 1, std::max(0, yi));
    return static_cast<float>(f[yi * kCell + xi]);
  };
  const float top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * tx;
  const float bottom = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * tx;
  return (top + (bottom - top) * ty - 128.f) / kFieldScale;
}

struct Shader {
  const Tables& t;
  const Plan& p;
  const double ca = std::cos(p.tex_angle), sa = std::sin(p.tex_angle);

  Rgb wall(double px, double py) const {
    const double s = p.tex_scale;
    const double u = ca * px + sa * py, v = -sa * px + ca * py;  // texture axes
    Rgb c = p.wall;
    switch (p.texture) {
      case Texture::kFlat:
        break;
      case Texture::kGradient:
        c = lerp(p.wall, p.wall2, std::clamp<float>(static_cast<float>(0.5 + p.grad[0] * px + p.grad[1] * py), 0.f, 1.f));
        break;
      case Texture::kStucco:
        c = scale(p.wall, 1.f + 3.f * static_cast<float>(p.noise_amp) * (fbm(px / s, py / s, p.tex_seed) - 0.5f));
        break;
      case Texture::kBricks: {
        const double bh = s, bw = 2.2 * s, mortar = 0.09 * s;
        const double row = std::floor(v / bh);
        const double shifted = u + (static_cast<int64_t>(row) & 1) * bw / 2;
        const double col = std::floor(shifted / bw);
        const double fu = shifted - col * bw, fv = v - row * bh;
        if (fu < mortar || fv < mortar) {
          c = p.wall2;
        } else {
          const float tone = hash01(static_cast<int64_t>(col), static_cast<int64_t>(row), p.tex_seed) - 0.5f;
          c = scale(p.wall, 1.f + 0.3f * tone);
        }
        break;
      }
      case Texture::kSiding: {
        const double f = v / s - std::floor(v / s);
        const float shade = f < 0.06 ? 0.65f : static_cast<float>(0.86 + 0.14 * f);
        c = scale(p.wall, shade);
        break;
      }
      case Texture::kWood: {
        const double plank = std::floor(u / s);
        const float tone = hash01(static_cast<int64_t>(plank), 7, p.tex_seed) - 0.5f;
        const double grain = std::sin(2 * kPi * (u * 2.5 / s + 2.0 * fbm(u / (0.5 * s), v / (4 * s), p.tex_seed + 5)));
        c = scale(lerp(p.wall, p.wall2, static_cast<float>(0.25 + 0.2 * grain)), 1.f + 0.2f * tone);
        if (u - plank * s < 0.04 * s) c = scale(c, 0.6f);
        break;
      }
    }
    if (p.noise_amp > 0) {  // fine grain on every surface
      const double g = 0.12 * s;
      c = scale(c, 1.f + static_cast<float>(p.noise_amp) * (value_noise(px / g, py / g, p.tex_seed + 9) - 0.5f));
    }
    return c;
  }

  float glyph_coverage(const Glyph& g, double px, double py, float weight) const {
    if (px < g.bounds[0] || px > g.bounds[2] || py < g.bounds[1] || py > g.bounds[3]) return 0.f;
    const double cx = g.a[0] * px + g.a[1] * py + g.a[2], cy = g.a[3] * px + g.a[4] * py + g.a[5];
    const uint8_t* f = &t.fields[static_cast<size_t>(g.index) * kCell * kCell];
    return coverage(glyph_field(f, cx, cy) + weight, g.aa);
  }

  // Signed distance from the plate's outline, plate units (negative inside); first order for an oval.
  double plate_distance(double px, double py) const {
    const double cx = (p.plate_box[0] + p.plate_box[2]) / 2, cy = (p.plate_box[1] + p.plate_box[3]) / 2;
    const double hx = (p.plate_box[2] - p.plate_box[0]) / 2, hy = (p.plate_box[3] - p.plate_box[1]) / 2;
    if (p.plate_oval) {
      const double ux = (px - cx) / hx, uy = (py - cy) / hy, q = std::hypot(ux, uy);
      const double slope = std::hypot(ux / hx, uy / hy);  // |grad q| * q
      return slope > 0 ? (q - 1) * q / slope : -std::min(hx, hy);
    }
    const double r = p.plate_radius;
    const double qx = std::fabs(px - cx) - (hx - r), qy = std::fabs(py - cy) - (hy - r);
    return std::hypot(std::max(qx, 0.0), std::max(qy, 0.0)) + std::min(std::max(qx, qy), 0.0) - r;
  }

  Rgb color(double px, double py) const {
    Rgb c = wall(px, py);
    const float aa = static_cast<float>(p.plate_per_pixel);
    for (int e = 0; e < p.n_edges; ++e) {
      const Band& b = p.edges[e];
      const double d = std::fabs(b.nx * px + b.ny * py - b.offset) - b.width / 2;
      c = lerp(c, b.color, coverage(static_cast<float>(-d), aa));
    }
    if (p.plate) {  // rounded rectangle or oval, optionally with a border
      const double d = plate_distance(px, py);
      const Rgb inner = p.plate_border > 0 ? lerp(p.border_color, p.plate_color, coverage(static_cast<float>(-d - p.plate_border), aa))
                                           : p.plate_color;
      c = lerp(c, inner, coverage(static_cast<float>(-d), aa));
    }
    const float w = p.weight, ow = p.outline_width;
    if (p.ink == Ink::kShadow) {
      for (int i = 0; i < p.n_glyphs; ++i) {
        const float s = glyph_coverage(p.glyphs[i], px - p.shadow_offset[0], py - p.shadow_offset[1], w);
        if (s > 0) c = lerp(c, p.shadow, 0.85f * s);
      }
    }
    for (int i = 0; i < p.n_glyphs; ++i) {
      const Glyph& g = p.glyphs[i];
      switch (p.ink) {
        case Ink::kOutlined: {
          const float outer = glyph_coverage(g, px, py, w + ow);
          if (outer > 0) c = lerp(lerp(c, p.outline, outer), p.fg, glyph_coverage(g, px, py, w));
          break;
        }
        case Ink::kOutlineOnly: {
          const float outer = glyph_coverage(g, px, py, w + ow);
          if (outer > 0) c = lerp(c, p.fg, outer - glyph_coverage(g, px, py, w));
          break;
        }
        default:
          c = lerp(c, p.fg, glyph_coverage(g, px, py, w));
      }
    }
    return c;
  }
};

// ---------------------------------------------------------------------------------------
// Degradations
// ---------------------------------------------------------------------------------------

// One pass of a separable blur: out[i] = sum_k k[k] * in[clamp(i + k - radius)] along lines of
// `n` pixels (`stride` floats apart) for `lines` lines (`line_stride` apart), 3 channels.
void blur_pass(const float* in, float* out, int n, int stride, int lines, int line_stride, const float* k, int radius) {
  for (int l = 0; l < lines; ++l) {
    const float* src = in + static_cast<size_t>(l) * line_stride;
    float* dst = out + static_cast<size_t>(l) * line_stride;
    for (int i = 0; i < n; ++i) {
      float acc[3] = {0, 0, 0};
      if (i >= radius && i + radius < n) {  // interior: no clamping
        const float* s = src + static_cast<size_t>(i - radius) * stride;
        for (int t = 0; t <= 2 * radius; ++t, s += stride) {
          acc[0] += k[t] * s[0], acc[1] += k[t] * s[1], acc[2] += k[t] * s[2];
        }
      } else {
        for (int t = -radius; t <= radius; ++t) {
          const float* s = src + static_cast<size_t>(std::min(n - 1, std::max(0, i + t))) * stride;
          acc[0] += k[t + radius] * s[0], acc[1] += k[t + radius] * s[1], acc[2] += k[t + radius] * s[2];
        }
      }
      float* d = dst + static_cast<size_t>(i) * stride;
      d[0] = acc[0], d[1] = acc[1], d[2] = acc[2];
    }
  }
}

// Separable Gaussian blur of an h x w x 3 float image, edges clamped; `tmp` is working memory.
void gaussian_blur(float* img, int w, int h, double sigma, float* tmp) {
  const int radius = std::min(25, static_cast<int>(std::ceil(3 * sigma)));
  if (radius < 1) return;
  float k[51];
  float sum = 0;
  for (int i = -radius; i <= radius; ++i) sum += k[i + radius] = static_cast<float>(std::exp(-0.5 * i * i / (sigma * sigma)));
  for (int i = 0; i <= 2 * radius; ++i) k[i] /= sum;
  blur_pass(img, tmp, w, 3, h, 3 * w, k, radius);  // rows
  blur_pass(tmp, img, h, 3 * w, w, 3, k, radius);  // columns
}

// The JPEG baseline quantisation tables (ITU T.81, Annex K).
constexpr int kLumaQ[64] = {16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
                            14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
                            18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
                            49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
constexpr int kChromaQ[64] = {17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
                              24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
                              99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
                              99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99};

struct Dct {
  float c[8][8];
  Dct() {
    for (int u = 0; u < 8; ++u)
      for (int x = 0; x < 8; ++x)
        c[u][x] = static_cast<float>((u == 0 ? std::sqrt(0.125) : 0.5) * std::cos((2 * x + 1) * u * kPi / 16));
  }
};

// Quantise one plane (w x h, values around 0..255) in 8x8 DCT blocks with table `q`.
void quantise_plane(float* plane, int w, int h, const float* q) {
  static const Dct dct;
  float block[8][8], tmp[8][8];
  for (int by = 0; by < h; by += 8) {
    for (int bx = 0; bx < w; bx += 8) {
      for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 8; ++x)
          block[y][x] = plane[std::min(h - 1, by + y) * w + std::min(w - 1, bx + x)] - 128.f;
      for (int u = 0; u < 8; ++u)  // rows: tmp = block C^T
        for (int y = 0; y < 8; ++y) {
          float s = 0;
          for (int x = 0; x < 8; ++x) s += block[y][x] * dct.c[u][x];
          tmp[y][u] = s;
        }
      for (int v = 0; v < 8; ++v)  // columns: F = C tmp, quantised
        for (int u = 0; u < 8; ++u) {
          float s = 0;
          for (int y = 0; y < 8; ++y) s += dct.c[v][y] * tmp[y][u];
          block[v][u] = round_half_away(s / q[v * 8 + u]) * q[v * 8 + u];
        }
      for (int y = 0; y < 8; ++y)  // inverse: C^T F C
        for (int u = 0; u < 8; ++u) {
          float s = 0;
          for (int v = 0; v < 8; ++v) s += dct.c[v][y] * block[v][u];
          tmp[y][u] = s;
        }
      for (int y = 0; y < 8 && by + y < h; ++y)
        for (int x = 0; x < 8 && bx + x < w; ++x) {
          float s = 0;
          for (int u = 0; u < 8; ++u) s += tmp[y][u] * dct.c[u][x];
          plane[(by + y) * w + bx + x] = s + 128.f;
        }
    }
  }
}

// JPEG-like compression of an RGB image (values 0..255): YCbCr, 4:2:0 chroma, 8x8 DCT quantisation.
// `work` must hold w * h + 2 * ceil(w / 2) * ceil(h / 2) floats.
void jpeg_artefacts(float* img, int w, int h, int quality, float* work) {
  const float scale = quality < 50 ? 5000.f / quality : 200.f - 2.f * quality;
  float ql[64], qc[64];
  for (int i = 0; i < 64; ++i) {
    ql[i] = std::clamp<float>(std::floor((kLumaQ[i] * scale + 50) / 100), 1, 255);
    qc[i] = std::clamp<float>(std::floor((kChromaQ[i] * scale + 50) / 100), 1, 255);
  }
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  float* Y = work;
  float* Cb = Y + static_cast<size_t>(w) * h;
  float* Cr = Cb + static_cast<size_t>(cw) * ch;
  std::fill(Cb, Cb + 2 * static_cast<size_t>(cw) * ch, 0.f);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const float* s = img + (static_cast<size_t>(y) * w + x) * 3;
      Y[y * w + x] = 0.299f * s[0] + 0.587f * s[1] + 0.114f * s[2];
      const int ci = (y / 2) * cw + x / 2;
      const float n = 1.f / (((y | 1) < h ? 2 : 1) * ((x | 1) < w ? 2 : 1));  // pixels in this 2x2 cell
      Cb[ci] += n * (128.f - 0.168736f * s[0] - 0.331264f * s[1] + 0.5f * s[2]);
      Cr[ci] += n * (128.f + 0.5f * s[0] - 0.418688f * s[1] - 0.081312f * s[2]);
    }
  }
  quantise_plane(Y, w, h, ql);
  quantise_plane(Cb, cw, ch, qc);
  quantise_plane(Cr, cw, ch, qc);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const float yy = Y[y * w + x], cb = Cb[(y / 2) * cw + x / 2] - 128.f, cr = Cr[(y / 2) * cw + x / 2] - 128.f;
      float* d = img + (static_cast<size_t>(y) * w + x) * 3;
      d[0] = yy + 1.402f * cr;
      d[1] = yy - 0.344136f * cb - 0.714136f * cr;
      d[2] = yy + 1.772f * cb;
    }
  }
}

// Bilinear resampling of a float RGB image (values 0..255) to uint8, pixel centres aligned.
void resample(const float* src, int sw, int sh, uint8_t* dst, int dw, int dh) {
  if (sw == dw && sh == dh) {
    for (size_t i = 0; i < static_cast<size_t>(sw) * sh * 3; ++i) dst[i] = static_cast<uint8_t>(std::clamp<float>(src[i], 0.f, 255.f) + 0.5f);
    return;
  }
  std::vector<int> x0(dw), x1(dw);
  std::vector<float> tx(dw);
  const double fx = static_cast<double>(sw) / dw, fy = static_cast<double>(sh) / dh;
  for (int x = 0; x < dw; ++x) {
    const double sx = std::min(sw - 1.0, std::max(0.0, (x + 0.5) * fx - 0.5));
    x0[x] = static_cast<int>(sx), x1[x] = std::min(sw - 1, x0[x] + 1), tx[x] = static_cast<float>(sx - x0[x]);
  }
  for (int y = 0; y < dh; ++y) {
    const double sy = std::min(sh - 1.0, std::max(0.0, (y + 0.5) * fy - 0.5));
    const int y0 = static_cast<int>(sy), y1 = std::min(sh - 1, y0 + 1);
    const float ty = static_cast<float>(sy - y0);
    const float* r0 = src + static_cast<size_t>(y0) * sw * 3;
    const float* r1 = src + static_cast<size_t>(y1) * sw * 3;
    uint8_t* out = dst + static_cast<size_t>(y) * dw * 3;
    for (int x = 0; x < dw; ++x) {
      const float* a = r0 + 3 * x0[x];
      const float* b = r0 + 3 * x1[x];
      const float* e = r1 + 3 * x0[x];
      const float* f = r1 + 3 * x1[x];
      for (int c = 0; c < 3; ++c) {
        const float top = a[c] + (b[c] - a[c]) * tx[x], bottom = e[c] + (f[c] - e[c]) * tx[x];
        out[3 * x + c] = static_cast<uint8_t>(std::clamp<float>(top + (bottom - top) * ty, 0.f, 255.f) + 0.5f);
      }
    }
  }
}

}  // namespace

void render_scene(const Tables& t, const Plan& p, uint8_t* out, std::vector<float>& scratch) {
  const int w = p.render_w, h = p.render_h;
  const size_t n = static_cast<size_t>(w) * h * 3;
  scratch.resize(2 * n);
  float* img = scratch.data();
  float* tmp = img + n;
  const Shader shader{t, p};
  const double step_x = p.win[2] / w, step_y = p.win[3] / h;
  for (int y = 0; y < h; ++y) {
    const double sy = p.win[1] + (y + 0.5) * step_y;
    for (int x = 0; x < w; ++x) {
      const double sx = p.win[0] + (x + 0.5) * step_x;
      double px, py;
      apply_h(p.to_plate, sx, sy, px, py);
      const Rgb c = shader.color(px, py);
      // Light, in scene-normalised coordinates.
      const double nx = sx / p.scene_w - 0.5, ny = sy / p.scene_h - 0.5;
      double gain = p.light[0] + p.light[1] * nx + p.light[2] * ny;
      if (p.shade[3] < 1) {
        const double s = p.shade[0] * nx + p.shade[1] * ny - p.shade[2];
        gain *= 1 + (p.shade[3] - 1) * std::clamp<float>(static_cast<float>(0.5 + s / 0.06), 0.f, 1.f);
      }
      float* d = img + (static_cast<size_t>(y) * w + x) * 3;
      for (int ch = 0; ch < 3; ++ch) d[ch] = static_cast<float>(c[ch] * gain * p.cast[ch]);
    }
  }
  if (p.blur > 0.3) gaussian_blur(img, w, h, p.blur, tmp);
  // Gamma through a table (linear interpolation between 1024 steps), then sensor noise.
  float curve[kCurve + 2];
  for (int k = 0; k <= kCurve; ++k) curve[k] = static_cast<float>(std::pow(static_cast<double>(k) / kCurve, 1.0 / p.gamma));
  curve[kCurve + 1] = curve[kCurve];
  const float noise = static_cast<float>(p.noise);
  for (size_t i = 0; i < n; i += 3) {
    float luma = 0;
    if (noise > 0) luma = noise * hash_normal(hash3(static_cast<int64_t>(i), 0, p.noise_seed));
    for (int ch = 0; ch < 3; ++ch) {
      const float x = std::clamp<float>(img[i + ch], 0.f, 1.f) * kCurve;
      const int k = static_cast<int>(x);
      float v = curve[k] + (curve[k + 1] - curve[k]) * (x - k);
      if (noise > 0) v += luma + 0.3f * noise * hash_normal(hash3(static_cast<int64_t>(i), ch + 1, p.noise_seed));
      img[i + ch] = static_cast<float>(static_cast<int>(std::clamp<float>(v, 0.f, 1.f) * 255.f + 0.5f));
    }
  }
  if (p.jpeg_quality > 0) jpeg_artefacts(img, w, h, p.jpeg_quality, tmp);  // tmp: 3wh >= what it needs
  resample(img, w, h, out, p.out_w, p.out_h);
}

}  // namespace scenes
}  // namespace svhnx
