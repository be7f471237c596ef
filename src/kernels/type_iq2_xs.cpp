// IQ2_XS: 256 weights in 2.31 bits: per group of 8 a 9-bit index into a 512-point grid and a
// 7-bit even-parity sign index; per 16 a 4-bit scale; one f16 scale.
#include <algorithm>

#include "kernels/dispatch.h"
#include "kernels/iq_common.h"
#include "kernels/iq_grids.h"
#include "kernels/iq_quant.h"
#include "kernels/types.h"

namespace dawn {

namespace {

void decode(const BlockIQ2_XS& b, SignedLevels& s) {
  s.d = fp16_to_f32(b.d) * 0.125f;
  for (int ib = 0; ib < 8; ++ib) {
    s.mult[2 * ib] = int16_t(2 * (b.scales[ib] & 0xF) + 1);
    s.mult[2 * ib + 1] = int16_t(2 * (b.scales[ib] >> 4) + 1);
    for (int l = 0; l < 4; ++l) {
      const uint16_t q = b.qs[4 * ib + l];
      const uint64_t g = kIq2xsGrid[q & 511];
      const uint8_t signs = kSignsIq2xs[q >> 9];
      for (int j = 0; j < 8; ++j) s.v[32 * ib + 8 * l + j] = apply_sign(grid_byte(g, j), signs, j);
    }
  }
}

using T = SignedType<BlockIQ2_XS, QK_K, 16, decode>;

// As IQ2_XXS with a scale per 16 and 9-bit grid indices.
void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  const GridSearch& g = grid_search(IqGrid::Iq2xs);
  BlockIQ2_XS* out = static_cast<BlockIQ2_XS*>(dst);
  SignedGridFit f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    fit_signed_grid(g, src + i * QK_K, imatrix ? imatrix + i * QK_K : nullptr, true, 16, 43, 8.0f, &f);
    BlockIQ2_XS& b = out[i];
    std::memset(&b, 0, sizeof(b));
    if (f.d == 0) continue;
    b.d = f32_to_fp16(f.d);
    for (int h = 0; h < 16; ++h) b.scales[h / 2] = uint8_t(b.scales[h / 2] | (f.s[h] << (4 * (h % 2))));
    for (int l = 0; l < 32; ++l) b.qs[l] = uint16_t(f.idx[l] | ((f.signs[l] & 127) << 9));
  }
}

void from_float(const float* src, void* dst, int64_t n) { quantize(src, dst, n, nullptr); }

}  // namespace

extern const TypeTraits kTraitsIQ2_XS = {"iq2_xs",
                                         QK_K,
                                         sizeof(BlockIQ2_XS),
                                         DType::Q8_K,
                                         T::to_float,
                                         from_float,
                                         pick_dot(DType::IQ2_XS, T::vec_dot),
                                         T::vec_dot,
                                         pick_unpack(DType::IQ2_XS, T::unpack_levels),
                                         16,
                                         128,
                                         false,
                                         quantize,
                                         true};

}  // namespace dawn
