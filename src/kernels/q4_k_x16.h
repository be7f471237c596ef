// Q4_K rows repacked in place 16 at a time so that the level GEMM reads them with no unpacking:
// the tile layout of level_gemm.h, but still 4-bit and the same size as the rows it replaces.
// Per 256-element block of a group of 16 rows (2304 bytes): the rows' 16-byte headers as four
// 64-byte words (word w of row r at (16 w + r) * 4: d|dmin, then the packed scales), then the
// 128 quant bytes in 32 groups of four, group j of row r at 256 + (16 j + r) * 4. One 64-byte
// load then holds, for all 16 rows, four consecutive elements in the low nibbles (sub-block
// 2c) and the four 32 elements further on in the high nibbles (sub-block 2c + 1), c = j / 8.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/level_gemm.h"

namespace dawn {

constexpr int64_t kX16GroupBlockBytes = 16 * 144;

// Rewrites 16 consecutive Q4_K rows of `cols` elements (contiguous) in the x16 layout.
void repack_q4_k_x16(uint8_t* rows, int64_t cols, std::vector<uint8_t>& scratch);

// y[k * ldy + r] = row r of the group . token toks[k] for the 16 rows and nt <= kTileTokens
// tokens of `a` (levels form for Q4_K weights): the plain scalar reference, and the fastest
// this CPU has.
void q4_k_x16_gemm_ref(const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks, int nt, float* y,
                       int64_t ldy);
void q4_k_x16_gemm(const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks, int nt, float* y,
                   int64_t ldy);
void q4_k_x16_gemm_avx512(const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks, int nt, float* y,
                          int64_t ldy);

}  // namespace dawn
