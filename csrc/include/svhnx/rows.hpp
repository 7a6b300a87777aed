// Copies of short image rows.
#pragma once

#include <cstdint>
#include <cstring>

namespace svhnx {

// ---------------------------------------------------------------------------------------
// Short copies: the rows of small images are a few dozen bytes, where a library call per row
// costs more than the copy. Rows of 8 to 64 bytes are moved as two fixed-size
// (possibly overlapping) blocks the compiler inlines; other sizes go to memcpy/memset.
// ---------------------------------------------------------------------------------------

template <int kBytes>
inline void move_block(uint8_t* dst, const uint8_t* src) {
  uint8_t block[kBytes];
  std::memcpy(block, src, kBytes);
  std::memcpy(dst, block, kBytes);
}

inline void copy_row(uint8_t* dst, const uint8_t* src, int64_t n) {
  if (n >= 16 && n <= 32) {
    move_block<16>(dst, src);
    move_block<16>(dst + n - 16, src + n - 16);
  } else if (n > 32 && n <= 64) {
    move_block<32>(dst, src);
    move_block<32>(dst + n - 32, src + n - 32);
  } else if (n >= 8 && n < 16) {
    move_block<8>(dst, src);
    move_block<8>(dst + n - 8, src + n - 8);
  } else {
    std::memcpy(dst, src, n);
  }
}

inline void zero_row(uint8_t* dst, int64_t n) {
  static constexpr uint8_t kZeros[32] = {};
  if (n >= 16 && n <= 32) {
    move_block<16>(dst, kZeros);
    move_block<16>(dst + n - 16, kZeros);
  } else if (n > 32 && n <= 64) {
    move_block<32>(dst, kZeros);
    move_block<32>(dst + n - 32, kZeros);
  } else {
    std::memset(dst, 0, n);
  }
}

}  // namespace svhnx
