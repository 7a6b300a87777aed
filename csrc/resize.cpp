// crop_resize: cut a box out of each image and resize it bilinearly to a fixed size.
//
// Crop: the pixel window of the box (crop_rule.hpp's pixel_window, also svhnx.ops.pixel_windows).
// Resize: OpenCV's INTER_LINEAR, i.e. source coordinate (d + 0.5) * src / dst - 0.5, clamped at
// the edges, with 11-bit fixed-point weights. A horizontal pass turns each source row the
// output needs into int16 (value * 2^11 >> 4), then a vertical pass blends two such rows with
// OpenCV's own fixed-point arithmetic. Three kernel sets compute exactly the same integers: plain
// C++, SSE2, and AVX2 (picked at run time when the CPU has it; $SVHNX_SIMD = plain, sse2 or avx2
// forces one, for tests and comparisons). Only the output rows and columns asked for are made
// (a random 54 x 54 part of a 64 x 64 resize costs the 54 x 54 pixels), from only the source
// rows they need.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SVHNX_X86 1
#endif
#include <cstdlib>

#include <pybind11/stl.h>  // std::optional seed

#include "svhnx/checks.hpp"
#include "svhnx/crop_rule.hpp"
#include "svhnx/parallel.hpp"
#include "svhnx/rng.hpp"
#include "ops.hpp"

namespace svhnx {
namespace {

constexpr int32_t kWeightBits = 11, kOne = 1 << kWeightBits;  // weights sum to kOne

using Window = PixelWindow;

Window crop_window(const Box& b, int64_t height, int64_t width) {
  return pixel_window(b.left, b.top, b.right(), b.bottom(), height, width);
}

// For each of `dst` outputs: the two source elements (index * step) and their weights, also
// packed as (weight_lo | weight_hi << 16) for pmaddwd.
struct Taps {
  std::vector<int64_t> lo, hi;
  std::vector<int32_t> weight_hi, packed;

  // Taps of outputs first .. first + count - 1 of a resize from `src` to `dst` elements.
  void build(int64_t src, int64_t dst, int64_t step, int64_t first, int64_t count) {
    lo.resize(count), hi.resize(count), weight_hi.resize(count), packed.resize(count);
    const double scale = static_cast<double>(src) / static_cast<double>(dst);
    for (int64_t d = 0; d < count; ++d) {
      const double f = (static_cast<double>(first + d) + 0.5) * scale - 0.5;
      int64_t i = f < 0.0 ? -1 : static_cast<int64_t>(f);  // floor(f), as f >= -0.5
      double frac = f - static_cast<double>(i);
      if (i < 0) i = 0, frac = 0.0;
      if (i >= src - 1) i = src - 1, frac = 0.0;
      lo[d] = i * step;
      hi[d] = std::min(i + 1, src - 1) * step;
      weight_hi[d] = static_cast<int32_t>(frac * kOne + 0.5);  // frac >= 0: round half up
      packed[d] = (kOne - weight_hi[d]) | (weight_hi[d] << 16);
    }
  }
};

// Which kernels run: plain C++, SSE2 or AVX2, all computing the same integers.
enum class Simd { kPlain, kSse2, kAvx2 };

const char* simd_name(Simd simd) {
  return simd == Simd::kAvx2 ? "avx2" : simd == Simd::kSse2 ? "sse2" : "plain";
}

// The best kernels this build and CPU can run, or those $SVHNX_SIMD names.
Simd pick_simd() {
  Simd best = Simd::kPlain;
#if defined(__SSE2__)
  best = Simd::kSse2;
#endif
#if defined(SVHNX_X86) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx2")) best = Simd::kAvx2;
#endif
  const char* forced = std::getenv("SVHNX_SIMD");
  if (forced == nullptr || *forced == '\0') return best;
  const std::string name(forced);
  Simd wanted;
  if (name == "plain") {
    wanted = Simd::kPlain;
  } else if (name == "sse2") {
    wanted = Simd::kSse2;
  } else if (name == "avx2") {
    wanted = Simd::kAvx2;
  } else {
    throw py::value_error("SVHNX_SIMD: expected plain, sse2 or avx2 (or unset), got '" + name + "'");
  }
  if (wanted > best) {
    throw py::value_error("SVHNX_SIMD=" + name + ": not supported by this CPU or build (best: " + simd_name(best) + ")");
  }
  return wanted;
}

// Bytes a horizontal pass may read past the last pixel of a row, and int16 it may write past
// the end of its output row.
constexpr int64_t kOverread = 16, kOverwrite = 4;
constexpr int kRowShift = 4;  // resized rows hold (a * w0 + b * w1) >> 4: value * 128, fits int16
constexpr int kRowsAtOnce = 4;  // source rows resized together, sharing the taps' loads
constexpr int64_t kPrefetchGroups = 2;  // groups of rows fetched ahead of the one being resized (2 measured best)
constexpr int64_t kAvx2Outputs = 16;  // int16 outputs per step of the AVX2 horizontal pass

// Horizontal pass of kRows source rows into int16 rows of dst_w * channels (+ kOverwrite).
// kChannels > 0 fixes the channel count at compile time; 0 reads it from `channels`.
template <int kChannels, int kRows>
void resize_rows(const uint8_t* const* rows, const Taps& x, int64_t channels, int16_t* const* out, bool sse2) {
  const int64_t c_n = kChannels > 0 ? kChannels : channels;
  const int64_t n = static_cast<int64_t>(x.lo.size());
#if defined(__SSE2__)
  if constexpr (kChannels >= 2 && kChannels <= 4) {
    // The taps of a pixel are neighbours (hi = lo + C, or its weight is 0 at the right edge),
    // so one 8-byte load holds both: interleaved to int16 (a0 b0 a1 b1 ...) and multiplied by
    // (w0, w1) pairs with one pmaddwd; the 4th lane is overwritten by the next pixel.
    if (sse2) {
      const __m128i zero = _mm_setzero_si128();
      for (int64_t d = 0; d < n; ++d) {
        const int64_t lo = x.lo[d];
        const __m128i weights = _mm_set1_epi32(x.packed[d]);
        for (int k = 0; k < kRows; ++k) {
          const __m128i pair = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(rows[k] + lo));
          const __m128i ab = _mm_unpacklo_epi8(_mm_unpacklo_epi8(pair, _mm_srli_si128(pair, kChannels)), zero);
          const __m128i sum = _mm_srai_epi32(_mm_madd_epi16(ab, weights), kRowShift);
          _mm_storel_epi64(reinterpret_cast<__m128i*>(out[k] + d * kChannels), _mm_packs_epi32(sum, sum));
        }
      }
      return;
    }
  }
#endif
  for (int64_t d = 0; d < n; ++d) {
    const int64_t lo = x.lo[d], hi = x.hi[d];
    const int32_t w1 = x.weight_hi[d], w0 = kOne - w1;
    for (int k = 0; k < kRows; ++k) {
      for (int64_t c = 0; c < c_n; ++c) {
        out[k][d * c_n + c] = static_cast<int16_t>((rows[k][lo + c] * w0 + rows[k][hi + c] * w1) >> kRowShift);
      }
    }
  }
}

// Tables of the AVX2 horizontal pass for one box, per output value j (pixel d, channel c): its
// taps are source bytes lo[d] + c and hi[d] + c. Each run of 4 outputs reads one 16-byte load
// from `base` and picks its taps out of it with a byte shuffle (`masks`, 16 bytes per run)
// that also widens them to int16 pairs for pmaddwd with `weights`. Outputs are padded to a
// multiple of kAvx2Outputs by repeating the last one.
struct ShuffleTaps {
  std::vector<int64_t> base;
  std::vector<uint8_t> masks;
  std::vector<int32_t> weights;
  int64_t padded = 0;

  // False when some run of 4 outputs spans more than 16 source bytes (strong downscaling).
  bool build(const Taps& x, int64_t channels) {
    const int64_t n = static_cast<int64_t>(x.lo.size()) * channels;
    padded = (n + kAvx2Outputs - 1) / kAvx2Outputs * kAvx2Outputs;
    base.resize(padded / 4), masks.resize(padded * 4), weights.resize(padded), lo.resize(padded), hi.resize(padded);
    for (int64_t d = 0, j = 0; d < static_cast<int64_t>(x.lo.size()); ++d) {
      for (int64_t c = 0; c < channels; ++c, ++j) lo[j] = x.lo[d] + c, hi[j] = x.hi[d] + c, weights[j] = x.packed[d];
    }
    for (int64_t j = n; j < padded; ++j) lo[j] = lo[n - 1], hi[j] = hi[n - 1], weights[j] = weights[n - 1];
    for (int64_t run = 0; run < padded / 4; ++run) {
      const int64_t* run_lo = lo.data() + run * 4;
      const int64_t* run_hi = hi.data() + run * 4;
      const int64_t first = std::min(std::min(run_lo[0], run_lo[1]), std::min(run_lo[2], run_lo[3]));
      if (std::max(std::max(run_hi[0], run_hi[1]), std::max(run_hi[2], run_hi[3])) - first > 15) return false;
      base[run] = first;
      for (int64_t e = 0; e < 4; ++e) {
        uint8_t* m = masks.data() + run * 16 + e * 4;
        m[0] = static_cast<uint8_t>(run_lo[e] - first), m[1] = 0x80, m[2] = static_cast<uint8_t>(run_hi[e] - first), m[3] = 0x80;
      }
    }
    return true;
  }

 private:
  std::vector<int64_t> lo, hi;  // each output's two source bytes
};

#if defined(SVHNX_X86) && defined(__GNUC__)
#define SVHNX_AVX2 __attribute__((target("avx2")))
// (Lambdas do not inherit a function's target, so the AVX2 steps are functions of their own.)

// Outputs q .. q + 7 of a row from `bytes`, the 16-byte loads of runs q / 4 and q / 4 + 1.
SVHNX_AVX2 inline __m256i shuffle_taps_avx2(__m256i bytes, const uint8_t* masks, const int32_t* weights, int64_t q) {
  const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(masks + q * 4));
  const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(weights + q));
  return _mm256_srai_epi32(_mm256_madd_epi16(_mm256_shuffle_epi8(bytes, mask), w), kRowShift);
}

SVHNX_AVX2 inline __m256i load_runs_avx2(const uint8_t* row, const int64_t* base, int64_t run) {
  const __m128i low = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + base[run]));
  const __m128i high = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + base[run + 1]));
  return _mm256_inserti128_si256(_mm256_castsi128_si256(low), high, 1);
}

// Horizontal pass of one row with AVX2: 16 int16 outputs per step.
SVHNX_AVX2 void resize_row_avx2(const uint8_t* row, const ShuffleTaps& t, int16_t* out) {
  const int64_t* base = t.base.data();  // locals: the stores to `out` cannot alias them
  const uint8_t* masks = t.masks.data();
  const int32_t* weights = t.weights.data();
  for (int64_t q = 0, end = t.padded; q < end; q += kAvx2Outputs) {
    const __m256i a = shuffle_taps_avx2(load_runs_avx2(row, base, q / 4), masks, weights, q);
    const __m256i b = shuffle_taps_avx2(load_runs_avx2(row, base, q / 4 + 2), masks, weights, q + 8);
    // packs interleaves the 128-bit lanes (a0-3 b0-3 | a4-7 b4-7); the permute puts them in order.
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + q), _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8));
  }
  _mm256_zeroupper();  // leave no dirty upper halves to slow the SSE code that runs next
}
#endif

// Vertical pass, OpenCV's arithmetic: out = (((r0 * w0) >> 16) + ((r1 * w1) >> 16) + 2) >> 2.
void blend_rows(const int16_t* r0, const int16_t* r1, int32_t w1, int64_t n, uint8_t* out, bool sse2) {
  const int32_t w0 = kOne - w1;
  int64_t i = 0;
#if defined(__SSE2__)
  if (sse2) {
    const __m128i v0 = _mm_set1_epi16(static_cast<int16_t>(w0)), v1 = _mm_set1_epi16(static_cast<int16_t>(w1));
    const __m128i two = _mm_set1_epi16(2);
    for (; i + 16 <= n; i += 16) {
      const auto blend8 = [&](int64_t j) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0 + j));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r1 + j));
        const __m128i sum = _mm_add_epi16(_mm_add_epi16(_mm_mulhi_epi16(a, v0), _mm_mulhi_epi16(b, v1)), two);
        return _mm_srai_epi16(sum, 2);
      };
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(blend8(i), blend8(i + 8)));
    }
  }
#endif
  for (; i < n; ++i) out[i] = static_cast<uint8_t>((((r0[i] * w0) >> 16) + ((r1[i] * w1) >> 16) + 2) >> 2);
}

#if defined(SVHNX_X86) && defined(__GNUC__)
SVHNX_AVX2 inline __m256i blend16_avx2(const int16_t* r0, const int16_t* r1, __m256i v0, __m256i v1) {
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r0));
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r1));
  const __m256i sum = _mm256_add_epi16(_mm256_mulhi_epi16(a, v0), _mm256_mulhi_epi16(b, v1));
  return _mm256_srai_epi16(_mm256_add_epi16(sum, _mm256_set1_epi16(2)), 2);
}

// The vertical pass with AVX2, 32 outputs per step; the SSE2 pass finishes the tail.
SVHNX_AVX2 void blend_rows_avx2(const int16_t* r0, const int16_t* r1, int32_t w1, int64_t n, uint8_t* out) {
  const __m256i v0 = _mm256_set1_epi16(static_cast<int16_t>(kOne - w1)), v1 = _mm256_set1_epi16(static_cast<int16_t>(w1));
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i packed = _mm256_packus_epi16(blend16_avx2(r0 + i, r1 + i, v0, v1), blend16_avx2(r0 + i + 16, r1 + i + 16, v0, v1));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_permute4x64_epi64(packed, 0xD8));
  }
  _mm256_zeroupper();  // before the SSE tail (GCC omits it on a tail call)
  if (i < n) blend_rows(r0 + i, r1 + i, w1, n - i, out + i, true);
}
#endif

// Ask for the `n` bytes at `begin` to be brought into cache ahead of use (source images are
// usually far bigger than the cache, so every crop row would otherwise wait on memory).
inline void prefetch(const uint8_t* begin, int64_t n) {
  for (int64_t i = 0; i < n; i += 64) __builtin_prefetch(begin + i);
}

// Per-thread buffers: the taps of both axes, the AVX2 tables, the source rows the output needs
// (ascending), those rows resized horizontally, and padded copies of source rows too close to
// the end of their image to read past them.
struct Scratch {
  Taps x, y;
  ShuffleTaps shuffle;
  std::vector<int64_t> needed, first_of;
  std::vector<int16_t> resized;
  std::vector<uint8_t> staged[kRowsAtOnce];
};

// What each image's output is: the `part` of its out_h x out_w resize starting at (top, left).
struct OutputWindow {
  int64_t out_h, out_w;  // the full resize
  int64_t part_h, part_w;  // the part of it computed
};

// Resize window `w` of the image to `o.out_h x o.out_w` and write only the `o.part_h x o.part_w`
// part at (top, left) to `out` (each output pixel depends on its own coordinates alone, so this
// is that part of the full resize, exactly).
template <int kChannels>
void resize_window(const uint8_t* image, int64_t height, int64_t width, int64_t channels, const Window& w,
                   const OutputWindow& o, int64_t top, int64_t left, uint8_t* out, Scratch& s, Simd simd) {
  const int64_t out_h = o.part_h, out_w = o.part_w;  // what this call makes and writes
  const int64_t row_bytes = width * channels, out_row = out_w * channels;
  const int64_t stride = (out_row + kAvx2Outputs - 1) / kAvx2Outputs * kAvx2Outputs + kOverwrite;
  const int64_t crop_bytes = (w.x1 - w.x0) * channels;
  const uint8_t* origin = image + w.y0 * row_bytes + w.x0 * channels;
  const uint8_t* image_end = image + height * row_bytes;
  s.x.build(w.x1 - w.x0, o.out_w, channels, left, out_w);
  s.y.build(w.y1 - w.y0, o.out_h, 1, top, out_h);
  const bool sse2 = simd != Simd::kPlain;
  [[maybe_unused]] bool avx2 = false;  // used only where the AVX2 kernels are compiled
#if defined(SVHNX_X86) && defined(__GNUC__)
  avx2 = simd == Simd::kAvx2 && s.shuffle.build(s.x, channels);
#endif
  // The rows output row d blends are needed[first_of[d]] and the next one (or itself, clamped).
  s.needed.clear();
  s.first_of.resize(out_h);
  for (int64_t d = 0; d < out_h; ++d) {
    for (const int64_t r : {s.y.lo[d], s.y.hi[d]}) {
      if (s.needed.empty() || r > s.needed.back()) s.needed.push_back(r);
    }
    s.first_of[d] = static_cast<int64_t>(s.needed.size()) - (s.y.hi[d] > s.y.lo[d] ? 2 : 1);
  }
  const int64_t count = static_cast<int64_t>(s.needed.size());
  s.resized.resize(count * stride);

  constexpr int64_t ahead = kPrefetchGroups * kRowsAtOnce;
  for (int64_t k = 0; k < std::min(count, ahead); ++k) prefetch(origin + s.needed[k] * row_bytes, crop_bytes);
  for (int64_t first = 0; first < count; first += kRowsAtOnce) {
    const int64_t group = std::min<int64_t>(kRowsAtOnce, count - first);
    for (int64_t k = first + ahead; k < std::min(count, first + ahead + kRowsAtOnce); ++k) {
      prefetch(origin + s.needed[k] * row_bytes, crop_bytes);
    }
    const uint8_t* rows[kRowsAtOnce];
    int16_t* outs[kRowsAtOnce];
    for (int64_t k = 0; k < group; ++k) {
      rows[k] = origin + s.needed[first + k] * row_bytes;
      outs[k] = s.resized.data() + (first + k) * stride;
      if (rows[k] + crop_bytes + kOverread > image_end) {  // padded copy: the pass reads a little past
        s.staged[k].assign(crop_bytes + kOverread, 0);
        std::memcpy(s.staged[k].data(), rows[k], crop_bytes);
        rows[k] = s.staged[k].data();
      }
    }
#if defined(SVHNX_X86) && defined(__GNUC__)
    if (avx2) {
      for (int64_t k = 0; k < group; ++k) resize_row_avx2(rows[k], s.shuffle, outs[k]);
      continue;
    }
#endif
    if (group == kRowsAtOnce) {
      resize_rows<kChannels, kRowsAtOnce>(rows, s.x, channels, outs, sse2);
    } else {
      for (int64_t k = 0; k < group; ++k) resize_rows<kChannels, 1>(rows + k, s.x, channels, outs + k, sse2);
    }
  }
  for (int64_t d = 0; d < out_h; ++d) {
    const int16_t* r0 = s.resized.data() + s.first_of[d] * stride;
    const int16_t* r1 = s.y.hi[d] > s.y.lo[d] ? r0 + stride : r0;
#if defined(SVHNX_X86) && defined(__GNUC__)
    if (simd == Simd::kAvx2) {
      blend_rows_avx2(r0, r1, s.y.weight_hi[d], out_row, out + d * out_row);
      continue;
    }
#endif
    blend_rows(r0, r1, s.y.weight_hi[d], out_row, out + d * out_row, sse2);
  }
}

struct Source {
  const uint8_t* data;
  int64_t height, width;
};

// Start fetching the first source rows the next image's output needs while this one is
// resized, so that its first rows do not wait on memory.
void prefetch_first_rows(const Source& src, int64_t channels, const Window& w, int64_t out_h, int64_t top) {
  const int64_t rows = w.y1 - w.y0, row_bytes = src.width * channels;
  const double scale = static_cast<double>(rows) / static_cast<double>(out_h);
  const int64_t first = w.y0 + std::max<int64_t>(0, static_cast<int64_t>((static_cast<double>(top) + 0.5) * scale - 0.5));
  for (int64_t r = first; r < std::min(first + kRowsAtOnce, w.y1); ++r) {
    prefetch(src.data + r * row_bytes + w.x0 * channels, (w.x1 - w.x0) * channels);
  }
}

// Resize each image's box to out_h x out_w but make and return only a crop_h x crop_w part of it:
// at offsets drawn as random_crop draws them (seeded by (seed, i)) or, without a seed, centred.
// Returns (parts, offsets).
py::tuple crop_resize(const py::object& images, const py::array& boxes, int64_t out_h, int64_t out_w, int64_t crop_h,
                      int64_t crop_w, std::optional<uint64_t> seed, int threads) {
  require_positive(out_h, "size (height)");
  require_positive(out_w, "size (width)");
  require_positive(crop_h, "crop (height)");
  require_positive(crop_w, "crop (width)");
  if (crop_h > out_h || crop_w > out_w) {
    throw py::value_error("crop: a " + std::to_string(crop_h) + " x " + std::to_string(crop_w) +
                          " crop does not fit in the resized " + std::to_string(out_h) + " x " + std::to_string(out_w));
  }
  std::vector<Source> sources;
  std::vector<py::array> keep_alive;
  int64_t channels = 0;
  if (py::isinstance<py::array>(images)) {
    const py::array batch = py::reinterpret_borrow<py::array>(images);
    require_array<uint8_t>(batch, "images", {4});
    const int64_t n = batch.shape(0), h = batch.shape(1), w = batch.shape(2);
    channels = batch.shape(3);
    if (h == 0 || w == 0 || channels == 0) {
      throw py::value_error("images: expected a non-zero height, width and channel count, got shape " +
                            shape_string(batch));
    }
    const uint8_t* data = static_cast<const uint8_t*>(batch.data());
    for (int64_t i = 0; i < n; ++i) sources.push_back({data + i * h * w * channels, h, w});
  } else if (py::isinstance<py::sequence>(images) && !py::isinstance<py::str>(images)) {
    const py::sequence seq = py::reinterpret_borrow<py::sequence>(images);
    if (seq.size() == 0) throw py::value_error("images: expected at least one image");
    for (size_t i = 0; i < seq.size(); ++i) {
      const std::string name = "images[" + std::to_string(i) + "]";
      const py::object item = seq[i];
      if (!py::isinstance<py::array>(item)) {
        throw py::type_error(name + ": expected a uint8 numpy array, got " + type_name(item));
      }
      const py::array image = py::reinterpret_borrow<py::array>(item);
      require_array<uint8_t>(image, name.c_str(), {2, 3});
      const int64_t c = image.ndim() == 3 ? image.shape(2) : 1;
      if (i == 0) channels = c;
      if (c != channels) {
        throw py::value_error(name + ": expected " + std::to_string(channels) + " channel(s) like images[0], got " +
                              std::to_string(c));
      }
      if (image.shape(0) == 0 || image.shape(1) == 0 || c == 0) {
        throw py::value_error(name + ": expected a non-zero height, width and channel count, got shape " +
                              shape_string(image));
      }
      sources.push_back({static_cast<const uint8_t*>(image.data()), image.shape(0), image.shape(1)});
      keep_alive.push_back(image);
    }
  } else {
    throw py::type_error("images: expected a uint8 N x H x W x C array or a sequence of uint8 H x W (x C) arrays, got " +
                         type_name(images));
  }

  const int64_t n = static_cast<int64_t>(sources.size());
  const float* box_data = require_boxes(boxes, "boxes", /*positive_size=*/true);
  if (boxes.shape(0) != n) {
    throw py::value_error("boxes: expected one box per image (" + std::to_string(n) + "), got " +
                          std::to_string(boxes.shape(0)));
  }
  std::vector<Window> windows(n);
  for (int64_t i = 0; i < n; ++i) {
    const Box b = box_at(box_data, i);
    require_overlap(b, sources[i].height, sources[i].width, "boxes", i);
    windows[i] = crop_window(b, sources[i].height, sources[i].width);
  }

  py::array_t<int64_t> offsets({n, int64_t{2}});
  int64_t* off = offsets.mutable_data();
  if (seed) {
    random_offsets(*seed, n, out_h - crop_h, out_w - crop_w, off);
  } else {
    centre_offsets(n, out_h - crop_h, out_w - crop_w, off);
  }
  const OutputWindow o{out_h, out_w, crop_h, crop_w};
  py::array_t<uint8_t> out({n, crop_h, crop_w, channels});
  uint8_t* result = out.mutable_data();
  const int64_t out_bytes = crop_h * crop_w * channels;
  const int nthreads = resolve_threads(threads, n);
  const Simd simd = pick_simd();
  {
    py::gil_scoped_release release;
    parallel_for(n, nthreads, [&](int64_t begin, int64_t end) {
      Scratch scratch;
      for (int64_t i = begin; i < end; ++i) {
        const Source& src = sources[i];
        uint8_t* dst = result + i * out_bytes;
        if (i + 1 < end) prefetch_first_rows(sources[i + 1], channels, windows[i + 1], out_h, off[2 * i + 2]);
        const auto run = [&](auto channel_count) {
          resize_window<decltype(channel_count)::value>(src.data, src.height, src.width, channels, windows[i], o,
                                                        off[2 * i], off[2 * i + 1], dst, scratch, simd);
        };
        switch (channels) {  // the common channel counts get a kernel of their own
          case 1: run(std::integral_constant<int, 1>{}); break;
          case 2: run(std::integral_constant<int, 2>{}); break;
          case 3: run(std::integral_constant<int, 3>{}); break;
          case 4: run(std::integral_constant<int, 4>{}); break;
          default: run(std::integral_constant<int, 0>{});
        }
      }
    });
  }
  return py::make_tuple(out, offsets);
}

// The pixel window of each box in its image: int64 [N, 4] (x0, y0, x1, y1).
py::array_t<int64_t> pixel_windows(const py::array& boxes, const py::array& image_sizes) {
  const float* box_data = require_boxes(boxes, "boxes", /*positive_size=*/false);
  const int64_t n = boxes.shape(0);
  const int64_t* sizes = require_image_sizes(image_sizes, "image_sizes", n);
  py::array_t<int64_t> out({n, int64_t{4}});
  int64_t* o = out.mutable_data();
  for (int64_t i = 0; i < n; ++i) {
    const Window w = crop_window(box_at(box_data, i), sizes[2 * i], sizes[2 * i + 1]);
    o[4 * i] = w.x0, o[4 * i + 1] = w.y0, o[4 * i + 2] = w.x1, o[4 * i + 3] = w.y1;
  }
  return out;
}

}  // namespace

void register_resize(py::module_& m) {
  m.def("pixel_windows", &pixel_windows, py::arg("boxes"), py::arg("image_sizes"),
        "The pixels crop_resize cuts out for each float32 [left, top, width, height] box of an image of "
        "int64 (height, width): int64 [N, 4] (x0, y0, x1, y1), x1 and y1 exclusive.");
  m.def("simd_kernels", [] { return std::string(simd_name(pick_simd())); },
        "The kernels crop_resize runs on this CPU: 'avx2', 'sse2' or 'plain' ($SVHNX_SIMD forces one).");
  m.def("crop_resize", &crop_resize, py::arg("images"), py::arg("boxes"), py::arg("height"), py::arg("width"),
        py::arg("crop_height"), py::arg("crop_width"), py::arg("seed"), py::arg("threads"),
        "Crop one box out of each image, resize it bilinearly and keep a (random or centred) part; "
        "returns (images, offsets).");
}

}  // namespace svhnx
