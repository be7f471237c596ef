// IQ4_NL: 32 weights as 4-bit indices into 16 non-linear levels (denser near zero), one f16
// scale. Also llama.cpp's fallback for i-quant rows that are not a multiple of 256.
#include "kernels/dispatch.h"
#include "kernels/iq_common.h"
#include "kernels/iq_grids.h"
#include "kernels/iq_quant.h"
#include "kernels/quant_search.h"
#include "kernels/types.h"

namespace dawn {

namespace {

void decode(const BlockIQ4_NL& b, SignedLevels& s) {
  s.d = fp16_to_f32(b.d);
  s.mult[0] = 1;
  for (int j = 0; j < QK / 2; ++j) {
    s.v[j] = kValuesIq4nl[b.qs[j] & 0xF];
    s.v[j + QK / 2] = kValuesIq4nl[b.qs[j] >> 4];
  }
}

using T = SignedType<BlockIQ4_NL, QK, 32, decode>;

// As llama.cpp: weights x^2, or imatrix * sqrt(2 mean x^2 + x^2) with one; 7 trial scales each side.
void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  BlockIQ4_NL* b = static_cast<BlockIQ4_NL*>(dst);
  uint8_t L[QK];
  float w[QK];
  for (int64_t i = 0; i < n / QK; ++i) {
    if (imatrix) iq_weights(src + i * QK, imatrix + i * QK, QK, 2.0f, w);
    const float d = quant_codebook16(QK, kValuesIq4nl.data(), src + i * QK, imatrix ? w : nullptr, 7, L);
    b[i].d = f32_to_fp16(d);
    // Codes for the scale as stored (rounded to f16).
    const float df = fp16_to_f32(b[i].d), id = df != 0 ? 1.0f / df : 0.0f;
    for (int j = 0; j < QK; ++j) L[j] = uint8_t(nearest_codebook16(kValuesIq4nl.data(), id * src[i * QK + j]));
    for (int j = 0; j < QK / 2; ++j) b[i].qs[j] = uint8_t(L[j] | (L[j + QK / 2] << 4));
  }
}

void from_float(const float* src, void* dst, int64_t n) { quantize(src, dst, n, nullptr); }

}  // namespace

extern const TypeTraits kTraitsIQ4_NL = {"iq4_nl",
                                         QK,
                                         sizeof(BlockIQ4_NL),
                                         DType::Q8_0,
                                         T::to_float,
                                         from_float,
                                         pick_dot(DType::IQ4_NL, T::vec_dot),
                                         T::vec_dot,
                                         pick_unpack(DType::IQ4_NL, T::unpack_levels),
                                         32,
                                         128,
                                         false,
                                         quantize};

}  // namespace dawn
