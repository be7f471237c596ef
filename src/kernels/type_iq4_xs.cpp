// IQ4_XS: 256 weights as IQ4_NL's 4-bit non-linear levels, with a 6-bit signed scale per 32
// and one f16 scale (4.25 bits per weight).
#include <algorithm>

#include "kernels/dispatch.h"
#include "kernels/iq_common.h"
#include "kernels/iq_grids.h"
#include "kernels/iq_quant.h"
#include "kernels/quant_search.h"
#include "kernels/types.h"

namespace dawn {

namespace {

int sub_scale(const BlockIQ4_XS& b, int ib) {
  return int(((b.scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((b.scales_h >> (2 * ib)) & 3) << 4));
}

void decode(const BlockIQ4_XS& b, SignedLevels& s) {
  s.d = fp16_to_f32(b.d);
  for (int ib = 0; ib < 8; ++ib) {
    s.mult[ib] = int16_t(sub_scale(b, ib) - 32);
    for (int j = 0; j < 16; ++j) {
      s.v[32 * ib + j] = kValuesIq4nl[b.qs[16 * ib + j] & 0xF];
      s.v[32 * ib + j + 16] = kValuesIq4nl[b.qs[16 * ib + j] >> 4];
    }
  }
}

using T = SignedType<BlockIQ4_XS, QK_K, 32, decode>;

// As llama.cpp without an importance matrix: a scale per 32 by the IQ4_NL search, the largest
// (by magnitude, with its sign) sets d = -max / 32, each rounded to a signed 6-bit multiple of d,
// then codes chosen again for the rounded scales.
// With an imatrix the weights are imatrix * sqrt(2 mean x^2 + x^2), the mean over the 256.
void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  BlockIQ4_XS* b = static_cast<BlockIQ4_XS*>(dst);
  const int8_t* values = kValuesIq4nl.data();
  uint8_t L[QK_K];
  float scales[8], w[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float* x = src + i * QK_K;
    if (imatrix) iq_weights(x, imatrix + i * QK_K, QK_K, 2.0f, w);
    float max_scale = 0, amax_scale = 0;
    for (int ib = 0; ib < 8; ++ib) {
      scales[ib] = quant_codebook16(32, values, x + 32 * ib, imatrix ? w + 32 * ib : nullptr, 7, L + 32 * ib);
      if (std::fabs(scales[ib]) > amax_scale) amax_scale = std::fabs(scales[ib]), max_scale = scales[ib];
    }
    b[i].d = f32_to_fp16(-max_scale / 32.0f);
    const float d = fp16_to_f32(b[i].d), id = d != 0 ? 1.0f / d : 0.0f;
    b[i].scales_h = 0;
    std::memset(b[i].scales_l, 0, 4);
    for (int ib = 0; ib < 8; ++ib) {
      const int l = std::clamp(nearest_int(id * scales[ib]), -32, 31);
      const int ls = l + 32;
      b[i].scales_l[ib / 2] = uint8_t(b[i].scales_l[ib / 2] | ((ls & 0xF) << (4 * (ib % 2))));
      b[i].scales_h = uint16_t(b[i].scales_h | ((ls >> 4) << (2 * ib)));
      const float dl = d * float(l), idl = dl != 0 ? 1.0f / dl : 0.0f;
      for (int j = 0; j < 32; ++j) L[32 * ib + j] = uint8_t(nearest_codebook16(values, idl * x[32 * ib + j]));
    }
    for (int ib = 0; ib < 8; ++ib) {
      for (int j = 0; j < 16; ++j) b[i].qs[16 * ib + j] = uint8_t(L[32 * ib + j] | (L[32 * ib + j + 16] << 4));
    }
  }
}

void from_float(const float* src, void* dst, int64_t n) { quantize(src, dst, n, nullptr); }

}  // namespace

extern const TypeTraits kTraitsIQ4_XS = {"iq4_xs",
                                         QK_K,
                                         sizeof(BlockIQ4_XS),
                                         DType::Q8_K,
                                         T::to_float,
                                         from_float,
                                         pick_dot(DType::IQ4_XS, T::vec_dot),
                                         T::vec_dot,
                                         pick_unpack(DType::IQ4_XS, T::unpack_levels),
                                         32,
                                         128,
                                         false,
                                         quantize};

}  // namespace dawn
