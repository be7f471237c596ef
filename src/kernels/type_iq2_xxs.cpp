// IQ2_XXS: 256 weights in 2.06 bits: per group of 8 an 8-bit index into a 256-point grid of
// magnitudes and a 7-bit even-parity sign index; per 32 a 4-bit scale; one f16 scale.
#include <algorithm>

#include "kernels/dispatch.h"
#include "kernels/iq_common.h"
#include "kernels/iq_grids.h"
#include "kernels/iq_quant.h"
#include "kernels/types.h"

namespace dawn {

namespace {

void decode(const BlockIQ2_XXS& b, SignedLevels& s) {
  s.d = fp16_to_f32(b.d) * 0.125f;
  for (int ib = 0; ib < 8; ++ib) {
    uint32_t idx, aux;
    std::memcpy(&idx, b.qs + 4 * ib, 4);
    std::memcpy(&aux, b.qs + 4 * ib + 2, 4);
    s.mult[ib] = int16_t(2 * (aux >> 28) + 1);
    for (int l = 0; l < 4; ++l) {
      const uint64_t g = kIq2xxsGrid[(idx >> (8 * l)) & 0xff];
      const uint8_t signs = kSignsIq2xs[(aux >> (7 * l)) & 127];
      for (int j = 0; j < 8; ++j) s.v[32 * ib + 8 * l + j] = apply_sign(grid_byte(g, j), signs, j);
    }
  }
}

using T = SignedType<BlockIQ2_XXS, QK_K, 32, decode>;

// Per 32: signs (even count per 8), a scale and four grid points by the shared search; the
// scales then to 4 bits of the block's f16 scale, and the points chosen again for those.
void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  const GridSearch& g = grid_search(IqGrid::Iq2xxs);
  BlockIQ2_XXS* out = static_cast<BlockIQ2_XXS*>(dst);
  SignedGridFit f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    fit_signed_grid(g, src + i * QK_K, imatrix ? imatrix + i * QK_K : nullptr, true, 32, 43, 8.0f, &f);
    BlockIQ2_XXS& b = out[i];
    std::memset(&b, 0, sizeof(b));
    if (f.d == 0) continue;
    b.d = f32_to_fp16(f.d);
    for (int ib = 0; ib < 8; ++ib) {
      const uint16_t* idx = f.idx + 4 * ib;
      const uint32_t q0 = uint32_t(idx[0]) | uint32_t(idx[1]) << 8 | uint32_t(idx[2]) << 16 | uint32_t(idx[3]) << 24;
      uint32_t q1 = uint32_t(f.s[ib]) << 28;
      for (int l = 0; l < 4; ++l) q1 |= uint32_t(f.signs[4 * ib + l] & 127) << (7 * l);
      std::memcpy(b.qs + 4 * ib, &q0, 4);
      std::memcpy(b.qs + 4 * ib + 2, &q1, 4);
    }
  }
}

void from_float(const float* src, void* dst, int64_t n) { quantize(src, dst, n, nullptr); }

}  // namespace

extern const TypeTraits kTraitsIQ2_XXS = {"iq2_xxs",
                                          QK_K,
                                          sizeof(BlockIQ2_XXS),
                                          DType::Q8_K,
                                          T::to_float,
                                          from_float,
                                          pick_dot(DType::IQ2_XXS, T::vec_dot),
                                          T::vec_dot,
                                          pick_unpack(DType::IQ2_XXS, T::unpack_levels),
                                          32,
                                          128,
                                          false,
                                          quantize,
                                          true};

}  // namespace dawn
