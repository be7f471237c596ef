// IQ3_XXS: 256 weights in 3.06 bits: per group of 8 two 8-bit indices into a 256-point grid of
// four magnitudes and a 7-bit even-parity sign index; per 32 a 4-bit scale; one f16 scale.
#include <algorithm>

#include "kernels/dispatch.h"
#include "kernels/iq_common.h"
#include "kernels/iq_grids.h"
#include "kernels/iq_quant.h"
#include "kernels/types.h"

namespace dawn {

namespace {

void decode(const BlockIQ3_XXS& b, SignedLevels& s) {
  s.d = fp16_to_f32(b.d) * 0.25f;
  for (int ib = 0; ib < 8; ++ib) {
    uint32_t aux;
    std::memcpy(&aux, b.qs + QK_K / 4 + 4 * ib, 4);
    s.mult[ib] = int16_t(2 * (aux >> 28) + 1);
    for (int l = 0; l < 4; ++l) {
      const uint8_t signs = kSignsIq2xs[(aux >> (7 * l)) & 127];
      const uint32_t g0 = kIq3xxsGrid[b.qs[8 * ib + 2 * l]], g1 = kIq3xxsGrid[b.qs[8 * ib + 2 * l + 1]];
      int8_t* v = s.v + 32 * ib + 8 * l;
      for (int j = 0; j < 4; ++j) {
        v[j] = apply_sign(grid_byte(g0, j), signs, j);
        v[j + 4] = apply_sign(grid_byte(g1, j), signs, j + 4);
      }
    }
  }
}

using T = SignedType<BlockIQ3_XXS, QK_K, 32, decode>;

// Per 32: signs (even count per 8), a scale and eight 4-value grid points.
void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  const GridSearch& g = grid_search(IqGrid::Iq3xxs);
  BlockIQ3_XXS* out = static_cast<BlockIQ3_XXS*>(dst);
  SignedGridFit f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    fit_signed_grid(g, src + i * QK_K, imatrix ? imatrix + i * QK_K : nullptr, true, 32, 62, 4.0f, &f);
    BlockIQ3_XXS& b = out[i];
    std::memset(&b, 0, sizeof(b));
    if (f.d == 0) continue;
    b.d = f32_to_fp16(f.d);
    for (int ib = 0; ib < 8; ++ib) {
      uint32_t aux = uint32_t(f.s[ib]) << 28;
      for (int l = 0; l < 4; ++l) aux |= uint32_t(f.signs[4 * ib + l] & 127) << (7 * l);
      std::memcpy(b.qs + QK_K / 4 + 4 * ib, &aux, 4);
      for (int k = 0; k < 8; ++k) b.qs[8 * ib + k] = uint8_t(f.idx[8 * ib + k]);
    }
  }
}

void from_float(const float* src, void* dst, int64_t n) { quantize(src, dst, n, nullptr); }

}  // namespace

extern const TypeTraits kTraitsIQ3_XXS = {"iq3_xxs",
                                          QK_K,
                                          sizeof(BlockIQ3_XXS),
                                          DType::Q8_K,
                                          T::to_float,
                                          from_float,
                                          pick_dot(DType::IQ3_XXS, T::vec_dot),
                                          T::vec_dot,
                                          pick_unpack(DType::IQ3_XXS, T::unpack_levels),
                                          32,
                                          128,
                                          false,
                                          quantize};

}  // namespace dawn
