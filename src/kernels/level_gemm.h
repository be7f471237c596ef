// Prefill GEMM over the levels form of quantized weights (types.h: UnpackLevelsFn). A tile of
// 16 rows is unpacked once per call and interleaved so that one 64-byte load holds four
// consecutive levels of every row; one vpdpbusd against four broadcast activation bytes then
// advances all 16 rows of a token by four elements. The unpacking is shared by every token of
// the call, the levels stay in L1/L2, and each token costs only the integer dot products.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/types.h"

namespace dawn {

constexpr int kTileRows = 16;

struct LevelTile {
  int64_t cols = 0;
  int sub = 0, zero = 0;
  bool has_min = false;
  std::vector<uint8_t> q;         // q[(k / 4) * 64 + r * 4 + k % 4]: level k of row r
  std::vector<float> scale, min;  // [k / sub][r]
  std::vector<uint8_t> rows_q;    // unpacking scratch: the rows one after another
  std::vector<float> row_scale, row_min;
};

// Unpacks n_rows (<= 16; missing rows are zero) rows of type t, row_stride bytes apart.
void pack_tile(DType t, const uint8_t* rows, size_t row_stride, int n_rows, int64_t cols, LevelTile& tile);

// Activation rows in the weight type's dot format (Q8_K or Q8_0, as the type's vec_dot takes
// them), split into plain int8 values and per-sub-block terms for the tile kernel.
struct LevelActs {
  int64_t cols = 0, n_tok = 0;
  int sub = 0;
  std::vector<int8_t> q;      // [token][cols]
  std::vector<float> d;       // [token][cols / sub]: the activation scale of the sub-block
  std::vector<float> dsum;    // d * sum of the sub-block's int8 values (the mins' term)
  std::vector<int32_t> zsum;  // -zero * sum of the sub-block's int8 values (the zero level's term)
  std::vector<int32_t> qsum;  // sum of the sub-block's int8 values
};
// Sizes `out` for n_tok rows of cols against weights of type t; then fill_acts converts float
// rows [t0, t1) of x (cols apart) into it. Separate so that threads can fill disjoint ranges.
void size_acts(DType weight_type, int64_t n_tok, int64_t cols, LevelActs& out);
void fill_acts(DType weight_type, const float* x, int64_t t0, int64_t t1, LevelActs& out);

// y[k * ldy + r] = row r of the tile . token toks[k], for r < n_rows and k < nt <= kTileTokens:
// the plain scalar reference, and the fastest this CPU has. Tokens are picked by index so that
// MoE experts read their tokens' rows in place.
constexpr int kTileTokens = 8;
void level_gemm_ref(const LevelTile& w, const LevelActs& a, const int32_t* toks, int nt, float* y, int64_t ldy,
                    int n_rows);
void level_gemm(const LevelTile& w, const LevelActs& a, const int32_t* toks, int nt, float* y, int64_t ldy, int n_rows);

// True when weights of type t have a levels form and this CPU a tile kernel for it.
bool level_gemm_available(DType t);

// Interleaves 16 rows of levels (cols apart) into a tile's q for the first cols / 64 * 64 columns.
void interleave_tile_avx512(const uint8_t* rows, int64_t cols, uint8_t* q);

// The AVX-512 VNNI tile kernel (simd_avx512_gemm.cpp).
void level_gemm_avx512(const LevelTile& w, const LevelActs& a, const int32_t* toks, int nt, float* y, int64_t ldy,
                       int n_rows);

}  // namespace dawn
