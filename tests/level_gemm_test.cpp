// The level GEMM (prefill): each type's levels form against its dequantizer, the tile kernel
// against its scalar reference, and the whole product against the type's scalar dot product.
#include "kernels/level_gemm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <tuple>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/x16.h"
#include "ops/matmul.h"
#include "random_blocks.h"

namespace dawn {
namespace {

std::vector<float> random_floats(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

// Rows of type t from random data, back to back.
std::vector<uint8_t> random_rows(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  return random_weight_rows(t, rows, cols, seed);
}

class LevelTest : public ::testing::TestWithParam<DType> {};

TEST_P(LevelTest, LevelsFormIsTheDequantizedRow) {
  const TypeTraits& tt = traits(GetParam());
  ASSERT_NE(tt.unpack_levels, nullptr);
  const int64_t n = 256 * 3;
  const auto q = random_rows(GetParam(), 1, n, 11);
  std::vector<uint8_t> lv(n);
  std::vector<float> scale(n / tt.sub), min(n / tt.sub), ref(n);
  tt.unpack_levels(q.data(), n, lv.data(), scale.data(), min.data());
  tt.to_float(q.data(), ref.data(), n);
  int distinct = 0;
  for (int64_t k = 0; k < n; ++k) {
    const float v = scale[k / tt.sub] * float(int(lv[k]) - tt.zero) - min[k / tt.sub];
    EXPECT_NEAR(v, ref[k], 1e-6f * (1.0f + std::fabs(ref[k]))) << tt.name << " k=" << k;
    distinct += lv[k] != lv[0];
  }
  EXPECT_GT(distinct, 0);
}

// Tiles of 16 and of fewer rows, token groups of every size up to kTileTokens, at offsets.
TEST_P(LevelTest, TileKernelMatchesScalarReferences) {
  const DType t = GetParam();
  const TypeTraits& tt = traits(t);
  const TypeTraits& at = traits(tt.dot_type);
  for (int64_t cols : {256, 768, 1792, 352}) {  // 352: a tail past the 64-column interleave
    if (cols % tt.block != 0) continue;
    for (int n_rows : {16, 5}) {
      const size_t rb = row_bytes(t, cols);
      const auto w = random_rows(t, n_rows, cols, uint32_t(cols + n_rows));
      LevelTile tile;
      pack_tile(t, w.data(), rb, n_rows, cols, tile);
      const int64_t n_tok = 11;
      const size_t stride = row_bytes(tt.dot_type, cols);
      std::vector<uint8_t> act(stride * n_tok);
      std::vector<float> x(size_t(n_tok * cols));
      for (int64_t k = 0; k < n_tok; ++k) {
        const auto xk = random_floats(size_t(cols), uint32_t(k * 7 + cols), 1.0f + float(k % 3));
        std::copy(xk.begin(), xk.end(), x.begin() + k * cols);
        at.from_float(xk.data(), act.data() + stride * k, cols);
      }
      LevelActs acts;
      size_acts(t, n_tok, cols, acts);
      fill_acts(t, x.data(), 0, 6, acts);  // in two ranges, as threads fill them
      fill_acts(t, x.data(), 6, n_tok, acts);
      const int32_t picked[kTileTokens] = {10, 3, 7, 0, 5, 9, 1, 4};  // tokens by index, out of order
      for (int nt = 1; nt <= kTileTokens; ++nt) {
        const int64_t ldy = 20;
        std::vector<float> fast(size_t(nt * ldy), -7.0f), ref(size_t(nt * ldy), -7.0f);
        level_gemm(tile, acts, picked, nt, fast.data(), ldy, n_rows);
        level_gemm_ref(tile, acts, picked, nt, ref.data(), ldy, n_rows);
        for (int k = 0; k < nt; ++k) {
          for (int r = 0; r < ldy; ++r) {
            const float f = fast[size_t(k * ldy + r)], s = ref[size_t(k * ldy + r)];
            if (r >= n_rows) {
              EXPECT_EQ(f, -7.0f) << "wrote past the tile's rows";
              continue;
            }
            const float dot = tt.vec_dot_ref(cols, w.data() + rb * size_t(r), act.data() + stride * size_t(picked[k]));
            EXPECT_NEAR(s, dot, 2e-5f * (1.0f + std::fabs(dot))) << tt.name << " cols=" << cols << " r=" << r;
            EXPECT_NEAR(f, s, 2e-5f * (1.0f + std::fabs(s))) << tt.name << " nt=" << nt << " r=" << r;
          }
        }
      }
    }
  }
}

// matmul over enough tokens to take the level path, rows not a multiple of the tile.
TEST_P(LevelTest, MatmulMatchesScalarDots) {
  const DType t = GetParam();
  const TypeTraits& tt = traits(t);
  const int64_t rows = 37, cols = 512, n_tok = 19;
  const auto q = random_rows(t, rows, cols, 5);
  const Weight w{t, cols, rows, q.data(), row_bytes(t, cols)};
  const auto x = random_floats(size_t(n_tok * cols), 9, 1.0f);
  std::vector<float> y(size_t(n_tok * rows));
  ThreadPool pool(2);
  ActBuffer buf;
  matmul(w, x.data(), n_tok, y.data(), pool, buf);
  std::vector<uint8_t> act(row_bytes(tt.dot_type, cols));
  for (int64_t k = 0; k < n_tok; ++k) {
    traits(tt.dot_type).from_float(x.data() + k * cols, act.data(), cols);
    for (int64_t r = 0; r < rows; ++r) {
      const float ref = tt.vec_dot_ref(cols, w.row(r), act.data());
      EXPECT_NEAR(y[size_t(k * rows + r)], ref, 2e-5f * (1.0f + std::fabs(ref))) << tt.name << " t=" << k << " r=" << r;
    }
  }
}

// Experts over picked tokens: three slices of one weight, each over its own rows of x.
void check_gather(DType t, const std::vector<std::vector<int32_t>>& picks) {
  const TypeTraits& tt = traits(t);
  const int64_t rows_per = 21, cols = 512, n_x = 13;
  const int n_tasks = int(picks.size());
  const auto q = random_rows(t, rows_per * n_tasks, cols, 17);
  const Weight w{t, cols, rows_per * n_tasks, q.data(), row_bytes(t, cols)};
  const auto x = random_floats(size_t(n_x * cols), 23, 1.0f);
  std::vector<std::vector<float>> y(picks.size());
  std::vector<GatherTask> tasks;
  for (int i = 0; i < n_tasks; ++i) {
    y[size_t(i)].assign(picks[size_t(i)].size() * rows_per, -7.0f);
    tasks.push_back({w.slice(i * rows_per, rows_per), picks[size_t(i)].data(), int64_t(picks[size_t(i)].size()),
                     y[size_t(i)].data()});
  }
  ThreadPool pool(2);
  ActBuffer buf;
  matmul_gather(tasks.data(), n_tasks, x.data(), n_x, pool, buf);
  std::vector<uint8_t> act(row_bytes(tt.dot_type, cols));
  for (int i = 0; i < n_tasks; ++i) {
    for (size_t k = 0; k < picks[size_t(i)].size(); ++k) {
      traits(tt.dot_type).from_float(x.data() + picks[size_t(i)][k] * cols, act.data(), cols);
      for (int64_t r = 0; r < rows_per; ++r) {
        const float ref = tt.vec_dot_ref(cols, w.row(i * rows_per + r), act.data());
        EXPECT_NEAR(y[size_t(i)][k * rows_per + size_t(r)], ref, 2e-5f * (1.0f + std::fabs(ref)))
            << tt.name << " task " << i << " pick " << k << " row " << r;
      }
    }
  }
}

TEST_P(LevelTest, GatherMatchesScalarDots) {
  check_gather(GetParam(), {{12, 0, 5, 5, 7, 1, 2, 3, 11}, {4}, {9, 8, 6, 10, 0, 2}});  // the level GEMM
  check_gather(GetParam(), {{3}, {12, 1}, {3}});                                        // rows copied out
}

TEST(LevelGather, TypesWithoutALevelsForm) {
  check_gather(DType::Q5_K, {{12, 0, 5, 5, 7, 1, 2, 3, 11}, {4}, {9, 8, 6, 10, 0, 2}});
}

INSTANTIATE_TEST_SUITE_P(Types, LevelTest,
                         ::testing::Values(DType::Q4_0, DType::Q5_0, DType::Q8_0, DType::Q4_K, DType::Q6_K,
                                           DType::Q4_1, DType::IQ4_NL, DType::IQ4_XS, DType::IQ2_XXS, DType::IQ2_XS,
                                           DType::IQ2_S, DType::IQ3_XXS, DType::IQ3_S, DType::IQ1_S, DType::IQ1_M),
                         [](const auto& info) { return std::string(type_name(info.param)); });

// Q4_K rows repacked into the x16 layout (kernels/x16.h) and read by the level GEMM.
class X16Test : public ::testing::TestWithParam<DType> {
 protected:
  static constexpr int64_t kRows = 48, kCols = 768;
  void SetUp() override {
    plain_ = random_rows(t_, kRows, kCols, 31);
    packed_ = plain_;
    std::vector<uint8_t> scratch;
    for (int64_t g = 0; g < kRows / 16; ++g) repack_x16(t_, packed_.data() + g * 16 * rb_, kCols, scratch);
  }
  float ref_dot(int64_t r, const float* x) const {
    const DType at = traits(t_).dot_type;
    std::vector<uint8_t> act(row_bytes(at, kCols));
    traits(at).from_float(x, act.data(), kCols);
    return traits(t_).vec_dot_ref(kCols, plain_.data() + rb_ * size_t(r), act.data());
  }
  Weight weight() const { return {t_, kCols, kRows, packed_.data(), rb_, true}; }
  const DType t_ = GetParam();
  const size_t rb_ = row_bytes(t_, kCols);
  std::vector<uint8_t> plain_, packed_;
};

TEST_P(X16Test, RepackKeepsTheSizeAndMovesTheBytes) {
  EXPECT_EQ(packed_.size(), plain_.size());
  EXPECT_NE(packed_, plain_);
}

TEST_P(X16Test, ExtractedRowsAreTheOriginalRows) {
  std::vector<uint8_t> row(rb_);
  for (int64_t r = 0; r < kRows; ++r) {
    x16_extract_row(t_, packed_.data() + (r / 16) * 16 * rb_, kCols, int(r % 16), row.data());
    ASSERT_EQ(0, std::memcmp(row.data(), plain_.data() + r * rb_, rb_)) << "row " << r;
  }
  // And the lookup path over a repacked matrix dequantizes the same values.
  std::vector<float> got(kCols), want(kCols);
  for (int64_t r : {int64_t(0), int64_t(17), kRows - 1}) {
    dequantize_row(weight(), r, got.data());
    traits(t_).to_float(plain_.data() + r * rb_, want.data(), kCols);
    EXPECT_EQ(got, want) << "row " << r;
  }
}

TEST_P(X16Test, KernelMatchesScalarReferences) {
  const int64_t n_tok = 11;
  const auto x = random_floats(size_t(n_tok * kCols), 41, 1.0f);
  LevelActs acts;
  size_acts(t_, n_tok, kCols, acts);
  fill_acts(t_, x.data(), 0, n_tok, acts);
  const int32_t picked[kTileTokens] = {10, 3, 7, 0, 5, 9, 1, 4};
  for (int nt = 1; nt <= kTileTokens; ++nt) {
    for (int64_t g = 0; g < kRows / 16; ++g) {
      std::vector<float> fast(size_t(nt * 16)), ref(size_t(nt * 16));
      x16_gemm(t_, packed_.data() + g * 16 * rb_, kCols, acts, picked, nt, fast.data(), 16);
      x16_gemm_ref(t_, packed_.data() + g * 16 * rb_, kCols, acts, picked, nt, ref.data(), 16);
      for (int k = 0; k < nt; ++k) {
        for (int r = 0; r < 16; ++r) {
          const float dot = ref_dot(g * 16 + r, x.data() + picked[k] * kCols);
          const float s = ref[size_t(k * 16 + r)], f = fast[size_t(k * 16 + r)];
          EXPECT_NEAR(s, dot, 2e-5f * (1.0f + std::fabs(dot))) << "nt " << nt << " row " << g * 16 + r;
          EXPECT_NEAR(f, s, 2e-5f * (1.0f + std::fabs(s))) << "nt " << nt << " row " << g * 16 + r;
        }
      }
    }
  }
}

// Decode-sized and prefill-sized products, alone, batched with a plain weight, and gathered.
TEST_P(X16Test, ProductsOfEverySizeMatchScalarDots) {
  if (!level_gemm_available(t_)) GTEST_SKIP() << "x16 weights are only made where the level GEMM runs";
  ThreadPool pool(2);
  ActBuffer buf;
  const auto plain_q6 = random_rows(DType::Q6_K, 20, kCols, 43);
  const Weight q6{DType::Q6_K, kCols, 20, plain_q6.data(), row_bytes(DType::Q6_K, kCols)};
  for (int64_t n_tok : {1, 2, 5, 19}) {
    const auto x = random_floats(size_t(n_tok * kCols), uint32_t(50 + n_tok), 1.0f);
    std::vector<float> y(size_t(n_tok * kRows), -1.0f), y6(size_t(n_tok * 20), -1.0f);
    const MatmulTask tasks[2] = {{q6, x.data(), n_tok, y6.data()}, {weight(), x.data(), n_tok, y.data()}};
    matmul_batch(tasks, 2, pool, buf);
    std::vector<uint8_t> act(row_bytes(DType::Q8_K, kCols));
    for (int64_t t = 0; t < n_tok; ++t) {
      for (int64_t r = 0; r < kRows; ++r) {
        const float ref = ref_dot(r, x.data() + t * kCols);
        EXPECT_NEAR(y[size_t(t * kRows + r)], ref, 2e-5f * (1.0f + std::fabs(ref))) << "n_tok " << n_tok << " r " << r;
      }
      traits(DType::Q8_K).from_float(x.data() + t * kCols, act.data(), kCols);
      for (int64_t r = 0; r < 20; ++r) {
        const float ref = traits(DType::Q6_K).vec_dot_ref(kCols, q6.row(r), act.data());
        EXPECT_NEAR(y6[size_t(t * 20 + r)], ref, 2e-5f * (1.0f + std::fabs(ref))) << "q6_K n_tok " << n_tok;
      }
    }
    std::fill(y.begin(), y.end(), -1.0f);
    matmul(weight(), x.data(), n_tok, y.data(), pool, buf);
    for (int64_t r = 0; r < kRows; ++r) {
      const float ref = ref_dot(r, x.data() + (n_tok - 1) * kCols);
      EXPECT_NEAR(y[size_t((n_tok - 1) * kRows + r)], ref, 2e-5f * (1.0f + std::fabs(ref))) << "matmul " << n_tok;
    }
  }
  // Experts of 16 rows, one token each (decode) and several.
  const auto x = random_floats(size_t(5 * kCols), 61, 1.0f);
  const std::vector<int32_t> picks[3] = {{4}, {0, 2, 4}, {1}};
  std::vector<float> ys[3];
  std::vector<GatherTask> tasks;
  for (int e = 0; e < 3; ++e) {
    ys[e].assign(picks[e].size() * 16, -1.0f);
    tasks.push_back({weight().slice(e * 16, 16), picks[e].data(), int64_t(picks[e].size()), ys[e].data()});
  }
  matmul_gather(tasks.data(), 3, x.data(), 5, pool, buf);
  for (int e = 0; e < 3; ++e) {
    for (size_t k = 0; k < picks[e].size(); ++k) {
      for (int r = 0; r < 16; ++r) {
        const float ref = ref_dot(e * 16 + r, x.data() + picks[e][k] * kCols);
        EXPECT_NEAR(ys[e][k * 16 + size_t(r)], ref, 2e-5f * (1.0f + std::fabs(ref))) << "expert " << e;
      }
    }
  }
}

// A matrix whose rows are not a multiple of 16 (a real vocabulary's output head, 151669 rows):
// its whole groups repacked, the last rows plain; products of every size and row lookups agree.
TEST_P(X16Test, MatrixWithAPlainTail) {
  if (!level_gemm_available(t_)) GTEST_SKIP() << "x16 weights are only made where the level GEMM runs";
  constexpr int64_t kTail = 43;  // two groups and 11 plain rows
  std::vector<uint8_t> packed(plain_.begin(), plain_.begin() + kTail * int64_t(rb_)), scratch;
  for (int64_t g = 0; g < kTail / 16; ++g) repack_x16(t_, packed.data() + g * 16 * rb_, kCols, scratch);
  const Weight w{t_, kCols, kTail, packed.data(), rb_, true};
  ThreadPool pool(2);
  ActBuffer buf;
  for (int64_t n_tok : {1, 3, 9, 17}) {
    const auto x = random_floats(size_t(n_tok * kCols), uint32_t(80 + n_tok), 1.0f);
    std::vector<float> y(size_t(n_tok * kTail), -1.0f);
    matmul(w, x.data(), n_tok, y.data(), pool, buf);
    for (int64_t t = 0; t < n_tok; ++t) {
      for (int64_t r = 0; r < kTail; ++r) {
        const float ref = ref_dot(r, x.data() + t * kCols);
        EXPECT_NEAR(y[size_t(t * kTail + r)], ref, 2e-5f * (1.0f + std::fabs(ref))) << "n_tok " << n_tok << " r " << r;
      }
    }
  }
  std::vector<float> got(kCols), want(kCols);
  for (int64_t r : {int64_t(5), int64_t(31), int64_t(32), kTail - 1}) {
    dequantize_row(w, r, got.data());
    traits(t_).to_float(plain_.data() + r * rb_, want.data(), kCols);
    EXPECT_EQ(got, want) << "row " << r;
  }
}

// Gathers over different inputs in one call: this type's x16 experts over one input, a plain Q6_K
// weight of another width over every row of a second input (a shared expert's down product), and,
// in the second round, a type without a levels form, which sends every group down the row path.
TEST_P(X16Test, GroupsOverDifferentInputsMatchScalarDots) {
  if (!level_gemm_available(t_)) GTEST_SKIP() << "x16 weights are only made where the level GEMM runs";
  ThreadPool pool(2);
  ActBuffer buf;
  constexpr int64_t kOther = 512, kRowsB = 24;
  const auto q6 = random_rows(DType::Q6_K, kRowsB, kOther, 71), q5k = random_rows(DType::Q5_K, kRowsB, kOther, 73);
  const Weight wb{DType::Q6_K, kOther, kRowsB, q6.data(), row_bytes(DType::Q6_K, kOther)};
  const Weight wc{DType::Q5_K, kOther, kRowsB, q5k.data(), row_bytes(DType::Q5_K, kOther)};
  const auto xa = random_floats(size_t(5 * kCols), 67, 1.0f), xb = random_floats(size_t(5 * kOther), 69, 1.0f);
  const std::vector<int32_t> picks[3] = {{4}, {0, 2, 4}, {1}}, all = {0, 1, 2, 3, 4};
  for (int round = 0; round < 2; ++round) {
    std::vector<float> ya[3], yb(5 * kRowsB, -1.0f), yc(2 * kRowsB, -1.0f);
    std::vector<GatherTask> a, b, c;
    for (int e = 0; e < 3; ++e) {
      ya[e].assign(picks[e].size() * 16, -1.0f);
      a.push_back({weight().slice(e * 16, 16), picks[e].data(), int64_t(picks[e].size()), ya[e].data()});
    }
    b.push_back({wb, all.data(), 5, yb.data()});  // enough rows for the level GEMM
    c.push_back({wc, all.data() + 1, 2, yc.data()});
    const GatherGroup groups[3] = {
        {a.data(), 3, xa.data(), 5}, {b.data(), 1, xb.data(), 5}, {c.data(), 1, xb.data(), 5}};
    matmul_gather_groups(groups, round == 0 ? 2 : 3, pool, buf);
    for (int e = 0; e < 3; ++e) {
      for (size_t k = 0; k < picks[e].size(); ++k) {
        for (int r = 0; r < 16; ++r) {
          const float ref = ref_dot(e * 16 + r, xa.data() + picks[e][k] * kCols);
          EXPECT_NEAR(ya[e][k * 16 + size_t(r)], ref, 2e-5f * (1.0f + std::fabs(ref))) << "round " << round;
        }
      }
    }
    for (const auto& [w, y, first, n] : {std::tuple{wb, &yb, 0, 5}, std::tuple{wc, &yc, 1, 2}}) {
      if (round == 0 && w.type == DType::Q5_K) continue;
      const TypeTraits& tt = traits(w.type);
      std::vector<uint8_t> act(row_bytes(tt.dot_type, kOther));
      for (int k = 0; k < n; ++k) {
        traits(tt.dot_type).from_float(xb.data() + (first + k) * kOther, act.data(), kOther);
        for (int64_t r = 0; r < kRowsB; ++r) {
          const float ref = tt.vec_dot_ref(kOther, w.row(r), act.data());
          EXPECT_NEAR((*y)[size_t(k * kRowsB + r)], ref, 2e-5f * (1.0f + std::fabs(ref)))
              << tt.name << " round " << round << " row " << r;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, X16Test, ::testing::Values(DType::Q4_K, DType::Q6_K, DType::Q8_0, DType::Q5_0, DType::IQ4_NL),
                         [](const auto& info) { return std::string(type_name(info.param)); });

}  // namespace
}  // namespace dawn
