// Rows of any weight type from random data: quantized from normal floats where dawn has a
// quantizer, and random bytes with a sane f16 block scale for the types dawn only reads (every
// bit pattern of an i-quant block is a valid block once its scale is finite).
#pragma once
#include <cstring>
#include <random>
#include <vector>

#include "kernels/half.h"
#include "kernels/types.h"

namespace dawn {

inline std::vector<uint8_t> random_weight_rows(DType t, int64_t rows, int64_t cols, uint32_t seed, float scale = 0.05f) {
  const TypeTraits& tt = traits(t);
  const size_t rb = row_bytes(t, cols);
  std::vector<uint8_t> q(rb * size_t(rows));
  std::mt19937 rng(seed);
  if (tt.from_float) {
    std::normal_distribution<float> nd(0.0f, scale);
    std::vector<float> w(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      for (float& x : w) x = nd(rng);
      tt.from_float(w.data(), q.data() + rb * size_t(r), cols);
    }
    return q;
  }
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> mag(0.2f, 1.0f);
  for (uint8_t& b : q) b = uint8_t(byte(rng));
  const int64_t n_blocks = int64_t(q.size()) / tt.bytes;
  for (int64_t i = 0; i < n_blocks; ++i) {
    uint8_t* blk = q.data() + i * tt.bytes;
    const uint16_t d = f32_to_fp16(mag(rng) * scale / 16.0f);
    if (t == DType::IQ1_M) {  // the f16 scale lives in the top nibbles of the four scale words
      uint16_t sc[4];
      std::memcpy(sc, blk + 48, 8);
      for (int k = 0; k < 4; ++k) sc[k] = uint16_t((sc[k] & 0x0FFF) | (((d >> (4 * k)) & 0xF) << 12));
      std::memcpy(blk + 48, sc, 8);
    } else {
      std::memcpy(blk, &d, 2);  // every other i-quant starts with its f16 scale
    }
  }
  return q;
}

}  // namespace dawn
