// The counter-based random streams of the data path (no Python in here).
#pragma once

#include <cstdint>

namespace svhnx {

// ---------------------------------------------------------------------------------------
// Randomness: one independent stream per (seed, sample index), so the output of a batch
// does not depend on how its samples are shared among threads.
// ---------------------------------------------------------------------------------------

class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) : state_(mix(seed + mix(stream + kGolden))) {}

  uint64_t next() {
    state_ += kGolden;
    return mix(state_);
  }
  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-64 * n).
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  // Uniform integer in [lo, hi].
  int64_t between(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(below(hi - lo + 1)); }
  // Uniform double in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  static constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
  static uint64_t mix(uint64_t z) {  // SplitMix64 finaliser
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

// Fill offsets[2 * i], offsets[2 * i + 1] with the (top, left) of sample i's random crop, with
// `spare_h` rows and `spare_w` columns of the image left over; the draws random_crop and
// crop_resize's random parts share.
inline void random_offsets(uint64_t seed, int64_t n, int64_t spare_h, int64_t spare_w, int64_t* offsets) {
  for (int64_t i = 0; i < n; ++i) {
    Rng rng(seed, static_cast<uint64_t>(i));
    offsets[2 * i] = rng.between(0, spare_h);
    offsets[2 * i + 1] = rng.between(0, spare_w);
  }
}

// Fill offsets[2 * i], offsets[2 * i + 1] with the (top, left) of the centred crop of each of
// the n samples; the offsets center_crop and crop_resize's centred parts share.
inline void centre_offsets(int64_t n, int64_t spare_h, int64_t spare_w, int64_t* offsets) {
  for (int64_t i = 0; i < n; ++i) offsets[2 * i] = spare_h / 2, offsets[2 * i + 1] = spare_w / 2;
}

}  // namespace svhnx
